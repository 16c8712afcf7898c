# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""engine/exporter.py: the cells of export_data, from SQL, by batches or COPY."""

import csv
import io
import json

from odoo import Command

from ..engine.cells import TEXT_TYPES, neutralise
from ..engine.exporter import SqlExporter
from ..engine.writer import CsvWriter
from .common import BackupCommon, export_cells
from .test_engine_cells import TRICKY

# The columns PostgreSQL renders itself (COPY path of write_csv).
COPY_FIELDS = [
    "name",
    "function",
    "street",
    "parent_id/id",
    "category_id/id",
    "is_company",
]


class TestExporterEquivalence(BackupCommon):
    """The SQL exporter gives exactly export_data(import_compat=True) cells."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        team = cls.env["crm.team"].search([], limit=1) or cls.env["crm.team"].create(
            {"name": "Team"}
        )
        team.lead_properties_definition = [
            {"name": "budget_note", "type": "char", "string": "Budget note"},
            {"name": "signed", "type": "boolean", "string": "Signed"},
        ]
        cls.data["deal"].write(
            {
                "team_id": team.id,
                "lead_properties": {"budget_note": "=big, sure", "signed": True},
            }
        )
        cls.env["ir.config_parameter"].sudo().set_param(
            "crm_data_backup.include_binary", "1"
        )

    def export_target(self, model_name, domain, own_only=False):
        env = self.env(context=dict(self.env.context, active_test=False))
        env.flush_all()
        spec = env["crm.backup.object"]._object_spec(model_name, domain, own_only)
        exporter = SqlExporter(env.cr, batch_size=3)  # several batches
        rows = [row for batch in exporter.iter_batches(spec) for row in batch]
        return spec, rows

    def assert_same_as_export_data(self, model_name, domain, own_only=False):
        spec, rows = self.export_target(model_name, domain, own_only)
        records = (
            self.env[model_name]
            .with_context(active_test=False)
            .search(domain, order="id")
        )
        self.assertEqual(len(rows), len(records), model_name)
        expected = export_cells(records, spec.header)
        properties = {f.name for f in spec.fields if f.type == "properties"}
        for record, row, want in zip(records, rows, expected, strict=True):
            for column, got, value in zip(spec.header, row, want, strict=True):
                if got and column in properties:
                    got = json.dumps(json.loads(got), sort_keys=True)
                self.assertEqual(
                    got,
                    value,
                    f"{model_name} {record.id} {column}: {got!r} != {value!r}",
                )
        return spec, rows

    def test_every_object_matches_export_data(self):
        covered = set()
        Object = self.env["crm.backup.object"]
        Object._sync_custom_objects()
        objects = Object.search([("parent_id", "=", False)])
        files = 0
        for obj in objects:
            for _obj, _key, model_name, domain, own in obj._export_targets():
                spec, rows = self.assert_same_as_export_data(model_name, domain, own)
                if rows:
                    files += 1
                    covered |= {(f.type, bool(f.translate)) for f in spec.fields}
        self.assertGreaterEqual(files, 11)
        types = {t for t, _tr in covered}
        for ftype in (
            "char",
            "text",
            "html",
            "selection",
            "integer",
            "float",
            "monetary",
            "boolean",
            "date",
            "datetime",
            "many2one",
            "many2many",
            "properties",
            "binary",
        ):
            self.assertIn(ftype, types)
        self.assertIn(("char", True), covered, "a translatable field was exported")

    def test_values_of_interest(self):
        deal = self.data["deal"]
        spec, rows = self.export_target("crm.lead", [("id", "=", deal.id)])
        row = dict(zip(spec.header, rows[0], strict=True))
        self.assertEqual(row["name"], "Big deal, phase 1")
        self.assertEqual(row["expected_revenue"], "12345.67")
        self.assertEqual(row["probability"], "33.5")
        self.assertEqual(row["priority"], "2")
        self.assertEqual(row["date_deadline"], "2026-12-31")
        self.assertEqual(row["x_budget_code"], "@SUM(A1)", "raw value, not neutralised")
        self.assertEqual(row["active"], "True")
        self.assertRegex(row["create_date"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        xid = self.env["ir.model.data"].search(
            [("model", "=", "crm.lead"), ("res_id", "=", deal.id)]
        )
        self.assertEqual(len(xid), 1)
        self.assertEqual(row["id"], xid.complete_name)
        self.assertRegex(row["id"], rf"^__export__\.crm_lead_{deal.id}_[0-9a-f]{{8}}$")
        company_xid = self.data["company"].get_external_id()[self.data["company"].id]
        self.assertEqual(row["partner_id/id"], company_xid)

    def test_existing_xmlid_is_kept_and_no_duplicate(self):
        partner = self.env.ref("base.partner_admin")
        _spec, rows = self.export_target("res.partner", [("id", "=", partner.id)])
        self.assertEqual(rows[0][0], "base.partner_admin")
        before = self.env["ir.model.data"].search_count([("module", "=", "__export__")])
        self.export_target("res.partner", [("id", "=", partner.id)])
        after = self.env["ir.model.data"].search_count([("module", "=", "__export__")])
        self.assertEqual(before, after)

    def test_only_missing_external_ids_are_created(self):
        """Records and targets without external ID get one in whichever batch
        they show up; the others keep theirs, and a second export creates
        nothing and gives the same cells."""
        tags = self.env["res.partner.category"].create(
            [{"name": name} for name in ("b tag", "a tag", "c tag")]
        )
        parent = self.env["res.partner"].create({"name": "Parent", "is_company": True})
        children = self.env["res.partner"].create(
            [
                {
                    "name": f"Child {i}",
                    "parent_id": parent.id,
                    "category_id": [Command.set(tags.ids)],
                }
                for i in range(7)
            ]
        )
        Data = self.env["ir.model.data"]
        Data.create(
            [
                {"module": "xid_test", "name": "b_tag", "model": tags._name}
                | {"res_id": tags[0].id},
                {"module": "xid_test", "name": "child_3", "model": parent._name}
                | {"res_id": children[3].id},
            ]
        )
        domain = [("id", "in", (parent | children).ids)]
        before = Data.search_count([("module", "=", "__export__")])
        spec, rows = self.assert_same_as_export_data("res.partner", domain)
        created = Data.search_count([("module", "=", "__export__")]) - before
        self.assertEqual(created, 1 + 6 + 2, "parent, 6 children, 2 tags")
        self.assertEqual(rows[4][0], "xid_test.child_3")
        tag_cells = rows[1][spec.header.index("category_id/id")].split(",")
        self.assertEqual(tag_cells[1], "xid_test.b_tag", "comodel order kept")
        parents = {row[spec.header.index("parent_id/id")] for row in rows[1:]}
        self.assertEqual(parents, {rows[0][0]}, "target created in an earlier batch")
        _spec, again = self.export_target("res.partner", domain)
        self.assertEqual(again, rows)
        self.assertEqual(Data.search_count([("module", "=", "__export__")]), before + 9)

    def test_many2many_order_and_commas(self):
        company = self.data["company"]
        spec, rows = self.export_target("res.partner", [("id", "=", company.id)])
        row = dict(zip(spec.header, rows[0], strict=True))
        expected = ",".join(
            tag.get_external_id()[tag.id] for tag in company.category_id
        )
        self.assertEqual(row["category_id/id"], expected)
        self.assertEqual(len(row["category_id/id"].split(",")), 2)

    def test_sql_neutralisation_equals_python(self):
        partners = self.env["res.partner"].create(
            [{"name": "n", "function": value, "street": value} for value in TRICKY]
        )
        domain = [("id", "in", partners.ids)]
        spec, plain = self.export_target("res.partner", domain)
        exporter = SqlExporter(self.env.cr)
        safe = [row for batch in exporter.iter_batches(spec, True) for row in batch]
        function = spec.header.index("function")
        self.assertEqual([row[function] for row in plain], [v or "" for v in TRICKY])
        for plain_row, safe_row in zip(plain, safe, strict=True):
            for index, fspec in enumerate(spec.fields, 1):
                want = plain_row[index]
                if fspec.type in TEXT_TYPES:
                    want = neutralise(want)
                self.assertEqual(safe_row[index], want, spec.header[index])

    def test_company_dependent_fields_in_sql(self):
        contact = self.data["contact"]
        spec, rows = self.assert_same_as_export_data(
            "res.partner", [("id", "=", contact.id)]
        )
        barcode = next(f for f in spec.fields if f.name == "barcode")
        self.assertFalse(barcode.python)
        rendered = self.env.cr.mogrify(barcode.expr).decode()
        self.assertIn(str(self.env.company.id), rendered)
        self.assertEqual(rows[0][spec.header.index("barcode")], "BC-0001")
        variant = self.data["product"].product_variant_ids
        spec, rows = self.assert_same_as_export_data(
            "product.product", [("id", "=", variant.id)], own_only=True
        )
        self.assertEqual(rows[0][spec.header.index("standard_price")], "4.2")
        self.assertNotIn("name", spec.header, "template fields stay in products.csv")


class TestCsvExport(BackupCommon):
    """write_csv (PostgreSQL's COPY) writes the very bytes of CsvWriter fed by
    iter_batches, and many2many cells follow the comodel's order."""

    def spec(self, domain, columns=None):
        env = self.env(context=dict(self.env.context, active_test=False))
        env.flush_all()
        names = columns and [column.split("/")[0] for column in columns]
        spec = env["crm.backup.object"]._object_spec(
            "res.partner", domain, field_names=names
        )
        if columns:
            by_header = {f.header: f for f in spec.fields}
            self.assertEqual(sorted(by_header), sorted(columns), "only those fields")
            spec.fields = [by_header[column] for column in columns]
        return spec

    def fast(self, spec):
        exporter = SqlExporter(self.env.cr)
        stream = io.BytesIO()
        rows = exporter.write_csv(spec, stream, neutralise=True)
        return rows, stream.getvalue(), exporter

    def slow(self, spec):
        stream = io.BytesIO()
        writer = CsvWriter(stream, spec.header)
        for batch in SqlExporter(self.env.cr, batch_size=2).iter_batches(spec, True):
            writer.write_rows(batch)
        writer.close()
        return stream.getvalue()

    def test_copy_bytes_equal_csv_writer(self):
        tag = self.env["res.partner.category"].create({"name": "Tag, with comma"})
        # with cells holding what ends a row of COPY's output (",\n", ",!<id>")
        values = [*TRICKY, "\\.", "trailing,", ",", '"', "a\n", "\r\n", "x,\ny", ",!7"]
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"n{i}",
                    "function": value,
                    "street": value or False,
                    "category_id": [Command.set(tag.ids)] if i % 2 else [],
                }
                for i, value in enumerate(values)
            ]
        )
        spec = self.spec([("id", "in", partners.ids)], COPY_FIELDS)
        self.assertTrue(SqlExporter._copyable(spec))
        slow = self.slow(spec)  # gives every record its external ID
        rows, fast, exporter = self.fast(spec)
        self.assertEqual(rows, len(partners))
        self.assertEqual(exporter.created, 0)
        self.assertEqual(fast, slow)
        in_cells = 2 * sum(v.count("\r\n") for v in values)  # function, street
        self.assertEqual(fast.count(b"\r\n"), 1 + len(partners) + in_cells)
        parsed = list(csv.reader(io.StringIO(fast.decode("utf-8-sig"), newline="")))
        self.assertEqual(parsed[0], spec.header)
        function = spec.header.index("function")
        self.assertEqual(
            [row[function] for row in parsed[1:]], [neutralise(v) for v in values]
        )
        # ",\n" inside a cell, no "!": a chunk of COPY's rows without a flag
        no_bang = partners.filtered(lambda p: "!" not in (p.street or ""))
        spec = self.spec([("id", "in", no_bang.ids)], COPY_FIELDS)
        self.assertEqual(self.fast(spec)[1], self.slow(spec))

    def test_missing_external_ids_midway(self):
        """Rows before the first record (or target) without external ID come
        from COPY, the others from iter_batches, which creates them."""
        tags = self.env["res.partner.category"].create(
            [{"name": "Tag old"}, {"name": "Tag new"}]
        )
        partners = self.env["res.partner"].create(
            [
                {"name": f"Midway {i}", "category_id": [Command.set(tags[:1].ids)]}
                for i in range(6)
            ]
        )
        partners[4].category_id = tags
        SqlExporter(self.env.cr).write_csv(
            self.spec([("id", "in", partners[:3].ids)]), io.BytesIO()
        )
        Data = self.env["ir.model.data"]
        before = Data.search_count([("module", "=", "__export__")])
        spec = self.spec([("id", "in", partners.ids)], COPY_FIELDS)
        rows, fast, exporter = self.fast(spec)
        self.assertEqual(rows, 6)
        self.assertEqual(exporter.created, 3 + 1, "partners 3-5 and the new tag")
        self.assertEqual(Data.search_count([("module", "=", "__export__")]), before + 4)
        self.assertEqual(fast, self.slow(spec))
        self.env.invalidate_all()  # m2m values as read from the database
        expected = export_cells(partners, spec.header)
        parsed = list(csv.reader(io.StringIO(fast.decode("utf-8-sig"), newline="")))
        self.assertEqual(parsed[1:], expected)
        _rows, again, exporter = self.fast(spec)
        self.assertEqual((again, exporter.created), (fast, 0))

    def test_fields_rendered_in_python_use_rows(self):
        """Floats (and Python-rendered fields) take the iter_batches path."""
        contact = self.data["contact"]
        contact.write({"partner_latitude": 48.8566, "partner_longitude": 2.3522})
        spec = self.spec([("id", "=", contact.id)])
        self.assertFalse(SqlExporter._copyable(spec))
        rows, fast, _exporter = self.fast(spec)
        self.assertEqual(rows, 1)
        self.assertEqual(fast, self.slow(spec))
        row = dict(
            zip(
                *csv.reader(io.StringIO(fast.decode("utf-8-sig"), newline="")),
                strict=True,
            )
        )
        self.assertEqual(row["partner_latitude"], "48.8566")

    def test_many2many_order_ties_and_archived(self):
        """Targets follow the comodel's order (name), ties by id, archived
        ones included, whichever order they were linked in."""
        Tag = self.env["res.partner.category"]
        zed = Tag.create({"name": "Zed"})
        twin_a = Tag.create({"name": "Twin"})
        twin_b = Tag.create({"name": "Twin"})
        old = Tag.create({"name": "Alpha", "active": False})
        partner = self.env["res.partner"].create(
            {
                "name": "Tagged",
                "category_id": [Command.set([zed.id, twin_b.id, twin_a.id, old.id])],
            }
        )
        for spec in (
            self.spec([("id", "=", partner.id)], ["category_id/id"]),
            self.spec([("id", "=", partner.id)]),
        ):
            _rows, fast, _exporter = self.fast(spec)
            self.assertEqual(fast, self.slow(spec))
            row = dict(
                zip(
                    *csv.reader(io.StringIO(fast.decode("utf-8-sig"), newline="")),
                    strict=True,
                )
            )
            tags = old | twin_a | twin_b | zed
            xids = tags.get_external_id()
            self.assertEqual(
                row["category_id/id"], ",".join(xids[tag.id] for tag in tags)
            )
        # without ties, the ORM's own order
        twin_b.name = "Twin 2"
        spec = self.spec([("id", "=", partner.id)], ["category_id/id"])
        _rows, fast, _exporter = self.fast(spec)
        cell = next(
            csv.reader(io.StringIO(fast.decode("utf-8-sig").split("\r\n", 1)[1]))
        )[1]
        self.env.invalidate_all()
        self.assertEqual(cell, export_cells(partner, spec.header)[0][1])
