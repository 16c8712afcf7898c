# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CrmBackupRestore(models.Model):
    """Restore of selected fields of one object from a backup."""

    _name = "crm.backup.restore"
    _description = "CRM Data Restore"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(
        required=True,
        default="Data Restore",
        help='Name of the restore job, like "Data Restore - Deal".',
    )
    backup_id = fields.Many2one(
        "crm.backup", ondelete="restrict", help="The backup values are restored from."
    )
    object_id = fields.Many2one(
        "crm.backup.object",
        ondelete="restrict",
        help="The object whose fields are restored.",
    )
    field_ids = fields.Many2many(
        "ir.model.fields", help="The fields whose values are restored."
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("planned", "Planned"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("undone", "Undone"),
        ],
        default="draft",
        required=True,
        help="Where the restore stands.",
    )
    line_ids = fields.One2many(
        "crm.backup.restore.line", "restore_id", help="The restore plan, per field."
    )
