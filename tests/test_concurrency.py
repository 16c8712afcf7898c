# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Races on a real multi-process server (two HTTP workers, one cron worker)."""

import threading

import pytest
from conftest import login, set_param
from e2e import FIGURES, audit_entries, record_id, wait_backup

ROUNDS = 3


def _together(*calls):
    """Run ``calls`` at the same moment in threads; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:
            results[index] = exc

    threads = [
        threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_cron_and_manual_run_never_both_run_a_backup(
    round_, server, registry, users, e2e_db
):
    set_param(registry, "crm_data_backup.min_interval_hours", "0")
    web = login(server, "backup_admin", users)
    other = login(server, "backup_admin", users)
    # the request wakes the cron worker; a second worker runs the same backup by hand
    backup_id = record_id(web.call("crm.backup", "request_backup"))
    (manual,) = _together(lambda: other.call("crm.backup", "action_run", [backup_id]))
    FIGURES.race("cron and manual run of one backup")
    assert not isinstance(manual, Exception), manual
    assert wait_backup(e2e_db, backup_id, timeout=300) == "done"
    created = audit_entries(e2e_db, action="backup_created", backup_id=backup_id)
    assert len(created) == 1, f"the backup ran {len(created)} times"
    with e2e_db.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM ir_attachment WHERE res_model = 'crm.backup'"
            " AND res_id = %s",
            [backup_id],
        )
        assert cr.fetchone()[0] == 1
