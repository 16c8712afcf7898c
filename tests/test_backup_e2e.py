# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Backups through the real server: a request only queues, the cron worker runs it,
the backup group alone downloads it through the controller (audited)."""

import io
import json
import time
import zipfile

import pytest
from conftest import CANARY, ROLES, environment, login, set_param
from e2e import FIGURES, audit_entries, backup_state, record_id, wait_backup
from odoo_client import RpcError

from odoo.exceptions import AccessError

ZIP_MAGIC = b"PK\x03\x04"
OUTSIDERS = [r for r in ROLES if r != "backup_admin"]


@pytest.fixture(scope="module")
def done_backup(server, registry, users, e2e_db, bulk_data):
    """A backup requested by the backup administrator through the web client."""
    set_param(registry, "crm_data_backup.min_interval_hours", "0")
    web = login(server, "backup_admin", users)
    started = time.monotonic()
    result = web.call("crm.backup", "request_backup")
    answered = time.monotonic() - started
    backup_id = record_id(result)
    state_when_answered = backup_state(e2e_db, backup_id)
    final = wait_backup(e2e_db, backup_id, timeout=300)
    return {
        "id": backup_id,
        "answered": answered,
        "state_when_answered": state_when_answered,
        "state": final,
        "took": time.monotonic() - started,
    }


def test_request_only_queues_and_cron_runs_it(done_backup):
    assert done_backup["state_when_answered"] in ("queued", "running")
    assert done_backup["state"] == "done"
    # the request did not wait for the export
    assert done_backup["answered"] < done_backup["took"]


def test_backup_admin_downloads_through_controller(done_backup, server, users, e2e_db):
    web = login(server, "backup_admin", users)
    response = web.get(f"/crm_data_backup/download/{done_backup['id']}")
    assert response.status_code == 200
    assert response.content.startswith(ZIP_MAGIC)
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "crm_data_backup"
        assert manifest["format_version"] == 1
        assert manifest["database_name"] == e2e_db.name
        contacts = zf.read("contacts.csv").decode("utf-8-sig")
    assert f"{CANARY} Person" in contacts
    downloads = audit_entries(
        e2e_db, action="backup_downloaded", backup_id=done_backup["id"]
    )
    assert downloads, "the download was not recorded in the audit log"
    assert downloads[-1]["user_id"] == users["backup_admin"]["uid"]
    assert downloads[-1]["remote_addr"] == "127.0.0.1"
    FIGURES.check("backup_admin", "download", "http")


@pytest.mark.parametrize("role", OUTSIDERS)
def test_download_refused_to_outsiders(role, done_backup, server, users, e2e_db):
    before = len(audit_entries(e2e_db, action="backup_downloaded"))
    response = login(server, role, users).get(
        f"/crm_data_backup/download/{done_backup['id']}"
    )
    assert response.status_code != 200
    assert not response.content.startswith(ZIP_MAGIC)
    assert CANARY.encode() not in response.content
    if role == "public":  # no session: sent to the login page
        assert response.status_code in (302, 303)
        assert "/web/login" in response.headers["Location"]
    assert len(audit_entries(e2e_db, action="backup_downloaded")) == before
    FIGURES.check(role, "download", "http")


FILE_URLS = (
    "/web/content/{att}",
    "/web/content/{att}?download=true",
    "/web/content/ir.attachment/{att}/datas",
    "/web/image/{att}",
    "/web/image/ir.attachment/{att}/datas",
)


@pytest.mark.parametrize("url", FILE_URLS)
@pytest.mark.parametrize("role", OUTSIDERS)
def test_real_backup_file_not_served_by_generic_routes(
    role, url, done_backup, server, users, e2e_db
):
    with e2e_db.cursor() as cr:
        cr.execute(
            "SELECT attachment_id FROM crm_backup WHERE id = %s", [done_backup["id"]]
        )
        attachment_id = cr.fetchone()[0]
    assert attachment_id
    response = login(server, role, users).get(url.format(att=attachment_id))
    assert response.status_code != 200 or not response.content.startswith(ZIP_MAGIC)
    assert CANARY.encode() not in response.content
    FIGURES.check(role, "web_image" if "image" in url else "web_content", "http")


@pytest.mark.parametrize("level", ("orm", "rpc", "http"))
@pytest.mark.parametrize("role", ROLES)
def test_request_and_run_backup_by_role(
    role, level, server, users, registry, done_backup
):
    """Only the backup group may request or run a backup, at every level."""
    set_param(registry, "crm_data_backup.min_interval_hours", "0")
    allowed = role == "backup_admin"
    uid = users[role]["uid"]
    if level == "orm":
        with environment(registry, uid=uid) as env:
            try:
                backup = env["crm.backup"].request_backup()
                requested = bool(backup)
            except AccessError:
                requested = False
            try:
                env["crm.backup"].browse(done_backup["id"]).action_run()
                ran = True
            except AccessError:
                ran = False
    else:
        if level == "http":
            client = login(server, role, users)
        else:
            from odoo_client import ExternalApi

            user = users[role]
            client = (
                ExternalApi(server.url, server.db, "", "", uid=uid)
                if role == "public"
                else ExternalApi(server.url, server.db, user["login"], user["password"])
            )
        try:
            requested = bool(client.call("crm.backup", "request_backup"))
        except RpcError as exc:
            assert exc.kind in {
                "AccessError",
                "AccessDenied",
                "SessionExpiredException",
            }
            requested = False
        try:
            client.call("crm.backup", "action_run", [done_backup["id"]])
            ran = True
        except RpcError as exc:
            assert exc.kind in {
                "AccessError",
                "AccessDenied",
                "SessionExpiredException",
            }
            ran = False
    assert requested == allowed
    assert ran == allowed
    FIGURES.check(role, "request_backup", level)
    FIGURES.check(role, "run_backup", level)
