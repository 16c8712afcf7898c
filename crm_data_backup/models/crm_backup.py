# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class CrmBackup(models.Model):
    """One backup of the CRM: a zip of one file per object."""

    _name = "crm.backup"
    _description = "CRM Backup"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, help="Name of the backup (date and time).")
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        help="Company of the user who requested the backup.",
    )
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("expired", "Expired"),
        ],
        default="queued",
        required=True,
        tracking=True,
        help="Queued: waiting for the background job. Expired: the file was purged.",
    )
    attachment_id = fields.Many2one(
        "ir.attachment",
        readonly=True,
        ondelete="set null",
        help="The backup zip, while it can be downloaded.",
    )
    expiration_date = fields.Datetime(
        readonly=True, help="After this moment the file is deleted."
    )
    line_ids = fields.One2many(
        "crm.backup.line", "backup_id", help="One line per file in the backup."
    )

    @api.model
    def action_open_create_wizard(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "crm_data_backup.crm_backup_create_wizard_action"
        )
