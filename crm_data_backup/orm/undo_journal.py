# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every stored column a job changes, as it was before: what makes an undo exact.

A restore writes chosen fields, but Odoo changes more: stored computed fields,
``write()`` overrides (a lead's ``date_open`` when its salesperson changes),
related records kept in sync (a company's children). While a journal is open
on a cursor, the first UPDATE of a row by any model keeps the row as it was
(``Base._write_multi``), the many2many links of the records a target writes are
kept before the write, and created records are noted. ``changes()`` then tells,
cell by cell, what the job changed; ``revert()`` and ``put_back()`` write rows
back in SQL.
"""

import itertools
import json
from collections import defaultdict

from odoo.tools import SQL, split_every

# Not data of the CRM: the chatter (kept as history), the bus, the technical
# tables but external IDs, the addon's own bookkeeping.
SKIPPED_MODELS = (
    "mail.message",
    "mail.tracking.value",
    "mail.followers",
    "mail.notification",
    "mail.mail",
    "bus.",
    "crm.backup",
    "res.users.log",
)
KEPT_TECHNICAL = ("ir.model.data",)
# When and by whom a row was last written: a restore and its undo are writes.
LOG_COLUMNS = frozenset(("write_date", "write_uid"))
BATCH = 1000

_ACTIVE = {}
_names = itertools.count()


def _ident(name):
    return SQL.identifier(name)


def journaled(model):
    """Whether the rows of ``model`` are journaled (stored data of the CRM)."""
    name = model._name
    return (
        model._auto
        and not model._abstract
        and not model._transient
        and not name.startswith(SKIPPED_MODELS)
        and (not name.startswith("ir.") or name in KEPT_TECHNICAL)
    )


class UndoJournal:
    """Rows and many2many links as they were before a job changed them, in
    temporary tables (a million rows stay off the heap); open it with ``with``."""

    def __init__(self, env):
        self.cr = env.cr
        self.tables = {}  # table -> (temporary table, model)
        self.relations = {}  # (relation, column1, column2) -> temporary table
        self.created = defaultdict(set)  # model -> ids

    @staticmethod
    def active(cr):
        """The journal open on ``cr``, if any."""
        return _ACTIVE.get(id(cr))

    def __enter__(self):
        if id(self.cr) in _ACTIVE:
            raise RuntimeError("a journal is already open on this cursor")
        _ACTIVE[id(self.cr)] = self
        return self

    def __exit__(self, exc_type, exc, tb):
        _ACTIVE.pop(id(self.cr), None)
        # After an error the savepoint rolling back drops the tables with it.
        if exc_type is None:
            temps = [temp for temp, _model in self.tables.values()]
            temps += self.relations.values()
            for temp in temps:
                self.cr.execute(SQL("DROP TABLE IF EXISTS %s", _ident(temp)))

    def _temp(self, like=None, columns=None):
        temp = f"crm_backup_undo_{next(_names)}"
        if like:
            self.cr.execute(
                SQL("CREATE TEMP TABLE %s (LIKE %s)", _ident(temp), _ident(like))
            )
            self.cr.execute(SQL("ALTER TABLE %s ADD PRIMARY KEY (id)", _ident(temp)))
        else:
            self.cr.execute(SQL("CREATE TEMP TABLE %s (%s)", _ident(temp), columns))
        return temp

    # -- while the job writes -------------------------------------------------
    def capture(self, records):
        """Keep the rows of ``records`` as they are, unless kept already."""
        ids = [res_id for res_id in records._ids if isinstance(res_id, int)]
        if not ids or not journaled(records):
            return
        table = records._table
        if table not in self.tables:
            self.tables[table] = (self._temp(like=table), records._name)
        self.cr.execute(
            SQL(
                "INSERT INTO %s SELECT * FROM %s WHERE id = ANY(%s) "
                "ON CONFLICT (id) DO NOTHING",
                _ident(self.tables[table][0]),
                _ident(table),
                ids,
            )
        )

    def capture_links(self, records):
        """Keep the many2many links of ``records`` (written right away in SQL,
        before any flush), unless kept already."""
        ids = [res_id for res_id in records._ids if isinstance(res_id, int)]
        if not ids or not journaled(records):
            return
        for field in records._fields.values():
            if field.type != "many2many" or not field.store:
                continue
            key = (field.relation, field.column1, field.column2)
            if key not in self.relations:
                self.relations[key] = self._temp(
                    columns=SQL("id int4 PRIMARY KEY, links int4[] NOT NULL")
                )
            relation, column1, column2 = key
            self.cr.execute(
                SQL(
                    """INSERT INTO %(temp)s
                       SELECT o.id, ARRAY(SELECT r.%(c2)s FROM %(rel)s r
                                          WHERE r.%(c1)s = o.id ORDER BY 1)
                         FROM unnest(%(ids)s::int4[]) o(id)
                       ON CONFLICT (id) DO NOTHING""",
                    temp=_ident(self.relations[key]),
                    c1=_ident(column1),
                    c2=_ident(column2),
                    rel=_ident(relation),
                    ids=ids,
                )
            )

    def note_created(self, records):
        if journaled(records):
            self.created[records._name].update(records.ids)

    # -- after the job --------------------------------------------------------
    def _pages(self, query_for_page):
        """Rows of ``query_for_page(last id)`` page after page, by id."""
        last = 0
        while True:
            self.cr.execute(query_for_page(last))
            rows = self.cr.fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def changes(self):
        """What the job changed, page by page: ``("rows", table, model,
        {id: {column: [before, after]}})`` and ``("links", [relation, column1,
        column2], {id: [before, after]})``; rows the job created are left out
        (an undo deletes them)."""
        for table, (temp, model) in self.tables.items():
            created = self.created.get(model, ())
            for rows in self._pages(
                lambda last, temp=temp, table=table: SQL(
                    """SELECT b.id, to_jsonb(b), to_jsonb(t) FROM %s b
                       JOIN %s t ON t.id = b.id
                       WHERE b.id > %s ORDER BY b.id LIMIT %s""",
                    _ident(temp),
                    _ident(table),
                    last,
                    BATCH,
                )
            ):
                cells = {}
                for res_id, before, after in rows:
                    changed = {
                        column: [value, after[column]]
                        for column, value in before.items()
                        if column not in LOG_COLUMNS and after[column] != value
                    }
                    if changed and res_id not in created:
                        cells[res_id] = changed
                if cells:
                    yield "rows", table, model, cells
        for key, temp in self.relations.items():
            relation, column1, column2 = key
            for rows in self._pages(
                lambda last, temp=temp, rel=relation, c1=column1, c2=column2: SQL(
                    """SELECT b.id, b.links, ARRAY(SELECT r.%s FROM %s r
                                                 WHERE r.%s = b.id ORDER BY 1)
                         FROM %s b WHERE b.id > %s ORDER BY b.id LIMIT %s""",
                    _ident(c2),
                    _ident(rel),
                    _ident(c1),
                    _ident(temp),
                    last,
                    BATCH,
                )
            ):
                sets = {res_id: [old, new] for res_id, old, new in rows if old != new}
                if sets:
                    yield "links", list(key), sets

    def revert(self):
        """Every row and link kept back as it was (but the write log): what the
        job wrote in the ORM, undone in SQL."""
        for table, (temp, _model) in self.tables.items():
            self.cr.execute(
                SQL(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = %s",
                    table,
                )
            )
            columns = [
                name
                for (name,) in self.cr.fetchall()
                if name != "id" and name not in LOG_COLUMNS
            ]
            self.cr.execute(
                SQL(
                    "UPDATE %s t SET %s FROM %s b WHERE t.id = b.id",
                    _ident(table),
                    SQL(", ").join(
                        SQL("%s = b.%s", _ident(c), _ident(c)) for c in columns
                    ),
                    _ident(temp),
                )
            )
        for (relation, column1, column2), temp in self.relations.items():
            self.cr.execute(
                SQL(
                    """DELETE FROM %(rel)s WHERE %(c1)s IN (SELECT id FROM %(temp)s);
                       INSERT INTO %(rel)s (%(c1)s, %(c2)s)
                       SELECT b.id, unnest(b.links) FROM %(temp)s b""",
                    rel=_ident(relation),
                    c1=_ident(column1),
                    c2=_ident(column2),
                    temp=_ident(temp),
                )
            )


def current_rows(cr, table, ids):
    """``{id: row as JSON}`` of live rows."""
    cr.execute(
        SQL(
            "SELECT id, to_jsonb(t) FROM %s t WHERE id = ANY(%s)",
            _ident(table),
            list(ids),
        )
    )
    return dict(cr.fetchall())


def current_links(cr, key, ids):
    relation, column1, column2 = key
    cr.execute(
        SQL(
            """SELECT o.id, ARRAY(SELECT r.%s FROM %s r WHERE r.%s = o.id ORDER BY 1)
                 FROM unnest(%s::int4[]) o(id)""",
            _ident(column2),
            _ident(relation),
            _ident(column1),
            list(ids),
        )
    )
    return dict(cr.fetchall())


def put_back_rows(cr, table, cells):
    """Write ``{id: {column: value as JSON}}`` into ``table``, in SQL."""
    groups = defaultdict(list)
    for res_id, values in cells.items():
        groups[tuple(sorted(values))].append(dict(values, id=res_id))
    for columns, rows in groups.items():
        for chunk in split_every(BATCH, rows):
            cr.execute(
                SQL(
                    """UPDATE %(table)s t SET %(sets)s
                         FROM jsonb_populate_recordset(NULL::%(table)s, %(rows)s::jsonb) r
                        WHERE t.id = r.id""",
                    table=_ident(table),
                    sets=SQL(", ").join(
                        SQL("%s = r.%s", _ident(c), _ident(c)) for c in columns
                    ),
                    rows=json.dumps(list(chunk)),
                )
            )


def put_back_links(cr, key, sets):
    """Make the links of each ``{id: [ids]}`` exactly these, in SQL."""
    relation, column1, column2 = key
    ids = list(sets)
    cr.execute(
        SQL(
            "DELETE FROM %s WHERE %s = ANY(%s)",
            _ident(relation),
            _ident(column1),
            ids,
        )
    )
    pairs = [(res_id, other) for res_id, links in sets.items() for other in links]
    for chunk in split_every(BATCH, pairs):
        cr.execute(
            SQL(
                "INSERT INTO %s (%s, %s) SELECT * FROM unnest(%s::int4[], %s::int4[])",
                _ident(relation),
                _ident(column1),
                _ident(column2),
                [a for a, _b in chunk],
                [b for _a, b in chunk],
            )
        )


def still_as_left(cr, change):
    """Split a page of ``changes()`` by whether each cell still holds what the
    job left: ``({id: {column: before}}`` (or ``{id: before links}``) to put
    back, ``[(table, id, column) or (relation key, id, None)]`` changed
    since``)``. A row deleted since cannot be put back."""
    back, conflicts = {}, []
    if change[0] == "rows":
        _kind, table, _model, cells = change
        live = current_rows(cr, table, cells)
        for res_id, columns in cells.items():
            row = live.get(res_id)
            for column, (before, after) in columns.items():
                if row is not None and row[column] == after:
                    back.setdefault(res_id, {})[column] = before
                else:
                    conflicts.append((table, res_id, column))
        return back, conflicts
    _kind, key, sets = change
    live = current_links(cr, key, sets)
    for res_id, (before, after) in sets.items():
        if live.get(res_id) == after:
            back[res_id] = before
        else:
            conflicts.append((tuple(key), res_id, None))
    return back, conflicts


def put_back(cr, change, back):
    """Write what ``still_as_left`` kept of a page of changes."""
    if not back:
        return
    if change[0] == "rows":
        put_back_rows(cr, change[1], back)
    else:
        put_back_links(cr, change[1], back)
