# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import csv
import io

from odoo import Command

from ..engine.cells import neutralise
from ..engine.exporter import SqlExporter
from ..engine.writer import CsvWriter
from .common import BackupCommon, export_cells
from .test_backup_writer import TRICKY

# The columns PostgreSQL renders itself (COPY path of write_csv).
COPY_FIELDS = [
    "name",
    "function",
    "street",
    "parent_id/id",
    "category_id/id",
    "is_company",
]


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
