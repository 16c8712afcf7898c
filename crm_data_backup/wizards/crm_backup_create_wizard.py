# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CrmBackupCreateWizard(models.TransientModel):
    """Confirmation dialog of "Create backup"."""

    _name = "crm.backup.create.wizard"
    _description = "Create CRM Backup"

    acknowledge = fields.Boolean(
        help="The backup holds every value, sensitive ones included."
    )

    def action_confirm(self):
        self.env["crm.backup"].request_backup()
        return {"type": "ir.actions.act_window_close"}
