# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Fixtures of the end-to-end suite: crm_data_backup driven from outside a real server.

pytest-odoo has initialised Odoo in this process for the addon's own tests (database
--odoo-database). This suite leaves that database alone: it works on its own database
(``<that name>_e2e``, copied from a cached template), its own data directory, and an
``odoo-bin`` subprocess with two HTTP workers and a cron worker.
"""

import contextlib
import os
import secrets
import shutil
from pathlib import Path

import pytest
from e2e import (
    FIGURES,
    ROOT,
    Database,
    OdooServer,
    RestoreFlow,
    odoo_command,
    record_id,
    server_command,
    wait_backup,
)
from odoo_client import WebSession

import odoo
from odoo import SUPERUSER_ID, Command, api

ROLES = ("backup_admin", "settings_admin", "salesman", "internal", "portal", "public")
# A backup administrator of a second company only: company A (the main company) is
# the one of every other role. Not in ROLES: suites that assume one company skip it.
COMPANY_B = "E2E Company B"
ALL_ROLES = (*ROLES, "backup_admin_b")
ROLE_GROUPS = {
    "backup_admin": ["crm_data_backup.group_crm_backup_admin"],
    "settings_admin": ["base.group_system"],
    "salesman": ["sales_team.group_sale_salesman"],
    "internal": ["base.group_user"],
    "portal": ["base.group_portal"],
}
# Values that must never reach the server log: passwords and codes (added by the tests
# that use them) and the content of CRM records that end up in backup files.
SECRETS = set()
CANARY = "Canary-" + secrets.token_hex(6)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "after_all: run after every other test (reads the whole server log)"
    )


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.get_closest_marker("after_all") is not None)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not (FIGURES.checks or FIGURES.inputs or FIGURES.faults or FIGURES.attacks):
        return
    terminalreporter.write_sep("=", "crm_data_backup: what the end-to-end suite proved")
    lines = FIGURES.lines()
    for line in lines:
        terminalreporter.write_line(line)
    out = ROOT / ".odoo" / "e2e" / "figures.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def e2e_dir():
    base = odoo.tools.config["db_name"] or "crm_backup_test"
    path = ROOT / ".odoo" / "e2e" / base
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def odoo_cmd():
    config_path = os.environ.get("ODOO_RC") or odoo.tools.config.rcfile
    return odoo_command(Path(config_path).resolve())


@pytest.fixture(scope="session")
def e2e_db(e2e_dir, odoo_cmd):
    """Our own database, ``<test database>_e2e``; dropped at the end."""
    base = odoo.tools.config["db_name"] or "crm_backup_test"
    db = Database(odoo.tools.config, odoo_cmd, f"{base}_e2e", e2e_dir / "data")
    db.create()
    yield db
    with contextlib.suppress(Exception):
        odoo.sql_db.close_db(db.name)
    if not os.environ.get("CRM_BACKUP_KEEP_E2E_DB"):
        db.drop()
    # files written by ORM-level checks in this process's own data directory
    shutil.rmtree(odoo.tools.config.filestore(db.name), ignore_errors=True)


@pytest.fixture(scope="session")
def registry(e2e_db):
    """The e2e database's registry in this process, for ORM-level checks."""
    # With test_enable on, loading a registry runs every module's at_install tests.
    saved = odoo.tools.config["test_enable"]
    odoo.tools.config["test_enable"] = False
    try:
        reg = odoo.modules.registry.Registry(e2e_db.name)
    finally:
        odoo.tools.config["test_enable"] = saved
    yield reg
    odoo.modules.registry.Registry.delete(e2e_db.name)


@contextlib.contextmanager
def environment(registry, uid=SUPERUSER_ID, commit=False, context=None):
    """An ORM environment on the e2e database, rolled back unless ``commit``.

    Committed cache invalidations (e.g. a changed setting) are signalled to the
    server's processes through the database, as Odoo does between its workers.
    """
    with registry.cursor() as cr:
        env = api.Environment(cr, uid, context or {})
        try:
            yield env
        except BaseException:
            cr.rollback()
            registry.reset_changes()
            raise
        if commit:
            env.flush_all()
            cr.commit()
            registry.signal_changes()
        else:
            cr.rollback()
            registry.reset_changes()


def set_param(registry, key, value):
    """Change a setting (ir.config_parameter) of the running server."""
    with environment(registry, commit=True) as env:
        env["ir.config_parameter"].set_param(key, value)


def new_user(env, login, name, xmlids, **vals):
    """A user in the groups of ``xmlids``."""
    return (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": name,
                "login": login,
                "groups_id": [Command.set([env.ref(x).id for x in xmlids])],
                **vals,
            }
        )
    )


def new_backup_admin(env, login, name, **vals):
    """A backup administrator of a test's own, for tests that change the user
    (two-factor secret, locked out)."""
    return new_user(
        env, login, name, ["crm_data_backup.group_crm_backup_admin"], **vals
    )


def _role_user(env, role, xmlids, **vals):
    """The user of ``role``: its login, password and uid."""
    password = f"pw-{role}-{secrets.token_urlsafe(12)}"
    SECRETS.add(password)
    user = new_user(
        env, f"e2e_{role}", f"E2E {role}", xmlids, password=password, **vals
    )
    return {"login": user.login, "password": password, "uid": user.id}


@pytest.fixture(scope="session")
def users(registry):
    """One user per role (login, password, uid); ``public`` has no login."""
    found = {}
    with environment(registry, commit=True) as env:
        for role, xmlids in ROLE_GROUPS.items():
            found[role] = _role_user(env, role, xmlids)
        # company B's backup admin: an internal user and CRM Backup Administrator
        # of that company only (not a Settings administrator)
        company_b = env["res.company"].create({"name": COMPANY_B})
        found["backup_admin_b"] = _role_user(
            env,
            "backup_admin_b",
            ["crm_data_backup.group_crm_backup_admin"],
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        found["public"] = {
            "login": None,
            "password": None,
            "uid": env.ref("base.public_user").id,
        }
        # Records whose values end up in backup files: they must never be logged.
        partner = env["res.partner"].create(
            {"name": f"{CANARY} Person", "email": f"{CANARY.lower()}@example.com"}
        )
        env["crm.lead"].create(
            {"name": f"{CANARY} Deal", "type": "opportunity", "partner_id": partner.id}
        )
        SECRETS.update({CANARY, f"{CANARY.lower()}@example.com"})
    return found


@pytest.fixture(scope="session")
def companies(registry, users):
    """Ids of company A (every role's but backup_admin_b's) and company B."""
    with environment(registry) as env:
        return {
            "a": env.ref("base.main_company").id,
            "b": env["res.users"].browse(users["backup_admin_b"]["uid"]).company_id.id,
        }


@pytest.fixture(scope="session")
def bulk_data(e2e_db, users):
    """Enough contacts (SQL, in seconds) that a backup runs for a while."""
    count = int(os.environ.get("CRM_BACKUP_E2E_CONTACTS", "20000"))
    with e2e_db.cursor() as cr:
        cr.execute(
            """
            INSERT INTO res_partner (name, complete_name, email, phone, street, city,
                comment, ref, type, active, is_company, lang, create_uid, write_uid,
                create_date, write_date)
            SELECT 'Bulk ' || i, 'Bulk ' || i, 'bulk' || i || '@example.com',
                '+33 1 ' || i, i || ' rue de la Paix', 'Paris',
                repeat('note ' || i || ', ', 20), 'B' || i, 'contact', true, false,
                'en_US', 1, 1, now() at time zone 'utc', now() at time zone 'utc'
            FROM generate_series(1, %s) i
            """,
            [count],
        )
        # stored computed fields the ORM would have set
        cr.execute(
            "UPDATE res_partner SET commercial_partner_id = id, partner_share = true"
            " WHERE commercial_partner_id IS NULL AND name LIKE 'Bulk %%'"
        )
    return count


@pytest.fixture(scope="session")
def server(e2e_db, e2e_dir, odoo_cmd, users):
    """The Odoo server under test (prefork: 2 HTTP workers + 1 cron worker)."""
    tmp_dir = e2e_dir / "tmp"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    log_path = e2e_dir / "server.log"
    log_path.unlink(missing_ok=True)
    config_path = Path(os.environ.get("ODOO_RC") or odoo.tools.config.rcfile)
    command, gevent_works = server_command(config_path.resolve())
    if not gevent_works:
        print(
            "\n[e2e] gevent cannot start in this virtualenv: websocket process left out"
        )
    srv = OdooServer(
        command, e2e_db.name, e2e_db.data_dir, log_path, workers=2, tmp_dir=tmp_dir
    )
    srv.start()
    yield srv
    srv.stop()


def login(server, role, users):
    """A browser session of ``role`` (``public``: a session without login)."""
    web = WebSession(server.url, server.db)
    if role != "public":
        web.authenticate(users[role]["login"], users[role]["password"])
    return web


@pytest.fixture
def admin_web(server, users):
    return login(server, "backup_admin", users)


def stored_backup(registry, db, name, zip_bytes):
    """A done backup of company A with its zip in the server's filestore, made here
    (no export): a target that attacks may destroy."""
    with environment(registry, commit=True) as env:
        company = env.ref("base.main_company")
        backup = env["crm.backup"].create(
            {"name": name, "company_ids": [Command.set(company.ids)]}
        )
        attachment = env["ir.attachment"].create(
            {
                "name": f"{name}.zip",
                "res_model": "crm.backup",
                "res_id": backup.id,
                "mimetype": "application/zip",
                "raw": zip_bytes,
            }
        )
        fname = attachment.store_fname
        source = attachment._full_path(fname)
    target = db.filestore() / fname
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(Path(source).read_bytes())
    with db.cursor() as cr:
        cr.execute(
            "UPDATE crm_backup SET state = 'done', attachment_id = %s, record_count = 1,"
            " file_size = %s, progress = 100, date_done = now() at time zone 'UTC',"
            " expiration_date = now() at time zone 'UTC' + interval '14 days'"
            " WHERE id = %s",
            [attachment.id, len(zip_bytes), backup.id],
        )
    return backup.id, attachment.id


FORMULA = "=cmd|' /C calc'!A0"
PHONE = "+33 1 23 45 67 89"


@pytest.fixture(scope="session")
def backup(server, registry, users, e2e_db, bulk_data):
    """A done backup (zip bytes too) of contacts in Paris, one with a formula."""
    set_param(registry, "crm_data_backup.min_interval_hours", "0")
    with e2e_db.cursor() as cr:
        cr.execute("UPDATE res_partner SET city = 'Paris' WHERE name LIKE 'Bulk %'")
    with environment(registry, commit=True) as env:
        formula = env["res.partner"].create(
            {"name": "Formula contact", "city": FORMULA, "phone": PHONE}
        )
    web = login(server, "backup_admin", users)
    backup_id = record_id(web.call("crm.backup", "request_backup"))
    assert wait_backup(e2e_db, backup_id, timeout=300) == "done"
    response = web.get(f"/crm_data_backup/download/{backup_id}")
    assert response.status_code == 200
    return {"id": backup_id, "zip": response.content, "formula_id": formula.id}


@pytest.fixture
def flow(server, users):
    return RestoreFlow(
        login(server, "backup_admin", users), users["backup_admin"]["password"]
    )
