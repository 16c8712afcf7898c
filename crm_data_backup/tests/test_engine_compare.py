# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""engine/compare.py on its own: rows of two sides merged by external ID,
whatever their order, values compared as the restore plan compares them."""

import datetime
import os
import tempfile

from odoo.tests.common import BaseCase

from ..engine.compare import ADDED, CHANGED, DELETED, RowSpool, compare_rows
from ..engine.errors import BackupFileError

FIELDS = [
    ("name", "char"),
    ("count", "integer"),
    ("amount", "float"),
    ("day", "date"),
    ("tag_ids", "many2many"),
    ("parent_id", "many2one"),
    ("active", "boolean"),
]


class TestEngineCompare(BaseCase):
    def test_added_deleted_changed_in_any_order(self):
        old = [
            ("m.c", {"name": "C", "tag_ids": ("t.1", "t.2"), "amount": 1.0}),
            ("m.a", {"name": "A", "day": datetime.date(2026, 1, 1)}),
            ("m.b", {"name": "B", "parent_id": "m.a", "active": True}),
        ]
        new = [
            ("m.d", {"name": "D"}),
            # the same tags in another order, the same amount: unchanged
            ("m.c", {"name": "C", "tag_ids": ("t.2", "t.1"), "amount": 1.0}),
            ("m.b", {"name": False, "parent_id": "m.d", "active": True}),
        ]
        seen = []
        diff = compare_rows(FIELDS, old, new, lambda *args: seen.append(args))
        self.assertEqual((diff.added, diff.deleted, diff.changed), (1, 1, 1))
        self.assertEqual((diff.from_count, diff.to_count, diff.unchanged), (3, 3, 1))
        self.assertEqual(
            {name: count for name, count in diff.fields.items() if count},
            {"name": 1, "parent_id": 1},
        )
        self.assertEqual(
            [(kind, xmlid) for kind, xmlid, *_rest in seen],
            [(DELETED, "m.a"), (CHANGED, "m.b"), (ADDED, "m.d")],
        )
        self.assertEqual(
            sorted(diff.samples),
            [("m.b", "name", "B", False), ("m.b", "parent_id", "m.a", "m.d")],
        )

    def test_blanks_compare_as_the_plan_compares_them(self):
        # no value, an empty text and zero are one blank (as planner.normalize)
        old = [("m.a", {"name": "", "count": 0, "amount": 0.0, "tag_ids": ()})]
        new = [("m.a", {"name": False, "count": False, "amount": False})]
        diff = compare_rows(FIELDS, old, new)
        self.assertEqual((diff.changed, diff.unchanged), (0, 1))

    def test_sample_is_bounded(self):
        old = [(f"m.{i:04}", {"name": "x"}) for i in range(500)]
        new = [(f"m.{i:04}", {"name": "y"}) for i in range(500)]
        diff = compare_rows(FIELDS, old, new, sample_size=7)
        self.assertEqual(diff.changed, 500)
        self.assertEqual(len(diff.samples), 7)

    def test_external_id_given_twice_refused(self):
        # the reader leaves this check to the comparer (no set of every ID)
        rows = [("m.a", {"name": "A"}), ("m.b", {"name": "B"}), ("m.a", {"name": "C"})]
        with self.assertRaisesRegex(
            BackupFileError, "'m.a' appears twice in 'old.csv'"
        ):
            compare_rows(FIELDS, rows, [], names=("old.csv", "new.csv"))

    def test_spool_file_removed(self):
        with tempfile.TemporaryDirectory() as directory:
            with RowSpool(FIELDS, directory) as spool:
                spool.add([("m.a", {"name": "A"})])
                self.assertEqual(os.listdir(directory), [os.path.basename(spool.path)])
            self.assertEqual(os.listdir(directory), [])
            # a failure while reading a side leaves no file either
            with self.assertRaises(ZeroDivisionError):
                compare_rows(
                    FIELDS,
                    ((f"m.{1 // 0}", {}) for _ in range(1)),
                    [],
                    directory=directory,
                )
            self.assertEqual(os.listdir(directory), [])
