# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Comparisons and mass-change alerts (issue 17) attacked over JSON-RPC: by the
backup administrator of company A (not a Settings admin), by company B's backup
administrator and by a salesman. Every attack is refused with a clear error and
changes nothing (the rows it aims at are compared before and after)."""

from pathlib import Path

import pytest
from conftest import environment, login, stored_backup
from e2e import record_id
from odoo_client import ExternalApi
from test_attacker import REFUSED, _refusal

from odoo import Command


def _api(server, users, role):
    user = users[role]
    return ExternalApi(server.url, server.db, user["login"], user["password"])


def _refused(call, kinds=REFUSED):
    """The clear refusal ``call`` met (None when the server did it)."""
    return _refusal(call, kinds)


def _rows(db, table, where, *params):
    with db.cursor() as cr:
        cr.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY 1", list(params))
        return cr.fetchall()


def _company_b_backup(registry, db, companies, zip_bytes):
    """A done backup of company B only, with a file (made here, no export)."""
    with environment(registry, commit=True) as env:
        company = env["res.company"].browse(companies["b"])
        backup = env["crm.backup"].create(
            {
                "name": "E2E compare B",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
            }
        )
        attachment = env["ir.attachment"].create(
            {
                "name": "b.zip",
                "res_model": "crm.backup",
                "res_id": backup.id,
                "raw": zip_bytes,
            }
        )
        source = Path(attachment._full_path(attachment.store_fname))
        fname = attachment.store_fname
    target = db.filestore() / fname
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    with db.cursor() as cr:
        cr.execute(
            "UPDATE crm_backup SET state = 'done', attachment_id = %s WHERE id = %s",
            [attachment.id, backup.id],
        )
    return backup.id


@pytest.fixture(scope="module")
def setup(server, users, registry, e2e_db, backup, companies):
    """Two backups of company A, one of company B, a comparison made by A's
    backup admin (over RPC) and an alert on A's backup."""
    older = stored_backup(registry, e2e_db, "E2E compare older", backup["zip"])[0]
    newer = stored_backup(registry, e2e_db, "E2E compare newer", backup["zip"])[0]
    b_backup = _company_b_backup(registry, e2e_db, companies, backup["zip"])
    admin = _api(server, users, "backup_admin")
    compare = record_id(
        admin.call(
            "crm.backup.compare",
            "create",
            {"backup_from_id": older, "backup_to_id": newer},
        )
    )
    admin.call("crm.backup.compare", "action_compare", [compare])
    with e2e_db.cursor() as cr:
        cr.execute(
            "UPDATE crm_backup SET alert = true, alert_summary = 'E2E alert' "
            "WHERE id = %s",
            [newer],
        )
        cr.execute(
            "SELECT id FROM crm_backup_compare_line WHERE compare_id = %s LIMIT 1",
            [compare],
        )
        line = cr.fetchone()[0]
        # a record deleted since the older backup, as a comparison lists it
        cr.execute(
            "INSERT INTO crm_backup_compare_deleted "
            "(line_id, record_xmlid, record_name) VALUES (%s, %s, %s) RETURNING id",
            [line, "__export__.res_partner_e2e_gone", "E2E gone"],
        )
        deleted = cr.fetchone()[0]
    return {
        "deleted": deleted,
        "older": older,
        "newer": newer,
        "b_backup": b_backup,
        "compare": compare,
        "line": line,
    }


def test_backup_admin_compares_and_restores_from_the_comparison(server, users, setup):
    admin = _api(server, users, "backup_admin")
    (found,) = admin.call(
        "crm.backup.compare",
        "read",
        [setup["compare"]],
        ["state", "added_count", "deleted_count", "changed_count", "line_ids"],
    )
    # the same file on both sides: nothing differs
    assert found["state"] == "done"
    assert (found["added_count"], found["deleted_count"], found["changed_count"]) == (
        0,
        0,
        0,
    )
    assert found["line_ids"]
    # a deleted record found by name opens its restore, "recreate" ticked
    (gone,) = admin.call(
        "crm.backup.compare.deleted",
        "search_read",
        [("record_name", "=", "E2E gone")],
        ["record_xmlid"],
    )
    assert gone["id"] == setup["deleted"]
    action = admin.call("crm.backup.compare.deleted", "action_recreate", [gone["id"]])
    assert action["res_model"] == "crm.backup.restore"
    assert action["context"]["default_recreate_deleted"] is True
    assert action["context"]["default_record_xmlid"] == gone["record_xmlid"]
    assert action["context"]["default_backup_id"] == setup["older"]
    # the download of every difference, in the admin's browser session
    web = login(server, "backup_admin", users)
    action = web.call("crm.backup.compare", "action_download", [setup["compare"]])
    response = web.get(action["url"])
    assert response.status_code == 200
    assert response.content.startswith(b"PK\x03\x04")


SERVER_OWNED = {
    "state": "done",
    "added_count": 424242,
    "deleted_count": 424242,
    "changed_count": 424242,
    "company_id": 1,
    "compare_date": "2000-01-01 00:00:00",
    "difference_file": "UEsDBA==",
    "line_ids": [Command.clear()],
}


@pytest.mark.parametrize("field", sorted(SERVER_OWNED))
def test_comparison_results_are_server_owned(field, server, users, setup, e2e_db):
    admin = _api(server, users, "backup_admin")
    before = _rows(e2e_db, "crm_backup_compare", "id = %s", setup["compare"])
    lines = _rows(
        e2e_db, "crm_backup_compare_line", "compare_id = %s", setup["compare"]
    )
    write = _refused(
        lambda: admin.call(
            "crm.backup.compare",
            "write",
            [setup["compare"]],
            {field: SERVER_OWNED[field]},
        ),
        ("AccessError",),
    )
    created = []
    create = _refused(
        lambda: created.append(
            admin.call(
                "crm.backup.compare",
                "create",
                {"backup_from_id": setup["older"], field: SERVER_OWNED[field]},
            )
        ),
        ("AccessError",),
    )
    assert write, f"the comparison's {field} was written by RPC"
    assert create and not created, f"a comparison was made with its {field}"
    assert _rows(e2e_db, "crm_backup_compare", "id = %s", setup["compare"]) == before
    assert (
        _rows(e2e_db, "crm_backup_compare_line", "compare_id = %s", setup["compare"])
        == lines
    )


def test_deleted_records_are_not_made_or_changed_by_rpc(server, users, setup, e2e_db):
    admin = _api(server, users, "backup_admin")
    before = _rows(e2e_db, "crm_backup_compare_deleted", "TRUE")
    crafted = {
        "create": (
            "create",
            {"line_id": setup["line"], "record_xmlid": "base.partner_admin"},
        ),
        "write": ("write", [setup["deleted"]], {"record_xmlid": "base.partner_admin"}),
        "delete": ("unlink", [setup["deleted"]]),
    }
    for name, (method, *args) in crafted.items():
        error = _refused(
            lambda f=method, a=args: admin.call("crm.backup.compare.deleted", f, *a),
            ("AccessError",),
        )
        assert error, f"a deleted record was {name}d by RPC"
    assert _rows(e2e_db, "crm_backup_compare_deleted", "TRUE") == before


@pytest.mark.parametrize(
    "values",
    (
        {"compare_id": "compare", "added_count": 5},
        {"compare_id": "compare", "details_html": "<script>alert(1)</script>"},
    ),
)
def test_comparison_lines_are_not_made_by_rpc(values, server, users, setup, e2e_db):
    admin = _api(server, users, "backup_admin")
    values = dict(values, compare_id=setup["compare"])
    lines = _rows(e2e_db, "crm_backup_compare_line", "TRUE")
    error = _refused(
        lambda: admin.call("crm.backup.compare.line", "create", values),
        ("AccessError",),
    )
    assert error, "a comparison line was made by RPC"
    assert _rows(e2e_db, "crm_backup_compare_line", "TRUE") == lines


ALERT_FIELDS = {
    "alert": False,
    "alert_summary": "nothing happened",
    "alert_compare_id": False,
}


@pytest.mark.parametrize("field", sorted(ALERT_FIELDS))
def test_alert_fields_are_server_owned(field, server, users, setup, e2e_db):
    admin = _api(server, users, "backup_admin")
    before = _rows(e2e_db, "crm_backup", "id = %s", setup["newer"])
    error = _refused(
        lambda: admin.call(
            "crm.backup", "write", [setup["newer"]], {field: ALERT_FIELDS[field]}
        ),
        ("AccessError",),
    )
    assert error, f"a backup's {field} was written by RPC"
    assert _rows(e2e_db, "crm_backup", "id = %s", setup["newer"]) == before


def test_crafted_comparisons_are_refused(server, users, setup, e2e_db):
    admin = _api(server, users, "backup_admin")
    before = _rows(e2e_db, "crm_backup_compare", "TRUE")
    crafted = (
        # company B's backup, on either side
        {"backup_from_id": setup["b_backup"]},
        {"backup_from_id": setup["older"], "backup_to_id": setup["b_backup"]},
        # a backup that does not exist
        {"backup_from_id": 99999999},
    )
    for values in crafted:
        error = _refused(
            lambda values=values: admin.call("crm.backup.compare", "create", values)
        )
        assert error, f"a comparison was made of {values}"
    moved = _refused(
        lambda: admin.call(
            "crm.backup.compare",
            "write",
            [setup["compare"]],
            {"backup_to_id": setup["b_backup"]},
        )
    )
    assert moved, "a comparison was pointed at company B's backup"
    assert _rows(e2e_db, "crm_backup_compare", "TRUE") == before


def test_company_b_cannot_see_or_use_company_a_comparisons(
    server, users, setup, e2e_db
):
    other = _api(server, users, "backup_admin_b")
    compare, line = setup["compare"], setup["line"]
    before = _rows(e2e_db, "crm_backup_compare", "TRUE")
    alert = _rows(e2e_db, "crm_backup", "id = %s", setup["newer"])
    assert compare not in other.call("crm.backup.compare", "search", [])
    assert line not in other.call("crm.backup.compare.line", "search", [])
    assert setup["deleted"] not in other.call(
        "crm.backup.compare.deleted", "search", []
    )
    gone = setup["deleted"]
    calls = {
        "read deleted": ("crm.backup.compare.deleted", "read", [gone], ["record_name"]),
        "recreate": ("crm.backup.compare.deleted", "action_recreate", [gone]),
        "read": ("crm.backup.compare", "read", [compare], ["name", "changed_count"]),
        "read line": ("crm.backup.compare.line", "read", [line], ["details_html"]),
        "compare": ("crm.backup.compare", "action_compare", [compare]),
        "download": ("crm.backup.compare", "action_download", [compare]),
        "restore": ("crm.backup.compare.line", "action_restore", [line]),
        "delete": ("crm.backup.compare", "unlink", [compare]),
        "create": (
            "crm.backup.compare",
            "create",
            {"backup_from_id": setup["older"], "backup_to_id": setup["newer"]},
        ),
        "acknowledge": ("crm.backup", "action_acknowledge_alert", [setup["newer"]]),
        "read alert": ("crm.backup", "read", [setup["newer"]], ["alert_summary"]),
    }
    for name, (model, method, *args) in calls.items():
        error = _refused(lambda m=model, f=method, a=args: other.call(m, f, *a))
        assert error, f"company B could {name} company A's comparison"
    web = login(server, "backup_admin_b", users)
    response = web.get(f"/web/content/crm.backup.compare/{compare}/difference_file")
    assert response.status_code in (403, 404)
    assert not response.content.startswith(b"PK\x03\x04")
    assert _rows(e2e_db, "crm_backup_compare", "TRUE") == before
    assert _rows(e2e_db, "crm_backup", "id = %s", setup["newer"]) == alert


def test_salesman_is_refused(server, users, setup, e2e_db):
    salesman = _api(server, users, "salesman")
    compare, line = setup["compare"], setup["line"]
    before = _rows(e2e_db, "crm_backup_compare", "TRUE")
    alert = _rows(e2e_db, "crm_backup", "id = %s", setup["newer"])
    calls = {
        "list": ("crm.backup.compare", "search_read", [], ["name"]),
        "list lines": ("crm.backup.compare.line", "search_read", [], ["object_id"]),
        "list deleted": ("crm.backup.compare.deleted", "search_read", [], ["id"]),
        "recreate": (
            "crm.backup.compare.deleted",
            "action_recreate",
            [setup["deleted"]],
        ),
        "create": ("crm.backup.compare", "create", {"backup_from_id": setup["older"]}),
        "compare": ("crm.backup.compare", "action_compare", [compare]),
        "download": ("crm.backup.compare", "action_download", [compare]),
        "restore": ("crm.backup.compare.line", "action_restore", [line]),
        "acknowledge": ("crm.backup", "action_acknowledge_alert", [setup["newer"]]),
        "read alert": ("crm.backup", "read", [setup["newer"]], ["alert_summary"]),
        "write alert": ("crm.backup", "write", [setup["newer"]], {"alert": False}),
    }
    for name, (model, method, *args) in calls.items():
        error = _refused(
            lambda m=model, f=method, a=args: salesman.call(m, f, *a),
            ("AccessError",),
        )
        assert error, f"a salesman could {name}"
    assert _rows(e2e_db, "crm_backup_compare", "TRUE") == before
    assert _rows(e2e_db, "crm_backup", "id = %s", setup["newer"]) == alert


def test_backup_admin_acknowledges_the_alert(server, users, setup, e2e_db):
    admin = _api(server, users, "backup_admin")
    admin.call("crm.backup", "action_acknowledge_alert", [setup["newer"]])
    with e2e_db.cursor() as cr:
        cr.execute("SELECT alert FROM crm_backup WHERE id = %s", [setup["newer"]])
        assert cr.fetchone()[0] is False
        cr.execute(
            "SELECT count(*) FROM crm_backup_audit WHERE action = "
            "'backup_alert_acknowledged' AND backup_id = %s",
            [setup["newer"]],
        )
        assert cr.fetchone()[0] == 1
    # nothing left to acknowledge: a clear error
    assert _refused(
        lambda: admin.call("crm.backup", "action_acknowledge_alert", [setup["newer"]]),
        ("UserError",),
    )


@pytest.fixture(scope="module")
def history(server, users, registry, setup):
    """The history of a contact, opened over RPC by company A's backup admin."""
    with environment(registry, commit=True) as env:
        partner = env["res.partner"].create({"name": "E2E history contact"})
    admin = _api(server, users, "backup_admin")
    action = admin.call(
        "crm.backup.history",
        "action_open",
        context={"active_model": "res.partner", "active_id": partner.id},
    )
    (found,) = admin.call(
        "crm.backup.history", "read", [action["res_id"]], ["line_ids", "res_id"]
    )
    assert found["res_id"] == partner.id
    assert found["line_ids"], "the history lists no backup"
    return {"id": action["res_id"], "line": found["line_ids"][0], "partner": partner.id}


def test_history_is_its_opener_s_only(server, users, history, e2e_db):
    admin = _api(server, users, "backup_admin")
    other = _api(server, users, "backup_admin_b")
    salesman = _api(server, users, "salesman")
    before = _rows(e2e_db, "crm_backup_history_line", "TRUE")
    context = {"active_model": "res.partner", "active_id": history["partner"]}
    attempts = {
        # the server writes histories: never the client
        "admin writes history": (
            admin,
            ("crm.backup.history", "write", [history["id"]], {"res_id": 1}),
        ),
        "admin creates history": (
            admin,
            ("crm.backup.history", "create", {"res_model": "res.users", "res_id": 1}),
        ),
        "admin forges a line": (
            admin,
            (
                "crm.backup.history.line",
                "create",
                {"history_id": history["id"], "values_html": "<script>x</script>"},
            ),
        ),
        "admin rewrites a line": (
            admin,
            ("crm.backup.history.line", "write", [history["line"]], {"xmlid": "x.y"}),
        ),
        "company B reads it": (
            other,
            ("crm.backup.history.line", "read", [history["line"]], ["values_html"]),
        ),
        "company B restores from it": (
            other,
            ("crm.backup.history.line", "action_restore", [history["line"]]),
        ),
        "salesman reads it": (
            salesman,
            ("crm.backup.history.line", "read", [history["line"]], ["values_html"]),
        ),
        "salesman opens a history": (
            salesman,
            ("crm.backup.history", "action_open"),
        ),
    }
    for name, (api, (model, method, *args)) in attempts.items():
        kwargs = {"context": context} if method == "action_open" else {}
        error = _refused(
            lambda a=api, m=model, f=method, r=args, k=kwargs: a.call(m, f, *r, **k)
        )
        assert error, f"{name}: not refused"
    assert _rows(e2e_db, "crm_backup_history_line", "TRUE") == before


def test_history_refuses_crafted_targets(server, users, history):
    admin = _api(server, users, "backup_admin")
    for context in (
        {"active_model": "res.users", "active_id": 1},
        {"active_model": "ir.config_parameter", "active_id": 1},
        {"active_model": "res.partner", "active_id": 99999999},
        {"active_model": "res.partner", "active_id": "1 OR 1=1"},
        {},
    ):
        error = _refused(
            lambda c=context: admin.call(
                "crm.backup.history", "action_open", context=c
            ),
            ("UserError", "AccessError"),
        )
        assert error, f"a history was opened for {context}"
