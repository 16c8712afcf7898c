# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Two restores confirmed at the same moment on two workers: only one runs."""

import contextlib

from conftest import login
from e2e import FIGURES, RestoreFlow, pg_connect, wait_restore
from test_concurrency import _together
from test_restore_e2e import _all_paris, _move_to_lyon


@contextlib.contextmanager
def _restore_cron_paused(db):
    """Keep the queued restore waiting: a restore of a few thousand records may
    otherwise be done before Odoo retries the second request (which is then
    rightly accepted)."""
    with db.cursor() as cr:
        cr.execute(
            "SELECT res_id FROM ir_model_data WHERE module = 'crm_data_backup'"
            " AND name = 'ir_cron_restore_run'"
        )
        (cron,) = cr.fetchone()
        cr.execute("UPDATE ir_cron SET active = false WHERE id = %s", [cron])
    try:
        yield
    finally:
        with db.cursor() as cr:
            cr.execute("UPDATE ir_cron SET active = true WHERE id = %s", [cron])
            # An inactive cron ignores triggers: give it the one it missed.
            cr.execute(
                "INSERT INTO ir_cron_trigger (cron_id, call_at)"
                " VALUES (%s, now() at time zone 'UTC')",
                [cron],
            )
        # Cron workers listen on the postgres database (see ir.cron._notifydb).
        with contextlib.closing(pg_connect(db.config, "postgres")) as conn:
            conn.cursor().execute("SELECT pg_notify('cron_trigger', %s)", [db.name])


def test_two_restores_confirmed_at_the_same_moment_only_one_runs(
    flow, backup, e2e_db, server, users, bulk_data
):
    """Two workers accept identity checks at once: one restore is queued, the other
    refused with a message naming it."""
    _move_to_lyon(e2e_db, 2000)
    restores = [flow.create("contacts", ["city"], backup_id=backup["id"]) for _ in "ab"]
    flows = [
        RestoreFlow(
            login(server, "backup_admin", users), users["backup_admin"]["password"]
        )
        for _ in restores
    ]
    wizards = []
    for each, restore_id in zip(flows, restores, strict=True):
        each.plan(restore_id)
        wizards.append(each.confirm(restore_id))
    with _restore_cron_paused(e2e_db):
        results = _together(
            *(
                lambda each=each, wizard=wizard: each.authenticate(wizard)
                for each, wizard in zip(flows, wizards, strict=True)
            )
        )
    FIGURES.race("two restores at once")
    accepted = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(accepted) == 1, f"{len(accepted)} restores were accepted: {results}"
    assert refused[0].kind == "UserError" and "Another restore" in refused[0].message
    states = sorted(wait_restore(e2e_db, r, ("done", "planned")) for r in restores)
    assert states == ["done", "planned"]
    _all_paris(e2e_db)
