# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A backup administrator with two-factor authentication restores through the
external API (API key): a wrong code and a replayed code are refused, a fresh code
works once, and none of the codes reaches the server log (checked in test_logs)."""

import pyotp
import pytest
from conftest import SECRETS, environment, new_backup_admin
from e2e import FIGURES, RestoreFlow, audit_entries, restore_state, wait_restore
from odoo_client import ExternalApi

CLOSE = {"type": "ir.actions.act_window_close"}


@pytest.fixture(scope="module")
def totp_admin(registry, server):
    secret = pyotp.random_base32()
    with environment(registry, commit=True) as env:
        user = new_backup_admin(env, "e2e_totp_admin", "E2E TOTP backup admin")
        user.sudo().totp_secret = secret
        key = (
            env["res.users.apikeys"].with_user(user).sudo()._generate(None, "e2e", None)
        )
    SECRETS.update({secret, key})
    api = ExternalApi(server.url, server.db, "e2e_totp_admin", key)
    return {"api": api, "totp": pyotp.TOTP(secret)}


def test_totp_wrong_fresh_and_replayed_codes(totp_admin, backup, e2e_db):
    flow = RestoreFlow(totp_admin["api"], None)
    totp = totp_admin["totp"]
    first = flow.create("contacts", ["city"], backup_id=backup["id"])
    second = flow.create("contacts", ["city"], backup_id=backup["id"])
    for restore_id in (first, second):
        flow.plan(restore_id)
    code = totp.now()
    wrong = "%06d" % ((int(code) + 500000) % 1000000)
    SECRETS.update({code, wrong})

    assert flow.authenticate(flow.confirm(first), totp_code=wrong) != CLOSE
    FIGURES.input("wrong two-factor code")
    assert restore_state(e2e_db, first) == "planned"
    assert audit_entries(e2e_db, action="identity_failed", restore_id=first)

    assert flow.authenticate(flow.confirm(first), totp_code=code) == CLOSE
    assert wait_restore(e2e_db, first) == "done"

    assert flow.authenticate(flow.confirm(second), totp_code=code) != CLOSE
    FIGURES.input("replayed two-factor code")
    assert restore_state(e2e_db, second) == "planned"
