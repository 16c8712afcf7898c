# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, models


class CrmBackupCreateWizard(models.TransientModel):
    """Confirmation dialog of "Create backup"."""

    _name = "crm.backup.create.wizard"
    _description = "Create CRM Backup"

    def action_confirm(self):
        backup = self.env["crm.backup"].request_backup()
        self.env.user._bus_send(
            "simple_notification",
            {
                "type": "info",
                "title": _("Backup queued"),
                "message": _(
                    "%(name)s is being made in the background. You will be "
                    "notified when it is ready.",
                    name=backup.name,
                ),
            },
        )
        return {"type": "ir.actions.act_window_close"}
