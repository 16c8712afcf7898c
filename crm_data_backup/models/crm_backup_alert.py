# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import UserError

from ..orm.mass_alert import MassChangeAlert


class CrmBackup(models.Model):
    """Mass-change alerts: a finished backup compared with the previous one."""

    _inherit = "crm.backup"

    alert = fields.Boolean(
        readonly=True,
        copy=False,
        help="Many records were deleted or changed since the previous backup.",
    )
    alert_summary = fields.Text(
        "Alert summary",
        readonly=True,
        copy=False,
        help="What the alert found, per object.",
    )
    alert_compare_id = fields.Many2one(
        "crm.backup.compare",
        "Comparison with the previous backup",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The comparison with the previous backup.",
    )

    def _check_mass_changes(self):
        """Compare with the previous backup; alert beyond the thresholds."""
        return MassChangeAlert(self).check()

    def action_acknowledge_alert(self):
        """A backup administrator has seen the alert: the flag goes."""
        self.check_access("write")
        for backup in self:
            if not backup.alert:
                raise UserError(self.env._("%s has no alert.", backup.name))
            backup.sudo().write({"alert": False})
            self.env["crm.backup.audit"]._log(
                "backup_alert_acknowledged",
                backup_id=backup.id,
                details=backup.alert_summary,
            )
        return True

    # -- storage: comparisons go with the backups they compare ---------------
    def _remove_comparisons(self):
        """Delete the comparisons of these backups, with their workbooks (a
        cascade in the database would leave the workbooks in the filestore)."""
        compares = (
            self.env["crm.backup.compare"]
            .sudo()
            .search(
                [
                    "|",
                    ("backup_from_id", "in", self.ids),
                    ("backup_to_id", "in", self.ids),
                ]
            )
        )
        compares.unlink()

    def unlink(self):
        self._remove_comparisons()
        return super().unlink()

    @api.model
    def _cron_purge_expired(self):
        expired = super()._cron_purge_expired()  # pylint: disable=no-member
        # their values are gone: so are the differences drawn from them
        expired._remove_comparisons()
        self._commit()
        return expired
