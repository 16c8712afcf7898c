# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.exceptions import UserError

from ..orm.restore_prefill import restore_action


class CrmBackupCompareLine(models.Model):
    """A comparison of one object: records added, deleted and changed."""

    _name = "crm.backup.compare.line"
    _description = "CRM Backup Comparison Line"
    _order = "id"

    compare_id = fields.Many2one(
        "crm.backup.compare",
        required=True,
        ondelete="cascade",
        index=True,
        help="The comparison this line belongs to.",
    )
    object_id = fields.Many2one(
        "crm.backup.object", ondelete="cascade", help="The object compared."
    )
    model_name = fields.Char(help="Technical name of the model compared.")
    from_count = fields.Integer("Records before", help="Records in the older side.")
    to_count = fields.Integer("Records after", help="Records in the newer side.")
    added_count = fields.Integer("Added", help="Records only in the newer side.")
    deleted_count = fields.Integer("Deleted", help="Records only in the older side.")
    changed_count = fields.Integer(
        "Changed", help="Records in both sides with at least one value changed."
    )
    unchanged_count = fields.Integer(
        "Unchanged", help="Records in both sides with the same values."
    )
    changed_field_names = fields.Char(
        "Changed fields", help="Technical names of the fields with a changed value."
    )
    deleted_ids = fields.One2many(
        "crm.backup.compare.deleted",
        "line_id",
        "Deleted records",
        help="The first records deleted, by name: each can be recreated.",
    )
    details_html = fields.Html(
        "Details",
        sanitize=False,
        help="Per field, the records whose value changed, and a sample of changes.",
    )

    def action_restore(self):
        """Open a restore of this object from the older backup, its changed
        fields chosen: the restore's plan, confirmation and identity check
        follow as for any restore."""
        self.ensure_one()
        compare = self.compare_id
        obj = self.object_id
        if not obj.restorable or self.model_name != obj.model_name:
            raise UserError(self.env._("%s cannot be restored.", self.model_name))
        compare._check_backups()
        names = (self.changed_field_names or "").split(",")
        return restore_action(self.env, compare.backup_from_id, obj, names)
