# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Off-site copies (issue 16) against a real OpenSSH server (tests/sshd.py): a
scheduled backup lands encrypted on SFTP, is verified, pruned by tiers and restored
from there; the connection cut mid-upload and an unreachable server leave nothing
partial as copied; the new fields and methods attacked over JSON-RPC."""

import contextlib
import hashlib
import io
import json
import secrets
import shutil
import subprocess
import tempfile
import threading
import zipfile
from pathlib import Path

import pyrage
import pytest
from conftest import (
    SECRETS,
    environment,
    login,
    new_backup_admin,
    set_param,
    stored_backup,
)
from e2e import FIGURES, Database, RestoreFlow, wait_for, wait_restore
from odoo_client import WebSession
from sshd import SshServer
from test_attacker import _attack, _refusal
from test_faults import _tmpfs, _tmpfs_works

import odoo

from odoo.addons.crm_data_backup.models.crm_backup_offsite import MAX_ATTEMPTS

IDENTITY = pyrage.x25519.Identity.generate()
# the private key: in no database row, file or log of the server (tests/test_logs.py)
SECRETS.add(str(IDENTITY))


@pytest.fixture(scope="module")
def sshd(e2e_dir):
    server = SshServer().start()
    yield server
    server.cleanup()


def _offsite(db, backup_id):
    with db.cursor() as cr:
        cr.execute(
            "SELECT offsite_state, offsite_path, offsite_sha256, offsite_size,"
            " offsite_error, offsite_attempts FROM crm_backup WHERE id = %s",
            [backup_id],
        )
        return dict(
            zip(
                ("state", "path", "sha256", "size", "error", "attempts"),
                cr.fetchone(),
                strict=True,
            )
        )


def _wait_offsite(db, backup_id, states, timeout=120):
    wait_for(
        lambda: _offsite(db, backup_id)["state"] in states,
        timeout,
        what=f"off-site copy of backup {backup_id} in {states}",
    )
    return _offsite(db, backup_id)


def _sftp_storage(env, sshd, name, code):
    """An fs.storage of protocol sftp on the test's OpenSSH server."""
    return env["fs.storage"].create(
        {
            "name": name,
            "code": code,
            "protocol": "sftp",
            "options": json.dumps(sshd.storage_options()),
            "directory_path": str(sshd.root),
        }
    )


@pytest.fixture(scope="module")
def storage(registry, sshd):
    """An fs.storage of protocol sftp on the test's OpenSSH server, chosen in the
    settings with the test's age recipient; the settings put back at the end."""
    with environment(registry, commit=True) as env:
        record = _sftp_storage(env, sshd, "E2E SFTP", "e2e_sftp")
        params = env["ir.config_parameter"]
        saved = {
            key: params.get_param(f"crm_data_backup.{key}")
            for key in ("offsite_storage_id", "offsite_age_recipients", "schedule")
        }
    set_param(registry, "crm_data_backup.offsite_storage_id", str(record.id))
    set_param(
        registry, "crm_data_backup.offsite_age_recipients", str(IDENTITY.to_public())
    )
    yield record.id
    for key, value in saved.items():
        set_param(registry, f"crm_data_backup.{key}", value or False)


def _trigger_offsite(registry):
    with environment(registry, commit=True) as env:
        env.ref("crm_data_backup.ir_cron_crm_backup_offsite")._trigger()


def _remote(sshd, path):
    return sshd.root / path


def _audit_count(db, action, **where):
    """How many audit entries of ``action`` (and ``where``: column = value)."""
    ((column, value),) = where.items()
    with db.cursor() as cr:
        cr.execute(
            f"SELECT count(*) FROM crm_backup_audit WHERE action = %s AND {column} = %s",
            [action, value],
        )
        return cr.fetchone()[0]


def _local_zip(db, backup_id):
    """The backup's zip in the server's filestore."""
    with db.cursor() as cr:
        cr.execute(
            "SELECT a.store_fname FROM crm_backup b JOIN ir_attachment a"
            " ON a.id = b.attachment_id WHERE b.id = %s",
            [backup_id],
        )
        return (db.filestore() / cr.fetchone()[0]).read_bytes()


def _decrypt(data):
    return pyrage.decrypt(data, [IDENTITY])


def test_scheduled_backup_lands_encrypted_verified_pruned_and_restorable(
    server, registry, e2e_db, users, sshd, storage, backup
):
    """The issue's "Done when": a scheduled backup, by the server's own jobs."""
    set_param(registry, "crm_data_backup.schedule", "daily")
    with environment(registry, commit=True) as env:
        # the backup fixture's may count as today's: the job runs again
        env.cr.execute("UPDATE crm_backup SET is_scheduled = false")
        # as the scheduled job runs: the system's own
        scheduled = env["crm.backup"].sudo()._cron_scheduled_backup()
        assert scheduled, "no scheduled backup was queued"
        backup_id = scheduled.id
    copy = _wait_offsite(e2e_db, backup_id, ("copied", "failed"), timeout=300)
    assert copy["state"] == "copied", copy["error"]
    remote = _remote(sshd, copy["path"])
    assert remote.name.endswith(".zip.age")
    data = remote.read_bytes()
    assert hashlib.sha256(data).hexdigest() == copy["sha256"]
    local = _local_zip(e2e_db, backup_id)
    assert _decrypt(data) == local
    # the official command line reads it too
    age = shutil.which("age")
    if age:
        with tempfile.NamedTemporaryFile("w", suffix=".key") as key:
            key.write(str(IDENTITY))
            key.flush()
            out = subprocess.run(
                [age, "--decrypt", "-i", key.name, str(remote)],
                capture_output=True,
                check=True,
            )
        assert out.stdout == local
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(data, [pyrage.x25519.Identity.generate()])

    # verified, by the button (RPC) as the daily job does: a scheduled backup
    # holds every company's data, its admins are those of every company
    password = "pw-offsite-" + secrets.token_urlsafe(12)
    SECRETS.add(password)
    with environment(registry, commit=True) as env:
        companies = env["res.company"].search([])
        new_backup_admin(
            env,
            "e2e_offsite_admin",
            "E2E off-site admin",
            password=password,
            company_ids=[(6, 0, companies.ids)],
        )
    admin = WebSession(server.url, server.db)
    admin.authenticate("e2e_offsite_admin", password)
    result = admin.call("crm.backup", "action_verify", [backup_id])
    # queued: the server's job reads the copy back, not the request
    assert result["params"]["type"] == "info", result
    verified = _wait_offsite(e2e_db, backup_id, ("verified", "failed"))
    assert verified["state"] == "verified", verified["error"]
    # and with the private key, given for once: decrypted, every file checked,
    # a dry-run restore planned
    wizard_id = admin.call(
        "crm.backup.offsite.verify",
        "create",
        {"backup_id": backup_id, "identity": str(IDENTITY)},
    )
    result = admin.call("crm.backup.offsite.verify", "action_verify", [wizard_id])
    assert result["params"]["type"] == "success", result
    with e2e_db.cursor() as cr:
        cr.execute(
            "SELECT details FROM crm_backup_audit WHERE backup_id = %s"
            " AND action = 'offsite_verified' ORDER BY id DESC LIMIT 1",
            [backup_id],
        )
        assert "files checked" in cr.fetchone()[0]

    # pruned by tiers: an older copy goes, the newest stays
    old_id, _att = stored_backup(registry, e2e_db, "E2E old off-site", local)
    with e2e_db.cursor() as cr:
        cr.execute(
            "UPDATE crm_backup SET offsite_state = 'pending', date_done ="
            " now() at time zone 'UTC' - interval '40 days' WHERE id = %s",
            [old_id],
        )
    set_param(registry, "crm_data_backup.offsite_keep_daily", "1")
    set_param(registry, "crm_data_backup.offsite_keep_weekly", "1")
    set_param(registry, "crm_data_backup.offsite_keep_monthly", "1")
    try:
        _trigger_offsite(registry)
        purged = _wait_offsite(e2e_db, old_id, ("purged", "failed"))
    finally:
        for tier, count in (("daily", 7), ("weekly", 4), ("monthly", 12)):
            set_param(registry, f"crm_data_backup.offsite_keep_{tier}", str(count))
    assert purged["state"] == "purged", purged["error"]
    assert not _remote(sshd, purged["path"]).exists()
    assert remote.exists()
    assert _audit_count(e2e_db, "offsite_purged", backup_id=old_id) == 1

    # restored from there, as on the screens: the copy fetched and decrypted with
    # the key for the plan, then the key asked again at the identity check
    wizard_id = admin.call(
        "crm.backup.offsite.fetch",
        "create",
        {"copy_path": copy["path"], "identity": str(IDENTITY)},
    )
    action = admin.call("crm.backup.offsite.fetch", "action_fetch", [wizard_id])
    restore_id = action["res_id"]
    (contacts,) = admin.call("crm.backup.object", "search", [("key", "=", "contacts")])
    city = admin.call(
        "ir.model.fields",
        "search",
        [("model", "=", "res.partner"), ("name", "=", "city")],
    )
    admin.call(
        "crm.backup.restore",
        "write",
        [restore_id],
        {"object_id": contacts, "field_ids": [(6, 0, city)]},
    )
    flow = RestoreFlow(admin, password)
    flow.plan(restore_id)
    auth_id = flow.confirm(restore_id)
    assert "age private key" in flow.answer(auth_id), "the password alone passed"
    (values,) = admin.call(
        "crm.backup.restore.auth",
        "web_save",
        [auth_id],
        {"password": password, "age_identity": str(IDENTITY)},
        specification={"error": {}, "age_identity": {}, "verified_date": {}},
    )
    assert not values["error"] and not values["age_identity"], values
    assert values["verified_date"]
    result = admin.call("crm.backup.restore.auth", "action_confirm", [auth_id])
    assert result == {"type": "ir.actions.act_window_close"}, result
    assert wait_restore(e2e_db, restore_id) == "done"


def _big_zip(size):
    """A stored (uncompressed) zip of ``size`` bytes: an upload slow enough to cut."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("noise.bin", bytes(size))
    return buffer.getvalue()


def test_connection_cut_mid_upload_leaves_nothing_copied(
    registry, e2e_db, sshd, storage
):
    set_param(registry, "crm_data_backup.offsite_age_recipients", False)
    try:
        backup_id, _att = stored_backup(
            registry, e2e_db, "E2E cut upload", _big_zip(200 * 1024 * 1024)
        )
        with e2e_db.cursor() as cr:
            cr.execute(
                "UPDATE crm_backup SET offsite_state = 'pending' WHERE id = %s",
                [backup_id],
            )

        def copy():
            with environment(registry, commit=True) as env:
                env["crm.backup"].browse(backup_id)._offsite_copy()

        worker = threading.Thread(target=copy)
        worker.start()
        folder = sshd.root / "crm_data_backup" / e2e_db.name

        def uploading():
            return any(
                p.name.endswith(".part") and p.stat().st_size > 20 * 1024 * 1024
                for p in (folder.iterdir() if folder.exists() else ())
            )

        wait_for(uploading, 60, interval=0.01, what="the upload under way")
        sshd.kill()
        FIGURES.fault("sshd killed mid-upload")
        worker.join(120)
        assert not worker.is_alive()
        state = _offsite(e2e_db, backup_id)
        assert state["state"] == "failed", state
        assert not state["path"]
        assert state["attempts"] == 1
        # nothing under a final name: at most the interrupted temporary file
        mine = [p.name for p in folder.iterdir() if f"-{backup_id}.zip" in p.name]
        assert all(n.startswith(".") and n.endswith(".part") for n in mine), mine
        assert _audit_count(e2e_db, "offsite_failed", backup_id=backup_id) == 1
        # the server is back: the retry writes a whole copy
        sshd.restart()
        with environment(registry, commit=True) as env:
            env["crm.backup"].browse(backup_id)._offsite_copy()
        state = _offsite(e2e_db, backup_id)
        assert state["state"] == "copied", state
        remote = _remote(sshd, state["path"])
        digest = hashlib.sha256()
        with remote.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        assert digest.hexdigest() == state["sha256"]
        remote.unlink()
        Path(f"{remote}.json").unlink()
    finally:
        set_param(
            registry,
            "crm_data_backup.offsite_age_recipients",
            str(IDENTITY.to_public()),
        )


def test_unreachable_server_fails_notifies_and_retries(
    server, registry, e2e_db, users, sshd, storage, backup
):
    sshd.stop()
    FIGURES.fault("SFTP server unreachable")
    try:
        backup_id, _att = stored_backup(
            registry, e2e_db, "E2E unreachable", backup["zip"]
        )
        with e2e_db.cursor() as cr:
            cr.execute(
                "UPDATE crm_backup SET offsite_state = 'pending' WHERE id = %s",
                [backup_id],
            )
        _trigger_offsite(registry)
        state = _wait_offsite(e2e_db, backup_id, ("failed", "copied"))
        assert state["state"] == "failed"
        assert "cannot be reached" in state["error"]
        with e2e_db.cursor() as cr:
            cr.execute("SELECT state FROM crm_backup WHERE id = %s", [backup_id])
            assert cr.fetchone()[0] == "done"
            # the backup admins are told, in their inbox
            cr.execute(
                "SELECT count(*) FROM mail_message m"
                " JOIN mail_message_res_partner_rel r ON r.mail_message_id = m.id"
                " JOIN res_users u ON u.partner_id = r.res_partner_id"
                " WHERE m.model = 'crm.backup' AND m.res_id = %s AND u.id = %s",
                [backup_id, users["backup_admin"]["uid"]],
            )
            assert cr.fetchone()[0] == 1
    finally:
        sshd.restart()
    _trigger_offsite(registry)
    state = _wait_offsite(e2e_db, backup_id, ("copied",))
    assert _remote(sshd, state["path"]).is_file()


# --- attacks over JSON-RPC -------------------------------------------------------------

OFFSITE_FIELDS = {
    "offsite_state": "verified",
    "offsite_path": "../../../etc/passwd",
    "offsite_sha256": "0" * 64,
    "offsite_size": 1.0,
    "offsite_encrypted": False,
    "offsite_error": False,
    "offsite_attempts": 0,
    "offsite_verified_date": "2999-01-01 00:00:00",
    "offsite_verify_requested_by_id": 1,
}


@pytest.fixture(scope="module")
def copied(registry, e2e_db, storage, backup):
    """A backup of company A with a copy on the SFTP server."""
    backup_id, _att = stored_backup(
        registry, e2e_db, "E2E off-site target", backup["zip"]
    )
    with environment(registry, commit=True) as env:
        env["crm.backup"].browse(backup_id)._offsite_copy()
    state = _offsite(e2e_db, backup_id)
    assert state["state"] == "copied", state
    return backup_id


@pytest.mark.parametrize("role", ["backup_admin", "backup_admin_b", "salesman"])
@pytest.mark.parametrize("field", sorted(OFFSITE_FIELDS))
def test_offsite_fields_are_server_owned_over_rpc(
    role, field, server, users, registry, e2e_db, copied
):
    web = login(server, role, users)
    with _attack(e2e_db, registry, f"write backup.{field} as {role}") as attack:
        attack.keep("the backup", "crm_backup", "id = %s", copied)
        error = _refusal(
            lambda: web.call(
                "crm.backup", "write", [copied], {field: OFFSITE_FIELDS[field]}
            ),
            ("AccessError", "UserError", "MissingError"),
        )
    assert error, f"{role} wrote the backup's {field} over RPC"


@pytest.mark.parametrize("role", ["backup_admin_b", "salesman"])
def test_other_company_and_salesman_cannot_verify(
    role, server, users, registry, e2e_db, copied
):
    web = login(server, role, users)
    with _attack(e2e_db, registry, f"verify another's copy as {role}") as attack:
        attack.keep("the backup", "crm_backup", "id = %s", copied)
        attack.keep(
            "its audit",
            "crm_backup_audit",
            "backup_id = %s AND action LIKE %s",
            copied,
            "offsite%",
        )
        error = _refusal(lambda: web.call("crm.backup", "action_verify", [copied]))
        assert error, f"{role} verified another company's copy"
        error = _refusal(
            lambda: web.call(
                "crm.backup.offsite.verify",
                "create",
                {"backup_id": copied, "identity": str(IDENTITY)},
            )
        )
    assert error, f"{role} verified another company's copy with the key"


def test_key_verification_is_server_owned(server, users, registry, e2e_db, copied):
    """A backup admin cannot mark a key verification done without the key."""
    web = login(server, "backup_admin", users)
    with _attack(e2e_db, registry, "forge a key verification") as attack:
        attack.keep("the backup", "crm_backup", "id = %s", copied)
        assert _refusal(
            lambda: web.call(
                "crm.backup.offsite.verify",
                "create",
                {"backup_id": copied, "verified": True},
            )
        )
        wizard_id = web.call(
            "crm.backup.offsite.verify", "create", {"backup_id": copied}
        )
        assert _refusal(
            lambda: web.call(
                "crm.backup.offsite.verify", "write", [wizard_id], {"verified": True}
            )
        )
        assert _refusal(
            lambda: web.call(
                "crm.backup.offsite.verify",
                "write",
                [wizard_id],
                {"identity": "AGE-SECRET-KEY-1NOPE"},
            )
        )
        assert _refusal(
            lambda: web.call("crm.backup.offsite.verify", "action_verify", [wizard_id])
        )


@pytest.mark.parametrize(
    "method",
    [
        "_offsite_copy",
        "_offsite_verify",
        "_cron_offsite",
        "_offsite_prune",
        "_offsite_wake",
        "_offsite_tell_verified",
    ],
)
def test_private_offsite_methods_are_not_callable(
    method, server, users, registry, e2e_db, copied
):
    web = login(server, "backup_admin", users)
    with _attack(e2e_db, registry, f"call crm.backup.{method}") as attack:
        attack.keep("the backup", "crm_backup", "id = %s", copied)
        error = _refusal(lambda: web.call("crm.backup", method, [copied]))
    assert error, f"{method} ran over RPC"


@pytest.mark.parametrize("role", ["backup_admin", "backup_admin_b", "salesman"])
def test_storage_and_settings_are_out_of_reach(
    role, server, users, registry, e2e_db, storage
):
    """A backup admin is no Settings admin: the storage's options (credentials),
    where copies go and the keys they are encrypted for stay out of reach."""
    web = login(server, role, users)
    with _attack(e2e_db, registry, f"off-site settings as {role}") as attack:
        attack.keep("the storage", "fs_storage", "id = %s", storage)
        assert _refusal(lambda: web.call("fs.storage", "read", [storage], ["options"]))
        assert _refusal(
            lambda: web.call("fs.storage", "write", [storage], {"options": "{}"})
        )
        assert _refusal(
            lambda: web.call(
                "fs.storage",
                "create",
                {"name": "evil", "code": "evil", "protocol": "file"},
            )
        )
        for vals in (
            {"crm_backup_storage_id": False},
            {
                "crm_backup_age_recipients": str(
                    pyrage.x25519.Identity.generate().to_public()
                )
            },
            {"crm_backup_keep_daily": 1, "crm_backup_keep_monthly": 1},
        ):

            def save(vals=vals):
                settings_id = web.call("res.config.settings", "create", vals)
                web.call("res.config.settings", "execute", [settings_id])

            assert _refusal(save)


def test_sidecar_holds_no_secret(copied, e2e_db, sshd):
    path = _remote(sshd, _offsite(e2e_db, copied)["path"])
    text = Path(f"{path}.json").read_text()
    assert str(IDENTITY) not in text
    assert "AGE-SECRET-KEY" not in text
    with e2e_db.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM ir_config_parameter WHERE value ILIKE %s",
            ["%AGE-SECRET-KEY%"],
        )
        assert cr.fetchone()[0] == 0


def test_retry_gives_up_after_many_attempts(registry, e2e_db, storage, backup):
    """A copy that always fails is not retried forever by the job."""
    backup_id, _att = stored_backup(registry, e2e_db, "E2E given up", backup["zip"])
    with e2e_db.cursor() as cr:
        cr.execute(
            "UPDATE crm_backup SET offsite_state = 'failed', offsite_attempts = %s"
            " WHERE id = %s",
            [MAX_ATTEMPTS, backup_id],
        )
    with environment(registry, commit=True) as env:
        env["crm.backup"]._cron_offsite()
    assert _offsite(e2e_db, backup_id)["state"] == "failed"


@pytest.mark.parametrize("role", ["backup_admin_b", "salesman"])
def test_fetch_of_another_company_copy_is_refused(
    role, server, users, registry, e2e_db, copied
):
    """Restoring from a copy needs the right to read its backup."""
    path = _offsite(e2e_db, copied)["path"]
    web = login(server, role, users)
    with _attack(e2e_db, registry, f"fetch another's copy as {role}") as attack:
        attack.keep("restores", "crm_backup_restore", "true")

        def fetch():
            wizard_id = web.call(
                "crm.backup.offsite.fetch", "create", {"copy_path": path}
            )
            web.call("crm.backup.offsite.fetch", "action_fetch", [wizard_id])

        assert _refusal(fetch)


def test_fetch_wizard_restore_is_server_owned(server, users, registry, e2e_db, copied):
    path = _offsite(e2e_db, copied)["path"]
    web = login(server, "backup_admin", users)
    with _attack(e2e_db, registry, "fetch wizard with a chosen restore") as attack:
        attack.keep("restores", "crm_backup_restore", "true")
        assert _refusal(
            lambda: web.call(
                "crm.backup.offsite.fetch",
                "create",
                {"copy_path": path, "restore_id": 1},
            )
        )

        def traversal():
            wizard_id = web.call(
                "crm.backup.offsite.fetch",
                "create",
                {"copy_path": "crm_data_backup/../../../etc/passwd"},
            )
            web.call("crm.backup.offsite.fetch", "action_fetch", [wizard_id])

        assert _refusal(traversal)


def test_fetch_decrypts_with_the_key_typed_once(
    server, users, registry, e2e_db, copied
):
    """The backup admin restores from the encrypted copy: the key is used once and
    is in no table, file or log of the server afterwards (test_logs.py)."""
    path = _offsite(e2e_db, copied)["path"]
    web = login(server, "backup_admin", users)
    wizard_id = web.call(
        "crm.backup.offsite.fetch",
        "create",
        {"copy_path": path, "identity": str(IDENTITY)},
    )
    action = web.call("crm.backup.offsite.fetch", "action_fetch", [wizard_id])
    assert action["res_model"] == "crm.backup.restore"
    assert _audit_count(e2e_db, "offsite_fetched", restore_id=action["res_id"]) == 1
    with e2e_db.cursor() as cr:
        cr.execute(
            "SELECT upload_filename, offsite_recipient FROM crm_backup_restore"
            " WHERE id = %s",
            [action["res_id"]],
        )
        filename, recipient = cr.fetchone()
    assert filename.endswith(".zip")
    # what the identity check will ask the private key of: the public key only
    assert recipient == str(IDENTITY.to_public())
    with _attack(e2e_db, registry, "forge the key a restore asks for") as attack:
        attack.keep("the restore", "crm_backup_restore", "id = %s", action["res_id"])
        for vals in (
            {"offsite_recipient": str(pyrage.x25519.Identity.generate().to_public())},
            {"offsite_recipient": False},
            {"offsite_copy_path": "../../etc/passwd"},
        ):
            assert _refusal(
                lambda vals=vals: web.call(
                    "crm.backup.restore", "write", [action["res_id"]], vals
                ),
                ("AccessError", "UserError", "ValidationError"),
            )


@pytest.fixture
def fresh_db(e2e_db, e2e_dir, odoo_cmd):
    """Another database, as a new server would have: made from the suite's template
    (the addon installed, no CRM data), dropped at the end."""
    db = Database(e2e_db.config, odoo_cmd, f"{e2e_db.name}_fresh", e2e_db.data_dir)
    db.template = e2e_db.template
    with contextlib.closing(db._admin()) as conn, conn.cursor() as cr:
        db._drop(cr, db.name)
        cr.execute(f'CREATE DATABASE "{db.name}" TEMPLATE "{db.template}"')
    shutil.copytree(db.filestore(db.template), db.filestore())
    saved = odoo.tools.config["test_enable"]
    odoo.tools.config["test_enable"] = False
    try:
        registry = odoo.modules.registry.Registry(db.name)
    finally:
        odoo.tools.config["test_enable"] = saved
    yield db, registry
    odoo.modules.registry.Registry.delete(db.name)
    with contextlib.suppress(Exception):
        odoo.sql_db.close_db(db.name)
    db.drop()
    shutil.rmtree(odoo.tools.config.filestore(db.name), ignore_errors=True)


def test_restore_from_sftp_onto_a_fresh_database(fresh_db, e2e_db, sshd, copied):
    """The copy of a backup of the suite's database, fetched from SFTP on another
    database (its administrator types the private key), brings the deals back."""
    db, registry = fresh_db
    path = _offsite(e2e_db, copied)["path"]
    with e2e_db.cursor() as cr:
        cr.execute("SELECT name FROM crm_lead WHERE name LIKE 'Canary-%%'")
        (deal,) = cr.fetchone()
    with environment(registry, commit=True) as env:
        assert (
            not env["crm.lead"]
            .with_context(active_test=False)
            .search([("name", "=", deal)])
        )
        storage = _sftp_storage(env, sshd, "SFTP of the old server", "old_sftp")
        env["ir.config_parameter"].set_param(
            "crm_data_backup.offsite_storage_id", storage.id
        )
        admin = env.ref("base.user_admin")
        admin.groups_id |= env.ref("crm_data_backup.group_crm_backup_admin")
    with environment(registry, uid=admin.id, commit=True) as env:
        Wizard = env["crm.backup.offsite.fetch"]
        assert path in dict(Wizard._selection_copies())
        wizard = Wizard.create({"copy_path": path, "identity": str(IDENTITY)})
        restore = env["crm.backup.restore"].browse(wizard.action_fetch()["res_id"])
        deals = env.ref("crm_data_backup.backup_object_deals")
        restore.write(
            {
                "object_id": deals.id,
                "field_ids": [
                    (6, 0, [env["ir.model.fields"]._get("crm.lead", "name").id])
                ],
                "recreate_deleted": True,
                "acknowledge_foreign": True,
            }
        )
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        # what the identity check does once passed (tested in test_offsite.py)
        restore._queue("restore")
        restore._grant_execution("restore")
        restore._execute_restore()
        assert restore.state == "done", restore.error_message
    with environment(registry) as env:
        assert (
            env["crm.lead"]
            .with_context(active_test=False)
            .search([("name", "=", deal)])
        )


def test_full_sftp_disk_leaves_nothing_and_is_retried(registry, e2e_db, sshd, storage):
    """The server's disk fills up during the upload: failed, nothing left behind (not
    even the temporary file), copied by the retry once there is room."""
    if not _tmpfs_works():
        pytest.skip("tmpfs cannot be mounted here (not root?)")
    set_param(registry, "crm_data_backup.offsite_age_recipients", False)
    folder = sshd.root / "crm_data_backup" / e2e_db.name
    try:
        backup_id, _att = stored_backup(
            registry, e2e_db, "E2E full disk", _big_zip(20 * 1024 * 1024)
        )
        with environment(registry, commit=True) as env:
            backup = env["crm.backup"].browse(backup_id)
            with _tmpfs(folder, 2 * 1024 * 1024):
                FIGURES.fault("full SFTP disk")
                backup._offsite_copy()
                assert backup.offsite_state == "failed"
                assert backup.offsite_error
                mine = [p.name for p in folder.iterdir() if f"-{backup_id}." in p.name]
                assert mine == [], mine
            backup._offsite_copy()
            assert backup.offsite_state == "copied", backup.offsite_error
        state = _offsite(e2e_db, backup_id)
        assert _remote(sshd, state["path"]).stat().st_size == state["size"]
    finally:
        set_param(
            registry,
            "crm_data_backup.offsite_age_recipients",
            str(IDENTITY.to_public()),
        )
