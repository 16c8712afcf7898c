# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CrmBackupRestoreLine(models.Model):
    """Restore plan of one field: how many values change or are cleared."""

    _name = "crm.backup.restore.line"
    _description = "CRM Restore Plan Line"
    _order = "id"

    restore_id = fields.Many2one(
        "crm.backup.restore",
        required=True,
        ondelete="cascade",
        index=True,
        help="The restore this plan line belongs to.",
    )
    field_id = fields.Many2one(
        "ir.model.fields", ondelete="cascade", help="The field restored."
    )
    change_count = fields.Integer(help="Records whose value will change.")
    clear_count = fields.Integer(
        help="Records whose value will be cleared (blank in the backup)."
    )
    unchanged_count = fields.Integer(
        help="Records whose current value already equals the backup."
    )
    conflict_count = fields.Integer(
        help="Records whose backup value can no longer be written (skipped)."
    )
