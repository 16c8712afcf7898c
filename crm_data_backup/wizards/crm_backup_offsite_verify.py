# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.exceptions import UserError

from ..orm.offsite import OffsiteError, parse_identity


class CrmBackupOffsiteVerify(models.TransientModel):
    """Verify an encrypted off-site copy with its age private key: decrypted
    (streamed), every file checked and a dry-run restore planned, as for an
    unencrypted copy.

    The key never reaches a column or the job's queue, so this verification
    runs when the wizard is saved, in the user's request: the checksum-only
    verification of the "Verify off-site copy" button runs in the background."""

    _name = "crm.backup.offsite.verify"
    _inherit = ["crm.backup.server.owned", "crm.backup.age.identity"]
    _description = "Verify an Encrypted Off-site Copy"
    _user_fields = frozenset({"backup_id", "identity"})

    backup_id = fields.Many2one(
        "crm.backup",
        required=True,
        ondelete="cascade",
        help="The backup whose encrypted off-site copy is verified.",
    )
    verified = fields.Boolean(
        readonly=True, help="The copy was verified with the key given."
    )

    def _use_identity(self, identity):
        self.ensure_one()
        backup = self.backup_id
        backup.check_access("write")
        backup._offsite_check_verifiable()
        if not backup.sudo().offsite_encrypted:
            raise UserError(
                self.env._("This copy is not encrypted: verify it without a key.")
            )
        try:
            outcome = backup.sudo()._offsite_verify(identity=parse_identity(identity))
        except OffsiteError as exc:
            raise UserError(exc.translated(self.env._)) from None
        if outcome is None:
            raise UserError(
                self.env._(
                    "The off-site copy of %s is being copied or verified; try "
                    "again in a moment.",
                    backup.name,
                )
            )
        self.sudo().verified = True

    def action_verify(self):
        """The outcome of the verification made when the key was given."""
        self.ensure_one()
        if not self.verified:
            raise UserError(
                self.env._("Enter the age private key that decrypts this copy.")
            )
        backup = self.backup_id.sudo()
        ok = backup.offsite_state == "verified"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if ok else "danger",
                "title": self.env._("Off-site copy verified")
                if ok
                else self.env._("Off-site copy not verified"),
                "message": backup.offsite_error
                or self.env._(
                    "%(name)s: checksum, size and files are right.", name=backup.name
                ),
                "sticky": not ok,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
