# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""engine/applier.py: batches written through a target, the spool of
changes and the undo file."""

import datetime
import gzip
import io
import json

from odoo.tests import BaseCase

from ..engine.applier import Applier, ChangeSpool, UndoReader, UndoWriter, dumps


class _BulkTarget:
    """Records what the applier asks of a bulk target."""

    bulk = True

    def __init__(self):
        self.calls = []

    def write_rows(self, rows):
        self.calls.append(("rows", rows))

    def flush(self):
        self.calls.append(("flush",))

    def finish(self):
        self.calls.append(("finish",))


class _OrmTarget(_BulkTarget):
    """Records what the applier asks of a target writing records one set
    of values at a time (the ORM's); ``taken``: external IDs naming another
    record (not recreated)."""

    bulk = False

    def __init__(self, taken=()):
        super().__init__()
        self.taken = taken

    def write_values(self, ids, vals):
        self.calls.append(("write", ids, vals))

    def create_record(self, xmlid, vals):
        self.calls.append(("create", xmlid, vals))
        return None if xmlid in self.taken else 100


class TestApplier(BaseCase):
    def test_batches_by_field_set(self):
        target = _BulkTarget()
        changes = {
            5: {"phone": "1"},
            2: {"phone": "2"},
            9: {"phone": "3"},
            4: {"phone": "4", "tags": frozenset({3, 1})},
        }
        types = {"phone": "char", "tags": "many2many"}
        applier = Applier(target, types, batch_size=2)
        applier.write_changes(changes)
        result = applier.finish()
        self.assertEqual(result["records_written"], 4)
        self.assertEqual(
            target.calls,
            [
                ("rows", {2: {"phone": "2"}, 5: {"phone": "1"}}),
                ("flush",),
                ("rows", {9: {"phone": "3"}}),
                ("flush",),
                ("rows", {4: {"phone": "4", "tags": [(6, 0, [1, 3])]}}),
                ("flush",),
                ("flush",),
                ("finish",),
            ],
        )

    def test_identical_values_share_a_write(self):
        """An ORM target gets one write per set of identical values, in
        batches, and the progress after each flush."""
        target = _OrmTarget(taken={"x.gone"})
        progress = []
        applier = Applier(
            target,
            {"phone": "char", "tags": "many2many"},
            batch_size=2,
            progress=lambda done, left: progress.append((done, left)),
            total=6,
        )
        applier.write_changes(
            {
                1: {"phone": "1"},
                2: {"phone": "1"},
                3: {"phone": "1"},
                4: {"phone": "2", "tags": frozenset({5})},
            }
        )
        result = applier.finish({"x.new": {"phone": "3"}, "x.gone": {"phone": "4"}})
        self.assertEqual(
            target.calls,
            [
                ("write", [1, 2], {"phone": "1"}),
                ("flush",),
                ("write", [3], {"phone": "1"}),
                ("write", [4], {"phone": "2", "tags": [(6, 0, [5])]}),
                ("flush",),
                ("flush",),
                ("finish",),
                ("create", "x.new", {"phone": "3"}),
                ("create", "x.gone", {"phone": "4"}),
                ("flush",),
                ("finish",),
            ],
        )
        self.assertEqual(progress, [(2, 4), (4, 2), (6, 0)])
        self.assertEqual(
            result,
            {
                "records_written": 4,
                "records_created": 1,
                "created_ids": [100],
                "ids_taken": ["x.gone"],
            },
        )


class TestSpoolAndUndo(BaseCase):
    types = {
        "name": "char",
        "tags": "many2many",
        "day": "date",
        "at": "datetime",
        "amount": "float",
        "parent": "many2one",
    }
    batches = [
        (
            {
                7: {"name": "Ann", "tags": frozenset({3, 1}), "day": False},
                2: {"at": datetime.datetime(2026, 1, 2, 3, 4, 5), "amount": 1.5},
            },
            {
                7: {
                    "name": "Anne",
                    "tags": frozenset(),
                    "day": datetime.date(2020, 2, 29),
                },
                2: {"at": False, "amount": 0.25},
            },
        ),
        ({}, {}),
        (
            {9: {"parent": 4, "name": 'quote " and \\ back'}},
            {9: {"parent": False, "name": "é"}},
        ),
    ]

    def test_spool_gives_back_each_batch(self):
        with io.BytesIO() as file, io.BytesIO() as undo_file:
            spool = ChangeSpool(file)
            for changes, before in self.batches:
                spool.add(changes, before)
            self.assertEqual(spool.count, 3)
            undo = UndoWriter(undo_file, "res.partner", self.types)
            changes = []
            for batch, before in spool.batches(self.types):
                changes.append(batch)
                undo.add(before)
            undo.close([])
            _model, _types, befores, _created = self.read_undo(undo_file.getvalue())
        self.assertEqual(changes, [self.batches[0][0], self.batches[2][0]])
        self.assertEqual(befores, [self.batches[0][1], self.batches[2][1]])

    def read_undo(self, blob):
        undo = UndoReader(blob)
        batches = list(undo.batches())
        return undo.model, undo.types, batches, undo.created_ids

    def test_undo_written_and_read_in_parts(self):
        with io.BytesIO() as file:
            undo = UndoWriter(file, "res.partner", self.types)
            for _changes, before in self.batches:
                undo.add(dumps(before).encode())
            undo.close([12, 11])
            model, types, batches, created = self.read_undo(file.getvalue())
        self.assertEqual((model, types, created), ("res.partner", self.types, [11, 12]))
        self.assertEqual(batches, [self.batches[0][1], self.batches[2][1]])

    def test_empty_undo(self):
        with io.BytesIO() as file:
            undo = UndoWriter(file, "crm.lead", {})
            undo.add(dumps({}).encode())
            undo.close([])
            self.assertEqual(self.read_undo(file.getvalue()), ("crm.lead", {}, [], []))

    def test_undo_of_format_1(self):
        """Restores made by the first version kept one JSON document."""
        document = {
            "format": 1,
            "model": "res.partner",
            "fields": {"name": "char", "tags": "many2many"},
            "values": {"7": {"name": "Ann", "tags": [1, 3]}},
            "created_ids": [5],
        }
        blob = gzip.compress(json.dumps(document).encode())
        self.assertEqual(
            self.read_undo(blob),
            (
                "res.partner",
                document["fields"],
                [{7: {"name": "Ann", "tags": frozenset({1, 3})}}],
                [5],
            ),
        )
        with self.assertRaisesRegex(ValueError, "unknown undo format"):
            UndoReader(gzip.compress(json.dumps(dict(document, format=9)).encode()))
