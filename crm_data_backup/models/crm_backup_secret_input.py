# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class CrmBackupSecretInput(models.AbstractModel):
    """A wizard's secrets (a password, a code, a private key), typed for one
    operation: taken out of the values before they are saved, so that they
    never reach a column, and handed to ``_use_secrets``."""

    _name = "crm.backup.secret.input"
    _description = "CRM Backup: secrets typed for one operation"
    # the (non-stored) fields holding the secrets
    _secret_fields = ()

    def _pop_secrets(self, vals):
        """The secrets given in ``vals`` (removed from it), or None."""
        given = {name: vals.pop(name) for name in self._secret_fields if name in vals}
        return given or None

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        given = [self._pop_secrets(vals) for vals in vals_list]
        records = super().create(vals_list)
        for record, secrets in zip(records, given, strict=True):
            if secrets:
                record._use_secrets(secrets)
        return records

    def write(self, vals):
        vals = dict(vals)
        secrets = self._pop_secrets(vals)
        result = super().write(vals) if vals else True
        if secrets:
            for record in self:
                record._use_secrets(secrets)
        return result

    def _use_secrets(self, secrets):
        """Do the operation with ``secrets`` ({field: text})."""
        raise NotImplementedError
