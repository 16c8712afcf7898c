# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The attacks of issue 12, each tried through the real server by a user who is only
an internal user and a CRM Backup Administrator (of company A, or of company B), or a
salesman: every one is refused with a clear error and changes nothing.

"Nothing" is checked in the database itself: users, passwords and groups, external
IDs, settings and the CRM tables before and after (see ``_attack``). Where today's
code lets an attack through, the test still plays it to the end (identity check,
background job) so that the damage is seen, then puts the rows back by SQL.
"""

import base64
import contextlib
import csv
import gzip
import hashlib
import io
import json
import secrets

import pytest
from conftest import SECRETS, environment, login, stored_backup
from e2e import FIGURES, RestoreFlow, record_id, restore_state, wait_backup
from e2e import wait_restore as _wait_restore
from odoo_client import RpcError
from psycopg2.extras import Json
from test_restore_e2e import _all_paris, _members, _move_to_lyon, _zip
from test_restore_race import _restore_cron_paused

from odoo import Command

REFUSED = ("AccessError", "UserError", "ValidationError", "MissingError")
ZIP_MAGIC = b"PK\x03\x04"
# Models whose records a backup must never hold, nor a restore write.
FORBIDDEN_MODELS = (
    "res.users",
    "res.groups",
    "ir.config_parameter",
    "res.users.apikeys",
)
HACKED = "hacked-" + secrets.token_hex(6)
SECRETS.add(HACKED)


# --- what must not change ----------------------------------------------------------

# name -> (table, columns, how many first columns identify a row): rows an attack
# must never change
PROTECTED = {
    "users": (
        "res_users",
        ("id", "login", "password", "active", "share", "company_id"),
        1,
    ),
    "groups": ("res_groups_users_rel", ("uid", "gid"), 2),
    "user companies": ("res_company_users_rel", ("user_id", "cid"), 2),
    "external ids": ("ir_model_data", ("id", "module", "name", "model", "res_id"), 1),
    "settings": ("ir_config_parameter", ("key", "value"), 1),
}


def _protected(db, names):
    state = {}
    with db.cursor() as cr:
        for name in names:
            table, columns, _key = PROTECTED[name]
            cr.execute(f"SELECT {', '.join(columns)} FROM {table}")
            state[name] = set(cr.fetchall())
    return state


def _put_back(db, table, columns, size, before, after):
    """Put rows of ``table`` back from ``after`` to ``before`` (rows of values of
    ``columns``, the first ``size`` of which identify a row)."""
    was = {row[:size]: row for row in before}
    now = {row[:size]: row for row in after}
    match = " AND ".join(f"{c} = %s" for c in columns[:size])
    with db.cursor() as cr:
        for key in now.keys() - was.keys():
            cr.execute(f"DELETE FROM {table} WHERE {match}", list(key))
        for key, row in was.items():
            values = [Json(v) if isinstance(v, dict) else v for v in row]
            if key not in now:
                marks = ", ".join(["%s"] * len(columns))
                cr.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    values,
                )
            elif now[key] != row:
                sets = ", ".join(f"{c} = %s" for c in columns[size:])
                cr.execute(
                    f"UPDATE {table} SET {sets} WHERE {match}", [*values[size:], *key]
                )


def _rows(db, table, where, params=()):
    """(columns, rows) of ``table`` matching ``where``, by their first column."""
    with db.cursor() as cr:
        cr.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY 1", list(params))
        return [c.name for c in cr.description], cr.fetchall()


class Attack:
    """What one attack watches: the protected rows, plus rows of its own (``keep``)
    that it must not change either; all are put back afterwards."""

    def __init__(self, db, registry):
        self.db = db
        self.registry = registry
        self.kept = []
        self.cleanups = []
        self.found = []

    def keep(self, label, table, where, *params):
        self.kept.append(
            (label, table, where, params, _rows(self.db, table, where, params))
        )

    def cleanup(self, function):
        """Run ``function`` at the end (e.g. delete what a refused attack made)."""
        self.cleanups.append(function)

    def changed_kept(self):
        return self.found + [
            label
            for label, table, where, params, saved in self.kept
            if _rows(self.db, table, where, params) != saved
        ]

    def settle(self):
        """Note the kept rows changed so far, put them back and stop keeping them
        (before a job that changes them by right runs)."""
        self.found = self.changed_kept()
        self._put_back_kept()
        self.kept = []
        return self.found

    def _put_back_kept(self):
        # last kept first: a backup is kept before its file, which must come back
        # before the backup points at it again
        for _label, table, where, params, (columns, rows) in reversed(self.kept):
            _now, current = _rows(self.db, table, where, params)
            # rows with an id are identified by it, others by all their values
            size = 1 if columns[0] == "id" else len(columns)
            _put_back(self.db, table, columns, size, rows, current)
            assert _rows(self.db, table, where, params) == (columns, rows), table

    def put_back(self):
        self._put_back_kept()
        for function in self.cleanups:
            function()
        # the server's workers drop what they cached of the rows put back
        with environment(self.registry, commit=True) as env:
            env.registry.clear_all_caches()


def _difference(name, before, after):
    """Which rows changed, by their key only (never a password hash)."""
    size = PROTECTED[name][2]
    was = {row[:size] for row in before}
    now = {row[:size] for row in after}
    changed = {row[:size] for row in after - before} & was
    parts = [
        f"{label} {sorted(keys)[:3]}"
        for label, keys in (
            ("added", now - was),
            ("removed", was - now),
            ("changed", changed),
        )
        if keys
    ]
    return f"{name} ({', '.join(parts)})"


@contextlib.contextmanager
def _attack(db, registry, kind, protected=tuple(PROTECTED), crm=True):
    """Watch an attack: afterwards nothing protected (nor kept) changed.

    Rows the attack changed are put back, so the shared database stays usable; the
    failure then says what the attack changed, before any other failure.
    """
    attack = Attack(db, registry)
    before = _protected(db, protected)
    crm_before = db.fingerprint() if crm else None
    try:
        yield attack
    finally:
        after = _protected(db, protected)
        changed = [
            _difference(name, before[name], after[name])
            for name in protected
            if before[name] != after[name]
        ]
        changed += attack.changed_kept()
        if crm:
            crm_after = db.fingerprint()
            FIGURES.compare(crm_before, crm_after)
            changed += [
                f"CRM table {table}"
                for table in crm_before
                if crm_before[table] != crm_after[table]
            ]
        FIGURES.attack(kind, escalated=bool(changed))
        for name in protected:
            if before[name] != after[name]:
                table, columns, size = PROTECTED[name]
                _put_back(db, table, columns, size, before[name], after[name])
        attack.put_back()
        if changed:
            raise AssertionError(f"{kind}: the attack changed {'; '.join(changed)}")


def _refusal(call, kinds=REFUSED):
    """Call; the clear refusal (RpcError) it met, None when the server did it."""
    try:
        call()
    except RpcError as exc:
        assert exc.kind in kinds, f"refused with {exc.kind}, not one of {kinds}: {exc}"
        assert exc.message and "Traceback" not in exc.message, exc.message
        return exc
    return None


def _wait_idle(db, restore_id):
    """Wait for the restore to leave 'queued' and 'running'; a job left so by a test that
    failed would block every later restore (one runs at a time)."""
    try:
        return _wait_restore(
            db, restore_id, ("draft", "planned", "done", "failed", "undone")
        )
    except AssertionError:
        with db.cursor() as cr:
            cr.execute(
                "UPDATE crm_backup_restore SET state = 'failed' WHERE id = %s",
                [restore_id],
            )
        raise


# --- tampered backup files ---------------------------------------------------------


def _csv_rows(zip_bytes, name):
    data = _members(zip_bytes)[name].decode("utf-8-sig")
    return list(csv.reader(io.StringIO(data, newline="")))


def _with_file(zip_bytes, name, rows, object_key=None, model=None):
    """The backup with the CSV file ``name`` holding ``rows`` (header first), added
    or replaced, and its manifest entry (columns, row count, sha256) made to match,
    as an attacker who read the archive format would."""
    members = _members(zip_bytes)
    manifest = json.loads(members["manifest.json"])
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    data = out.getvalue().encode()
    entry = next((e for e in manifest["files"] if e["name"] == name), None)
    if entry is None:
        entry = {"name": name, "object": object_key, "model": model}
        manifest["files"].append(entry)
    entry.update(fields=rows[0], rows=len(rows) - 1)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    members[name] = data
    members["manifest.json"] = json.dumps(manifest).encode()
    return _zip(members)


def _b64(data):
    return base64.b64encode(data).decode()


def _undo_blob(model, values, created_ids=()):
    """Undo data in the format the restore saves it (gzipped JSON lines)."""
    field_types = {name: "char" for vals in values.values() for name in vals}
    lines = [{"format": 2, "model": model, "fields": field_types}]
    if values:
        lines.append({"values": {str(k): v for k, v in values.items()}})
    lines.append({"created_ids": list(created_ids)})
    return gzip.compress(b"".join(json.dumps(line).encode() + b"\n" for line in lines))


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin(server, users):
    """The attacker: backup administrator of company A, not a Settings admin."""
    web = login(server, "backup_admin", users)
    return RestoreFlow(web, users["backup_admin"]["password"])


@pytest.fixture(scope="module")
def admin_b(server, users):
    """The backup administrator of company B only."""
    web = login(server, "backup_admin_b", users)
    return RestoreFlow(web, users["backup_admin_b"]["password"])


def _xmlid(env, record, name):
    """An external ID of ``record`` (the one a backup would write for it)."""
    existing = record.get_external_id()[record.id]
    if existing:
        return existing
    env["ir.model.data"].create(
        {
            "module": "__export__",
            "name": name,
            "model": record._name,
            "res_id": record.id,
        }
    )
    return f"__export__.{name}"


@pytest.fixture(scope="module")
def refs(registry, users):
    """Ids and external IDs the attacks aim at."""
    with environment(registry, commit=True) as env:
        attacker = env["res.users"].browse(users["backup_admin"]["uid"])
        groups = attacker.groups_id.get_external_id()
        Object = env["crm.backup.object"].with_context(active_test=False)
        return {
            "attacker_xmlid": _xmlid(env, attacker, f"res_users_{attacker.id}_e2e"),
            "attacker_groups": sorted(groups.values()),
            "admin": env.ref("base.user_admin").id,
            "objects": {
                o.key: o.id for o in Object.search([("parent_id", "=", False)])
            },
            "models": {
                m.model: m.id
                for m in env["ir.model"].search(
                    [("model", "in", [*FORBIDDEN_MODELS, "res.partner"])]
                )
            },
            "fields": {
                f"{f.model}.{f.name}": f.id
                for f in env["ir.model.fields"].search(
                    [
                        (
                            "model",
                            "in",
                            ["res.users", "res.partner", "ir.config_parameter"],
                        )
                    ]
                )
            },
        }


def _done_restore(flow, db, backup_id):
    """A restore of the deals' names (few records), run to the end."""
    restore_id = flow.create("deals", ["name"], backup_id=backup_id)
    flow.plan(restore_id)
    flow.run(restore_id)
    assert _wait_restore(db, restore_id) == "done"
    return restore_id


@pytest.fixture(scope="module")
def done_restore(admin, backup, e2e_db):
    """A restore of company A, done (it has undo data)."""
    return _done_restore(admin, e2e_db, backup["id"])


@pytest.fixture(scope="module")
def uploaded_restore(admin, backup):
    """A restore of company A from an uploaded file, planned."""
    restore_id = admin.create("deals", ["name"], upload=_b64(backup["zip"]))
    admin.plan(restore_id)
    return restore_id


def _request_backup(web, db):
    backup_id = record_id(web.call("crm.backup", "request_backup"))
    assert wait_backup(db, backup_id, timeout=300) == "done"
    response = web.get(f"/crm_data_backup/download/{backup_id}")
    assert response.status_code == 200
    return backup_id, response.content


@pytest.fixture(scope="module")
def admin_backup(admin, backup, registry, e2e_db):
    """A backup requested by company A's backup admin after trying to add objects
    for users and settings (refused, or added and then removed: see the test)."""
    web = admin.client
    tried = {}
    for key, model in (
        ("x_e2e_params", "ir.config_parameter"),
        ("x_e2e_users", "res.users"),
    ):
        vals = {
            "name": key,
            "key": f"{key}_{secrets.token_hex(3)}",
            "model_name": model,
        }
        try:
            tried[model] = web.call("crm.backup.object", "create", vals)
        except RpcError as exc:
            tried[model] = exc
    try:
        backup_id, data = _request_backup(web, e2e_db)
    finally:
        created = [v for v in tried.values() if isinstance(v, int)]
        if created:
            with e2e_db.cursor() as cr:
                cr.execute(
                    "UPDATE crm_backup_object SET active = false WHERE id = ANY(%s)",
                    [created],
                )
    return {"id": backup_id, "zip": data, "tried": tried}


@pytest.fixture(scope="module")
def company_a_leads(registry, companies):
    """A deal and a lead of company A only, with external IDs."""
    tag = secrets.token_hex(4)
    with environment(registry, commit=True) as env:
        leads = env["crm.lead"].create(
            [
                {
                    "name": f"E2E company A {kind} {tag}",
                    "type": kind,
                    "company_id": companies["a"],
                }
                for kind in ("opportunity", "lead")
            ]
        )
        return {
            lead.type: {
                "id": lead.id,
                "name": lead.name,
                "xmlid": _xmlid(env, lead, f"crm_lead_{lead.id}_{tag}"),
            }
            for lead in leads
        }


@pytest.fixture(scope="module")
def b_backup(admin_b, company_a_leads, backup, e2e_db):
    """A backup requested by company B's backup admin (after company A's leads)."""
    backup_id, data = _request_backup(admin_b.client, e2e_db)
    return {"id": backup_id, "zip": data}


# --- 1. privilege escalation through a restore ----------------------------------------


def _escalations(refs):
    """name -> (model, field, header, rows) of a file an attacker adds to a backup."""
    groups = ",".join([*refs["attacker_groups"], "base.group_system"])
    return {
        "own groups + Settings": (
            "res.users",
            "groups_id",
            ["id", "groups_id/id"],
            [[refs["attacker_xmlid"], groups]],
        ),
        "admin's login": (
            "res.users",
            "login",
            ["id", "login"],
            [["base.user_admin", "e2e_hijacked_admin"]],
        ),
        "admin's password": (
            "res.users",
            "password",
            ["id", "password"],
            [["base.user_admin", HACKED]],
        ),
        "admin's email (res.partner as a custom model)": (
            "res.partner",
            "email",
            ["id", "email"],
            [["base.partner_admin", "attacker@evil.example.com"]],
        ),
        "portal template user = admin (ir.config_parameter)": (
            "ir.config_parameter",
            "value",
            ["id", "value"],
            [["base.default_template_user_config", str(refs["admin"])]],
        ),
    }


ESCALATIONS = (
    "own groups + Settings",
    "admin's login",
    "admin's password",
    "admin's email (res.partner as a custom model)",
    "portal template user = admin (ir.config_parameter)",
)


@pytest.mark.parametrize("name", ESCALATIONS)
def test_restore_of_a_non_crm_model_is_refused(
    name, admin, backup, refs, users, e2e_db, registry
):
    """The 'custom' object with any model (users, partners, settings) and a backup
    file naming its records: refused at create, at the latest at plan; played to
    the end, the attacker is still no Settings admin and nothing changed."""
    model, field, header, rows = _escalations(refs)[name]
    data = _with_file(backup["zip"], "x_attack.csv", [header, *rows], "custom", model)
    field_key = f"{model}.{field}"
    vals = {
        "source": "upload",
        "upload_file": _b64(data),
        "upload_filename": "backup.zip",
        "object_id": refs["objects"]["custom"],
        "custom_model_id": refs["models"][model],
        "field_ids": [Command.set([refs["fields"][field_key]])],
    }
    web = admin.client
    refused_at = None
    with _attack(e2e_db, registry, f"restore {field_key}"):
        created = []
        if _refusal(
            lambda: created.append(web.call("crm.backup.restore", "create", vals))
        ):
            refused_at = "create"
        elif _refusal(lambda: admin.plan(created[0])):
            refused_at = "plan"
        elif _refusal(lambda: admin.run(created[0])):
            refused_at = "identity check"
        else:
            refused_at = _wait_idle(e2e_db, created[0])
    assert refused_at in ("create", "plan"), (
        f"not refused, the restore ended {refused_at}"
    )


@pytest.mark.parametrize(
    "attempt",
    (
        "create users object",
        "create settings object",
        "retarget to res.users",
        "widen domain",
    ),
)
def test_backup_admin_cannot_register_or_change_objects(
    attempt, admin, refs, e2e_db, registry
):
    """Backup objects say what a backup exports: a backup admin can neither add one
    nor change one's model or domain."""
    calls = {
        "create users object": (
            "create",
            {
                "name": "x",
                "key": f"x_users_{secrets.token_hex(3)}",
                "model_name": "res.users",
            },
        ),
        "create settings object": (
            "create",
            {
                "name": "x",
                "key": f"x_params_{secrets.token_hex(3)}",
                "model_name": "ir.config_parameter",
            },
        ),
        "retarget to res.users": (
            "write",
            [refs["objects"]["calls"]],
            {"model_name": "res.users"},
        ),
        "widen domain": ("write", [refs["objects"]["contacts"]], {"domain": "[]"}),
    }
    method, *args = calls[attempt]
    created = []
    with _attack(e2e_db, registry, f"backup object: {attempt}") as attack:
        attack.keep("backup objects", "crm_backup_object", "TRUE")
        error = _refusal(
            lambda: created.append(
                admin.client.call("crm.backup.object", method, *args)
            )
        )
    assert error and error.kind == "AccessError", f"{attempt} was not refused"


# --- 2. server-owned fields -----------------------------------------------------------


def _forged_restore_values(refs, users):
    admin_values = {refs["admin"]: {"password": HACKED}}
    return {
        "undo_data": _b64(_undo_blob("res.users", admin_values)),
        "state": "draft",
        "job": "undo",
        "plan_html": "<img src=x onerror=alert(1)>",
        "line_ids": [Command.clear()],
        "plan_date": "2000-01-01 00:00:00",
        "backup_record_count": 424242,
        "change_record_count": 424242,
        "deleted_count": 424242,
        "conflict_count": 424242,
        "restored_record_count": 424242,
        "requested_by_id": users["settings_admin"]["uid"],
        "undone_by_id": users["settings_admin"]["uid"],
        "date_done": "2000-01-01 00:00:00",
        "error_message": "forged",
        "progress_done": 424242,
        "progress_total": 424242,
        "progress": 99.0,
        # stored (read from the file when it changes): the server's too
        "available_field_ids": [Command.clear()],
        "is_foreign_backup": True,
    }


RESTORE_SERVER_FIELDS = (
    "undo_data",
    "state",
    "job",
    "plan_html",
    "line_ids",
    "plan_date",
    "backup_record_count",
    "change_record_count",
    "deleted_count",
    "conflict_count",
    "restored_record_count",
    "requested_by_id",
    "undone_by_id",
    "date_done",
    "error_message",
    "progress_done",
    "progress_total",
    "progress",
    "available_field_ids",
    "is_foreign_backup",
)


def _keep_restore(attack, restore_id):
    attack.keep("the restore", "crm_backup_restore", "id = %s", restore_id)
    attack.keep(
        "its plan lines", "crm_backup_restore_line", "restore_id = %s", restore_id
    )
    attack.keep(
        "its files",
        "ir_attachment",
        "res_model = 'crm.backup.restore' AND res_id = %s AND res_field IS NOT NULL",
        restore_id,
    )
    attack.keep(
        "its job's progress",
        "crm_backup_restore_progress",
        "restore_id = %s",
        restore_id,
    )


@pytest.mark.parametrize("field", RESTORE_SERVER_FIELDS)
def test_restore_server_fields_are_not_writable(
    field, admin, done_restore, refs, users, e2e_db, registry
):
    value = _forged_restore_values(refs, users)[field]
    with _attack(e2e_db, registry, f"write restore.{field}") as attack:
        _keep_restore(attack, done_restore)
        error = _refusal(
            lambda: admin.client.call(
                "crm.backup.restore", "write", [done_restore], {field: value}
            ),
            ("AccessError", "UserError"),
        )
    assert error, f"the restore's {field} was written by RPC"


@pytest.mark.parametrize("field", ("state", "undo_data", "restored_record_count"))
def test_restore_server_fields_refused_at_create(
    field, admin, backup, refs, users, e2e_db, registry
):
    vals = {
        "source": "backup",
        "backup_id": backup["id"],
        "object_id": refs["objects"]["deals"],
        field: _forged_restore_values(refs, users)[field]
        if field != "state"
        else "done",
    }
    created = []
    with _attack(e2e_db, registry, f"create restore with {field}") as attack:
        error = _refusal(
            lambda: created.append(
                admin.client.call("crm.backup.restore", "create", vals)
            ),
            ("AccessError", "UserError", "ValidationError"),
        )
        if created:
            attack.cleanup(lambda: _delete_restore(e2e_db, created[0]))
    assert error, f"a restore was created with {field} set"


def _delete_restore(db, restore_id):
    with db.cursor() as cr:
        cr.execute("DELETE FROM crm_backup_restore WHERE id = %s", [restore_id])


def test_draft_restore_cannot_be_set_done(admin, refs, backup, e2e_db, registry):
    restore_id = admin.create("deals", ["name"], backup_id=backup["id"])
    with _attack(e2e_db, registry, "draft restore set to done") as attack:
        _keep_restore(attack, restore_id)
        error = _refusal(
            lambda: admin.client.call(
                "crm.backup.restore", "write", [restore_id], {"state": "done"}
            ),
            ("AccessError", "UserError"),
        )
    assert error and restore_state(e2e_db, restore_id) == "draft"


BACKUP_SERVER_FIELDS = (
    "state",
    "attachment_id",
    "record_count",
    "archived_count",
    "requested_by_id",
    "expiration_date",
    "file_size",
    "line_ids",
    "progress",
)


@pytest.fixture(scope="module")
def throwaway_backups(registry, e2e_db, backup):
    """Two done backups of company A (made here): a target and another file."""
    return [
        stored_backup(registry, e2e_db, f"E2E attack target {i}", backup["zip"])
        for i in range(2)
    ]


@pytest.mark.parametrize("field", BACKUP_SERVER_FIELDS)
def test_backup_server_fields_are_not_writable(
    field, admin, throwaway_backups, users, e2e_db, registry
):
    (backup_id, _attachment), (_other, other_attachment) = throwaway_backups
    value = {
        "state": "expired",
        "attachment_id": other_attachment,
        "record_count": 424242,
        "archived_count": 424242,
        "requested_by_id": users["settings_admin"]["uid"],
        "expiration_date": "2999-01-01 00:00:00",
        "file_size": 1.0,
        "line_ids": [Command.clear()],
        "progress": 3.0,
    }[field]
    with _attack(e2e_db, registry, f"write backup.{field}") as attack:
        attack.keep("the backup", "crm_backup", "id = %s", backup_id)
        attack.keep("its lines", "crm_backup_line", "backup_id = %s", backup_id)
        error = _refusal(
            lambda: admin.client.call(
                "crm.backup", "write", [backup_id], {field: value}
            ),
            ("AccessError", "UserError"),
        )
    assert error, f"the backup's {field} was written by RPC"


def test_backup_line_counts_are_not_made_by_rpc(
    admin, throwaway_backups, e2e_db, registry
):
    (backup_id, _attachment), _other = throwaway_backups
    with _attack(e2e_db, registry, "create backup line counts") as attack:
        attack.keep("its lines", "crm_backup_line", "backup_id = %s", backup_id)
        error = _refusal(
            lambda: admin.client.call(
                "crm.backup.line",
                "create",
                {"backup_id": backup_id, "record_count": 5, "archived_count": 4},
            ),
            ("AccessError",),
        )
    assert error, "a backup line (its counts) was made by RPC"


@pytest.mark.parametrize(
    "target", ("admin's password", "delete another model's record")
)
def test_undo_of_tampered_undo_data_changes_nothing(
    target, admin, backup, refs, e2e_db, registry
):
    """Undo data forged to set the admin's password or delete a partner: the undo
    never does either."""
    with environment(registry, commit=True) as env:
        victim = env["res.partner"].create(
            {"name": f"E2E undo victim {secrets.token_hex(3)}"}
        )
        victim_id = victim.id
    if target == "admin's password":
        blob = _undo_blob("res.users", {refs["admin"]: {"password": HACKED}})
    else:
        blob = _undo_blob("res.partner", {}, created_ids=[victim_id])
    restore_id = _done_restore(admin, e2e_db, backup["id"])
    with _attack(e2e_db, registry, f"undo data: {target}") as attack:
        attack.keep("admin", "res_users", "id = %s", refs["admin"])
        attack.keep("victim", "res_partner", "id = %s", victim_id)
        written = not _refusal(
            lambda: admin.client.call(
                "crm.backup.restore", "write", [restore_id], {"undo_data": _b64(blob)}
            ),
            ("AccessError", "UserError"),
        )
        if not _refusal(lambda: admin.run(restore_id, job="undo")):
            _wait_idle(e2e_db, restore_id)
    assert not written, "the undo data was replaced by RPC"


# --- 3. export of any table -----------------------------------------------------------


@pytest.mark.parametrize(
    "key, model",
    [
        ("../../../../tmp/x", "res.partner"),
        *[(f"x_{m.replace('.', '_')}", m) for m in FORBIDDEN_MODELS],
    ],
)
def test_settings_admin_cannot_register_unsafe_objects(
    key, model, server, users, e2e_db, registry
):
    web = login(server, "settings_admin", users)
    vals = {"name": "x", "key": f"{key}{secrets.token_hex(2)}", "model_name": model}
    created = []
    with _attack(e2e_db, registry, f"settings admin registers {model}") as attack:
        attack.keep("backup objects", "crm_backup_object", "TRUE")
        error = _refusal(
            lambda: created.append(web.call("crm.backup.object", "create", vals))
        )
    assert error and error.kind == "ValidationError", error or "registered"


def test_backup_admin_backup_holds_no_users_settings_or_secret(admin_backup, e2e_db):
    for model, outcome in admin_backup["tried"].items():
        assert isinstance(outcome, RpcError), f"an object for {model} was created"
    with e2e_db.cursor() as cr:
        cr.execute(
            "SELECT value FROM ir_config_parameter WHERE key = 'database.secret'"
        )
        (secret,) = cr.fetchone()
    members = _members(admin_backup["zip"])
    manifest = json.loads(members["manifest.json"])
    models = {entry["model"] for entry in manifest["files"]}
    FIGURES.attack(
        "backup of users and settings", escalated=bool(models & set(FORBIDDEN_MODELS))
    )
    assert not models & set(FORBIDDEN_MODELS)
    for name, data in members.items():
        assert secret.encode() not in data, f"database.secret is in {name}"
        assert b"$pbkdf2" not in data, f"a password hash is in {name}"


# --- 4. stored XSS ---------------------------------------------------------------------

XSS = "<img src=x onerror=alert(1)>"


def test_plan_shows_names_escaped(admin, backup, registry, e2e_db):
    """A contact named like HTML, and a deleted one in the file: the plan shows
    both as text."""
    with environment(registry, commit=True) as env:
        partner = env["res.partner"].create({"name": XSS, "city": "Lyon"})
        xmlid = _xmlid(env, partner, f"res_partner_{partner.id}_xss")
        partner_id = partner.id
    rows = [
        ["id", "name", "city"],
        [xmlid, XSS, "Paris"],
        ["__export__.e2e_gone_xss", "<script>alert(2)</script>", "Paris"],
    ]
    data = _with_file(backup["zip"], "contacts.csv", rows)
    restore_id = admin.create("contacts", ["name", "city"], upload=_b64(data))
    admin.plan(restore_id)
    (restore,) = admin.client.call(
        "crm.backup.restore", "read", [restore_id], ["plan_html"]
    )
    html = restore["plan_html"]
    with environment(registry, commit=True) as env:
        env["res.partner"].browse(partner_id).unlink()
    FIGURES.attack(
        "HTML in a planned name", escalated="<img" in html or "<script" in html
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;" in html
    assert "<img" not in html and "<script" not in html


# --- 5. what runs is what was reviewed ---------------------------------------------------


def test_confirmed_restore_cannot_be_changed(
    admin, backup, refs, server, users, e2e_db, registry, bulk_data
):
    """Once the identity check passed (the job waits), neither the requester nor
    anyone changes what the job will do; the job applies the reviewed plan."""
    _move_to_lyon(e2e_db, 300)
    restore_id = admin.create("contacts", ["city"], upload=_b64(backup["zip"]))
    admin.plan(restore_id)

    def hack(rows):
        city = rows[0].index("city")
        for row in rows[1:]:
            row[city] = "Hacked"
        return rows

    hacked = _with_file(
        backup["zip"], "contacts.csv", hack(_csv_rows(backup["zip"], "contacts.csv"))
    )
    other = login(server, "backup_admin", users)
    changes = {
        "upload_file": _b64(hacked),
        "field_ids": [
            Command.set(
                [
                    refs["fields"]["res.partner.city"],
                    refs["fields"]["res.partner.street"],
                ]
            )
        ],
        "backup_id": backup["id"],
        "object_id": refs["objects"]["companies"],
        "recreate_deleted": True,
        "fast_mode": True,
    }
    accepted = []
    try:
        with _attack(
            e2e_db, registry, "change a confirmed restore", crm=False
        ) as attack:
            with _restore_cron_paused(e2e_db):
                admin.run(restore_id)
                assert restore_state(e2e_db, restore_id) == "queued"
                _keep_restore(attack, restore_id)
                attack.keep(
                    "its fields",
                    "crm_backup_restore_ir_model_fields_rel",
                    "crm_backup_restore_id = %s",
                    restore_id,
                )
                for name, value in changes.items():
                    if not _refusal(
                        lambda name=name, value=value: other.call(
                            "crm.backup.restore", "write", [restore_id], {name: value}
                        ),
                        ("AccessError", "UserError"),
                    ):
                        accepted.append(name)
                # the job must run what was reviewed: rows put back before it starts
                changed = attack.settle()
            _wait_idle(e2e_db, restore_id)
            with e2e_db.cursor() as cr:
                cr.execute(
                    "SELECT city, count(*) FROM res_partner WHERE name LIKE 'Bulk %%'"
                    " GROUP BY city"
                )
                cities = dict(cr.fetchall())
        assert not accepted, f"written after the identity check: {accepted} ({changed})"
        assert cities == {"Paris": bulk_data}, cities
    finally:
        _all_paris(e2e_db)


def test_record_changed_after_review_is_a_conflict(
    admin, backup, server, users, e2e_db, registry
):
    """A deal a salesman renames after the plan was reviewed is not overwritten: it
    is counted as a conflict of the restore."""
    tag = secrets.token_hex(3)
    with environment(registry, commit=True) as env:
        deals = env["crm.lead"].create(
            [
                {
                    "name": f"E2E reviewed deal {tag} {i}",
                    "type": "opportunity",
                    "user_id": users["salesman"]["uid"],
                }
                for i in range(3)
            ]
        )
        rows = [["id", "name"]] + [
            [_xmlid(env, deal, f"crm_lead_{deal.id}_{tag}"), deal.name]
            for deal in deals
        ]
        ids = deals.ids
    with e2e_db.cursor() as cr:
        cr.execute(
            "UPDATE crm_lead SET name = name || ' (renamed)' WHERE id = ANY(%s)", [ids]
        )
    data = _with_file(backup["zip"], "deals.csv", rows)
    restore_id = admin.create("deals", ["name"], upload=_b64(data))
    admin.plan(restore_id)
    (planned,) = admin.client.call(
        "crm.backup.restore", "read", [restore_id], ["conflict_count"]
    )
    salesman = login(server, "salesman", users)
    with _restore_cron_paused(e2e_db):
        admin.run(restore_id)
        salesman.call("crm.lead", "write", [ids[0]], {"name": "Salesman's own name"})
    assert _wait_restore(e2e_db, restore_id) == "done"
    with e2e_db.cursor() as cr:
        cr.execute(
            "SELECT id, name FROM crm_lead WHERE id = ANY(%s) ORDER BY id", [ids]
        )
        names = dict(cr.fetchall())
    (result,) = admin.client.call(
        "crm.backup.restore", "read", [restore_id], ["conflict_count"]
    )
    FIGURES.attack(
        "overwrite a change made after review",
        escalated=names[ids[0]] != "Salesman's own name",
    )
    assert names[ids[0]] == "Salesman's own name"
    assert [names[i] for i in ids[1:]] == [r[1] for r in rows[2:]]
    assert result["conflict_count"] == planned["conflict_count"] + 1, (
        f"the deal was skipped, but the restore says {result['conflict_count']}"
        f" conflicts (the plan said {planned['conflict_count']})"
    )


# --- 6. companies ------------------------------------------------------------------------


def test_company_b_cannot_see_company_a_restores(
    admin_b, done_restore, uploaded_restore, e2e_db, registry
):
    web = admin_b.client
    with _attack(e2e_db, registry, "company B reads company A restores"):
        found = web.call("crm.backup.restore", "search", [])
        read = _refusal(
            lambda: web.call("crm.backup.restore", "read", [done_restore], ["name"]),
            ("AccessError", "MissingError"),
        )
        urls = {
            field: web.get(
                f"/web/content?model=crm.backup.restore&id={restore_id}&field={field}"
            )
            for field, restore_id in (
                ("upload_file", uploaded_restore),
                ("undo_data", done_restore),
            )
        }
    assert not {done_restore, uploaded_restore} & set(found)
    assert read, "company B read a restore of company A"
    for field, response in urls.items():
        assert response.status_code in (403, 404), f"{field}: {response.status_code}"
        assert not response.content.startswith(ZIP_MAGIC)


def test_company_b_cannot_use_company_a_backups(
    admin_b, backup, refs, e2e_db, registry
):
    web = admin_b.client
    created = []
    with _attack(e2e_db, registry, "company B uses company A backup") as attack:
        found = web.call("crm.backup", "search", [])
        read = _refusal(
            lambda: web.call("crm.backup", "read", [backup["id"]], ["name"]),
            ("AccessError", "MissingError"),
        )
        refused = _refusal(
            lambda: created.append(
                web.call(
                    "crm.backup.restore",
                    "create",
                    {"backup_id": backup["id"], "object_id": refs["objects"]["deals"]},
                )
            )
        )
        download = web.get(f"/crm_data_backup/download/{backup['id']}")
        if created:
            attack.cleanup(lambda: _delete_restore(e2e_db, created[0]))
    assert backup["id"] not in found
    assert read, "company B read a backup of company A"
    assert refused, "company B made a restore from company A's backup"
    assert download.status_code in (403, 404)


def test_company_b_backup_holds_no_company_a_lead(b_backup, company_a_leads):
    members = _members(b_backup["zip"])
    leaked = [
        f"{lead['name']} in {name}"
        for name, data in members.items()
        for lead in company_a_leads.values()
        if lead["name"].encode() in data
    ]
    FIGURES.attack("company B backup of company A leads", escalated=bool(leaked))
    assert not leaked


def test_company_b_restore_never_changes_company_a_lead(
    admin_b, b_backup, company_a_leads, e2e_db, registry
):
    lead = company_a_leads["opportunity"]
    rows = [["id", "name"], [lead["xmlid"], "Hijacked by company B"]]
    data = _with_file(b_backup["zip"], "deals.csv", rows, "deals", "crm.lead")
    with _attack(e2e_db, registry, "company B restores company A lead"):
        restore_id = None
        with contextlib.suppress(RpcError):
            restore_id = admin_b.create("deals", ["name"], upload=_b64(data))
            admin_b.plan(restore_id)
            admin_b.run(restore_id)
        if restore_id:
            _wait_idle(e2e_db, restore_id)


# --- 7. recreated records never take over an external ID ----------------------------------

TAKEN_XMLIDS = (
    "sales_team.team_sales_department",
    "base.user_admin",
    "base.group_system",
)


def test_recreate_never_takes_over_an_external_id(admin, backup, e2e_db, registry):
    rows = [["id", "name", "city"]] + [
        [xmlid, f"E2E hijack {xmlid}", "Paris"] for xmlid in TAKEN_XMLIDS
    ]
    data = _with_file(backup["zip"], "contacts.csv", rows)
    where = "module || '.' || name = ANY(%s)"

    def delete_hijackers():
        with environment(registry, commit=True) as env:
            env["res.partner"].search([("name", "=like", "E2E hijack %")]).unlink()

    with _attack(
        e2e_db,
        registry,
        "recreate over an external ID",
        ("users", "groups", "settings"),
        crm=False,
    ) as attack:
        attack.keep("external IDs", "ir_model_data", where, list(TAKEN_XMLIDS))
        attack.cleanup(delete_hijackers)
        with contextlib.suppress(RpcError):
            restore_id = admin.create(
                "contacts", ["city"], upload=_b64(data), recreate_deleted=True
            )
            admin.plan(restore_id)
            admin.run(restore_id)
            _wait_idle(e2e_db, restore_id)


# --- 10. destruction ----------------------------------------------------------------------


def test_backup_file_cannot_be_deleted_by_hand(admin, admin_backup, e2e_db, registry):
    with e2e_db.cursor() as cr:
        cr.execute(
            "SELECT attachment_id FROM crm_backup WHERE id = %s", [admin_backup["id"]]
        )
        (attachment_id,) = cr.fetchone()
    with _attack(e2e_db, registry, "delete a backup's file") as attack:
        attack.keep("the backup", "crm_backup", "id = %s", admin_backup["id"])
        attack.keep("its file", "ir_attachment", "id = %s", attachment_id)
        error = _refusal(
            lambda: admin.client.call("ir.attachment", "unlink", [attachment_id]),
            ("AccessError", "UserError"),
        )
    assert error, "the backup's zip was deleted by RPC"
    response = admin.client.get(f"/crm_data_backup/download/{admin_backup['id']}")
    assert response.status_code == 200 and response.content.startswith(ZIP_MAGIC)


def test_deleting_a_used_backup_keeps_the_restore_history(
    admin, registry, e2e_db, backup
):
    backup_id, _attachment = stored_backup(
        registry, e2e_db, "E2E used backup", backup["zip"]
    )
    restore_id = admin.create("deals", ["name"], backup_id=backup_id)
    admin.plan(restore_id)
    error = _refusal(lambda: admin.client.call("crm.backup", "unlink", [backup_id]))
    assert not error, f"a backup used by a restore cannot be deleted: {error}"
    with e2e_db.cursor() as cr:
        cr.execute("SELECT count(*) FROM crm_backup WHERE id = %s", [backup_id])
        assert not cr.fetchone()[0]
    (restore,) = admin.client.call("crm.backup.restore", "read", [restore_id], [])
    assert any("E2E used backup" in str(value) for value in restore.values()), restore


# --- salesman ---------------------------------------------------------------------------


def _salesman_calls(refs, done_restore, throwaway_backups, backup):
    (backup_id, attachment_id), _other = throwaway_backups
    return {
        "list restores": ("crm.backup.restore", "search_read", [], ["name"]),
        "create restore": (
            "crm.backup.restore",
            "create",
            {
                "source": "upload",
                "upload_file": _b64(backup["zip"]),
                "object_id": refs["objects"]["custom"],
                "custom_model_id": refs["models"]["res.users"],
            },
        ),
        "write restore": (
            "crm.backup.restore",
            "write",
            [done_restore],
            {"plan_html": XSS},
        ),
        "plan restore": ("crm.backup.restore", "action_plan", [done_restore]),
        "undo restore": ("crm.backup.restore", "action_undo", [done_restore]),
        "identity check": (
            "crm.backup.restore.auth",
            "create",
            {"restore_id": done_restore, "job": "undo"},
        ),
        "create object": (
            "crm.backup.object",
            "create",
            {"name": "x", "key": "x_salesman", "model_name": "res.users"},
        ),
        "write object": (
            "crm.backup.object",
            "write",
            [refs["objects"]["contacts"]],
            {"model_name": "res.users"},
        ),
        "write backup": ("crm.backup", "write", [backup_id], {"state": "expired"}),
        "delete backup": ("crm.backup", "unlink", [backup_id]),
        "request backup": ("crm.backup", "request_backup"),
        "delete backup file": ("ir.attachment", "unlink", [attachment_id]),
    }


SALESMAN_CALLS = (
    "list restores",
    "create restore",
    "write restore",
    "plan restore",
    "undo restore",
    "identity check",
    "create object",
    "write object",
    "write backup",
    "delete backup",
    "request backup",
    "delete backup file",
)


@pytest.mark.parametrize("call", SALESMAN_CALLS)
def test_salesman_is_refused(
    call, server, users, refs, done_restore, throwaway_backups, backup, e2e_db, registry
):
    model, method, *args = _salesman_calls(
        refs, done_restore, throwaway_backups, backup
    )[call]
    web = login(server, "salesman", users)
    with _attack(e2e_db, registry, f"salesman: {call}") as attack:
        _keep_restore(attack, done_restore)
        attack.keep("backups", "crm_backup", "TRUE")
        attack.keep("backup objects", "crm_backup_object", "TRUE")
        error = _refusal(lambda: web.call(model, method, *args), ("AccessError",))
    assert error, f"a salesman could {call}"


def test_next_backup_hint_over_rpc(server, users, admin, admin_b):
    """The Backups list's hint: backup administrators of either company read
    a text or nothing; a salesman is refused."""
    for flow in (admin, admin_b):
        hint = flow.client.call("crm.backup", "get_next_backup_hint")
        assert not hint or hint.startswith("Next backup possible after"), hint
    salesman = login(server, "salesman", users)
    error = _refusal(
        lambda: salesman.call("crm.backup", "get_next_backup_hint"),
        ("AccessError",),
    )
    assert error, "a salesman read the backup frequency limit"


RESTORE_MIXINS = (
    "crm.backup.restore.plan",
    "crm.backup.restore.confirm",
    "crm.backup.restore.run",
)


@pytest.mark.parametrize("role", ("backup_admin", "backup_admin_b", "salesman"))
@pytest.mark.parametrize("model", RESTORE_MIXINS)
def test_restore_mixins_have_no_button_over_rpc(
    model, role, server, users, done_restore, e2e_db, registry
):
    """The restore's concerns live in mixins; their work is private: the
    form's buttons are crm.backup.restore's only, whoever calls the mixin."""
    web = login(server, role, users)
    for method in ("action_plan", "action_download_plan", "action_restore"):
        with _attack(e2e_db, registry, f"{role}: {model}.{method}") as attack:
            _keep_restore(attack, done_restore)
            error = _refusal(
                lambda method=method: web.call(model, method, [done_restore]),
                ("AttributeError",),
            )
        assert error and "does not exist" in error.message, (
            f"{role} called {model}.{method}"
        )
