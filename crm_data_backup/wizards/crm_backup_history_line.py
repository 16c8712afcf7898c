# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.exceptions import UserError

from ..orm.restore_prefill import restore_action


class CrmBackupHistoryLine(models.TransientModel):
    """The record in one backup: its values there and today."""

    _name = "crm.backup.history.line"
    _description = "CRM Backup: a record in one backup"
    _order = "backup_id desc"

    history_id = fields.Many2one(
        "crm.backup.history",
        "History",
        required=True,
        ondelete="cascade",
        index=True,
        help="The record's history this line belongs to.",
    )
    backup_id = fields.Many2one(
        "crm.backup", readonly=True, ondelete="cascade", help="The backup."
    )
    backup_date = fields.Datetime(
        related="backup_id.date_done", string="Backup date", help="When it was made."
    )
    object_id = fields.Many2one(
        "crm.backup.object", readonly=True, help="The object the record belongs to."
    )
    found = fields.Boolean(
        "In the backup", readonly=True, help="The backup holds the record."
    )
    xmlid = fields.Char(
        "External ID", readonly=True, help="The record's external ID in the backup."
    )
    differ_count = fields.Integer(
        "Values that differ", readonly=True, help="Values that differ from today's."
    )
    differ_field_names = fields.Char(
        "Differing fields",
        readonly=True,
        help="Technical names of the fields that differ from today.",
    )
    values_html = fields.Html(
        "Values",
        sanitize=False,
        readonly=True,
        help="The record's values in the backup and today; those that differ "
        "are highlighted.",
    )

    def action_restore(self):
        """Open a restore of this record only, from this backup, the fields
        that differ chosen: plan, confirmation, identity check and audit as
        for any restore."""
        self.ensure_one()
        if not self.found:
            raise UserError(self.env._("The backup does not hold this record."))
        names = (self.differ_field_names or "").split(",")
        return restore_action(
            self.env, self.backup_id, self.object_id, names, self.xmlid
        )
