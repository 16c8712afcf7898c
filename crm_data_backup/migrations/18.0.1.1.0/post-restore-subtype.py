# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""18.0.1.1.0: the unused "Restore failed" subtype goes (restores notify with
comments). Its record was loaded with noupdate, which Odoo never deletes by
itself."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    subtype = env.ref("crm_data_backup.mt_restore_failed", raise_if_not_found=False)
    if subtype:
        subtype.unlink()
