# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models

# Bus notification type the list and form views of backups and restores
# listen to (static/src/views/crm_backup_live.js).
LIVE_NOTIFICATION = "crm_data_backup/job"


class CrmBackupLive(models.AbstractModel):
    """Tells open screens when a job moves, so they reload without the user."""

    _name = "crm.backup.live"
    _description = "CRM Backup: live screens of jobs"

    # Fields whose change the screens show (state, progress...).
    _live_fields = frozenset({"state"})

    def write(self, vals):
        result = super().write(vals)
        if self._live_fields & set(vals):
            self._live_send()
        return result

    def _live_send(self, env=None):
        """Notify the backup administrators that these records changed; the
        message holds ids only: each screen reads what its user may see.
        Sent when ``env``'s transaction commits (another cursor's for a
        progress the job's own transaction cannot show yet)."""
        env = env or self.env
        group = env.ref(
            "crm_data_backup.group_crm_backup_admin", raise_if_not_found=False
        )
        if not group or not self.ids:
            return
        group.sudo().users._bus_send(
            LIVE_NOTIFICATION, {"model": self._name, "ids": self.ids}
        )
