# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Restores through the real server: exact values back, undo, and bad backup files
(corrupt, foreign, tampered) refused with a clear message, changing nothing."""

import base64
import csv
import hashlib
import io
import json
import time
import uuid
import zipfile

import pytest
from conftest import FORMULA, PHONE, environment, login, set_param
from e2e import (
    FIGURES,
    audit_entries,
    record_id,
    restore_lock_held,
    restore_state,
    wait_backup,
    wait_for,
    wait_restore,
)
from odoo_client import RpcError


def _cities(db):
    with db.cursor() as cr:
        cr.execute(
            "SELECT city, count(*) FROM res_partner WHERE name LIKE 'Bulk %%'"
            " GROUP BY city"
        )
        return dict(cr.fetchall())


def _city(db, partner_id):
    with db.cursor() as cr:
        cr.execute("SELECT city FROM res_partner WHERE id = %s", [partner_id])
        return cr.fetchone()[0]


def test_formula_values_are_kept_in_the_backup_file(backup):
    # CSV formula protection is off by default: the file holds the values
    # Import reads back
    with zipfile.ZipFile(io.BytesIO(backup["zip"])) as zf:
        text = zf.read("contacts.csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    (row,) = [r for r in rows if r["name"] == "Formula contact"]
    assert row["city"] == FORMULA
    assert row["phone"] == PHONE  # a phone number is not a formula
    FIGURES.input("formula-like value", 2)


def _move_to_lyon(db, count):
    with db.cursor() as cr:
        cr.execute(
            "UPDATE res_partner SET city = 'Lyon' WHERE id IN (SELECT id FROM"
            " res_partner WHERE name LIKE 'Bulk %%' ORDER BY id LIMIT %s)",
            [count],
        )


def test_restore_brings_values_back_and_undo_reverts(flow, backup, e2e_db, bulk_data):
    _move_to_lyon(e2e_db, 1000)
    with e2e_db.cursor() as cr:
        cr.execute(
            "UPDATE res_partner SET city = 'Changed' WHERE id = %s",
            [backup["formula_id"]],
        )
    restore_id = flow.create("contacts", ["city"], backup_id=backup["id"])
    flow.plan(restore_id)
    flow.run(restore_id)
    assert wait_restore(e2e_db, restore_id) == "done"
    assert _cities(e2e_db) == {"Paris": bulk_data}
    assert _city(e2e_db, backup["formula_id"]) == FORMULA  # exact, not "'=cmd..."
    executed = audit_entries(e2e_db, action="restore_executed", restore_id=restore_id)
    assert len(executed) == 1
    flow.run(restore_id, job="undo")
    assert wait_restore(e2e_db, restore_id, states=("undone", "failed")) == "undone"
    assert _cities(e2e_db) == {"Lyon": 1000, "Paris": bulk_data - 1000}
    assert _city(e2e_db, backup["formula_id"]) == "Changed"
    assert audit_entries(e2e_db, action="restore_undone", restore_id=restore_id)


# --- bad backup files ------------------------------------------------------------


def _members(zip_bytes):
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(members, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _rebuild(zip_bytes, change_csv=None, change_manifest=None, fix_checksums=True):
    """The backup with contacts.csv and/or the manifest changed."""
    members = _members(zip_bytes)
    manifest = json.loads(members["manifest.json"])
    if change_csv:
        members["contacts.csv"] = change_csv(members["contacts.csv"])
    if fix_checksums:
        for entry in manifest["files"]:
            if entry["name"] in members:
                entry["sha256"] = hashlib.sha256(members[entry["name"]]).hexdigest()
    if change_manifest:
        change_manifest(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    return _zip(members)


def _edit_rows(edit):
    def change(data):
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        edit(rows)
        out = io.StringIO(newline="")
        csv.writer(out).writerows(rows)
        return out.getvalue().encode()

    return change


def _tamper_byte(data):
    index = data.index(b"Paris")
    return data[:index] + b"Rome!" + data[index + 5 :]


def _add_column(rows):
    rows[0].append("extra_column")
    for row in rows[1:]:
        row.append("x")


def _drop_city(rows):
    index = rows[0].index("city")
    for row in rows:
        del row[index]


def _latin1(data):
    return data.decode("utf-8-sig").replace("Paris", "Périgueux", 1).encode("latin-1")


def _huge_value(rows):
    rows[1][rows[0].index("city")] = "x" * (10 * 1024 * 1024)


def _manifest(**changes):
    def change(manifest):
        manifest.update(changes)

    return change


def _more_rows(manifest):
    for entry in manifest["files"]:
        if entry["name"] == "contacts.csv":
            entry["rows"] += 1


def _path_traversal(zip_bytes):
    members = _members(zip_bytes)
    manifest = json.loads(members["manifest.json"])
    evil = b"id,name\r\n__export__.evil,Evil\r\n"
    name = "../../../../tmp/crm_backup_evil.csv"
    members[name] = evil
    manifest["files"].append(
        {
            "name": name,
            "object": "contacts",
            "model": "res.partner",
            "rows": 1,
            "fields": ["id", "name"],
            "sha256": hashlib.sha256(evil).hexdigest(),
        }
    )
    members["manifest.json"] = json.dumps(manifest).encode()
    return _zip(members)


def _zip_bomb(zip_bytes):
    members = _members(zip_bytes)
    # 200 MB of zeros compress to ~200 kB: a ratio no backup has
    members["contacts.csv"] = b"0" * (200 * 1024 * 1024)
    return _zip(members)


def _without_manifest(zip_bytes):
    members = _members(zip_bytes)
    del members["manifest.json"]
    return _zip(members)


BAD_FILES = {
    "empty file": lambda z: b"",
    "not a zip": lambda z: b"id,name,city\r\n__export__.x,Someone,Paris\r\n",
    "truncated zip": lambda z: z[: len(z) // 2],
    "zip bomb": _zip_bomb,
    "path traversal name": _path_traversal,
    "no manifest": _without_manifest,
    "manifest not JSON": lambda z: _zip({**_members(z), "manifest.json": b"{oops"}),
    "wrong checksum": lambda z: _rebuild(z, _tamper_byte, fix_checksums=False),
    "other database": lambda z: _rebuild(
        z, change_manifest=_manifest(database_uuid=str(uuid.uuid4()))
    ),
    "newer format version": lambda z: _rebuild(
        z, change_manifest=_manifest(format_version=2)
    ),
    "not our format": lambda z: _rebuild(
        z, change_manifest=_manifest(format="hubspot_export")
    ),
    "extra column": lambda z: _rebuild(z, _edit_rows(_add_column)),
    "missing column": lambda z: _rebuild(z, _edit_rows(_drop_city)),
    "rows missing": lambda z: _rebuild(z, change_manifest=_more_rows),
    "wrong encoding": lambda z: _rebuild(z, _latin1),
    "10 MB value": lambda z: _rebuild(z, _edit_rows(_huge_value)),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_backup_file_is_refused_and_changes_nothing(
    kind, flow, backup, e2e_db, server
):
    data = BAD_FILES[kind](backup["zip"])
    FIGURES.input(kind)
    before = e2e_db.fingerprint()
    restore_id = flow.create(
        "contacts", ["city"], upload=base64.b64encode(data).decode()
    )
    with pytest.raises(RpcError) as caught:
        flow.plan(restore_id)
        # a plan that passed must still not run without the acknowledgement
        flow.confirm(restore_id)
    error = caught.value
    assert error.kind in ("UserError", "ValidationError"), error
    assert error.message and "Traceback" not in error.message
    assert len(error.message) < 500, error.message
    assert restore_state(e2e_db, restore_id) == "draft"
    assert not audit_entries(e2e_db, action="restore_executed", restore_id=restore_id)
    after = e2e_db.fingerprint()
    FIGURES.compare(before, after)
    assert after == before
    assert "crm_backup_evil" not in "".join(
        p.name for p in server.tmp_dir.parent.rglob("*crm_backup_evil*")
    )


# --- faults and races ------------------------------------------------------------


def _all_paris(db):
    with db.cursor() as cr:
        cr.execute("UPDATE res_partner SET city = 'Paris' WHERE name LIKE 'Bulk %'")


def test_sigkill_during_restore_applies_all_or_nothing(
    flow, backup, e2e_db, server, registry, bulk_data
):
    moved = 6000
    _move_to_lyon(e2e_db, moved)
    before = e2e_db.fingerprint()
    restore_id = flow.create("contacts", ["city"], backup_id=backup["id"])
    flow.plan(restore_id)
    flow.run(restore_id)
    wait_for(lambda: restore_lock_held(e2e_db), 120, 0.05, "the restore to start")
    time.sleep(1)  # well inside the writes
    server.kill()
    FIGURES.fault("SIGKILL during a restore")
    # nothing of the interrupted transaction is visible
    assert _cities(e2e_db) == {"Lyon": moved, "Paris": bulk_data - moved}
    server.start()
    with environment(registry, commit=True) as env:
        env.ref("crm_data_backup.ir_cron_restore_run")._trigger()
    state = wait_restore(e2e_db, restore_id, timeout=300)
    cities = _cities(e2e_db)
    if state == "done":  # retried from the start after the restart
        assert cities == {"Paris": bulk_data}
        assert audit_entries(e2e_db, action="restore_executed", restore_id=restore_id)
    else:
        assert state == "failed"
        assert cities == {"Lyon": moved, "Paris": bulk_data - moved}
        assert audit_entries(e2e_db, action="restore_failed", restore_id=restore_id)
    after = e2e_db.fingerprint()
    FIGURES.compare(before, after)
    _all_paris(e2e_db)


def test_second_restore_is_refused_while_one_runs(flow, backup, e2e_db, bulk_data):
    _move_to_lyon(e2e_db, 6000)
    first = flow.create("contacts", ["city"], backup_id=backup["id"])
    second = flow.create("contacts", ["city"], backup_id=backup["id"])
    for restore_id in (first, second):
        flow.plan(restore_id)
    wizard = flow.confirm(second)
    flow.run(first)
    wait_for(lambda: restore_lock_held(e2e_db), 120, 0.05, "the first restore")
    FIGURES.race("restore while another runs")
    with pytest.raises(RpcError) as caught:
        flow.authenticate(wizard)
    assert caught.value.kind == "UserError"
    (name,) = flow.client.call("crm.backup.restore", "read", [first], ["name"])
    assert name["name"] in caught.value.message
    assert wait_restore(e2e_db, first) == "done"
    assert restore_state(e2e_db, second) == "planned"
    _all_paris(e2e_db)


def _last_bus_id(db):
    with db.cursor() as cr:
        cr.execute("SELECT COALESCE(MAX(id), 0) FROM bus_bus")
        return cr.fetchone()[0]


def _live_messages(db, restore_id, after_id):
    """Committed bus messages telling the screens that the restore moved."""
    with db.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM bus_bus WHERE id > %s"
            " AND message::jsonb ->> 'type' = 'crm_data_backup/job'"
            " AND message::jsonb -> 'payload' = %s::jsonb",
            [
                after_id,
                json.dumps({"model": "crm.backup.restore", "ids": [restore_id]}),
            ],
        )
        return cr.fetchone()[0]


def test_restore_progress_is_seen_while_it_runs(flow, backup, e2e_db, bulk_data):
    """The job writes in one transaction; its counters and messages are seen
    by the screens while it runs, per batch, never going back."""
    moved = 6000
    _move_to_lyon(e2e_db, moved)
    restore_id = flow.create("contacts", ["city"], backup_id=backup["id"])
    flow.plan(restore_id)
    bus_start = _last_bus_id(e2e_db)
    flow.run(restore_id)
    seen = []  # (records written, to write, messages): what a screen reads
    fields = ["state", "progress_done", "progress_total"]

    def finished():
        (values,) = flow.client.call("crm.backup.restore", "read", [restore_id], fields)
        if values["state"] not in ("queued", "running"):
            return values["state"]
        if values["state"] == "running" and values["progress_total"]:
            messages = _live_messages(e2e_db, restore_id, bus_start)
            seen.append((values["progress_done"], values["progress_total"], messages))
        return None

    assert wait_for(finished, 300, 0.05, "the restore to finish") == "done"
    assert {total for _done, total, _messages in seen} == {moved}, seen
    done = [done for done, _total, _messages in seen]
    assert done == sorted(done), "the progress went back"
    # several batches seen between the first write and the last
    assert len({d for d in done if 0 < d < moved}) >= 2, seen
    messages = [messages for _done, _total, messages in seen]
    # committed before the job ends: "running", then the job's own
    assert messages == sorted(messages) and messages[-1] >= 2, seen
    assert _cities(e2e_db) == {"Paris": bulk_data}
    # once done, no counters: the screen shows the result
    (values,) = flow.client.call("crm.backup.restore", "read", [restore_id], fields)
    assert (values["progress_done"], values["progress_total"]) == (0, 0)


def test_column_of_a_field_removed_since_the_backup(flow, backup, e2e_db, bulk_data):
    """The backup has a column for a field the model no longer has: it is not offered
    for restore, and restoring other fields works."""

    def add_gone_column(rows):
        rows[0].append("x_removed_field")
        for row in rows[1:]:
            row.append("old value")

    def declare_it(manifest):
        for entry in manifest["files"]:
            if entry["name"] == "contacts.csv":
                entry["fields"].append("x_removed_field")

    data = _rebuild(backup["zip"], _edit_rows(add_gone_column), declare_it)
    FIGURES.input("field removed since the backup")
    _move_to_lyon(e2e_db, 100)
    restore_id = flow.create(
        "contacts", ["city"], upload=base64.b64encode(data).decode()
    )
    (restore,) = flow.client.call(
        "crm.backup.restore", "read", [restore_id], ["available_field_ids"]
    )
    offered = flow.client.call(
        "ir.model.fields", "read", restore["available_field_ids"], ["name"]
    )
    names = {f["name"] for f in offered}
    assert "city" in names and "x_removed_field" not in names
    flow.plan(restore_id)
    flow.run(restore_id)
    assert wait_restore(e2e_db, restore_id) == "done"
    assert _cities(e2e_db) == {"Paris": bulk_data}


def test_formula_values_are_string_cells_in_an_xlsx_backup(
    backup, server, registry, users, e2e_db
):
    """The same contact in an XLSX backup: a string cell holding the value,
    never a formula a spreadsheet would run."""
    import openpyxl

    set_param(registry, "crm_data_backup.file_format", "xlsx")
    try:
        web = login(server, "backup_admin", users)
        backup_id = record_id(web.call("crm.backup", "request_backup"))
        assert wait_backup(e2e_db, backup_id, timeout=300) == "done"
    finally:
        set_param(registry, "crm_data_backup.file_format", "csv")
    response = web.get(f"/crm_data_backup/download/{backup_id}")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        book = openpyxl.load_workbook(io.BytesIO(zf.read("backup.xlsx")))
    sheet = book["contacts"]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    name_col, city_col = header.index("name"), header.index("city")
    (row,) = [
        r for r in sheet.iter_rows(min_row=2) if r[name_col].value == "Formula contact"
    ]
    assert row[city_col].data_type == "s"  # a string, not a formula ("f")
    assert row[city_col].value == FORMULA  # the value itself: never neutralised
    FIGURES.input("formula-like value in XLSX")
