# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Faults during backups: the server SIGKILLed mid-export, a full disk, an unwritable
filestore. Each time the backup ends failed with a reason, no file is left behind, the
audit log says what happened, no CRM record is touched, and the next backup works."""

import contextlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import environment, login, set_param
from e2e import (
    FIGURES,
    audit_entries,
    backup_state,
    filestore_orphans,
    record_id,
    wait_backup,
    wait_for,
)


def _partial_files(server):
    return [
        path
        for path in server.tmp_dir.rglob("*")
        if path.is_file() and path.stat().st_size > 0
    ]


def wait_mid_export(server, db, backup_id):
    """Wait until the backup is running and has written part of its file."""
    wait_for(
        lambda: backup_state(db, backup_id) in ("running", "done", "failed"),
        240,
        interval=0.02,
        what="the backup to start",
    )
    wait_for(
        lambda: _partial_files(server) or backup_state(db, backup_id) != "running",
        60,
        interval=0.02,
        what="the backup to write its file",
    )


def _trigger(registry, xmlid):
    """Wake the server's cron worker for a job, as Odoo's own code does."""
    with environment(registry, commit=True) as env:
        env.ref(xmlid)._trigger()


def _request(server, users):
    web = login(server, "backup_admin", users)
    return record_id(web.call("crm.backup", "request_backup"))


def _backup_row(db, backup_id):
    with db.cursor() as cr:
        cr.execute(
            "SELECT state, attachment_id, error_message FROM crm_backup WHERE id = %s",
            [backup_id],
        )
        state, attachment_id, reason = cr.fetchone()
        cr.execute(
            "SELECT count(*) FROM ir_attachment WHERE res_model = 'crm.backup'"
            " AND res_id = %s",
            [backup_id],
        )
        return state, attachment_id, reason, cr.fetchone()[0]


def _assert_failed_cleanly(db, backup_id):
    state, attachment_id, reason, attachments = _backup_row(db, backup_id)
    assert state == "failed"
    assert attachment_id is None and attachments == 0, "a failed backup kept a file"
    assert reason and "Traceback" not in reason, f"unclear reason: {reason!r}"
    failed = audit_entries(db, action="backup_failed", backup_id=backup_id)
    assert len(failed) == 1 and failed[0]["details"] == reason
    return reason


def _assert_next_backup_works(server, users, db):
    backup_id = _request(server, users)
    assert wait_backup(db, backup_id, timeout=300) == "done"
    state, attachment_id, _reason, attachments = _backup_row(db, backup_id)
    assert attachment_id and attachments == 1


@pytest.fixture
def no_limit(registry):
    set_param(registry, "crm_data_backup.min_interval_hours", "0")


def test_sigkill_during_backup(server, registry, users, e2e_db, bulk_data, no_limit):
    before = e2e_db.fingerprint()
    backup_id = _request(server, users)
    wait_mid_export(server, e2e_db, backup_id)
    server.kill()
    FIGURES.fault("SIGKILL during a backup")
    # the crash did hit the backup mid-way
    assert backup_state(e2e_db, backup_id) == "running"
    server.start()
    # The next run of the job sees that no process holds the backup any more.
    _trigger(registry, "crm_data_backup.ir_cron_crm_backup_run")
    assert wait_backup(e2e_db, backup_id, timeout=120) == "failed"
    _assert_failed_cleanly(e2e_db, backup_id)
    after = e2e_db.fingerprint()
    FIGURES.compare(before, after)
    assert after == before
    # the filestore keeps no file of the killed run once Odoo's file GC has run
    _trigger(registry, "base.autovacuum_job")
    wait_for(lambda: not filestore_orphans(e2e_db), 60, what="the filestore GC")
    _assert_next_backup_works(server, users, e2e_db)


@contextlib.contextmanager
def _tmpfs(path, free_bytes):
    """A tmpfs at ``path`` holding its current files and ``free_bytes`` more."""
    path.mkdir(parents=True, exist_ok=True)
    saved = Path(tempfile.mkdtemp(prefix="crm_backup_e2e_"))
    shutil.copytree(path, saved, dirs_exist_ok=True)
    used = sum(f.stat().st_size + 4096 for f in path.rglob("*") if f.is_file())
    size = used + free_bytes + 64 * 1024
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        check=True,
        capture_output=True,
    )
    try:
        shutil.copytree(saved, path, dirs_exist_ok=True)
        # fill what is left: the disk is full, not merely small
        with contextlib.suppress(OSError), open(path / ".filler", "wb") as filler:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        yield
    finally:
        for _ in range(50):
            if subprocess.run(["umount", str(path)], check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(path)], check=False)
        shutil.rmtree(saved, ignore_errors=True)


@contextlib.contextmanager
def _not_a_directory(path):
    """``path`` (a directory) replaced by a plain file: nothing can be written in it."""
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)
    try:
        path.write_text("not a directory")
        yield
    finally:
        path.unlink()
        aside.rename(path)


def _tmpfs_works():
    probe = Path(tempfile.mkdtemp(prefix="crm_backup_e2e_probe_"))
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
            check=False,
            capture_output=True,
        )
        if done.returncode == 0:
            subprocess.run(["umount", str(probe)], check=True)
        return done.returncode == 0
    finally:
        probe.rmdir()


DISK_FAULTS = ("full filestore", "full temporary directory", "unwritable filestore")


@pytest.mark.parametrize("fault", DISK_FAULTS)
def test_disk_fault_during_backup(
    fault, server, registry, users, e2e_db, bulk_data, no_limit
):
    if fault.startswith("full") and not _tmpfs_works():
        # without the right to mount a small disk, make the place unwritable instead
        fault = f"{fault} (unwritable: mounting a tmpfs is not permitted here)"
    before = e2e_db.fingerprint()
    if fault == "full filestore":
        place = _tmpfs(e2e_db.filestore(), 0)
    elif fault == "full temporary directory":
        place = _tmpfs(server.tmp_dir, 0)
    elif "temporary" in fault:
        place = _not_a_directory(server.tmp_dir)
    else:
        place = _not_a_directory(e2e_db.filestore())
    with place:
        FIGURES.fault(fault)
        backup_id = _request(server, users)
        state = wait_backup(e2e_db, backup_id, timeout=300)
    assert state == "failed"
    _assert_failed_cleanly(e2e_db, backup_id)
    after = e2e_db.fingerprint()
    FIGURES.compare(before, after)
    assert after == before
    assert not filestore_orphans(e2e_db)
    _assert_next_backup_works(server, users, e2e_db)
