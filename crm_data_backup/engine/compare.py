# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Compare two sets of rows of one object (two backups, or a backup and the
live data), record by record, in bounded memory.

Backup files list their records by database id, which differs between two
backups only by the records added or deleted, but live data and a restored
database may number them differently: each side is spooled to a temporary
SQLite file keyed by external ID and read back in that order, then both are
merged. Only a batch of rows and a bounded sample stay in memory.
"""

import contextlib
import datetime
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field

from .errors import BackupFileError, _lt
from .planner import normalize, same

SAMPLE_SIZE = 20
SPOOL_BATCH = 5000
# SQLite's page cache per spool, in KiB (negative: a size, not pages).
SPOOL_CACHE_KIB = 16384

ADDED = "added"
DELETED = "deleted"
CHANGED = "changed"


def _text(value):
    return value or False


def _many2many(value):
    return sorted(value or ())


def _binary(value):
    return normalize("binary", value)


def _date(value):
    # a datetime is a date too: its isoformat keeps the time
    return value.isoformat() if value else False


# One encoder per field type, as planner.normalize compares values, in a form
# JSON keeps (see ``decode``); looked up once per field, not per value.
ENCODERS = {
    "boolean": bool,
    "integer": lambda value: int(value or 0),
    "float": lambda value: float(value or 0.0),
    "monetary": lambda value: float(value or 0.0),
    "many2many": _many2many,
    "date": _date,
    "datetime": _date,
    "binary": _binary,
}


def encode(ftype, value):
    """A parsed cell as JSON, one form per value (see ``decode``)."""
    return ENCODERS.get(ftype, _text)(value)


def decode(ftype, value):
    """A spooled value back as the planner compares it (dates as dates)."""
    if ftype == "many2many":
        return frozenset(value or ())
    if ftype == "datetime" and isinstance(value, str):
        return datetime.datetime.fromisoformat(value)
    if ftype == "date" and isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value


@dataclass
class ObjectDiff:
    """Counts of one object's comparison and a sample of its changes."""

    fields: dict = field(default_factory=dict)  # name -> records whose value changed
    from_count: int = 0
    to_count: int = 0
    added: int = 0
    deleted: int = 0
    changed: int = 0
    unchanged: int = 0
    # (xmlid, field, before, after): the first changed values
    samples: list = field(default_factory=list)


class RowSpool:
    """The rows of one side in a temporary SQLite file, read back sorted by
    external ID; the file is deleted on close."""

    def __init__(self, fields, directory=None, name=""):
        # fields: (name, type) pairs, the order values are stored in
        self.fields = list(fields)
        self.name = name  # of the file spooled, for errors
        handle, self.path = tempfile.mkstemp(
            prefix="crmbackupcmp_", suffix=".sqlite", dir=directory
        )
        os.close(handle)
        self.db = sqlite3.connect(self.path)
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "temp_store = FILE",
            f"cache_size = -{SPOOL_CACHE_KIB}",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        # appended as they come; sorted once when read (SQLite's external
        # merge sort: faster than a B-tree kept sorted by random inserts)
        self.db.execute("CREATE TABLE row (xmlid TEXT NOT NULL, data TEXT NOT NULL)")
        self.count = 0

    def add(self, rows):
        """Spool ``(xmlid, {field: parsed value})`` rows; returns self."""
        encoders = [(name, ENCODERS.get(ftype, _text)) for name, ftype in self.fields]
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        batch = []
        for xmlid, values in rows:
            data = [encoder(values.get(name)) for name, encoder in encoders]
            batch.append((xmlid, dumps(data)))
            if len(batch) >= SPOOL_BATCH:
                self._insert(batch)
                batch = []
        if batch:
            self._insert(batch)
        return self

    def _insert(self, batch):
        # a side lists each external ID once (the reader checks backups)
        self.db.executemany("INSERT INTO row VALUES (?, ?)", batch)
        self.count += len(batch)

    def __iter__(self):
        """``(xmlid, JSON list of the values)`` sorted by external ID (code points:
        SQLite compares the UTF-8 bytes, which sort the same way). An external
        ID given twice is an error, found here: sorted, they are neighbours."""
        self.db.commit()
        previous = None
        query = "SELECT xmlid, data FROM row ORDER BY xmlid"
        for xmlid, data in self.db.execute(query):
            if xmlid == previous:
                raise BackupFileError(
                    _lt("External ID %(xmlid)r appears twice in %(name)r."),
                    "value",
                    xmlid=xmlid,
                    name=self.name,
                )
            previous = xmlid
            # still JSON: equal texts are equal values, decoded only if not
            yield xmlid, data

    def close(self):
        self.db.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Comparer:
    """Merge two spools of the same fields by external ID.

    ``on_difference(kind, xmlid, before, after, changed)`` (optional) is told
    every difference: ``before``/``after`` are value lists (None for the side
    without the record), ``changed`` the names of the fields that differ.
    """

    def __init__(self, fields, sample_size=SAMPLE_SIZE):
        self.fields = list(fields)  # (name, type), as the spools
        self.sample_size = sample_size

    def compare(self, spool_from, spool_to, on_difference=None):
        diff = ObjectDiff(fields={name: 0 for name, _t in self.fields})
        diff.from_count, diff.to_count = spool_from.count, spool_to.count
        left, right = iter(spool_from), iter(spool_to)
        old, new = next(left, None), next(right, None)
        while old is not None or new is not None:
            if new is None or (old is not None and old[0] < new[0]):
                diff.deleted += 1
                if on_difference:
                    on_difference(DELETED, old[0], json.loads(old[1]), None, ())
                old = next(left, None)
            elif old is None or new[0] < old[0]:
                diff.added += 1
                if on_difference:
                    on_difference(ADDED, new[0], None, json.loads(new[1]), ())
                new = next(right, None)
            else:
                if old[1] == new[1]:
                    diff.unchanged += 1
                else:
                    self._compare_record(
                        diff,
                        old[0],
                        json.loads(old[1]),
                        json.loads(new[1]),
                        on_difference,
                    )
                old, new = next(left, None), next(right, None)
        return diff

    def _compare_record(self, diff, xmlid, before, after, on_difference):
        changed = []
        for (name, ftype), left, right in zip(self.fields, before, after, strict=True):
            if left == right:
                continue
            if ftype in ("float", "monetary") and same(
                ftype, left or 0.0, right or 0.0
            ):
                continue
            changed.append(name)
            diff.fields[name] += 1
            if len(diff.samples) < self.sample_size:
                diff.samples.append(
                    (xmlid, name, decode(ftype, left), decode(ftype, right))
                )
        if not changed:
            diff.unchanged += 1
            return
        diff.changed += 1
        if on_difference:
            on_difference(CHANGED, xmlid, before, after, changed)


def compare_rows(fields, rows_from, rows_to, on_difference=None, **options):
    """Compare two iterables of ``(xmlid, {field: parsed value})`` on
    ``fields`` ((name, type) pairs); returns an ObjectDiff. ``names``: of the
    two sides, for errors."""
    directory = options.pop("directory", None)
    name_from, name_to = options.pop("names", ("", ""))
    with (
        RowSpool(fields, directory, name_from) as spool_from,
        RowSpool(fields, directory, name_to) as spool_to,
    ):
        spool_from.add(rows_from)
        spool_to.add(rows_to)
        return Comparer(fields, **options).compare(spool_from, spool_to, on_difference)
