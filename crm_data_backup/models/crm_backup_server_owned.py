# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.exceptions import AccessError

# Written by the chatter and the web client on any mail.thread record.
MAIL_FIELDS = frozenset(
    {
        "message_follower_ids",
        "message_ids",
        "message_main_attachment_id",
        "activity_ids",
        "website_message_ids",
    }
)


class CrmBackupServerOwned(models.AbstractModel):
    """Fields users may choose, every other one the server's.

    ``readonly`` only shapes the form: over RPC any field can be sent. Here,
    a write by a user (not ``sudo()``) may only touch ``_user_fields``; the
    application writes its state, results and files through ``sudo()`` in
    private methods.
    """

    _name = "crm.backup.server.owned"
    _description = "CRM Backup: fields only the server writes"

    # Field names a user may set; subclasses list theirs.
    _user_fields = frozenset()

    def _check_user_values(self, vals):
        if self.env.su:
            return
        owned = sorted(set(vals) - self._user_fields - MAIL_FIELDS)
        if owned:
            raise AccessError(
                self.env._(
                    "These fields are set by the backup application only: %(fields)s.",
                    fields=", ".join(owned),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        # a default given in the context is a value too
        defaults = {
            key[len("default_") :]: True
            for key in self.env.context
            if key.startswith("default_") and key[len("default_") :] in self._fields
        }
        for vals in vals_list:
            self._check_user_values(dict(defaults, **vals))
        return super().create(vals_list)

    def write(self, vals):
        self._check_user_values(vals)
        return super().write(vals)
