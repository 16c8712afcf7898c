# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The live records a plan compares a backup with, read in batches by SQL."""

from odoo.tools import SQL


class LiveRecords:
    """Live side of a plan: SQL reads in batches, shaped like the backup."""

    def __init__(self, env, model, domain):
        # Reads go to SQL: pending ORM writes must be there first.
        env.flush_all()
        self.env = env
        # The user's own rights: what they may not read is neither planned,
        # written nor used as a related record.
        self.Model = env[model].with_context(active_test=False, lang="en_US")
        self.domain = domain
        self.matched_table = False
        # External IDs of records that exist but that the user may not read.
        self.hidden = set()

    def resolve(self, model, xmlids):
        if not xmlids or model not in self.env:
            return {}
        table = self.env[model]._table
        modules, names = [], []
        for xmlid in xmlids:
            module, _dot, name = xmlid.partition(".")
            modules.append(module)
            names.append(name)
        self.env.cr.execute(
            SQL(
                """
                SELECT d.module || '.' || d.name, d.res_id
                  FROM ir_model_data d
                  JOIN unnest(%s::varchar[], %s::varchar[]) AS x(module, name)
                    ON d.module = x.module AND d.name = x.name
                  JOIN %s t ON t.id = d.res_id
                 WHERE d.model = %s
                """,
                modules,
                names,
                SQL.identifier(table),
                model,
            )
        )
        found = dict(self.env.cr.fetchall())
        readable = set(
            self.env[model]
            .with_context(active_test=False)
            .search([("id", "in", list(found.values()))])
            .ids
        )
        for xmlid, res_id in list(found.items()):
            if res_id not in readable:
                self.hidden.add(xmlid)
                del found[xmlid]
        return found

    def changed_after(self, ids, when):
        """Of ``ids``, those written after ``when`` (the plan's review)."""
        if not ids or not self.Model._log_access:
            return set()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id = ANY(%s) AND write_date > %s",
                SQL.identifier(self.Model._table),
                list(ids),
                when,
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def fetch(self, ids, field_names):
        result = {res_id: {} for res_id in ids}
        if not ids:
            return result
        columns, orm_fields = [], []
        for name in field_names:
            field = self.Model._fields[name]
            if field.type == "many2many":
                self._read_many2many(field, ids, result)
            elif field.column_type and not field.company_dependent:
                if field.translate:
                    columns.append((name, SQL("%s->>'en_US'", SQL.identifier(name))))
                else:
                    columns.append((name, SQL.identifier(name)))
            else:
                orm_fields.append(name)
        if columns:
            self.env.cr.execute(
                SQL(
                    "SELECT id, %s FROM %s WHERE id = ANY(%s)",
                    SQL(", ").join(expr for _n, expr in columns),
                    SQL.identifier(self.Model._table),
                    list(ids),
                )
            )
            for row in self.env.cr.fetchall():
                values = result[row[0]]
                for (name, _expr), value in zip(columns, row[1:], strict=True):
                    values[name] = value
        if orm_fields:
            for row in self.Model.browse(ids).read(orm_fields, load=None):
                values = result[row["id"]]
                for name in orm_fields:
                    values[name] = row[name]
        return result

    def _read_many2many(self, field, ids, result):
        for values in result.values():
            values[field.name] = set()
        self.env.cr.execute(
            SQL(
                "SELECT %s, %s FROM %s WHERE %s = ANY(%s)",
                SQL.identifier(field.column1),
                SQL.identifier(field.column2),
                SQL.identifier(field.relation),
                SQL.identifier(field.column1),
                list(ids),
            )
        )
        for res_id, target in self.env.cr.fetchall():
            result[res_id][field.name].add(target)

    def mark_matched(self, ids):
        # In a temporary table rather than a set: a million ids stay off the heap.
        if not self.matched_table:
            self.env.cr.execute(
                "CREATE TEMP TABLE IF NOT EXISTS crm_backup_restore_matched "
                "(id int4 PRIMARY KEY) ON COMMIT DROP"
            )
            self.env.cr.execute("TRUNCATE crm_backup_restore_matched")
            self.matched_table = True
        ids = list(ids)
        if ids:
            self.env.cr.execute(
                "INSERT INTO crm_backup_restore_matched SELECT unnest(%s::int4[]) "
                "ON CONFLICT DO NOTHING",
                [ids],
            )

    def count_unmatched(self):
        query = self.Model._search(self.domain)
        matched = SQL(
            "AND NOT EXISTS (SELECT 1 FROM crm_backup_restore_matched m "
            "WHERE m.id = live.id)"
            if self.matched_table
            else ""
        )
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM (%s) live WHERE TRUE %s",
                query.subselect(),
                matched,
            )
        )
        return self.env.cr.fetchone()[0]
