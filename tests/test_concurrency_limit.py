# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Two backup requests at the same moment on two workers: the frequency limit holds."""

import re

import pytest
from conftest import login, set_param
from e2e import FIGURES, record_id, wait_backup
from odoo_client import RpcError
from test_concurrency import ROUNDS, _together


def _age_previous_backups(db):
    """Make every backup so far older than the limit (as if days had passed)."""
    with db.cursor() as cr:
        cr.execute(
            "UPDATE crm_backup SET create_date = create_date - interval '30 days'"
        )


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_backup_requests_at_once_respect_the_limit(
    round_, server, registry, users, e2e_db
):
    set_param(registry, "crm_data_backup.min_interval_hours", "24")
    _age_previous_backups(e2e_db)
    sessions = [login(server, "backup_admin", users) for _ in range(2)]
    results = _together(
        *(lambda web=web: web.call("crm.backup", "request_backup") for web in sessions)
    )
    FIGURES.race("two backup requests at once")
    queued = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(queued) == 1, f"{len(queued)} backups were queued: {results}"
    (error,) = refused
    assert isinstance(error, RpcError) and error.kind == "UserError", error
    # the refusal names when the next backup is allowed
    assert re.search(r"\d{1,2}:\d{2}", error.message), error.message
    assert wait_backup(e2e_db, record_id(queued[0]), timeout=300) == "done"
