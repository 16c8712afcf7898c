# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Who may do what with backups, restores and the audit log: roles x actions x levels.

Levels: ``orm`` (this process, ``env(user=...)`` on the e2e database), ``rpc`` (the external
API ``/jsonrpc``, login and password on each call) and ``http`` (a browser session:
``/web/dataset/call_kw`` and plain GETs of ``/web/content`` and ``/web/image``).
"""

import base64
import contextlib
import io
import secrets
import zipfile

import pytest
from conftest import ALL_ROLES, environment, login, set_param, stored_backup
from e2e import FIGURES
from odoo_client import ExternalApi, RpcError

from odoo.exceptions import AccessDenied, AccessError, UserError

LEVELS = ("orm", "rpc", "http")
DENIED_KINDS = {"AccessError", "AccessDenied", "SessionExpiredException"}
# A refusal may also be a user error (a company check, a server-owned field).
REFUSED_KINDS = {*DENIED_KINDS, "UserError", "ValidationError", "MissingError"}
ZIP_MAGIC = b"PK\x03\x04"

# action -> roles allowed (every other role must be refused). Audit entries are
# append-only: nobody, not even a backup administrator, may write or delete them.
# The targets belong to company A: company B's backup admin only makes backups of
# his own. What a backup exports (backup objects) is for Settings admins to decide,
# and a backup's file and figures are the server's alone.
ONLY_BACKUP_ADMIN = {"backup_admin"}
EXPECTED = {
    "list_backups": ONLY_BACKUP_ADMIN,
    "read_backup": ONLY_BACKUP_ADMIN,
    "create_backup": {"backup_admin", "backup_admin_b"},
    "delete_backup": ONLY_BACKUP_ADMIN,
    "read_backup_file": ONLY_BACKUP_ADMIN,
    "find_backup_file": ONLY_BACKUP_ADMIN,
    "create_restore": ONLY_BACKUP_ADMIN,
    "read_audit_log": ONLY_BACKUP_ADMIN,
    "create_audit_entry": set(),
    "edit_audit_log": set(),
    "delete_audit_log": set(),
    "create_backup_object": {"settings_admin"},
    # order and on/off; the model and domain are the Settings admin's (attacker suite)
    "edit_backup_object": {"settings_admin", "backup_admin", "backup_admin_b"},
    "delete_backup_file": set(),
    "forge_backup_fields": set(),
}
# Audit entries follow the company of what they are about: B does not read A's.


class Denied(Exception):
    """The server refused the action."""


class Actor:
    """One role acting at one level, with the same vocabulary at every level."""

    def __init__(self, role, level, users, server, registry):
        self.role = role
        self.level = level
        self.users = users
        self.server = server
        self.registry = registry
        self._client = None

    @property
    def client(self):
        if self._client is None:
            if self.level == "http":
                self._client = login(self.server, self.role, self.users)
            elif self.role == "public":
                # No credentials: the public user's id and an empty password.
                self._client = ExternalApi(
                    self.server.url,
                    self.server.db,
                    "",
                    "",
                    uid=self.users["public"]["uid"],
                )
            else:
                user = self.users[self.role]
                self._client = ExternalApi(
                    self.server.url, self.server.db, user["login"], user["password"]
                )
        return self._client

    def call(self, model, method, ids, *args, **kwargs):
        """Call ``model.method``; ``ids`` None for model-level methods."""
        if self.level == "orm":
            uid = self.users[self.role]["uid"]
            with environment(self.registry, uid=uid) as env:
                records = env[model].browse(ids) if ids is not None else env[model]
                try:
                    result = getattr(records, method)(*args, **kwargs)
                    env.flush_all()
                except (AccessError, AccessDenied) as exc:
                    raise Denied(str(exc)) from exc
                return result.ids if hasattr(result, "ids") else result
        call_args = (ids, *args) if ids is not None else args
        try:
            return self.client.call(model, method, *call_args, **kwargs)
        except RpcError as exc:
            if exc.kind in DENIED_KINDS:
                raise Denied(exc.message) from exc
            raise

    def get(self, path):
        return self.client.get(path)

    @contextlib.contextmanager
    def refusing(self):
        """A user error (company check, server-owned field) counts as a refusal."""
        try:
            yield
        except RpcError as exc:
            if exc.kind not in REFUSED_KINDS:
                raise
            raise Denied(exc.message) from exc
        except UserError as exc:
            raise Denied(str(exc)) from exc


@pytest.fixture(scope="module")
def actors(users, server, registry):
    cache = {}

    def get(role, level):
        if (role, level) not in cache:
            cache[role, level] = Actor(role, level, users, server, registry)
        return cache[role, level]

    return get


def _zip_bytes(text):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("contacts.csv", text)
    return buf.getvalue()


@pytest.fixture(scope="module")
def targets(registry, users, server, e2e_db):
    """Records acted upon: a backup with its zip file (made through the server, so the
    file is in its filestore), an audit entry, and a factory of throw-away backups."""
    set_param(registry, "crm_data_backup.min_interval_hours", "0")
    admin = ExternalApi(
        server.url,
        server.db,
        users["backup_admin"]["login"],
        users["backup_admin"]["password"],
    )
    # Backups are made by the server only: this one as if its job had run.
    with environment(registry, commit=True) as env:
        backup = _server_backup(env, "E2E access backup", users)
    attachment = admin.call(
        "ir.attachment",
        "create",
        {
            "name": "crm-backup.zip",
            "res_model": "crm.backup",
            "res_id": backup,
            "mimetype": "application/zip",
            "datas": base64.b64encode(
                _zip_bytes("id,name\r\n__export__.x,Secret Person\r\n")
            ).decode(),
        },
    )
    with environment(registry, commit=True) as env:
        env["crm.backup"].browse(backup).attachment_id = attachment
        entry = env["crm.backup.audit"]._log("backup_created", backup_id=backup)
        ids = {"backup": backup, "attachment": attachment, "audit": entry.id}

    def new_backup(name):
        with environment(registry, commit=True) as env:
            return _server_backup(env, name, users)

    def new_backup_file(name):
        return stored_backup(registry, e2e_db, name, _zip_bytes("id,name\r\n"))

    ids["new_backup"] = new_backup
    ids["new_backup_file"] = new_backup_file
    with environment(registry) as env:
        ids["object"] = env.ref("crm_data_backup.backup_object_tasks").id
    return ids


def _server_backup(env, name, users):
    company = env.ref("base.main_company")
    return (
        env["crm.backup"]
        .create(
            {
                "name": name,
                # done: the job leaves it alone
                "state": "done",
                "company_ids": [(6, 0, company.ids)],
                "requested_by_id": users["backup_admin"]["uid"],
            }
        )
        .id
    )


def _exists(registry, model, record_id):
    with environment(registry) as env:
        return bool(env[model].browse(record_id).exists())


def _attempt(action, actor, targets, registry):
    """Try ``action``; return True when it was done, False when it was refused."""
    try:
        if action == "list_backups":
            rows = actor.call("crm.backup", "search_read", None, [], ["name"])
            if targets["backup"] not in {r["id"] for r in rows}:
                raise Denied("the backup is not listed")  # another company's
        elif action == "read_backup":
            rows = actor.call("crm.backup", "read", [targets["backup"]], ["name"])
            assert rows[0]["name"] == "E2E access backup"
        elif action == "create_backup":
            created = actor.call("crm.backup", "request_backup", None)
            created = created[0] if isinstance(created, list) else created
            assert _exists(registry, "crm.backup", created) or actor.level == "orm"
        elif action == "delete_backup":
            victim = targets["new_backup"](f"E2E victim of {actor.role}")
            try:
                actor.call("crm.backup", "unlink", [victim])
            except Denied:
                assert _exists(registry, "crm.backup", victim)
                raise
            assert actor.level == "orm" or not _exists(registry, "crm.backup", victim)
        elif action == "read_backup_file":
            fields = ["name", "checksum"] if actor.level == "orm" else ["name", "datas"]
            rows = actor.call("ir.attachment", "read", [targets["attachment"]], fields)
            if actor.level != "orm":
                assert base64.b64decode(rows[0]["datas"]).startswith(ZIP_MAGIC)
        elif action == "find_backup_file":
            found = actor.call(
                "ir.attachment", "search", None, [("res_model", "=", "crm.backup")]
            )
            if targets["attachment"] not in found:
                raise Denied("the backup file is not found")
        elif action == "create_restore":
            with actor.refusing():
                actor.call(
                    "crm.backup.restore",
                    "create",
                    None,
                    {"backup_id": targets["backup"]},
                )
        elif action == "create_backup_object":
            key = f"x_e2e_{actor.role}_{actor.level}_{secrets.token_hex(3)}"
            vals = {"name": key, "key": key, "model_name": "res.partner"}
            with actor.refusing():
                created = actor.call("crm.backup.object", "create", None, vals)
            if actor.level != "orm":  # out of the next backups
                with environment(registry, commit=True) as env:
                    env["crm.backup.object"].browse(created).active = False
        elif action == "edit_backup_object":
            (obj,) = actor.call(
                "crm.backup.object", "read", [targets["object"]], ["sequence"]
            )
            with actor.refusing():
                actor.call(
                    "crm.backup.object",
                    "write",
                    [targets["object"]],
                    {"sequence": obj["sequence"]},
                )
        elif action == "delete_backup_file":
            _victim, attachment = targets["new_backup_file"](f"E2E {actor.role} file")
            with actor.refusing():
                actor.call("ir.attachment", "unlink", [attachment])
            assert actor.level == "orm" or not _exists(
                registry, "ir.attachment", attachment
            )
        elif action == "forge_backup_fields":
            victim, _attachment = targets["new_backup_file"](f"E2E {actor.role} forge")
            with actor.refusing():
                actor.call(
                    "crm.backup",
                    "write",
                    [victim],
                    {"expiration_date": "2999-01-01 00:00:00", "record_count": 1},
                )
        elif action == "read_audit_log":
            rows = actor.call("crm.backup.audit", "search_read", None, [], ["action"])
            if targets["audit"] not in {r["id"] for r in rows}:
                raise Denied("the entry is not listed")  # another company's
        elif action == "create_audit_entry":
            actor.call("crm.backup.audit", "create", None, {"action": "backup_deleted"})
        elif action == "edit_audit_log":
            actor.call(
                "crm.backup.audit", "write", [targets["audit"]], {"details": "forged"}
            )
        elif action == "delete_audit_log":
            actor.call("crm.backup.audit", "unlink", [targets["audit"]])
        else:
            raise AssertionError(f"unknown action {action}")
    except Denied:
        return False
    return True


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_access(action, role, level, actors, targets, registry):
    allowed = role in EXPECTED[action]
    done = _attempt(action, actors(role, level), targets, registry)
    assert done == allowed, (
        f"{role} {'could not' if allowed else 'could'} {action} at {level} level"
    )
    # Refusals change nothing: the audit entry is intact, the backup still there.
    with environment(registry) as env:
        entry = env["crm.backup.audit"].browse(targets["audit"])
        assert entry.exists() and entry.details is False
        assert env["crm.backup"].browse(targets["backup"]).exists()
    FIGURES.check(role, action, level)


# The backup zip through Odoo's generic binary routes, with every URL shape they take.
FILE_URLS = (
    "/web/content/{att}",
    "/web/content/{att}?download=true",
    "/web/content/ir.attachment/{att}/datas",
    "/web/content/ir.attachment/{att}/raw",
    "/web/image/{att}",
    "/web/image/ir.attachment/{att}/datas",
)


@pytest.mark.parametrize("url", FILE_URLS)
@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r != "backup_admin"])
def test_backup_file_not_served_by_generic_routes(role, url, actors, targets):
    response = actors(role, "http").get(url.format(att=targets["attachment"]))
    assert response.status_code != 200 or not response.content.startswith(ZIP_MAGIC)
    assert b"Secret Person" not in response.content
    action = "web_image" if url.startswith("/web/image") else "web_content"
    FIGURES.check(role, action, "http")


def test_generic_routes_reach_the_file_at_all(actors, targets, registry):
    """Control: the superuser's session does get the file, so refusals are real."""
    with environment(registry) as env:
        attachment = env["ir.attachment"].browse(targets["attachment"])
        assert attachment.res_model == "crm.backup" and attachment.store_fname
    response = actors("backup_admin", "http").get(
        f"/web/content/{targets['attachment']}?download=true"
    )
    assert response.status_code == 200
    assert response.content.startswith(ZIP_MAGIC)
