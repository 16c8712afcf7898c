# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Property-based tests of the backup reader: whatever the bytes, it answers with
BackupFileError (a sentence for the user) or with rows the database can store; any
valid CSV round-trips.

The expected cells are written here from the contract in the brief (one CSV dialect,
formula neutralisation), not with the addon's writer, so the two sides are checked
against the contract rather than against each other.

CI runs a fixed set of examples (profile "ci", derandomized); to look for new bugs:
HYPOTHESIS_PROFILE=explore HYPOTHESIS_EXAMPLES=20000 pytest ... this file, then add
what it finds as an @example.
"""

import csv
import hashlib
import io
import json
import zipfile

from e2e import FIGURES
from hypothesis import example, given
from hypothesis import strategies as st

from odoo.addons.crm_data_backup.engine.errors import BackupFileError
from odoo.addons.crm_data_backup.tests.restore_common import open_backup
from odoo.addons.crm_data_backup.tests.test_engine_reader import (
    HYPOTHESIS,
    members,
    xlsx_bytes,
    zip_of,
)

UUID = "e2e-reader-uuid"
SETTINGS = HYPOTHESIS
# Text PostgreSQL can hold: no NUL, no lone surrogate.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)
FORMULA_LIKE = st.sampled_from(
    ["=1+1", "@SUM(A1)", "+1=2", "-2+3", "=cmd|' /C calc'!A0", "'=x", "''=x", "\t=1"]
)


def _danger(value):
    return value[:1] in ("=", "@", "\t", "\r") or (
        value[:1] in ("+", "-") and any(c in value for c in "=(|!;")
    )


def _needs(value):
    return bool(value) and (_danger(value) or (value[:1] == "'" and _needs(value[1:])))


def _cell(value):
    return "'" + value if _needs(value) else value


def _backup(
    columns,
    rows,
    csv_bytes=None,
    method=zipfile.ZIP_DEFLATED,
    entry_changes=None,
    **manifest_changes,
):
    """A backup zip with one contacts.csv as the contract describes it."""
    if csv_bytes is None:
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
        csv_bytes = out.getvalue().encode()
    manifest = _manifest(columns, len(rows), csv_bytes, entry_changes)
    manifest.update(manifest_changes)
    files = {"manifest.json": json.dumps(manifest), "contacts.csv": csv_bytes}
    return zip_of(files, method)


def _manifest(columns, count, data, entry_changes=None):
    entry = {
        "name": "contacts.csv",
        "object": "contacts",
        "model": "res.partner",
        "rows": count,
        "fields": list(columns),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    entry.update(entry_changes or {})
    return {
        "format": "crm_data_backup",
        "format_version": 1,
        "database_uuid": UUID,
        "database_name": "e2e",
        "odoo_version": "18.0",
        "addon_version": "18.0.1.0.0",
        "created_at": "2026-01-01T00:00:00Z",
        "file_format": "csv",
        "files": [entry],
    }


def _storable(value):
    """What the database can hold: no NUL, no lone surrogate, int4 integers."""
    if isinstance(value, tuple):
        return all(map(_storable, value))
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)
    if type(value) is int:
        return -(2**31) <= value < 2**31
    return True


def _read_all(data, field_types, names=None):
    """Every row the reader gives, or the BackupFileError it raises: never
    another error; a message the UI, the log and the database can hold; values
    the database can store."""
    try:
        # names: the job checks only the restored file's contents
        with open_backup(data, names, database_uuid=UUID) as reader:
            entry = reader.find_entry("res.partner", "contacts")
            if entry is None:
                return []
            rows = list(reader.iter_rows(entry, field_types))
    except BackupFileError as exc:
        message = str(exc)
        assert message, "an error without a message"
        assert "\x00" not in message and len(message) < 500, message
        message.encode("utf-8")  # no lone surrogate
        return exc
    for xmlid, values in rows:
        assert _storable(xmlid) and all(map(_storable, values.values())), values
    return rows


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes_are_refused_cleanly(data):
    FIGURES.input("random bytes (hypothesis)")
    result = _read_all(data, {"name": "char"})
    assert isinstance(result, BackupFileError) or result == []


METHODS = {
    "deflated": zipfile.ZIP_DEFLATED,
    "stored": zipfile.ZIP_STORED,
    "bzip2": zipfile.ZIP_BZIP2,
    "lzma": zipfile.ZIP_LZMA,
}


@SETTINGS
@given(
    st.binary(max_size=1024),
    st.integers(min_value=-400, max_value=400),
    st.sampled_from(sorted(METHODS)),
    st.booleans(),
)
# CI: the manifest's local header flagged UTF-8, its name not (UnicodeDecodeError)
@example(b"\x00\x08" + b"\x00" * 18 + b"\x0f", 6, "deflated", True)
@example(b"\x00\x08" + b"\x00" * 18 + b"\x0f", 6, "deflated", False)
@example(b"\xff", 47, "lzma", True)  # LZMA properties out of range (LZMAError)
@example(b"\xff\xff", -4, "stored", True)  # members before the zip (ValueError)
def test_damaged_real_zip_is_refused_cleanly(noise, where, method, checked):
    """A valid backup with random bytes written over part of it (``where`` < 0:
    from the end); ``checked``: every file checked first, or only the manifest,
    as the job does for the files it does not restore."""
    FIGURES.input("damaged zip (hypothesis)")
    data = bytearray(
        _backup(["id", "name"], [["__export__.p_1", "Ann"]], method=METHODS[method])
    )
    where = min(where, len(data)) if where >= 0 else max(len(data) + where, 0)
    data[where : where + len(noise)] = noise
    result = _read_all(bytes(data), {"name": "char"}, None if checked else set())
    assert isinstance(result, BackupFileError | list)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**18, max_value=10**4000)
    | st.floats()
    | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
MANIFEST_KEYS = ["format", "format_version", "database_uuid", "database_name"]
MANIFEST_KEYS += ["file_format", "files"]
ENTRY_KEYS = ["name", "object", "model", "rows", "fields", "sha256", "sheet"]


@SETTINGS
@given(st.sampled_from(MANIFEST_KEYS + ENTRY_KEYS), JSON)
@example("format_version", 10**4000)  # a 4,000-digit message
@example("format_version", float("nan"))
@example("rows", True)
@example("rows", 10**30)
@example("files", [1, "x", None])
@example("database_name", "\ud800\x00")  # in the message as it was
@example("database_name", [[["x"]]])
@example("fields", ["id", "na\x00me"])
@example("fields", ["id", "../name"])
@example("name", "con\x00tacts.csv")
@example("name", "sub/contacts.csv")
@example("model", "res.partner\x00")
@example("object", "con/tacts")
@example("sheet", "a" * 40)
@example("sheet", "con:tacts")
@example("sheet", ["contacts"])
def test_random_manifest_values(key, value):
    """Any JSON value in place of a manifest's or a file entry's value."""
    FIGURES.input("odd manifest value (hypothesis)")
    if key in ENTRY_KEYS:
        data = _backup(
            ["id", "name"], [["__export__.p_1", "Ann"]], entry_changes={key: value}
        )
    else:
        data = _backup(["id", "name"], [["__export__.p_1", "Ann"]], **{key: value})
    result = _read_all(data, {"name": "char"})
    assert isinstance(result, BackupFileError | list)


@SETTINGS
@given(
    st.integers(min_value=0, max_value=300000),
    st.sampled_from(["[", '{"a":', '{"files":']),
    st.sampled_from(["", "0", '"x"', "NaN", "-Infinity", "1e999999", "9" * 5000]),
)
@example(200000, "[", "")  # RecursionError in json.loads
@example(200000, '{"a":', "0")
def test_deep_or_odd_manifest_text(depth, opener, leaf):
    """Manifests nested deeper than Python recurses, or with numbers JSON does
    not have or no float holds."""
    FIGURES.input("deep or odd manifest (hypothesis)")
    closer = "]" if opener == "[" else "}"
    text = opener * depth + leaf + closer * depth
    result = _read_all(zip_of({"manifest.json": text}), {"name": "char"})
    assert isinstance(result, BackupFileError)


ENCODINGS = ["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "utf-8-sig"]


@SETTINGS
@given(
    st.lists(st.lists(TEXT, min_size=3, max_size=3), max_size=5),
    st.sampled_from(ENCODINGS),
    st.booleans(),
)
@example([["__export__.p_1", "Ané", ""]], "latin-1", True)  # Latin-1 behind a BOM
@example([["__export__.p_1", "Ann", ""]], "utf-16", False)
def test_csv_in_other_encodings(rows, encoding, bom):
    """A backup file saved again by another program, in another encoding."""
    FIGURES.input("CSV in another encoding (hypothesis)")
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["id", "name", "city"], *rows])
    raw = out.getvalue().encode(encoding, "replace")
    if bom:
        raw = b"\xef\xbb\xbf" + raw
    data = _backup(["id", "name", "city"], rows, csv_bytes=raw)
    result = _read_all(data, {"name": "char", "city": "char"})
    assert isinstance(result, BackupFileError | list)


CSV_PIECES = ['"', '""', ",", "\r", "\n", "\r\n", "\x00", "a", "é", " ", "\ufeff"]
CSV_PIECES += ["__export__.p_1", "__export__.p_2", "=1+1", "'", "\u2028", "\x85"]


@SETTINGS
@given(st.lists(st.sampled_from(CSV_PIECES), max_size=60), st.integers(0, 3))
@example(["__export__.p_1", ",", "a", "\r"], 1)  # lines ended by a lone CR
@example(["__export__.p_1", ",", '"', "a", "\r\n"], 1)  # unterminated quote
@example(["__export__.p_1", ",", "a", "\x00", "\r\n"], 1)  # NUL in a cell
@example(["__export__.p\x001", ",", "a", "\r\n"], 1)  # NUL in an external ID
@example([","] * 1000001, 1)  # a record csv would build whatever its size
def test_random_csv_structure(pieces, rows):
    """Quotes, separators, line ends and NUL in any order after a valid header."""
    FIGURES.input("CSV structure (hypothesis)")
    raw = ("id,name\r\n" + "".join(pieces)).encode()
    data = _backup(
        ["id", "name"], [[]] * rows, csv_bytes=raw, method=zipfile.ZIP_STORED
    )
    result = _read_all(data, {"name": "char"})
    assert isinstance(result, BackupFileError | list)


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_csv_bytes_with_a_valid_checksum(csv_bytes):
    """The manifest is right about a file full of random bytes."""
    FIGURES.input("random CSV bytes (hypothesis)")
    data = _backup(["id", "name"], [], csv_bytes=csv_bytes)
    result = _read_all(data, {"name": "char"})
    assert isinstance(result, BackupFileError | list)


@SETTINGS
@given(st.lists(st.lists(TEXT, min_size=0, max_size=5), max_size=12))
def test_random_csv_text_with_a_valid_checksum(rows):
    """Random rows of random width under the manifest's header."""
    FIGURES.input("random CSV text (hypothesis)")
    columns = ["id", "name", "city", "comment"]
    data = _backup(columns, rows)
    result = _read_all(data, {"name": "char", "city": "char", "comment": "text"})
    assert isinstance(result, BackupFileError | list)
    if isinstance(result, list):
        assert len(result) == len(rows)


@SETTINGS
@given(
    st.lists(
        st.tuples(st.one_of(TEXT, FORMULA_LIKE), st.one_of(TEXT, FORMULA_LIKE)),
        min_size=1,
        max_size=15,
    )
)
def test_any_text_round_trips_through_the_contract(values):
    """Text written as the contract says (quoting, newlines, commas, formulas
    neutralised) is read back exactly; an empty cell is an empty value."""
    FIGURES.input("valid CSV (hypothesis)")
    rows = [
        [f"__export__.res_partner_{i}_abcdef12", _cell(name), _cell(city)]
        for i, (name, city) in enumerate(values, start=1)
    ]
    data = _backup(["id", "name", "city"], rows)
    result = _read_all(data, {"name": "char", "city": "char"})
    assert not isinstance(result, BackupFileError), result
    got = [(values_["name"], values_["city"]) for _xmlid, values_ in result]
    assert got == [(name or False, city or False) for name, city in values]


FIELD_TYPES = ["char", "text", "html", "selection", "binary", "boolean", "integer"]
FIELD_TYPES += ["float", "monetary", "date", "datetime", "many2one", "many2many"]
# Any text a CSV file can hold (UTF-8: no lone surrogate), NUL included.
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


def _nul_examples(test):
    """An @example of a NUL in a cell of every field type (planning failed in
    PostgreSQL: "A string literal cannot contain NUL (0x00) characters")."""
    for field_type in FIELD_TYPES:
        test = example(field_type, "1\x00")(test)
    return test


@SETTINGS
@given(st.sampled_from(FIELD_TYPES), st.one_of(TEXT, ANY_TEXT))
@_nul_examples
@example("many2many", "base.a,\x00")
@example("integer", "2147483648")  # beyond int4: failed when written
@example("integer", "-" + "9" * 30)
def test_random_cells_of_typed_fields(field_type, cell):
    """A cell that does not parse is a BackupFileError naming the line, never a
    crash; one that does gives a value the database can store."""
    FIGURES.input("random typed cell (hypothesis)")
    column = "x/id" if field_type in ("many2one", "many2many") else "x"
    data = _backup(["id", column], [["__export__.p_1", cell]])
    result = _read_all(data, {"x": field_type})
    if isinstance(result, BackupFileError):
        assert "Line 2" in str(result) or "line 2" in str(result).lower()
    else:
        assert len(result) == 1


XLSX_PARTS = ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"]
XLSX_PARTS += ["[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"]


@SETTINGS
@given(
    st.lists(st.tuples(TEXT, TEXT), max_size=4),
    st.one_of(st.none(), st.text(max_size=40)),
    st.sampled_from(XLSX_PARTS),
    st.integers(min_value=-1, max_value=3000),
    st.binary(max_size=16),
)
@example([("Ann", "")], None, "xl/worksheets/sheet1.xml", 300, b"<")  # ParseError
@example([("Ann", "")], None, "xl/worksheets/sheet1.xml", -1, b"")  # ParseError
@example([("Ann", "")], "con/tacts", "xl/styles.xml", -1, b"")
@example([("Ann", "")], "c" * 32, "xl/styles.xml", -1, b"")
def test_xlsx_backups(values, sheet, part, where, noise):
    """XLSX backups with any text, any sheet name in the manifest, and one part
    of the workbook damaged (``where`` = -1: cut in half)."""
    FIGURES.input("XLSX backup (hypothesis)")
    rows = [[f"__export__.p_{i}", name, city] for i, (name, city) in enumerate(values)]
    parts = members(xlsx_bytes([["id", "name", "city"], *rows]))
    content = parts[part]
    if where < 0:
        content = content[: len(content) // 2]
    else:
        content = content[:where] + noise + content[where + len(noise) :]
    parts[part] = content
    workbook = zip_of(parts)
    columns = ["id", "name", "city"]
    manifest = _manifest(columns, len(rows), workbook, {"name": "backup.xlsx"})
    manifest["file_format"] = "xlsx"
    if sheet is not None:
        manifest["files"][0]["sheet"] = sheet
    data = zip_of({"manifest.json": json.dumps(manifest), "backup.xlsx": workbook})
    result = _read_all(data, {"name": "char", "city": "char"})
    assert isinstance(result, BackupFileError | list)
