# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Make concurrent requests of one kind take turns on fresh data."""

from odoo.tools import SQL

BACKUP_REQUESTS = "crm_data_backup.lock.backup_requests"
RESTORE_REQUESTS = "crm_data_backup.lock.restore_requests"


def serialize_requests(env, key):
    """Wait for any concurrent request holding ``key``, and see what it did.

    Odoo's transactions are REPEATABLE READ: their snapshot is taken before
    any lock, so a lock alone would let the second request check stale data.
    Updating one shared row makes the second transaction wait for the first,
    then fail with a serialization error, which Odoo retries with a fresh
    snapshot; the check then sees the first request's record.
    """
    env.cr.execute("UPDATE ir_config_parameter SET value = value WHERE key = %s", [key])
    if not env.cr.rowcount:
        env["ir.config_parameter"].sudo().set_param(key, "1")


def serialize_user_requests(env):
    """Like :func:`serialize_requests`, for the requests of the current user only.

    The shared row is the user's own ``res_users`` row: requests of other
    users never wait.
    """
    env.cr.execute(
        SQL("UPDATE res_users SET write_date = write_date WHERE id = %s", env.uid)
    )
