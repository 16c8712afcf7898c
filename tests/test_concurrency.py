# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Races on a real multi-process server (two HTTP workers, one cron worker)."""

import csv
import io
import os
import threading
import time
import zipfile

import pytest
from conftest import environment, login, set_param
from e2e import FIGURES, audit_entries, record_id, wait_backup, wait_for

# Races are rare: each is run many times (CRM_BACKUP_RACE_ROUNDS, `make stress`).
ROUNDS = int(os.environ.get("CRM_BACKUP_RACE_ROUNDS", "20"))


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


def _backup_cron_idle(db):
    """Whether no cron worker runs the backup job (a worker locks the job's row
    while it runs it) and no trigger of it waits."""
    with db.cursor() as cr:
        cr.execute(
            "SELECT c.id FROM ir_cron c JOIN ir_model_data d ON d.res_id = c.id"
            " AND d.model = 'ir.cron' AND d.module = 'crm_data_backup'"
            " AND d.name = 'ir_cron_crm_backup_run'"
            " WHERE NOT EXISTS (SELECT 1 FROM ir_cron_trigger t WHERE t.cron_id = c.id"
            " AND t.call_at <= now() at time zone 'UTC')"
            " FOR NO KEY UPDATE OF c SKIP LOCKED"
        )
        return bool(cr.fetchone())


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_cron_and_manual_run_never_both_run_a_backup(
    round_, server, registry, users, e2e_db
):
    set_param(registry, "crm_data_backup.min_interval_hours", "0")
    web = login(server, "backup_admin", users)
    other = login(server, "backup_admin", users)
    log_start = server.log_path.stat().st_size
    # the request wakes the cron worker; a second worker runs the same backup by hand
    backup_id = record_id(web.call("crm.backup", "request_backup"))
    # The cron worker takes the backup up about 0.1 s after the request: the
    # rounds click "Run now" at moments spread over 0.25 s, before, while and
    # after the cron starts, so that they meet every interleaving.
    time.sleep(round_ * 0.013 % 0.25)
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
    # the worker that did not get the backup stepped aside without an error,
    # not even one that Odoo retried
    wait_for(lambda: _backup_cron_idle(e2e_db), 120, what="the cron worker")
    with open(server.log_path, "rb") as log:
        log.seek(log_start)
        errors = [
            line
            for line in log.read().decode(errors="replace").splitlines()
            if " ERROR " in line or "could not serialize" in line
        ]
    assert not errors, errors


def _csv_rows(zip_bytes, name):
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        text = zf.read(name).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_backup_is_one_snapshot_while_users_write(
    server, registry, users, e2e_db, bulk_data
):
    """A user keeps changing a contact and a company together (one transaction)
    while the backup runs: both files hold the values of the same moment."""
    set_param(registry, "crm_data_backup.min_interval_hours", "0")
    with environment(registry, commit=True) as env:
        pair = env["res.partner"].create(
            [
                {"name": "Snapshot contact", "ref": "v0"},
                {"name": "Snapshot company", "ref": "v0", "is_company": True},
            ]
        )
    writer = login(server, "salesman", users)
    web = login(server, "backup_admin", users)
    backup_id = record_id(web.call("crm.backup", "request_backup"))
    writes = 0
    stop = threading.Event()

    def write_while_running():
        nonlocal writes
        while not stop.is_set():
            writes += 1
            writer.call("res.partner", "write", pair.ids, {"ref": f"v{writes}"})

    thread = threading.Thread(target=write_while_running)
    thread.start()
    try:
        state = wait_backup(e2e_db, backup_id, timeout=300)
    finally:
        stop.set()
        thread.join(60)
    FIGURES.race("users writing during a backup")
    assert state == "done"
    assert writes > 1
    response = web.get(f"/crm_data_backup/download/{backup_id}")
    assert response.status_code == 200
    contact = next(
        r
        for r in _csv_rows(response.content, "contacts.csv")
        if r["name"] == "Snapshot contact"
    )
    company = next(
        r
        for r in _csv_rows(response.content, "companies.csv")
        if r["name"] == "Snapshot company"
    )
    assert contact["ref"] == company["ref"], (contact["ref"], company["ref"])
    # the snapshot was taken while the writes went on, not after them
    assert contact["ref"] != f"v{writes}"
