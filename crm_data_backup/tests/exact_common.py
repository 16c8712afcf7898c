# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Round-trip tools: a dump of every stored column of the database, and edits
of any field type that a restore can put back."""

import datetime
import json

from odoo import Command
from odoo.tools import SQL

# Not data of the CRM: the chatter (excluded by the round-trip promise), the
# bus, the technical tables and the addon's own bookkeeping.
SKIPPED_PREFIXES = (
    "mail_message",
    "mail_tracking_value",
    "mail_followers",
    "mail_notification",
    "mail_mail",
    "bus_",
    "ir_",
    "crm_backup",
    "res_users_log",
    "base_import",
)
KEPT_TECHNICAL = ("ir_model_data",)
# Columns that tell when and by whom a row was last written: a restore and its
# undo are writes.
LOG_COLUMNS = ("write_date", "write_uid")


def dump_database(env):
    """``{table: {row key: row as JSON}}`` of every data table, all columns but
    the write log."""
    env.flush_all()
    cr = env.cr
    cr.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    )
    # wizards are vacuumed, not data
    transient = {model._table for model in env.registry.values() if model._transient}
    tables = sorted(
        name
        for (name,) in cr.fetchall()
        if (not name.startswith(SKIPPED_PREFIXES) or name in KEPT_TECHNICAL)
        and name not in transient
    )
    dump = {}
    for table in tables:
        cr.execute(
            SQL(
                "SELECT to_jsonb(t) - %s::text[] FROM %s t",
                list(LOG_COLUMNS),
                SQL.identifier(table),
            )
        )
        rows = {}
        for (row,) in cr.fetchall():
            key = row["id"] if "id" in row else json.dumps(row, sort_keys=True)
            rows[key] = row
        dump[table] = rows
    return dump


def dump_diff(before, after):
    """Differences of two dumps, as readable lines (empty: identical)."""
    lines = []
    for table in sorted(set(before) | set(after)):
        rows_before, rows_after = before.get(table, {}), after.get(table, {})
        for key in sorted(set(rows_before) | set(rows_after), key=str):
            old, new = rows_before.get(key), rows_after.get(key)
            if old is None or new is None:
                lines.append(f"{table} {key}: {'added' if old is None else 'removed'}")
                continue
            for column in sorted(set(old) | set(new)):
                if old.get(column) != new.get(column):
                    lines.append(
                        f"{table} {key} {column}: {old.get(column)!r} -> "
                        f"{new.get(column)!r}"
                    )
    return lines


def other_value(record, field, rank=0):
    """A valid value of ``field`` other than the record's (``rank`` picks among
    several), for ``write()``; None when there is none."""
    value = record[field.name]
    ftype = field.type
    if ftype in ("char", "text"):
        return f"{value or ''} edited {rank}".strip()
    if ftype == "html":
        return f"<p>edited {rank}</p>"
    if ftype == "boolean":
        return not value
    if ftype == "integer":
        return (value or 0) + 1 + rank
    if ftype in ("float", "monetary"):
        return (value or 0.0) + 1.5 + rank
    if ftype == "date":
        return (value or datetime.date(2026, 1, 1)) + datetime.timedelta(days=3 + rank)
    if ftype == "datetime":
        return (value or datetime.datetime(2026, 1, 1)) + datetime.timedelta(
            hours=5 + rank
        )
    if ftype == "selection":
        keys = [
            key
            for key, _label in field._description_selection(record.env)
            if key != value
        ]
        return keys[rank % len(keys)] if keys else None
    if ftype in ("many2one", "many2many"):
        Comodel = record.env[field.comodel_name]
        domain = [("id", "not in", value.ids)] if ftype == "many2one" else []
        candidates = Comodel.search(domain, limit=3 + rank, order="id desc")
        if not candidates:
            return None
        if ftype == "many2one":
            return candidates[rank % len(candidates)].id
        chosen = set(value.ids) ^ {candidates[rank % len(candidates)].id}
        return [Command.set(sorted(chosen))]
    return None


def _now_masked(value, since):
    # "now" of a write() (a lead's closing date) differs between two runs
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        if value >= since:
            return "<now>"
    return value


def dump_changes(before, after, since="9999"):
    """What changed between two dumps, comparable across runs: added rows by
    their content (ids come from sequences), the others by key; timestamps
    from ``since`` (ISO) on are "<now>"."""
    changes = []
    for table in sorted(set(before) | set(after)):
        rows_before, rows_after = before.get(table, {}), after.get(table, {})
        for key in set(rows_before) | set(rows_after):
            old, new = rows_before.get(key), rows_after.get(key)
            if old is None:
                content = {
                    k: _now_masked(v, since) for k, v in new.items() if k != "id"
                }
                changes.append(f"{table} added {json.dumps(content, sort_keys=True)}")
            elif new is None:
                changes.append(f"{table} {key} removed")
            else:
                changes.extend(
                    f"{table} {key} {column} = {_now_masked(new.get(column), since)!r}"
                    for column in set(old) | set(new)
                    if old.get(column) != new.get(column)
                )
    return sorted(changes)
