# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A restore's "running" meant queued or being written; it is now "queued"
until the background job writes it. No job runs during an update: every
running restore waits for the job, and the job takes both states (one left
running by a crash is run again). The index allowing one of them at a time
is made again, on both states, when the model loads."""

from odoo.tools import SQL
from odoo.tools.sql import table_exists


def migrate(cr, version):
    if not version or not table_exists(cr, "crm_backup_restore"):
        return
    cr.execute(SQL("DROP INDEX IF EXISTS crm_backup_restore_one_running"))
    cr.execute(
        SQL("UPDATE crm_backup_restore SET state = 'queued' WHERE state = 'running'")
    )
