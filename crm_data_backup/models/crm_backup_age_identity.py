# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class CrmBackupAgeIdentity(models.AbstractModel):
    """A wizard's age private key, typed for one operation on an encrypted
    off-site copy: taken out of the values before they are saved (no column,
    as the identity check's password) and handed to ``_use_identity``."""

    _name = "crm.backup.age.identity"
    _description = "CRM Backup: age private key for one operation"

    identity = fields.Char(
        "age private key",
        compute="_compute_identity",
        readonly=False,
        help="The private key (AGE-SECRET-KEY-1...) matching one of the "
        "recipients the copy was encrypted for: used once, never stored.",
    )

    def _compute_identity(self):
        self.identity = False

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        identities = [vals.pop("identity", None) for vals in vals_list]
        records = super().create(vals_list)
        for record, identity in zip(records, identities, strict=True):
            if identity:
                record._use_identity(identity)
        return records

    def write(self, vals):
        vals = dict(vals)
        identity = vals.pop("identity", None)
        result = super().write(vals) if vals else True
        if identity:
            for record in self:
                record._use_identity(identity)
        return result

    def _use_identity(self, identity):
        """Do the operation with ``identity`` (the key's text)."""
        raise NotImplementedError
