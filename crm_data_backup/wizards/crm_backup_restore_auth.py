# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import datetime
import hmac
import logging
import time

import pyotp

from odoo import _, api, fields, models
from odoo.exceptions import AccessDenied

_logger = logging.getLogger(__name__)

MAX_FAILURES = 5
FAILURE_WINDOW_MINUTES = 10


class CrmBackupRestoreAuth(models.TransientModel):
    """Re-authentication before a restore or its undo runs."""

    _name = "crm.backup.restore.auth"
    _description = "Confirm Identity Before Restore"

    restore_id = fields.Many2one(
        "crm.backup.restore",
        required=True,
        ondelete="cascade",
        help="The restore to run once the identity is confirmed.",
    )
    job = fields.Selection(
        [("restore", "Restore"), ("undo", "Undo")],
        required=True,
        default="restore",
        help="Run the restore, or undo it.",
    )
    auth_method = fields.Selection(
        [
            ("totp", "Two-factor code"),
            ("password", "Password"),
            ("sso", "Single sign-on"),
        ],
        compute="_compute_auth_method",
        help="How the user confirms: their authenticator code when they use "
        "two-factor authentication, their password otherwise.",
    )
    totp_code = fields.Char(
        "Authentication code", help="The 6-digit code of your authenticator app."
    )
    password = fields.Char(help="Your password.")
    error = fields.Char(readonly=True, help="Why the last attempt failed.")

    @api.depends_context("uid")
    def _compute_auth_method(self):
        for wizard in self:
            wizard.auth_method = self._auth_method_of(self.env.user)

    @api.model
    def _auth_method_of(self, user):
        if user.totp_enabled:
            return "totp"
        # auth_oauth is optional: users signing in through a provider have no
        # password to type.
        if "oauth_provider_id" in user._fields and user.sudo().oauth_provider_id:
            return "sso"
        return "password"

    def _recent_failures(self):
        since = fields.Datetime.now() - datetime.timedelta(
            minutes=FAILURE_WINDOW_MINUTES
        )
        return (
            self.env["crm.backup.audit"]
            .sudo()
            .search_count(
                [
                    ("action", "=", "identity_failed"),
                    ("user_id", "=", self.env.uid),
                    ("date", ">=", since),
                ]
            )
        )

    def _check_totp(self, code):
        user = self.env.user.sudo()
        code = (code or "").replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return _("Enter the 6-digit code of your authenticator app.")
        totp = pyotp.TOTP(user.totp_secret)
        now = time.time()
        step = int(now // totp.interval)
        for offset in (-1, 0, 1):  # valid_window=1
            if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
                if step + offset <= user.crm_backup_totp_last_step:
                    return _("This code was already used. Wait for the next one.")
                user.crm_backup_totp_last_step = step + offset
                return None
        return _("Wrong authentication code.")

    def _check_password(self, password):
        if not password:
            return _("Enter your password.")
        try:
            self.env.user._check_credentials(
                {
                    "login": self.env.user.login,
                    "password": password,
                    "type": "password",
                },
                {"interactive": True},
            )
        except AccessDenied:
            return _("Wrong password.")
        return None

    def action_confirm(self):
        """Check the code or password; on success queue the restore."""
        self.ensure_one()
        restore = self.restore_id
        restore._check_ready(self.job)
        code, password = self.totp_code, self.password
        # Never keep secrets in the wizard's table.
        self.write({"totp_code": False, "password": False})
        if self._recent_failures() >= MAX_FAILURES:
            return self._retry(
                _(
                    "Too many failed attempts: identity checks are locked for "
                    "%s minutes.",
                    FAILURE_WINDOW_MINUTES,
                )
            )
        method = self.auth_method
        if method == "totp":
            error = self._check_totp(code)
        elif method == "password":
            error = self._check_password(password)
        else:
            error = None
        if error:
            _logger.info("Restore identity check failed for uid %s", self.env.uid)
            self.env["crm.backup.audit"]._log(
                "identity_failed",
                restore_id=restore.id,
                backup_id=restore.backup_id.id or False,
                object_id=restore.object_id.id,
                details=f"{self.job}: {method}",
            )
            return self._retry(error)
        restore._grant_execution(self.job)
        restore._queue(self.job)
        return {"type": "ir.actions.act_window_close"}

    def _retry(self, error):
        self.error = error
        return {
            "type": "ir.actions.act_window",
            "name": _("Confirm your identity"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }
