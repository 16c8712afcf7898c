# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CrmBackupRestore(models.Model):
    """A restore whose file came from an off-site copy
    (wizards/crm_backup_offsite_fetch.py)."""

    _inherit = "crm.backup.restore"

    # Server-owned (crm.backup.server.owned: not in _user_fields).
    offsite_copy_path = fields.Char(
        "Off-site copy",
        readonly=True,
        copy=False,
        help="The off-site copy this restore's file was fetched from.",
    )
    offsite_recipient = fields.Char(
        "age public key",
        readonly=True,
        copy=False,
        help="For a copy that was encrypted: the public key whose private key "
        "decrypted it. The identity check before the restore runs asks for "
        "that private key again; it is never stored.",
    )
