# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import datetime
import hashlib
import io
import json
import os
import secrets
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests.common import TransactionCase

from ..engine.errors import BackupFileError
from ..engine.reader import MAX_RECORD_SEPARATORS, BackupReader
from .restore_common import csv_bytes, file_spec, make_zip, open_backup

# Hypothesis: CI runs the same examples every time (derandomized, no example
# database), so a red build is a real regression and replays identically;
# HYPOTHESIS_PROFILE=explore searches new examples (HYPOTHESIS_EXAMPLES of them,
# failures kept in .hypothesis/ and replayed first). Add each bug it finds as
# an @example. Shared with tests/test_reader_properties.py.
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_HEALTH,
)
settings.register_profile(
    "explore",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "5000")),
    deadline=None,
    print_blob=True,
    suppress_health_check=_HEALTH,
)
HYPOTHESIS = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

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


def zip_of(members, method=zipfile.ZIP_DEFLATED):
    """A zip of ``{name: bytes or text}``, in that order (no manifest added),
    the same bytes every time (no clock: hypothesis replays it exactly)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


def manifest_text(entries=(), **changes):
    manifest = {
        "format": "crm_data_backup",
        "format_version": 1,
        "database_uuid": "test-uuid",
        "files": list(entries),
    }
    manifest.update(changes)
    return json.dumps(manifest)


def local_header(data, member):
    """Offset of the local header of ``member`` in the zip ``data``."""
    start = data.find(b"PK\x03\x04")
    while data[start + 30 : start + 30 + len(member)] != member.encode():
        start = data.find(b"PK\x03\x04", start + 1)
    return start


def undecodable_name(data, member):
    """``data`` with the local header of ``member`` flagged UTF-8 and its name
    starting with a byte UTF-8 never uses (the central directory is intact)."""
    data = bytearray(data)
    start = local_header(data, member)
    data[start + 7] |= 0x08  # general purpose bit 11: the name is UTF-8
    data[start + 30] = 0xFF
    return bytes(data)


def xlsx_bytes(rows, sheet="contacts"):
    """An XLSX workbook of text cells, the same bytes every time."""
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    book.set_properties({"created": datetime.datetime(2026, 1, 1)})
    worksheet = book.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            worksheet.write_string(r, c, value)
    book.close()
    return buf.getvalue()


def xlsx_backup(book):
    return make_zip(
        [contacts(name="backup.xlsx", data=book)],
        manifest_overrides={"file_format": "xlsx"},
    )


def members(data):
    """``{name: content}`` of the zip ``data``, in order."""
    source = zipfile.ZipFile(io.BytesIO(data))
    return {info.filename: source.read(info) for info in source.infolist()}


class TestBackupReader(TransactionCase):
    def read_all(self, data, **kw):
        kw.setdefault("database_uuid", "test-uuid")
        with open_backup(data, **kw) as reader:
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
            BackupReader(data, database_uuid="test-uuid").open().check_files()
        with self.assertRaises(BackupFileError):
            BackupReader(data, database_uuid="test-uuid").open().check_files(
                {"companies.csv"}
            )
        with open_backup(data, {"contacts.csv"}, database_uuid="test-uuid") as reader:
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
            BackupReader(buf.getvalue(), database_uuid="test-uuid").open().check_files(
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
        with open_backup(make_zip([contacts()]), database_uuid="test-uuid") as reader:
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
        with open_backup(data, database_uuid="test-uuid") as reader:
            entry = reader.find_entry("res.partner")
            with self.assertRaises(BackupFileError) as cm:
                list(reader.iter_rows(entry, {"is_company": "boolean"}))
        self.assertIn("not True or False", str(cm.exception))

    def test_xlsx_backup(self):
        data = xlsx_backup(xlsx_bytes([HEADER] + ROWS))
        rows = self.read_all(data)
        self.assertEqual(rows[1][1]["name"], "=cmd|' /C calc'!A0")
        self.assertEqual(rows[0][1]["category_id"], ("base.res_partner_category_0",))

    # --- bad input: always a BackupFileError with a sentence -------------------

    def assertClean(self, exc):
        """A message the UI, the log and the database can all hold."""
        message = str(exc)
        self.assertTrue(message)
        self.assertLess(len(message), 500, message)
        message.encode("utf-8")  # no lone surrogate
        self.assertNotIn("\x00", message)

    def assertRefused(self, data, code, words=None, names=None, types=None):
        with (
            self.assertRaises(BackupFileError) as cm,
            open_backup(data, names, database_uuid="test-uuid") as reader,
        ):
            entry = reader.find_entry("res.partner")
            list(reader.iter_rows(entry, types or TYPES))
        self.assertEqual(cm.exception.code, code, str(cm.exception))
        if words:
            self.assertIn(words, str(cm.exception))
        self.assertClean(cm.exception)
        return cm.exception

    def test_deeply_nested_manifest(self):
        """json.loads raised RecursionError on a manifest nested 200,000 deep."""
        for text in (
            "[" * 200000 + "]" * 200000,
            '{"a":' * 100000 + "1" + "}" * 100000,
            manifest_text(files="[" * 5000 + "]" * 5000)
            .replace('"[', "[")
            .replace(']"', "]"),
        ):
            self.assertRefused(zip_of({"manifest.json": text}), "manifest", "deeply")

    def test_nul_in_cells(self):
        """A NUL byte in a cell reached PostgreSQL ("A string literal cannot
        contain NUL"): refused, naming the line and the field, for every type,
        the external ID and relational cells."""
        for ftype in (
            *("char", "text", "html", "selection", "binary"),
            *("integer", "float", "monetary", "boolean", "date", "datetime"),
        ):
            rows = [["a.b", "1\x00"]]
            data = make_zip([file_spec("contacts", "res.partner", ["id", "x"], rows)])
            exc = self.assertRefused(data, "value", "Line 2", types={"x": ftype})
            self.assertIn("'x': the value contains a NUL character", str(exc))
        rows = [r[:] for r in ROWS]
        rows[1][0] = "__export__.p\x002"
        self.assertRefused(
            make_zip([contacts(rows=rows)]),
            "value",
            "Line 3 of 'contacts.csv': the external ID",
        )
        for index, field in ((3, "parent_id"), (4, "category_id")):
            rows = [r[:] for r in ROWS]
            rows[0][index] = "base.a,__export__.\x00"
            exc = self.assertRefused(make_zip([contacts(rows=rows)]), "value", "Line 2")
            self.assertIn(f"{field!r}: the value contains a NUL", str(exc))

    def test_member_name_not_utf8(self):
        """CI (hypothesis): a local header flagged UTF-8 with a name that is not
        made zipfile raise UnicodeDecodeError: when reading the manifest, when
        checking a file, when reading a file the check skipped, when copying a
        workbook out, and inside the workbook."""
        data = make_zip([contacts()])
        for member, names in (
            ("manifest.json", None),
            ("contacts.csv", None),
            ("contacts.csv", set()),
        ):
            exc = self.assertRefused(
                undecodable_name(data, member), "damaged", names=names
            )
            self.assertIn(repr(member), str(exc))
        book = xlsx_bytes([HEADER] + ROWS)
        self.assertRefused(
            undecodable_name(xlsx_backup(book), "backup.xlsx"), "damaged", names=set()
        )
        inner = undecodable_name(book, "xl/worksheets/sheet1.xml")
        self.assertRefused(xlsx_backup(inner), "xlsx", "not a readable XLSX")

    def test_damaged_lzma_member(self):
        """zipfile let lzma.LZMAError out for damaged LZMA properties."""
        data = bytearray(
            zip_of({"manifest.json": manifest_text()}, method=zipfile.ZIP_LZMA)
        )
        start = local_header(data, "manifest.json") + 30 + len("manifest.json")
        data[start + 4] = 0xFF  # lc/lp/pb out of range
        self.assertRefused(bytes(data), "damaged", "'manifest.json'")

    def test_member_offset_before_the_zip(self):
        """A central directory placed later than its offset says moves members
        before the start: zipfile's seek raised ValueError."""
        data = bytearray(zip_of({"manifest.json": manifest_text()}))
        end = data.rfind(b"PK\x05\x06")
        offset = int.from_bytes(data[end + 16 : end + 20], "little")
        data[end + 16 : end + 20] = (offset + 10).to_bytes(4, "little")
        self.assertRefused(bytes(data), "damaged", "'manifest.json'")

    def test_damaged_sheet_in_xlsx(self):
        """openpyxl reads a sheet as it is iterated: XML errors, a shared string
        or a column that does not exist were raised as they are."""
        sheet = "xl/worksheets/sheet1.xml"
        for damage in (
            lambda xml: xml[: len(xml) // 2],  # ParseError
            lambda xml: xml.replace(b"<v>5</v>", b"<v>99</v>"),  # IndexError
            lambda xml: xml.replace(b'r="B2"', b'r="ZZZZ2"'),  # KeyError
        ):
            parts = members(xlsx_bytes([HEADER] + ROWS))
            damaged = damage(parts[sheet])
            self.assertNotEqual(damaged, parts[sheet])
            parts[sheet] = damaged
            data = xlsx_backup(zip_of(parts))
            self.assertRefused(data, "xlsx", "not a readable XLSX")

    def test_overlong_record(self):
        """csv keeps a whole record in memory, however many values: refused
        once it holds more separators than any backup's record."""
        data = b"id,name\r\n" + b"," * (MAX_RECORD_SEPARATORS + 1) + b"\r\n"
        entry = {
            "name": "contacts.csv",
            "object": "contacts",
            "model": "res.partner",
            "rows": 1,
            "fields": ["id", "name"],
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        backup = zip_of(
            {"manifest.json": manifest_text([entry]), "contacts.csv": data},
            method=zipfile.ZIP_STORED,
        )
        self.assertRefused(
            backup,
            "too_large",
            "Line 2 of 'contacts.csv' is longer",
            types={"name": "char"},
        )

    def test_external_id_too_long(self):
        """ir_model_data's unique index refuses a very long external ID when a
        deleted record is recreated."""
        rows = [r[:] for r in ROWS]
        rows[0][0] = "__export__." + "p" * 600
        self.assertRefused(
            make_zip([contacts(rows=rows)]),
            "value",
            "Line 2 of 'contacts.csv': the external ID is longer",
        )

    def test_manifest_numbers(self):
        """Huge integers, floats, NaN, booleans where the manifest has counts."""
        self.assertRefused(
            zip_of({"manifest.json": manifest_text(format_version=10**4000)}),
            "manifest",
            "no valid format version",
        )
        self.assertRefused(
            zip_of({"manifest.json": manifest_text().replace("1", "NaN", 1)}),
            "manifest",
            "not valid JSON",
        )
        for rows in (True, 10**20, 1.0, -1, "1"):
            data = make_zip([contacts(row_count=rows)])
            self.assertRefused(data, "manifest", "invalid file entry")

    def test_manifest_names(self):
        """Names of files, models, objects, sheets and columns with NUL, control
        characters, lone surrogates or path separators."""
        for change, words in (
            ({"name": "sub/contacts.csv"}, "unsafe name"),
            ({"name": "con\x00tacts.csv"}, "unsafe name"),
            ({"name": "con\ud800tacts.csv"}, "unsafe name"),
            ({"model": "res.partner\x00"}, "invalid model name"),
            ({"object": "con/tacts"}, "invalid object key"),
            ({"object": "con\x01tacts"}, "invalid object key"),
            ({"sheet": "con/tacts"}, "invalid sheet name"),
            ({"sheet": "c" * 32}, "invalid sheet name"),
            ({"sheet": ["contacts"]}, "invalid sheet name"),
            ({"fields": ["id", "na\x00me"]}, "invalid column"),
            ({"fields": ["id", "../name"]}, "invalid column"),
            ({"fields": ["id", "name", "name"]}, "column of 'contacts.csv' twice"),
        ):
            parts = members(make_zip([contacts()]))
            manifest = json.loads(parts["manifest.json"])
            manifest["files"][0].update(change)
            parts["manifest.json"] = json.dumps(manifest)
            data = zip_of(parts)
            self.assertRefused(data, "manifest", words)

    def test_control_character_in_entry_name(self):
        name = "con\x01tacts.csv"
        data = make_zip([contacts(name=name)])
        self.assertRefused(data, "unsafe_name", "unsafe name")

    def test_foreign_database_name(self):
        """The other database's name goes into the message: not as it is when it
        holds NUL, a lone surrogate or a nested value."""
        for name in ("\ud800\x00", ["x"] * 3, 12):
            data = make_zip(
                [contacts()],
                database_uuid="other",
                manifest_overrides={"database_name": name},
            )
            self.assertRefused(data, "foreign_database", "(unknown)")

    def test_encodings_and_line_ends(self):
        """UTF-16, Latin-1 behind a UTF-8 BOM, an unterminated quote: refused;
        lines ended by a lone CR are CSV too."""
        text = csv_bytes(HEADER, ROWS).decode()
        for raw, code in (
            (text.encode("utf-16"), "encoding"),
            (
                b"\xef\xbb\xbf" + text.replace("Alice", "Alicé").encode("latin-1"),
                "encoding",
            ),
            (text.encode()[:-2] + b'"x\r\n', "csv"),  # ends in a quoted cell
        ):
            self.assertRefused(make_zip([contacts(data=raw)]), code)
        rows = self.read_all(
            make_zip([contacts(data=text.replace("\r\n", "\r").encode())])
        )
        self.assertEqual(len(rows), 2)

    @HYPOTHESIS
    @given(st.binary(max_size=2048))
    def test_random_bytes(self, data):
        # Anything that is not a valid backup is rejected with our error only.
        try:
            self.read_all(data)
        except BackupFileError as exc:
            self.assertTrue(str(exc))

    @HYPOTHESIS
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
