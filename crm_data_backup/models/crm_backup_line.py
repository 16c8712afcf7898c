# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class CrmBackupLine(models.Model):
    """One file of a backup: an object and how many records it holds."""

    _name = "crm.backup.line"
    _description = "CRM Backup File"
    _order = "sequence, id"

    backup_id = fields.Many2one(
        "crm.backup",
        required=True,
        ondelete="cascade",
        index=True,
        help="The backup this file belongs to.",
    )
    sequence = fields.Integer(help="Order of the file in the backup.")
    object_id = fields.Many2one(
        "crm.backup.object", ondelete="set null", help="The object saved in this file."
    )
    model_name = fields.Char(help="Technical name of the model saved in this file.")
    record_count = fields.Integer(
        help="How many records the file holds, archived ones included."
    )
    archived_count = fields.Integer(
        "Archived", help="How many of the file's records are archived."
    )
    active_count = fields.Integer(
        "Active",
        compute="_compute_active_count",
        help="How many of the file's records are active (not archived).",
    )
    file_name = fields.Char(help="Name of the file inside the zip.")

    @api.depends("record_count", "archived_count")
    def _compute_active_count(self):
        for line in self:
            line.active_count = line.record_count - line.archived_count
