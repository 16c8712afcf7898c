# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import io
import json
import secrets
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests.common import TransactionCase

from ..engine.cells import (
    danger,
    needs,
    neutralise,
    parse_cell,
    unneutralise,
)
from ..engine.reader import BackupFileError, BackupReader
from .restore_common import csv_bytes, file_spec, make_zip

HEADER = ["id", "name", "email", "parent_id/id", "category_id/id"]
ROWS = [
    ["__export__.p_1", "Alice", "a@x.com", "", "base.res_partner_category_0"],
    ["__export__.p_2", "'=cmd|' /C calc'!A0", "", "__export__.p_1", ""],
]
TYPES = {
    "name": "char",
    "email": "char",
    "parent_id": "many2one",
    "category_id": "many2many",
}


def contacts(**kw):
    return file_spec("contacts", "res.partner", HEADER, ROWS, **kw)


class TestRestoreReader(TransactionCase):
    def read_all(self, data, **kw):
        kw.setdefault("database_uuid", "test-uuid")
        with BackupReader(data, **kw) as reader:
            entry = reader.find_entry("res.partner", "contacts")
            return list(reader.iter_rows(entry, TYPES))

    def assertRejected(self, data, code, words, **kw):
        with self.assertRaises(BackupFileError) as cm:
            self.read_all(data, **kw)
        self.assertEqual(cm.exception.code, code, str(cm.exception))
        self.assertIn(words, str(cm.exception))

    def test_unsupported_compression(self):
        """zipfile raises NotImplementedError for a compression method it does
        not know (e.g. an encrypting archiver's): a clear error, not a crash."""
        data = bytearray(make_zip([contacts()]))
        name = b"contacts.csv"
        for signature, method_at, name_at in (
            (b"PK\x03\x04", 8, 30),
            (b"PK\x01\x02", 10, 46),
        ):
            start = data.find(signature)
            while start != -1:
                if data[start + name_at : start + name_at + len(name)] == name:
                    data[start + method_at : start + method_at + 2] = (99).to_bytes(
                        2, "little"
                    )
                start = data.find(signature, start + 1)
        self.assertRejected(bytes(data), "damaged", "'contacts.csv' is damaged")

    def test_good_file(self):
        rows = self.read_all(make_zip([contacts()]))
        self.assertEqual(
            rows[0],
            (
                "__export__.p_1",
                {
                    "name": "Alice",
                    "email": "a@x.com",
                    "parent_id": False,
                    "category_id": ("base.res_partner_category_0",),
                },
            ),
        )
        # The neutralised formula comes back as it was typed.
        self.assertEqual(rows[1][1]["name"], "=cmd|' /C calc'!A0")
        self.assertEqual(rows[1][1]["parent_id"], "__export__.p_1")

    def test_empty_file(self):
        self.assertRejected(b"", "empty", "empty")

    def test_not_a_zip(self):
        self.assertRejected(b"name,email\nA,b\n", "not_zip", "not a backup zip")

    def test_truncated_zip(self):
        data = make_zip([contacts()])
        self.assertRejected(data[: len(data) // 2], "not_zip", "truncated")
        # Truncated inside a member: the central directory is intact but the
        # data is cut, caught while checking.
        buf = io.BytesIO(make_zip([contacts()]))
        raw = bytearray(buf.getvalue())
        start = raw.find(b"contacts.csv") + len("contacts.csv")
        raw[start + 5 : start + 15] = b"\x00" * 10
        with self.assertRaises(BackupFileError) as cm:
            self.read_all(bytes(raw))
        self.assertIn(cm.exception.code, ("damaged", "checksum", "encoding"))

    def test_zip_bomb_declared_size(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("contacts.csv", b"0" * (30 * 1024 * 1024))
        self.assertRejected(buf.getvalue(), "zip_bomb", "zip bomb")

    def test_zip_total_size_limit(self):
        data = make_zip([contacts()])
        self.assertRejected(data, "zip_bomb", "more than", max_total_size=100)

    def test_path_traversal(self):
        for name in ("../evil.csv", "/etc/passwd", "a/../../b.csv", "C:/x.csv", "a\\b"):
            data = make_zip([contacts()], extra={name: b"x"})
            self.assertRejected(data, "unsafe_name", "unsafe name")

    def test_missing_manifest(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("contacts.csv", csv_bytes(HEADER, ROWS))
        self.assertRejected(buf.getvalue(), "no_manifest", "manifest.json")

    def test_invalid_manifest(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("manifest.json", b"{not json")
        self.assertRejected(buf.getvalue(), "manifest", "not valid JSON")
        data = make_zip([contacts()], manifest_overrides={"format": "other"})
        self.assertRejected(data, "manifest", "does not describe")

    def test_newer_format(self):
        data = make_zip([contacts()], manifest_overrides={"format_version": 2})
        self.assertRejected(data, "newer_format", "newer version")

    def test_wrong_checksum(self):
        data = make_zip([contacts(sha256="0" * 64)])
        self.assertRejected(data, "checksum", "checksum")

    def test_validate_named_files(self):
        """The job reads one object's file: only that one's content is checked
        again, but every listed file must still be there."""
        companies = file_spec("companies", "res.partner", HEADER, ROWS, sha256="0" * 64)
        data = make_zip([contacts(), companies])
        with self.assertRaises(BackupFileError):
            BackupReader(data, database_uuid="test-uuid").validate()
        with self.assertRaises(BackupFileError):
            BackupReader(data, database_uuid="test-uuid").validate({"companies.csv"})
        reader = BackupReader(data, database_uuid="test-uuid")
        reader.validate({"contacts.csv"})
        entry = reader.find_entry("res.partner", "contacts")
        self.assertEqual(len(list(reader.iter_rows(entry, TYPES))), 2)
        # A listed file that is missing is still an error.
        missing = make_zip([contacts()])
        manifest = json.loads(
            zipfile.ZipFile(io.BytesIO(missing)).read("manifest.json")
        )
        manifest["files"].append(dict(manifest["files"][0], name="companies.csv"))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("contacts.csv", csv_bytes(HEADER, ROWS))
            zf.writestr("manifest.json", json.dumps(manifest))
        with self.assertRaises(BackupFileError) as cm:
            BackupReader(buf.getvalue(), database_uuid="test-uuid").validate(
                {"contacts.csv"}
            )
        self.assertEqual(cm.exception.code, "missing_file")

    def test_tampered_content(self):
        good = make_zip([contacts()])
        manifest = json.loads(zipfile.ZipFile(io.BytesIO(good)).read("manifest.json"))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("contacts.csv", csv_bytes(HEADER, ROWS[:1]))
            zf.writestr("manifest.json", json.dumps(manifest))
        self.assertRejected(buf.getvalue(), "checksum", "altered")

    def test_foreign_database(self):
        data = make_zip([contacts()], database_uuid="other-db")
        self.assertRejected(data, "foreign_database", "another database")
        # Acknowledged: readable.
        rows = self.read_all(data, acknowledge_foreign=True)
        self.assertEqual(len(rows), 2)

    def test_unknown_extra_column(self):
        data = make_zip(
            [contacts(data=csv_bytes(HEADER + ["x_hack"], [r + ["1"] for r in ROWS]))]
        )
        self.assertRejected(data, "column", "unknown columns 'x_hack'")

    def test_missing_column(self):
        data = make_zip([contacts(data=csv_bytes(HEADER[:-1], [r[:-1] for r in ROWS]))])
        self.assertRejected(data, "column", "missing columns 'category_id/id'")

    def test_row_with_extra_values(self):
        data = make_zip([contacts(rows=[ROWS[0] + ["extra"], ROWS[1]])])
        self.assertRejected(data, "column", "6 values for 5 columns")

    def test_selected_field_absent_from_file(self):
        # e.g. the field was added, or removed from the backup, since then.
        with BackupReader(make_zip([contacts()]), database_uuid="test-uuid") as reader:
            entry = reader.find_entry("res.partner")
            with self.assertRaises(BackupFileError) as cm:
                list(reader.iter_rows(entry, {"phone": "char"}))
        self.assertIn("no column for phone", str(cm.exception))

    def test_wrong_encoding(self):
        latin = csv_bytes(HEADER, ROWS).decode().replace("Alice", "Alicé")
        data = make_zip([contacts(data=latin.encode("latin-1"))])
        self.assertRejected(data, "encoding", "UTF-8")

    def test_huge_value(self):
        big = [["__export__.p_1", secrets.token_hex(5 * 1024 * 1024), "", "", ""]]
        data = make_zip([contacts(rows=big)])
        self.assertRejected(data, "too_large", "more than the 1.0 MB allowed")

    def test_row_count_mismatch(self):
        data = make_zip([contacts(row_count=5)])
        self.assertRejected(data, "rows", "incomplete")

    def test_unlisted_file(self):
        data = make_zip([contacts()], extra={"payload.exe": b"MZ"})
        self.assertRejected(data, "extra_file", "does not list")

    def test_bad_cell_value(self):
        data = make_zip(
            [
                {
                    "name": "contacts.csv",
                    "object": "contacts",
                    "model": "res.partner",
                    "fields": ["id", "is_company"],
                    "rows": [["__export__.p_1", "maybe"]],
                }
            ]
        )
        with BackupReader(data, database_uuid="test-uuid") as reader:
            entry = reader.find_entry("res.partner")
            with self.assertRaises(BackupFileError) as cm:
                list(reader.iter_rows(entry, {"is_company": "boolean"}))
        self.assertIn("not True or False", str(cm.exception))

    def test_xlsx_backup(self):
        import xlsxwriter

        book_buf = io.BytesIO()
        book = xlsxwriter.Workbook(book_buf, {"in_memory": True})
        sheet = book.add_worksheet("contacts")
        for r, row in enumerate([HEADER] + ROWS):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
        book.close()
        data = make_zip(
            [contacts(name="backup.xlsx", data=book_buf.getvalue())],
            manifest_overrides={"file_format": "xlsx"},
        )
        rows = self.read_all(data)
        self.assertEqual(rows[1][1]["name"], "=cmd|' /C calc'!A0")
        self.assertEqual(rows[0][1]["category_id"], ("base.res_partner_category_0",))

    def test_cells(self):
        for value in ("=1+1", "@SUM(A1)", "+1=2", "-2+3=1", "'=x", "''=x", "\tx"):
            self.assertTrue(needs(value), value)
            self.assertEqual(unneutralise(neutralise(value)), value)
        for value in ("+33 1 23 45", "-5", "'quoted'", "plain", ""):
            self.assertEqual(neutralise(value), value)
            self.assertEqual(unneutralise(value), value)
        self.assertEqual(parse_cell("float", "1.5"), 1.5)
        self.assertEqual(parse_cell("integer", "0"), 0)
        self.assertIs(parse_cell("char", ""), False)
        self.assertEqual(parse_cell("many2many", ""), ())
        self.assertEqual(str(parse_cell("date", "2026-01-31")), "2026-01-31")

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.binary(max_size=2048))
    def test_random_bytes(self, data):
        # Anything that is not a valid backup is rejected with our error only.
        try:
            self.read_all(data)
        except BackupFileError as exc:
            self.assertTrue(str(exc))

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(
            st.lists(st.text(max_size=20), min_size=0, max_size=7),
            min_size=0,
            max_size=8,
        )
    )
    def test_random_csv(self, rows):
        raw = csv_bytes(HEADER, rows)
        data = make_zip([contacts(data=raw, row_count=len(rows))])
        try:
            parsed = self.read_all(data)
        except BackupFileError as exc:
            self.assertTrue(str(exc))
        else:
            self.assertEqual(len(parsed), len(rows))

    @given(st.text(max_size=30))
    def test_neutralise_round_trip(self, value):
        self.assertEqual(unneutralise(neutralise(value)), value)
        # What a spreadsheet sees never starts a formula.
        self.assertFalse(danger(neutralise(value)))
