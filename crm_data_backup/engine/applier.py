# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Write a restore plan through a target (the ORM in production), in batches."""

import datetime
import gzip
import json
from collections import defaultdict

UNDO_FORMAT = 1


def to_orm(ftype, value):
    """Planner value -> value for ``Model.write``."""
    if ftype == "many2many":
        return [(6, 0, sorted(value or ()))]
    return value


def to_json(ftype, value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if ftype == "many2many":
        return sorted(value or ())
    return value


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


def dump_undo(model, field_types, before, created_ids):
    """Gzipped JSON of the values a restore replaces (and records it creates)."""
    data = {
        "format": UNDO_FORMAT,
        "model": model,
        "fields": field_types,
        "values": {
            str(res_id): {f: to_json(field_types[f], v) for f, v in values.items()}
            for res_id, values in before.items()
        },
        "created_ids": sorted(created_ids),
    }
    return gzip.compress(json.dumps(data, separators=(",", ":")).encode())


def load_undo(blob):
    data = json.loads(gzip.decompress(blob).decode())
    if data.get("format") != UNDO_FORMAT:
        raise ValueError("unknown undo format")
    types = data["fields"]
    values = {
        int(res_id): {f: from_json(types[f], v) for f, v in vals.items()}
        for res_id, vals in data["values"].items()
    }
    return data["model"], types, values, data["created_ids"]


class Applier:
    """Apply ``{id: {field: value}}`` through ``target``.

    ``target`` has ``write_values(ids, vals)``, ``create_record(xmlid, vals) -> id``,
    ``flush()``. Records with identical values share one write. A bulk target
    (``write_rows({id: vals})``) gets instead batches of records sharing a
    field set, whatever their values.
    """

    def __init__(self, target, field_types, batch_size=1000, progress=None):
        self.target = target
        self.field_types = field_types
        self.batch_size = batch_size
        self.progress = progress

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

    def apply(self, changes, recreate=None):
        """Write every change, then recreate records; returns counts."""
        total = len(changes) + len(recreate or {})
        done = 0
        pending = 0
        bulk = getattr(self.target, "bulk", False)
        for chunk, vals in self._batches(changes):
            if bulk:
                self.target.write_rows(vals)
            else:
                self.target.write_values(chunk, vals)
            done += len(chunk)
            pending += len(chunk)
            # A bulk batch is flushed on its own: its UPDATEs are one unit.
            if bulk or pending >= self.batch_size:
                self.target.flush()
                pending = 0
                if self.progress:
                    self.progress(done, total - done)
        created = {}
        for xmlid, values in (recreate or {}).items():
            created[xmlid] = self.target.create_record(xmlid, self._vals(values))
            done += 1
        self.target.flush()
        finish = getattr(self.target, "finish", None)
        if finish:
            finish()
        if self.progress:
            self.progress(done, 0)
        return {
            "records_written": len(changes),
            "values_written": sum(len(v) for v in changes.values()),
            "records_created": len(created),
            "created_ids": sorted(created.values()),
        }
