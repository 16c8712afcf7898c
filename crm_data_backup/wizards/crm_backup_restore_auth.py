# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import datetime
import hmac
import logging
import time

import pyotp

from odoo import _, api, fields, models
from odoo.exceptions import AccessDenied, AccessError
from odoo.tools import SQL, sql

from ..orm.offsite import OffsiteError, parse_identity
from ..orm.request_lock import serialize_user_requests

_logger = logging.getLogger(__name__)

MAX_FAILURES = 5
FAILURE_WINDOW_MINUTES = 10
# The web client saves the wizard (checking the identity) just before it
# calls the Confirm button: the check is good for a few minutes only.
VERIFIED_MINUTES = 5
SECRET_FIELDS = ("password", "totp_code", "age_identity")


class CrmBackupRestoreAuth(models.TransientModel):
    """Re-authentication before a restore or its undo runs.

    The password or code never reaches a column: create() and write() take
    it out of the values and check it at once (the web client saves the
    wizard before it calls the button, in a request of its own); only the
    outcome is stored. The Confirm button then queues a verified restore.
    """

    _name = "crm.backup.restore.auth"
    _inherit = ["crm.backup.server.owned", "crm.backup.secret.input"]
    _description = "Confirm Identity Before Restore"
    _secret_fields = SECRET_FIELDS
    # error and verified_date are the server's; restore_id and job are set
    # once, when the wizard is created.
    _user_fields = frozenset({"restore_id", "job", *SECRET_FIELDS})

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
        "Authentication code",
        compute="_compute_secrets",
        readonly=False,
        help="The 6-digit code of your authenticator app (checked, never stored).",
    )
    password = fields.Char(
        compute="_compute_secrets",
        readonly=False,
        help="Your password (checked, never stored).",
    )
    age_identity = fields.Char(
        "age private key",
        compute="_compute_secrets",
        readonly=False,
        help="The restore's file came from an encrypted off-site copy: the "
        "private key (AGE-SECRET-KEY-1...) that decrypted it (checked, never "
        "stored).",
    )
    needs_age_identity = fields.Boolean(
        "Needs the age private key",
        compute="_compute_needs_age_identity",
        help="The restore's file came from an encrypted off-site copy.",
    )
    error = fields.Char(readonly=True, help="Why the last attempt failed.")
    verified_date = fields.Datetime(
        "Verified On",
        readonly=True,
        help="When the identity was confirmed in this wizard: Confirm queues "
        "the restore for a few minutes after.",
    )

    def _auto_init(self):
        # Earlier versions kept the password and code in columns: drop them
        # (and whatever they still hold).
        for name in SECRET_FIELDS:
            if sql.column_exists(self.env.cr, self._table, name):
                self.env.cr.execute(
                    SQL(
                        "ALTER TABLE %s DROP COLUMN %s",
                        SQL.identifier(self._table),
                        SQL.identifier(name),
                    )
                )
        return super()._auto_init()

    @api.depends_context("uid")
    def _compute_auth_method(self):
        for wizard in self:
            wizard.auth_method = self._auth_method_of(self.env.user)

    def _compute_secrets(self):
        self.totp_code = self.password = self.age_identity = False

    @api.depends("restore_id", "job")
    def _compute_needs_age_identity(self):
        for wizard in self:
            wizard.needs_age_identity = wizard.job == "restore" and bool(
                wizard.restore_id.sudo().offsite_recipient
            )

    @api.model
    def _auth_method_of(self, user):
        if user.totp_enabled:
            return "totp"
        # auth_oauth is optional: users signing in through a provider have no
        # password to type.
        if "oauth_provider_id" in user._fields and user.sudo().oauth_provider_id:
            return "sso"
        return "password"

    # --- the secrets never reach the ORM (crm.backup.secret.input) -------

    def write(self, vals):
        self._check_user_values(vals)  # pylint: disable=no-member
        if not self.env.su and {"restore_id", "job"} & set(vals):
            raise AccessError(
                self.env._("An identity check stays on its restore and job.")
            )
        return super().write(vals)

    def _use_secrets(self, secrets):
        self._verify(secrets)

    # --- the identity check ----------------------------------------------

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

    def _locked_out(self):
        """Whether the user failed too often; if not, hold the user's turn.

        Holding the turn (an update of the user's row) makes a concurrent
        attempt wait until this one commits, then run again on a fresh
        snapshot that counts this attempt's failure: at most MAX_FAILURES
        attempts ever reach the credential check.
        """
        # Counting first (on this request's snapshot) spares the locked-out
        # attempts the wait: the count can only be lower than the truth.
        if self._recent_failures() >= MAX_FAILURES:
            return True
        serialize_user_requests(self.env)
        return False

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

    def _verify(self, secrets):
        """Check the password or code of ``secrets``; store only the outcome."""
        self.ensure_one()
        restore = self.restore_id
        restore._check_ready(self.job)
        method = self.auth_method
        if method == "sso" and not self.needs_age_identity:
            return  # nothing to type: action_confirm grants directly
        if self._locked_out():
            _logger.info("Restore identity check locked for uid %s", self.env.uid)
            error = _(
                "Too many failed attempts: identity checks are locked for %s minutes.",
                FAILURE_WINDOW_MINUTES,
            )
        else:
            if method == "totp":
                error = self._check_totp(secrets.get("totp_code"))
            elif method == "password":
                error = self._check_password(secrets.get("password"))
            else:
                error = None
            if not error and self.needs_age_identity:
                error = self._check_age_identity(secrets.get("age_identity"))
            if error:
                _logger.info("Restore identity check failed for uid %s", self.env.uid)
                restore._audit("identity_failed", details=f"{self.job}: {method}")
        self.sudo().write(
            {
                "error": error or False,
                "verified_date": False if error else fields.Datetime.now(),
            }
        )

    def _check_age_identity(self, text):
        """The private key matching the public key that decrypted the copy."""
        if not text:
            return _("Enter the age private key that decrypts this copy.")
        try:
            identity = parse_identity(text)
        except OffsiteError as exc:
            return exc.translated(self.env._)
        expected = self.restore_id.sudo().offsite_recipient
        if not hmac.compare_digest(str(identity.to_public()), expected):
            return _("This is not the private key that decrypted the copy.")
        return None

    def _is_verified(self):
        return self.verified_date and self.verified_date >= (
            fields.Datetime.now() - datetime.timedelta(minutes=VERIFIED_MINUTES)
        )

    def action_confirm(self):
        """Queue the restore once the identity is confirmed (see write())."""
        self.ensure_one()
        restore = self.restore_id
        if self.auth_method != "sso" or self.needs_age_identity:
            if not self._is_verified():
                # a restore that is not ready says so first
                restore._check_ready(self.job)
                return self._retry(self._not_verified_error())
            # One check, one run.
            self.sudo().verified_date = False
        # queued once ready (checked on fresh data), then allowed one run
        restore._queue(self.job)
        restore._grant_execution(self.job)
        return {"type": "ir.actions.act_window_close"}

    def _not_verified_error(self):
        if self.error:
            return self.error
        if self.verified_date:
            return _("The identity check expired: confirm it is you again.")
        if self.auth_method == "totp":
            return _("Enter the 6-digit code of your authenticator app.")
        if self.auth_method == "sso":
            return _("Enter the age private key that decrypts this copy.")
        return _("Enter your password.")

    def _retry(self, error):
        self.sudo().error = error
        return self._action_open()

    def _action_open(self):
        """This identity check, as a dialog."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Confirm your identity"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }
