# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Write a restore plan through a target (the ORM in production), in batches."""

import datetime
import gzip
import io
import itertools
import json
from collections import defaultdict

UNDO_FORMAT = 3


def to_orm(ftype, value):
    """Planner value -> value for ``Model.write``."""
    if ftype == "many2many":
        return [(6, 0, sorted(value or ()))]
    return value


def _json_default(value):
    if isinstance(value, datetime.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} values cannot be saved")


def dumps(values_by_id):
    """``{id: {field: value}}`` as compact JSON (ids become strings)."""
    return json.dumps(values_by_id, default=_json_default, separators=(",", ":"))


def from_json(ftype, value):
    if value in (None, False):
        return False if ftype != "many2many" else frozenset()
    if ftype == "date":
        return datetime.date.fromisoformat(value)
    if ftype == "datetime":
        return datetime.datetime.fromisoformat(value)
    if ftype == "many2many":
        return frozenset(value)
    return value


def _values_from_json(data, field_types):
    return {
        int(res_id): {f: from_json(field_types[f], v) for f, v in vals.items()}
        for res_id, vals in data.items()
    }


class UndoWriter:
    """What a restore replaces, batch by batch, then every cell it changed and
    the records it created: gzipped JSON lines (a header, a line per batch or
    journal page, a trailer)."""

    def __init__(self, fileobj, model, field_types):
        self.gzip = gzip.GzipFile(fileobj=fileobj, mode="wb")
        self._line({"format": UNDO_FORMAT, "model": model, "fields": field_types})

    def _line(self, data):
        self.gzip.write(json.dumps(data, separators=(",", ":")).encode() + b"\n")

    def add(self, before):
        """``before`` (``{id: {field: value}}``) as JSON bytes: ``dumps()``'s,
        or a ChangeSpool's."""
        if before != b"{}":
            self.gzip.write(b'{"values":' + before + b"}\n")

    def add_change(self, change):
        """A page of an UndoJournal's ``changes()``."""
        if change[0] == "rows":
            _kind, table, model, cells = change
            self._line({"rows": table, "model": model, "cells": cells})
        else:
            _kind, key, sets = change
            self._line({"links": key, "sets": sets})

    def close(self, created_ids, created=None):
        """``created_ids``: the restored object's records it created;
        ``created``: ``{model: ids}`` of every record created."""
        self._line({"created_ids": sorted(created_ids), "created": created or {}})
        self.gzip.close()


class UndoReader:
    """What an UndoWriter wrote (formats 1 and 2: without journal): ``model``,
    ``types``, the saved values by ``batches()``, the journal by ``changes()``,
    then ``created_ids`` and ``created``."""

    def __init__(self, blob):
        self.blob = blob
        header = next(self._lines())
        if header.get("format") not in (1, 2, UNDO_FORMAT):
            raise ValueError("unknown undo format")
        self.header = header
        self.model = header["model"]
        self.types = header["fields"]
        self.created_ids = header.get("created_ids", [])
        self.created = {}

    def _lines(self):
        with gzip.GzipFile(fileobj=io.BytesIO(self.blob)) as file:
            for line in file:
                yield json.loads(line)

    def batches(self):
        """``{id: {field: value}}`` per batch; ``created_ids`` is set after."""
        if "values" in self.header:  # format 1: everything in one document
            yield _values_from_json(self.header["values"], self.types)
            return
        for data in itertools.islice(self._lines(), 1, None):
            if "values" in data:
                yield _values_from_json(data["values"], self.types)
            elif "created_ids" in data:
                self.created_ids = data["created_ids"]
                self.created = data.get("created", {})

    def changes(self):
        """The journal's pages, as ``UndoJournal.changes()`` gave them."""
        for data in itertools.islice(self._lines(), 1, None):
            if "rows" in data:
                cells = {int(k): v for k, v in data["cells"].items()}
                yield "rows", data["rows"], data["model"], cells
            elif "links" in data:
                sets = {int(k): v for k, v in data["sets"].items()}
                yield "links", tuple(data["links"]), sets


class ChangeSpool:
    """A plan's changes kept in a binary file (one JSON line per batch)
    rather than in memory, read back batch by batch."""

    def __init__(self, fileobj):
        self.file = fileobj
        self.count = 0

    def add(self, changes, before):
        if changes:
            self.file.write(f"{dumps(changes)}\n{dumps(before)}\n".encode())
            self.count += len(changes)

    def batches(self, field_types):
        """``(changes, before as JSON bytes)`` per batch, in order."""
        self.file.seek(0)
        for changes in self.file:
            before = next(self.file)
            yield _values_from_json(json.loads(changes), field_types), before.rstrip()


class Applier:
    """Apply ``{id: {field: value}}`` through ``target``.

    ``target`` has ``write_values(ids, vals)``, ``create_record(xmlid, vals) -> id`` (None: not recreated),
    ``flush()``. Records with identical values share one write. A bulk target
    (``write_rows({id: vals})``) gets instead batches of records sharing a
    field set, whatever their values.
    """

    def __init__(self, target, field_types, batch_size=1000, progress=None, total=None):
        self.target = target
        self.field_types = field_types
        self.batch_size = batch_size
        self.progress = progress
        # What the progress reports count down from (the plan's estimate
        # when changes come in parts).
        self.total = total or 0
        self.done = 0
        self.records_written = 0

    def _vals(self, values):
        return {f: to_orm(self.field_types[f], v) for f, v in values.items()}

    def _batches(self, changes):
        """``(ids, vals)``; for a bulk target, ``vals`` is ``{id: vals}``."""
        if getattr(self.target, "bulk", False):
            sets = defaultdict(list)
            for res_id, values in changes.items():
                sets[tuple(sorted(values))].append(res_id)
            for ids in sets.values():
                ids.sort()
                for start in range(0, len(ids), self.batch_size):
                    chunk = ids[start : start + self.batch_size]
                    yield chunk, {i: self._vals(changes[i]) for i in chunk}
            return
        groups = defaultdict(list)
        for res_id, values in changes.items():
            key = tuple(sorted(values.items(), key=lambda item: item[0]))
            groups[key].append(res_id)
        for key, ids in groups.items():
            vals = self._vals(dict(key))
            for start in range(0, len(ids), self.batch_size):
                yield ids[start : start + self.batch_size], vals

    def write_changes(self, changes):
        """Write a part of the changes, their tracking included."""
        pending = 0
        bulk = getattr(self.target, "bulk", False)
        for chunk, vals in self._batches(changes):
            if bulk:
                self.target.write_rows(vals)
            else:
                self.target.write_values(chunk, vals)
            self.done += len(chunk)
            pending += len(chunk)
            # A bulk batch is flushed on its own: its UPDATEs are one unit.
            if bulk or pending >= self.batch_size:
                self.target.flush()
                pending = 0
                if self.progress:
                    self.progress(self.done, max(self.total - self.done, 0))
        self._finish_target()
        self.records_written += len(changes)

    def finish(self, recreate=None):
        """Recreate records, then the counts of everything written."""
        created = {}
        taken = []
        for xmlid, values in (recreate or {}).items():
            res_id = self.target.create_record(xmlid, self._vals(values))
            if res_id:
                created[xmlid] = res_id
            else:
                # the external ID now names another record: left alone
                taken.append(xmlid)
            self.done += 1
        if created:
            self._finish_target()
        if self.progress:
            self.progress(self.done, 0)
        return {
            "records_written": self.records_written,
            "records_created": len(created),
            "created_ids": sorted(created.values()),
            "ids_taken": taken,
        }

    def _finish_target(self):
        self.target.flush()
        finish = getattr(self.target, "finish", None)
        if finish:
            finish()
