# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""engine/writer.py: the CSV dialect and XLSX string cells."""

import csv
import io
import os
import re
import tempfile
import zipfile

from openpyxl import load_workbook

from odoo.tests.common import BaseCase

from ..engine.cells import danger, neutralise, unneutralise
from ..engine.errors import BackupFileError
from ..engine.writer import CsvWriter, XlsxWriter
from .test_engine_cells import TRICKY


def ooxml_unescape(text):
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


class TestCsvWriter(BaseCase):
    def write_csv(self, header, rows):
        buffer = io.BytesIO()
        writer = CsvWriter(buffer, header)
        writer.write_rows(rows)
        writer.close()
        return buffer.getvalue(), writer.rows

    def test_dialect(self):
        data, count = self.write_csv(["id", "name"], [["a.b", "x"], ["c.d", ""]])
        self.assertEqual(data, b"\xef\xbb\xbfid,name\r\na.b,x\r\nc.d,\r\n")
        self.assertEqual(count, 2)
        # continuing a file: no second BOM
        buffer = io.BytesIO()
        writer = CsvWriter(buffer, None)
        writer.write_rows([["e.f", "y"]])
        writer.close()
        self.assertEqual(buffer.getvalue(), b"e.f,y\r\n")

    def test_escaping_round_trip(self):
        # neutralised as the exporter gives them (see test_engine_exporter)
        rows = [[str(i), neutralise(value)] for i, value in enumerate(TRICKY)]
        data, _count = self.write_csv(["id", "name"], rows)
        self.assertIn(b'"Acme, Inc."', data)
        self.assertIn(b'"He said ""hi"""', data)
        self.assertIn(b'"two\nlines"', data)
        self.assertIn("Zoë 中文 🙂".encode(), data)
        parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        self.assertEqual(parsed[0], ["id", "name"])
        self.assertEqual([unneutralise(r[1]) for r in parsed[1:]], TRICKY)
        for row in parsed[1:]:
            self.assertFalse(danger(row[1]), row[1])

    def test_cells_written_as_given(self):
        """The writer neutralises nothing: cells come neutralised from SQL
        (numbers never are)."""
        data, _count = self.write_csv(["id", "amount"], [["x", "-1.5"], ["y", "=1"]])
        self.assertIn(b"x,-1.5\r\n", data)
        self.assertIn(b"y,=1\r\n", data, "written as given")


class TestXlsxWriter(BaseCase):
    def test_sheets_strings_never_formulas(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "b.xlsx")
            writer = XlsxWriter(path)
            writer.add_sheet("contacts", ["id", "name", "amount"])
            writer.write_rows([[v or "x", v, "1.5"] for v in TRICKY])
            writer.add_sheet("a_very_long_object_key_beyond_31_chars", ["id"])
            writer.write_rows([["x.y"]])
            writer.close()
            book = load_workbook(path, read_only=True)
            self.assertEqual(
                book.sheetnames, ["contacts", "a_very_long_object_key_beyond_3"]
            )
            rows = list(book["contacts"].iter_rows(values_only=True))
            self.assertEqual(rows[0], ("id", "name", "amount"))
            # control characters are stored as OOXML _xHHHH_ escapes
            # the values themselves (ids too): string cells are never run
            names = [ooxml_unescape(r[1] or "") for r in rows[1:]]
            self.assertEqual(names, TRICKY)
            ids = [ooxml_unescape(r[0]) for r in rows[1:]]
            self.assertEqual(ids, [v or "x" for v in TRICKY])
            # numbers are strings, never formulas or numbers
            self.assertEqual(rows[1][2], "1.5")
            with zipfile.ZipFile(path) as workbook:
                sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
            self.assertNotIn("<f>", sheet)
            self.assertNotIn("<f ", sheet)
            cells = re.findall(r"<c [^>]*>", sheet)
            self.assertEqual(len(cells), 3 * len(rows) - 1, "one empty cell")
            for cell in cells:
                self.assertRegex(cell, r'\bt="(s|inlineStr)"', "a string cell")

    def test_too_long_cell_is_a_clear_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            writer = XlsxWriter(os.path.join(tmp, "b.xlsx"))
            writer.add_sheet("contacts", ["id", "name"])
            with self.assertRaisesRegex(BackupFileError, "CSV backup format"):
                writer.write_rows([["a", "x" * 40000]])
            writer.close()
