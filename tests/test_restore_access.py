# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Who may plan, run and undo restores (roles x actions x levels), and that nobody
runs a restore without the identity check, whatever they call."""

import base64
import secrets

import pytest
from conftest import ROLES, SECRETS, environment, login
from e2e import FIGURES, RestoreFlow, audit_entries, restore_state, wait_restore
from odoo_client import ExternalApi, RpcError

from odoo.exceptions import AccessDenied, AccessError

DENIED_KINDS = {"AccessError", "AccessDenied", "SessionExpiredException"}
ACTIONS = ("read_restore", "plan_restore", "run_restore", "undo_restore")


class _OrmClient:
    """The RestoreFlow vocabulary on an in-process ORM environment."""

    def __init__(self, env):
        self.env = env

    def call(self, model, method, *args, **kwargs):
        first = args[0] if args else None
        if isinstance(first, list) and all(isinstance(i, int) for i in first):
            records = self.env[model].browse(first)
            args = args[1:]
        else:
            records = self.env[model]
        result = getattr(records, method)(*args, **kwargs)
        if hasattr(result, "_name"):  # a recordset, as RPC gives it back
            return result.id if method == "create" else result.ids
        return result


@pytest.fixture(scope="module")
def done_restore(server, users, backup, e2e_db):
    """A restore run to the end by the backup administrator (nothing to change)."""
    return _fresh_done_restore(server, users, backup, e2e_db)


@pytest.fixture(scope="module")
def planned_restore(server, users, backup):
    flow = RestoreFlow(
        login(server, "backup_admin", users), users["backup_admin"]["password"]
    )
    restore_id = flow.create("contacts", ["city"], backup_id=backup["id"])
    flow.plan(restore_id)
    return restore_id


def _client(role, level, server, users):
    if level == "http":
        return login(server, role, users)
    if role == "public":
        return ExternalApi(server.url, server.db, "", "", uid=users["public"]["uid"])
    user = users[role]
    return ExternalApi(server.url, server.db, user["login"], user["password"])


def _attempt(action, flow, role, backup, planned, done, e2e_db, level):
    """True when done, False when refused (access), as the server answered."""
    own = role == "backup_admin"
    if action == "read_restore":
        flow.client.call("crm.backup.restore", "read", [planned], ["state"])
    elif action == "plan_restore":
        if own:
            upload = base64.b64encode(backup["zip"]).decode()
            restore_id = flow.create("contacts", ["city"], upload=upload)
        else:
            restore_id = planned
        flow.plan(restore_id)
    elif action == "run_restore":
        if own:
            upload = base64.b64encode(backup["zip"]).decode()
            restore_id = flow.create("contacts", ["city"], upload=upload)
            flow.plan(restore_id)
            flow.run(restore_id)
            if level != "orm":
                assert wait_restore(e2e_db, restore_id) == "done"
        else:
            flow.confirm(planned)
    elif action == "undo_restore":
        if own and level != "orm":
            wizard = flow.confirm(done, job="undo")
            flow.authenticate(wizard)
            assert wait_restore(e2e_db, done, ("undone", "failed")) == "undone"
        else:
            flow.confirm(done, job="undo")
    return True


@pytest.mark.parametrize("level", ("orm", "rpc", "http"))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_restore_access(
    action,
    role,
    level,
    server,
    users,
    registry,
    backup,
    planned_restore,
    done_restore,
    e2e_db,
):
    allowed = role == "backup_admin"
    if allowed and action == "undo_restore":
        # each level undoes a fresh restore of its own: an older one cannot be
        # undone once a later restore changed the same fields
        done = _fresh_done_restore(server, users, backup, e2e_db)
    else:
        done = done_restore
    password = users[role]["password"]
    if level == "orm":
        with environment(registry, uid=users[role]["uid"]) as env:
            flow = RestoreFlow(_OrmClient(env), password)
            try:
                outcome = _attempt(
                    action, flow, role, backup, planned_restore, done, e2e_db, level
                )
            except (AccessError, AccessDenied):
                outcome = False
    else:
        flow = RestoreFlow(_client(role, level, server, users), password)
        try:
            outcome = _attempt(
                action, flow, role, backup, planned_restore, done, e2e_db, level
            )
        except RpcError as exc:
            assert exc.kind in DENIED_KINDS, exc
            outcome = False
    assert outcome == allowed
    # refusals left both restores as they were
    assert restore_state(e2e_db, planned_restore) == "planned"
    FIGURES.check(role, action, level)


def _fresh_done_restore(server, users, backup, e2e_db):
    """A new restore of the contacts' city, run to the end by the backup admin."""
    flow = RestoreFlow(
        login(server, "backup_admin", users), users["backup_admin"]["password"]
    )
    restore_id = flow.create("contacts", ["city"], backup_id=backup["id"])
    flow.plan(restore_id)
    flow.run(restore_id)
    assert wait_restore(e2e_db, restore_id) == "done"
    return restore_id


def test_no_restore_runs_without_the_identity_check(
    server, users, backup, registry, e2e_db
):
    """A backup administrator who forces the state by RPC, or calls the private
    execution method, gets nothing restored."""
    web = login(server, "backup_admin", users)
    flow = RestoreFlow(web, users["backup_admin"]["password"])
    with e2e_db.cursor() as cr:
        cr.execute(
            "UPDATE res_partner SET city = 'Nowhere' WHERE id IN (SELECT id FROM"
            " res_partner WHERE name LIKE 'Bulk %' ORDER BY id LIMIT 10)"
        )
    restore_id = flow.create("contacts", ["city"], backup_id=backup["id"])
    flow.plan(restore_id)
    with pytest.raises(RpcError):
        web.call("crm.backup.restore", "_execute_restore", [restore_id])
    FIGURES.input("private method called by RPC")
    with pytest.raises(RpcError, match="set by the backup application only"):
        web.call("crm.backup.restore", "write", [restore_id], {"state": "running"})
    FIGURES.input("state forced to running by RPC")
    assert restore_state(e2e_db, restore_id) == "planned"
    # even forced in the database, a job without an identity check does nothing
    with e2e_db.cursor() as cr:
        cr.execute(
            "UPDATE crm_backup_restore SET state = 'running', job = 'restore'"
            " WHERE id = %s",
            [restore_id],
        )
    with environment(registry, commit=True) as env:
        env.ref("crm_data_backup.ir_cron_restore_run")._trigger()
    assert wait_restore(e2e_db, restore_id) == "failed"
    with e2e_db.cursor() as cr:
        cr.execute("SELECT count(*) FROM res_partner WHERE city = 'Nowhere'")
        assert cr.fetchone()[0] == 10
        cr.execute("UPDATE res_partner SET city = 'Paris' WHERE city = 'Nowhere'")
    assert not audit_entries(e2e_db, action="restore_executed", restore_id=restore_id)
    # a wrong password queues nothing and is recorded (never the password itself)
    restore_id = flow.create("contacts", ["city"], backup_id=backup["id"])
    flow.plan(restore_id)
    wrong = f"wrong-{secrets.token_hex(6)}"
    SECRETS.add(wrong)
    result = flow.authenticate(flow.confirm(restore_id), password=wrong)
    FIGURES.input("wrong password at the identity check")
    assert result != {"type": "ir.actions.act_window_close"}
    assert restore_state(e2e_db, restore_id) == "planned"
    assert audit_entries(e2e_db, action="identity_failed", restore_id=restore_id)
