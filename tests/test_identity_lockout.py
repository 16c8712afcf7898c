# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Guessing the password of the identity check, many attempts at once, on a real
multi-process server: the lock-out holds, and no attempt leaves the password in the
database."""

import secrets
from collections import Counter

import pytest
from conftest import SECRETS, environment, new_backup_admin
from e2e import FIGURES, RestoreFlow, audit_entries, restore_state
from odoo_client import RpcError, WebSession
from test_concurrency import _together

from odoo.addons.crm_data_backup.wizards.crm_backup_restore_auth import (
    MAX_FAILURES,
)

ATTEMPTS = 40
LOCKED = "Too many failed attempts"
CLOSE = {"type": "ir.actions.act_window_close"}


@pytest.fixture(scope="module")
def guessed_admin(registry, server):
    """A backup administrator of its own: the test locks them out."""
    password = f"pw-guessed-{secrets.token_urlsafe(12)}"
    SECRETS.add(password)
    with environment(registry, commit=True) as env:
        user = new_backup_admin(
            env, "e2e_guessed_admin", "E2E guessed backup admin", password=password
        )
    web = WebSession(server.url, server.db, timeout=180)
    web.authenticate("e2e_guessed_admin", password)
    return {"web": web, "password": password, "uid": user.id}


def _browser_tab(server, web):
    """Another connection of the same browser session."""
    tab = WebSession(server.url, server.db, timeout=180)
    tab.http.cookies.update(web.http.cookies)
    return tab


def _stored_wizards(e2e_db):
    """Every stored value of the identity check wizards, as text."""
    with e2e_db.cursor() as cr:
        cr.execute("SELECT string_agg(t::text, ' ') FROM crm_backup_restore_auth t")
        return cr.fetchone()[0]


def test_parallel_guesses_stop_at_the_limit(guessed_admin, server, backup, e2e_db):
    web = guessed_admin["web"]
    flow = RestoreFlow(web, guessed_admin["password"])
    restore_id = flow.create("contacts", ["city"], backup_id=backup["id"])
    flow.plan(restore_id)
    wizards = [flow.confirm(restore_id) for _ in range(ATTEMPTS)]
    wrong = f"wrong-{secrets.token_hex(6)}"
    SECRETS.add(wrong)
    tabs = [RestoreFlow(_browser_tab(server, web), None) for _ in wizards]
    results = _together(
        *(
            lambda tab=tab, wizard=wizard: tab.authenticate(wizard, password=wrong)
            for tab, wizard in zip(tabs, wizards, strict=True)
        )
    )
    FIGURES.race("parallel wrong passwords of one user")
    FIGURES.input("wrong password", ATTEMPTS)

    def checked():
        """How many passwords reached the check (and failed)."""
        return len(
            audit_entries(
                e2e_db, action="identity_failed", user_id=guessed_admin["uid"]
            )
        )

    assert checked() == MAX_FAILURES
    errors = [
        web.call("crm.backup.restore.auth", "read", [wizard], ["error"])[0]["error"]
        for wizard in wizards
    ]
    # What each attempt was told: the error shown, or the server's refusal.
    answers = [
        error or (isinstance(result, Exception) and f"refused: {result!r}")
        for result, error in zip(results, errors, strict=True)
    ]
    told = Counter(answers)
    assert told["Wrong password."] == MAX_FAILURES, told
    others = [a for a in answers if a != "Wrong password."]
    assert all(a and a.startswith((LOCKED, "refused: ")) for a in others), told
    assert CLOSE not in results
    # Locked: the right password is refused without being checked.
    wizard = flow.confirm(restore_id)
    assert flow.answer(wizard).startswith(LOCKED)
    assert flow.authenticate(wizard) != CLOSE
    FIGURES.input("right password while locked out")
    assert restore_state(e2e_db, restore_id) == "planned"
    assert checked() == MAX_FAILURES
    # Nothing typed stayed in the wizards' table.
    stored = _stored_wizards(e2e_db)
    assert wrong not in stored and guessed_admin["password"] not in stored
    # The outcome of the check is the server's to write.
    for vals in ({"verified_date": "2030-01-01 00:00:00"}, {"error": False}):
        with pytest.raises(RpcError) as refused:
            web.call("crm.backup.restore.auth", "write", [wizard], vals)
        assert refused.value.kind == "AccessError"
    FIGURES.input("identity check outcome forged by RPC", 2)
    assert web.call("crm.backup.restore.auth", "action_confirm", [wizard]) != CLOSE
    assert restore_state(e2e_db, restore_id) == "planned"
