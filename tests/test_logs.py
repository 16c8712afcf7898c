# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The server log of the whole session holds no secret: no password, TOTP code or
value of a CRM record written into a backup file. Runs last, on the full log."""

import pytest
from conftest import SECRETS


@pytest.mark.after_all
def test_server_log_holds_no_secret(server, users):
    log = server.log_text()
    # The log is the real one: the suite's logins are in it (users, never passwords).
    assert f"login:{users['backup_admin']['login']}" in log
    assert len(SECRETS) >= len(users)
    leaked = sorted(secret for secret in SECRETS if secret and secret in log)
    assert not leaked, f"{len(leaked)} secret value(s) found in {server.log_path}"
