# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""crm.backup.done_date is named date_done, as on restores."""

from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    if column_exists(cr, "crm_backup", "done_date") and not column_exists(
        cr, "crm_backup", "date_done"
    ):
        cr.execute(SQL("ALTER TABLE crm_backup RENAME COLUMN done_date TO date_done"))
