# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Property-based tests of the backup reader: whatever the bytes, it answers with
BackupFileError (a sentence for the user) or with rows; any valid CSV round-trips.

The expected cells are written here from the contract in the brief (one CSV dialect,
formula neutralisation), not with the addon's writer, so the two sides are checked
against the contract rather than against each other.
"""

import csv
import hashlib
import io
import json
import zipfile

from e2e import FIGURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.addons.crm_data_backup.engine.reader import BackupFileError, BackupReader

UUID = "e2e-reader-uuid"
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
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


def _backup(columns, rows, csv_bytes=None, **manifest_changes):
    """A backup zip with one contacts.csv as the contract describes it."""
    if csv_bytes is None:
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
        csv_bytes = out.getvalue().encode()
    manifest = {
        "format": "crm_data_backup",
        "format_version": 1,
        "database_uuid": UUID,
        "database_name": "e2e",
        "odoo_version": "18.0",
        "addon_version": "18.0.1.0.0",
        "created_at": "2026-01-01T00:00:00Z",
        "file_format": "csv",
        "files": [
            {
                "name": "contacts.csv",
                "object": "contacts",
                "model": "res.partner",
                "rows": len(rows),
                "fields": list(columns),
                "sha256": hashlib.sha256(csv_bytes).hexdigest(),
            }
        ],
    }
    manifest.update(manifest_changes)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("contacts.csv", csv_bytes)
    return buf.getvalue()


def _read_all(data, field_types):
    """Every row the reader gives, or the BackupFileError it raises."""
    try:
        with BackupReader(data, database_uuid=UUID) as reader:
            entry = reader.find_entry("res.partner", "contacts")
            if entry is None:
                return []
            return list(reader.iter_rows(entry, field_types))
    except BackupFileError as exc:
        assert str(exc), "an error without a message"
        return exc


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes_are_refused_cleanly(data):
    FIGURES.input("random bytes (hypothesis)")
    result = _read_all(data, {"name": "char"})
    assert isinstance(result, BackupFileError) or result == []


@SETTINGS
@given(st.binary(max_size=1024), st.integers(min_value=0, max_value=400))
def test_damaged_real_zip_is_refused_cleanly(noise, where):
    """A valid backup with random bytes written over part of it."""
    FIGURES.input("damaged zip (hypothesis)")
    data = bytearray(_backup(["id", "name"], [["__export__.p_1", "Ann"]]))
    where = min(where, len(data))
    data[where : where + len(noise)] = noise
    result = _read_all(bytes(data), {"name": "char"})
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


@SETTINGS
@given(
    st.sampled_from(
        ["boolean", "integer", "float", "date", "datetime", "many2one", "many2many"]
    ),
    TEXT,
)
def test_random_cells_of_typed_fields(field_type, cell):
    """A cell that does not parse is a BackupFileError naming the line, never a
    crash."""
    FIGURES.input("random typed cell (hypothesis)")
    column = "x/id" if field_type in ("many2one", "many2many") else "x"
    data = _backup(["id", column], [["__export__.p_1", cell]])
    result = _read_all(data, {"x": field_type})
    if isinstance(result, BackupFileError):
        assert "Line 2" in str(result) or "line 2" in str(result).lower()
    else:
        assert len(result) == 1
