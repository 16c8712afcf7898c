# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CrmBackupAgeIdentity(models.AbstractModel):
    """A wizard's age private key, typed for one operation on an encrypted
    off-site copy: never stored (crm.backup.secret.input), handed to
    ``_use_identity``."""

    _name = "crm.backup.age.identity"
    _inherit = ["crm.backup.secret.input"]
    _description = "CRM Backup: age private key for one operation"
    _secret_fields = ("identity",)

    identity = fields.Char(
        "age private key",
        compute="_compute_identity",
        readonly=False,
        help="The private key (AGE-SECRET-KEY-1...) matching one of the "
        "recipients the copy was encrypted for: used once, never stored.",
    )

    def _compute_identity(self):
        self.identity = False

    def _use_secrets(self, secrets):
        if secrets.get("identity"):
            self._use_identity(secrets["identity"])

    def _use_identity(self, identity):
        """Do the operation with ``identity`` (the key's text)."""
        raise NotImplementedError
