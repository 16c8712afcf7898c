# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.exceptions import UserError

from ..orm.restore_prefill import restore_action


class CrmBackupCompareDeleted(models.Model):
    """A record of the older side that the newer one no longer holds: found
    from the backup by its name, and recreated by a restore."""

    _name = "crm.backup.compare.deleted"
    _description = "CRM Backup Comparison Deleted Record"
    _order = "id"
    _rec_name = "record_name"

    line_id = fields.Many2one(
        "crm.backup.compare.line",
        required=True,
        ondelete="cascade",
        index=True,
        help="The comparison of the object the record was deleted from.",
    )
    object_id = fields.Many2one(
        related="line_id.object_id", help="The object of the record."
    )
    record_xmlid = fields.Char(
        "External ID", help="External ID of the record in the backup."
    )
    record_name = fields.Char("Name", help="Name of the record in the backup.")

    def action_recreate(self):
        """Open a restore of this one record from the older backup,
        "Recreate deleted records" ticked: the plan, confirmation and identity
        check follow as for any restore."""
        self.ensure_one()
        line = self.line_id
        obj = line.object_id
        if not obj.restorable or line.model_name != obj.model_name:
            raise UserError(self.env._("%s cannot be restored.", line.model_name))
        line.compare_id._check_backups()
        name = self.env[line.model_name]._rec_name
        action = restore_action(
            self.env,
            line.compare_id.backup_from_id,
            obj,
            [name],
            record_xmlid=self.record_xmlid,
        )
        action["context"]["default_recreate_deleted"] = True
        return action
