# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A backup killed mid-way leaves no file anywhere, temporary directory included."""

from conftest import set_param
from e2e import FIGURES, wait_backup
from test_faults import _request, _trigger, wait_mid_export


def test_sigkill_during_backup_leaves_no_temporary_file(
    server, registry, users, e2e_db, bulk_data
):
    set_param(registry, "crm_data_backup.min_interval_hours", "0")
    before = set(server.tmp_dir.iterdir()) if server.tmp_dir.exists() else set()
    backup_id = _request(server, users)
    wait_mid_export(server, e2e_db, backup_id)
    server.kill()
    FIGURES.fault("SIGKILL during a backup")
    server.start()
    _trigger(registry, "crm_data_backup.ir_cron_crm_backup_run")
    assert wait_backup(e2e_db, backup_id, timeout=120) == "failed"
    left = sorted(str(p) for p in set(server.tmp_dir.iterdir()) - before)
    assert not left, f"the killed backup left files with CRM data: {left}"
