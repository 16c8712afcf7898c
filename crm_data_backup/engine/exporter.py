# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Fast SQL exporter: import-compatible rows of one object, in batches.

It reads with one SQL query through a server-side cursor (bounded memory),
renders almost every cell in PostgreSQL (see ``cells.sql_cell``) and gives the
same cells as ``export_data(fields, import_compat=True)``:

- ``id`` and many2one/many2many targets as external IDs; records without one
  get an ``__export__.<table>_<id>_<8 hex>`` row in ir_model_data, like
  ``BaseModel.__ensure_xml_id``: the export query itself tells which rows of
  a batch lack one, and only those are created (in bulk, per batch). When a record has several external
  IDs, the most recent one (highest ir_model_data id) is used;
- records of the ``import_safe`` models (those the backup holds) only use an
  external ID whose prefix is no module's: Odoo's Import refuses to create a
  record with a module's prefix ("has the module prefix base"), so a deleted
  record of module data could not be imported back. Such a record gets an
  ``__export__`` ID besides its module's (ir_model_data allows several);
- many2many values joined by "," in the comodel's order (``pairs_sql`` given
  by the caller yields ``src, dst, pos``);
- fields the SQL cannot render (properties, company-dependent, binary) are
  filled per batch by the caller's ``python_cells`` callback.

No ORM here: the caller describes the object with plain values and ``SQL``
(``odoo.tools.SQL``) pieces, and hands over its cursor: the rows are read
through a server-side cursor declared on it (same transaction, same snapshot).
"""

import itertools
from dataclasses import dataclass, field, replace

from odoo.tools import SQL

from .cells import FLOAT_TYPES, PLAIN_TYPES, float_cell, sql_cell, sql_neutralise
from .cells import neutralise as neutralise_cell
from .writer import CsvWriter

XID_SQL = (
    "(SELECT DISTINCT ON (res_id) res_id, "
    "CASE WHEN module <> '' THEN module || '.' || name ELSE name END AS xid "
    "FROM ir_model_data WHERE model = %s%s ORDER BY res_id, id DESC)"
)
# The external IDs Odoo's Import can create records with: no module's prefix
# (base_import checks every ir_module_module name, installed or not).
IMPORT_SAFE_SQL = SQL(
    " AND module <> '' AND module NOT IN (SELECT name FROM ir_module_module)"
)


@dataclass
class ExportField:
    """One exported field, described with plain values (``SQL`` for SQL)."""

    name: str
    type: str
    column: str = None
    translate: bool = False
    digits: int = None
    comodel: str = None  # model name of a relation's target
    comodel_table: str = None
    pairs_sql: SQL = None  # many2many: SQL yielding (src, dst, pos)
    python: bool = False  # rendered by the object's python_cells callback
    expr: SQL = None  # reads the value on the object's alias (else the column)

    @property
    def header(self):
        if self.type in ("many2one", "many2many"):
            return f"{self.name}/id"
        return self.name

    @property
    def may_look_like_formula(self):
        """Whether a cell of this field can start like a formula (text,
        external IDs, JSON, base64...): what formula protection covers."""
        return self.type not in PLAIN_TYPES


@dataclass
class ExportObject:
    """The records of one file: a table, which rows, which fields."""

    model: str
    table: str
    where_sql: SQL  # condition on ``alias`` selecting the records
    fields: list = field(default_factory=list)  # of ExportField
    # callable(ids, [ExportField]) -> {id: {field name: cell}}
    python_cells: object = None
    alias: str = "t"  # of the table in the query (and in where_sql, expr)

    @property
    def from_sql(self):
        return SQL("%s AS %s", SQL.identifier(self.table), SQL.identifier(self.alias))

    @property
    def header(self):
        return ["id"] + [f.header for f in self.fields]


class SqlExporter:
    """Export objects described by :class:`ExportObject` through the
    caller's cursor ``cr`` (an Odoo cursor: ``execute(SQL)``, ``fetchall``,
    ``copy_expert``, ``mogrify``)."""

    def __init__(self, cr, batch_size=5000, import_safe=()):
        self.cr = cr
        self.batch_size = batch_size
        # models whose external IDs must be ones Import can create records with
        self.import_safe = frozenset(import_safe)
        self._cursor_seq = itertools.count()
        self.created = 0  # external IDs created by the last iter_batches

    # -- external IDs ---------------------------------------------------
    def _xid_filter(self, model):
        return IMPORT_SAFE_SQL if model in self.import_safe else SQL()

    def xid_sql(self, model):
        """Subquery ``(res_id, xid)``: the external ID used for each record of
        ``model``."""
        return SQL(XID_SQL, model, self._xid_filter(model))

    def _xids(self, model, table, ids):
        """``{id: external ID}`` of ``ids`` of ``model``, creating the missing
        ones (only the few the export query found without one)."""
        ids = sorted(set(ids))
        where = self._xid_filter(model)
        self.cr.execute(
            SQL(
                """
            INSERT INTO ir_model_data (module, model, name, res_id)
            SELECT '__export__', %s,
                   %s || '_' || s.id || '_' || substr(md5(random()::text), 1, 8),
                   s.id
              FROM unnest(%s::int[]) AS s(id)
             WHERE NOT EXISTS (SELECT 1 FROM ir_model_data d
                                WHERE d.model = %s AND d.res_id = s.id%s)
            """,
                model,
                table,
                ids,
                model,
                where,
            )
        )
        self.created += self.cr.rowcount
        # read back as XID_SQL does: the most recent one wins
        self.cr.execute(
            SQL(
                """
            SELECT DISTINCT ON (res_id) res_id,
                   CASE WHEN module <> '' THEN module || '.' || name ELSE name END
              FROM ir_model_data WHERE model = %s AND res_id = ANY(%s)%s
             ORDER BY res_id, id DESC
            """,
                model,
                ids,
                where,
            )
        )
        return dict(self.cr.fetchall())

    def _fill_missing_xids(self, spec, rows, refs, neutralise=False):
        """Give external IDs to the cells of ``rows`` (lists: ``id, xid,
        cells..., many2many targets..., refs``, see :meth:`build_query`) whose
        record or targets had none (neutralised with ``neutralise``: a
        many2many cell joins them with existing ones)."""
        end = 2 + len(spec.fields)
        protect = neutralise_cell if neutralise else str
        if any(not row[1] for row in rows):
            xids = self._xids(
                spec.model, spec.table, [row[0] for row in rows if not row[1]]
            )
            for row in rows:
                row[1] = row[1] or xids[row[0]]
        for k, (i, fspec) in enumerate(refs):
            missing = [row for row in rows if row[-1] and row[-1][k]]
            if not missing:
                continue
            if fspec.type == "many2one":
                xids = self._xids(
                    fspec.comodel, fspec.comodel_table, [row[-1][k] for row in missing]
                )
                for row in missing:
                    row[i] = protect(xids[row[-1][k]])
                continue
            # the query gave the ordered targets of those cells
            column = end + sum(1 for _i, f in refs[:k] if f.type == "many2many")
            xids = self._xids(
                fspec.comodel,
                fspec.comodel_table,
                [dst for row in missing for dst in row[column]],
            )
            for row in missing:
                row[i] = protect(",".join(xids[dst] for dst in row[column]))

    # -- rows -----------------------------------------------------------
    def build_query(self, spec, neutralise=False, copy=False):
        """The SELECT (an ``SQL``) giving ``id, xid, cells..., many2many
        targets..., refs`` ordered by id.

        The external IDs of each model are computed once (a CTE) and joined
        wherever that model is referenced. ``refs`` is NULL unless the
        record or a target has no external ID: then an array with, per
        relational column (:meth:`_relational_fields` order), the many2one id
        without external ID, or 1 for a many2many cell missing some; that
        cell's ordered target ids are then in its "many2many targets" column.

        With ``copy`` (for :meth:`write_csv`) it gives ``xid, cells..., flag``
        instead: empty cells are NULL (PostgreSQL's CSV then leaves them
        unquoted, like Python's) and ``flag`` is NULL, or ``!<id>`` when the
        record or a target has no external ID.

        With ``neutralise``, every cell that may look like a formula (see
        :attr:`ExportField.may_look_like_formula`), external IDs included,
        comes neutralised.
        """

        def protect(expr, fspec=None):
            if neutralise and (fspec is None or fspec.may_look_like_formula):
                return sql_neutralise(expr)
            return expr

        xid_models = []
        uses = {}

        def xid_table(model):
            if model not in xid_models:
                xid_models.append(model)
            uses[model] = uses.get(model, 0) + 1
            return SQL.identifier(f"xid{xid_models.index(model)}")

        record_id = SQL.identifier(spec.alias, "id")
        x0 = SQL.identifier("x0")
        cells = [protect(SQL("COALESCE(%s.xid, '')", x0))]
        missing = [SQL("%s.xid IS NULL", x0)]
        refs = []
        dsts = []
        joins = [
            SQL(
                "LEFT JOIN %s %s ON %s.res_id = %s",
                xid_table(spec.model),
                x0,
                x0,
                record_id,
            )
        ]
        for i, fspec in enumerate(spec.fields, 1):
            col = self._value_sql(fspec, spec.alias)
            if fspec.python:
                cells.append(SQL("NULL"))
            elif fspec.type == "many2one":
                xid = SQL.identifier(f"x{i}")
                table = xid_table(fspec.comodel)
                joins.append(
                    SQL("LEFT JOIN %s %s ON %s.res_id = %s", table, xid, xid, col)
                )
                cells.append(protect(SQL("COALESCE(%s.xid, '')", xid)))
                missing.append(SQL("(%s IS NOT NULL AND %s.xid IS NULL)", col, xid))
                refs.append(
                    SQL("CASE WHEN %s.xid IS NULL THEN (%s)::int END", xid, col)
                )
            elif fspec.type == "many2many":
                cell = SQL.identifier(f"m{i}")
                # PostgreSQL 15 sorts every group again for an aggregate's
                # ORDER BY: the pairs come sorted instead, and each group is
                # aggregated in the order of its input.
                joins.append(
                    SQL(
                        "LEFT JOIN (SELECT s.src, string_agg(s.xid, ',') AS cell, "
                        "bool_or(s.xid IS NULL) AS miss, "
                        "CASE WHEN bool_or(s.xid IS NULL) THEN array_agg(s.dst) END "
                        "AS dsts FROM (SELECT p.src, p.dst, x.xid "
                        "FROM (%s) p LEFT JOIN %s x "
                        "ON x.res_id = p.dst ORDER BY p.src, p.pos) s "
                        "GROUP BY s.src) %s ON %s.src = %s",
                        fspec.pairs_sql,
                        xid_table(fspec.comodel),
                        cell,
                        cell,
                        record_id,
                    )
                )
                cells.append(protect(SQL("COALESCE(%s.cell, '')", cell)))
                missing.append(SQL("%s.miss", cell))
                refs.append(SQL("CASE WHEN %s.miss THEN 1 END", cell))
                dsts.append(SQL("%s.dsts", cell))
            elif fspec.type in FLOAT_TYPES:
                if copy:
                    raise ValueError("Float cells are rendered in Python.")
                cells.append(SQL("%s::float8", col))
            else:
                expr = sql_cell(fspec.type, col, fspec.translate)
                if expr is None:
                    raise ValueError(f"Field type {fspec.type} cannot be exported.")
                cells.append(protect(expr, fspec))
        any_missing = SQL(" OR ").join(missing)
        if copy:
            selects = [SQL("NULLIF(%s, '')", cell) for cell in cells]
            selects.append(
                SQL("CASE WHEN %s THEN '!' || %s END", any_missing, record_id)
            )
        else:
            selects = [record_id, *cells, *dsts]
            selects.append(
                SQL(
                    "CASE WHEN %s THEN ARRAY[%s]::int[] END",
                    any_missing,
                    SQL(", ").join(refs),
                )
            )
        # computed once when joined twice; else inlined, which lets the
        # planner see its size (and hash it, not the exported rows)
        ctes = SQL(", ").join(
            SQL(
                "%s AS %s %s",
                SQL.identifier(f"xid{i}"),
                SQL("MATERIALIZED" if uses[model] > 1 else "NOT MATERIALIZED"),
                self.xid_sql(model),
            )
            for i, model in enumerate(xid_models)
        )
        return SQL(
            "WITH %s SELECT %s FROM %s %s WHERE %s ORDER BY %s",
            ctes,
            SQL(", ").join(selects),
            spec.from_sql,
            SQL(" ").join(joins),
            spec.where_sql,
            record_id,
        )

    @staticmethod
    def _relational_fields(spec):
        """``(row index, field)`` of the relational columns the SQL renders."""
        return [
            (i, f)
            for i, f in enumerate(spec.fields, 2)
            if f.type in ("many2one", "many2many") and not f.python
        ]

    @staticmethod
    def _value_sql(fspec, alias):
        if fspec.expr is not None:
            return fspec.expr
        return SQL.identifier(alias, fspec.column or fspec.name)

    def has_rows(self, spec):
        """Whether ``spec`` selects any record."""
        self.cr.execute(
            SQL(
                "SELECT EXISTS (SELECT 1 FROM %s WHERE %s)",
                spec.from_sql,
                spec.where_sql,
            )
        )
        return self.cr.fetchone()[0]

    def _fetch_batches(self, query):
        """Lists of at most ``batch_size`` rows of ``query``, read through a
        server-side cursor declared on ``cr``: the same transaction and
        snapshot, bounded memory (what a named psycopg2 cursor does)."""
        name = SQL.identifier(f"crm_backup_export_{next(self._cursor_seq)}")
        self.cr.execute(SQL("DECLARE %s CURSOR WITHOUT HOLD FOR %s", name, query))
        while rows := self._fetch(name):
            yield rows
        # Closed when read to the end; a reader stopping early (an error)
        # leaves it to the end of the transaction, which closes it anyway.
        self.cr.execute(SQL("CLOSE %s", name))

    def _fetch(self, name):
        self.cr.execute(SQL("FETCH FORWARD %s FROM %s", self.batch_size, name))
        return self.cr.fetchall()

    def _set_query_options(self):
        # sorts and hashes of external IDs fit in memory instead of on disk
        self.cr.execute(SQL("SET LOCAL work_mem = '64MB'"))
        # compiling the export query costs more than it saves (tens of ms)
        self.cr.execute(SQL("SET LOCAL jit = off"))

    def iter_batches(self, spec, neutralise=False):
        """Yield lists of rows (lists of str cells, header order).

        With ``neutralise``, formula-like cells come neutralised (in SQL:
        the writer then has no per-cell work), see :meth:`build_query`.
        """
        query = self.build_query(spec, neutralise)
        floats = [
            (i, f.digits)
            for i, f in enumerate(spec.fields, 2)
            if f.type in FLOAT_TYPES and not f.python
        ]
        python_fields = [f for f in spec.fields if f.python]
        python_index = [i for i, f in enumerate(spec.fields, 2) if f.python]
        refs = self._relational_fields(spec)
        end = 2 + len(spec.fields)
        self.created = 0
        # A cursor is planned for its first rows (nested loops over the
        # external ID subqueries): we read them all, so plan for that.
        self.cr.execute(SQL("SET LOCAL cursor_tuple_fraction = 1.0"))
        self._set_query_options()
        for fetched in self._fetch_batches(query):
            missing = [row for row in fetched if row[-1] is not None]
            if missing:
                missing = [list(row) for row in missing]
                self._fill_missing_xids(spec, missing, refs, neutralise)
                fixed = {row[0]: row for row in missing}
                fetched = [fixed.get(row[0], row) for row in fetched]
            if not floats and not python_fields:
                yield [row[1:end] for row in fetched]
                continue
            extra = {}
            if python_fields:
                extra = spec.python_cells([row[0] for row in fetched], python_fields)
                if neutralise:
                    for cells in extra.values():
                        for fspec in python_fields:
                            if fspec.may_look_like_formula and fspec.name in cells:
                                cells[fspec.name] = neutralise_cell(cells[fspec.name])
            batch = []
            for row in fetched:
                row = list(row)
                for i, digits in floats:
                    row[i] = float_cell(row[i], digits)
                if python_fields:
                    cells = extra.get(row[0], {})
                    for i, fspec in zip(python_index, python_fields, strict=True):
                        row[i] = cells.get(fspec.name, "")
                batch.append(row[1:end])
            yield batch
        if self.created > 1000:
            # fresh statistics, or the next queries are planned for a few rows
            self.cr.execute(SQL("ANALYZE ir_model_data"))

    # -- CSV files ------------------------------------------------------
    @staticmethod
    def _copyable(spec):
        """Whether PostgreSQL renders every cell of ``spec`` (floats and
        Python-rendered fields need :meth:`iter_batches`)."""
        return not any(f.python or f.type in FLOAT_TYPES for f in spec.fields)

    def write_csv(self, spec, stream, neutralise=False):
        """Write the CSV file of ``spec`` (header and rows) to the binary
        ``stream``; return how many rows.

        The bytes are those of :class:`CsvWriter` fed by :meth:`iter_batches`,
        but PostgreSQL writes the rows (``COPY ... (FORMAT csv)``: its quoting
        is Python's minimal quoting; only line ends differ) until a record or
        target without external ID: from that record on, :meth:`iter_batches`
        creates the missing ones and writes the rest.
        """
        writer = CsvWriter(stream, spec.header)
        if not self._copyable(spec):
            for batch in self.iter_batches(spec, neutralise):
                writer.write_rows(batch)
            writer.close()
            return writer.rows
        writer.close()
        query = self.build_query(spec, neutralise, copy=True)
        self.created = 0
        self._set_query_options()
        sink = _CopySink(stream)
        self.cr.copy_expert(
            self.cr.mogrify(SQL("COPY (%s) TO STDOUT WITH (FORMAT csv)", query)),
            sink,
        )
        sink.flush()
        if sink.stop_id is None:
            return sink.rows
        rest = replace(
            spec,
            where_sql=SQL(
                "(%s) AND %s >= %s",
                spec.where_sql,
                SQL.identifier(spec.alias, "id"),
                int(sink.stop_id),
            ),
        )
        writer = CsvWriter(stream, None)
        for batch in self.iter_batches(rest, neutralise):
            writer.write_rows(batch)
        writer.close()
        return sink.rows + writer.rows


class _CopySink:
    """Binary file COPY writes to: rows of PostgreSQL's CSV (one per write,
    as the protocol sends them), each ending with the flag column, turned
    into rows of the contract's dialect (CRLF line ends) on ``stream``.

    It stops at the first flagged row (``,!<id>\\n``: a record or target
    without external ID) and keeps its id in ``stop_id``.
    """

    BATCH = 4096

    def __init__(self, stream):
        self.stream = stream
        self.rows = 0
        self.stop_id = None
        self._pending = []
        self.write = self._take  # what COPY calls, once per row

    def _take(self, row):
        self._pending.append(row)
        if len(self._pending) >= self.BATCH:
            self.flush()

    def flush(self):
        rows, self._pending = self._pending, []
        if self.stop_id is not None or not rows:
            return
        # An unflagged row ends with its empty flag cell: ",\n". No flag at
        # all and one ",\n" per row: none is inside a quoted cell.
        data = b"".join(rows)
        if b",!" not in data and data.count(b",\n") == len(rows):
            self.stream.write(data.replace(b",\n", b"\r\n"))
            self.rows += len(rows)
            return
        for index, row in enumerate(rows):
            if not row.endswith(b",\n"):
                self.stop_id = int(row[row.rindex(b",!") + 2 : -1])
                rows = rows[:index]
                break
        if rows:
            self.stream.write(b"\r\n".join([row[:-2] for row in rows]) + b"\r\n")
            self.rows += len(rows)
