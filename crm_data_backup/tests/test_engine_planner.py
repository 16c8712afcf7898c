# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""engine/planner.py on its own: backup rows against a live source kept in
memory (the planner's whole view of the database, see ``Planner``)."""

import datetime

from odoo.tests.common import BaseCase

from ..engine.planner import (
    CHANGED_SINCE_REVIEW,
    CONFLICT_LIST_SIZE,
    NO_ACCESS,
    SAMPLE_SIZE,
    Planner,
    RestoreField,
)

MODEL = "res.partner"
NAME = RestoreField("name", "char", label="Name")
PHONE = RestoreField("phone", "char")
COUNT = RestoreField("count", "integer")
AMOUNT = RestoreField("amount", "float")
ACTIVE = RestoreField("active", "boolean")
DAY = RestoreField("day", "date")
PARENT = RestoreField("parent_id", "many2one", relation="res.partner")
TAGS = RestoreField("tag_ids", "many2many", relation="res.partner.category")
KIND = RestoreField("kind", "selection", selection=frozenset({"a", "b"}))
CODE = RestoreField("code", "char", required=True)
FILE = RestoreField("file", "binary")


class _Live:
    """The live database as the planner sees it: records of ``MODEL`` by
    external ID (``{xmlid: (id, values)}``), other models' external IDs
    (``refs``), external IDs the user may not read (``hidden``), records
    written since the review (``stale``). Every call is recorded."""

    def __init__(self, records, refs=None, hidden=(), stale=()):
        self.records = records
        self.refs = refs or {}
        self.hidden = set(hidden)
        self.stale = set(stale)
        self.calls = []
        self.matched = set()

    def resolve(self, model, xmlids):
        self.calls.append(("resolve", model, list(xmlids)))
        if model == MODEL:
            known = {xmlid: res_id for xmlid, (res_id, _v) in self.records.items()}
        else:
            known = self.refs.get(model, {})
        return {xmlid: known[xmlid] for xmlid in xmlids if xmlid in known}

    def fetch(self, ids, names):
        self.calls.append(("fetch", list(ids), list(names)))
        values = dict(self.records.values())
        return {res_id: {n: values[res_id].get(n) for n in names} for res_id in ids}

    def mark_matched(self, ids):
        self.matched.update(ids)

    def count_unmatched(self):
        return len({res_id for res_id, _v in self.records.values()} - self.matched)

    def changed_after(self, ids, when):
        self.calls.append(("changed_after", list(ids), when))
        return {res_id for res_id in ids if res_id in self.stale}


class TestPlanner(BaseCase):
    def plan(self, fields, live, rows, **kwargs):
        """The plan and every batch handed to ``on_batch``."""
        batches = []
        planner = Planner(MODEL, fields, live, **kwargs)
        plan = planner.plan(iter(rows), lambda *batch: batches.append(batch))
        return plan, batches

    def counts(self, plan):
        return {
            name: (p.change, p.clear, p.unchanged, p.conflict)
            for name, p in plan.fields.items()
        }

    def test_changes_and_unchanged(self):
        live = _Live(
            {
                "x.ann": (1, {"name": "Ann", "count": 3, "day": None}),
                "x.bob": (2, {"name": "Bob", "count": 4, "day": None}),
                "x.new": (3, {"name": "Created since", "count": 0, "day": None}),
            }
        )
        day = datetime.date(2026, 1, 31)
        plan, batches = self.plan(
            [NAME, COUNT, DAY],
            live,
            [
                ("x.ann", {"name": "Anne", "count": 3, "day": day}),
                ("x.bob", {"name": "Bob", "count": 4, "day": False}),
            ],
        )
        self.assertEqual(
            batches,
            [({1: {"name": "Anne", "day": day}}, {1: {"name": "Ann", "day": False}})],
        )
        self.assertEqual(
            self.counts(plan),
            {"name": (1, 0, 1, 0), "count": (0, 0, 2, 0), "day": (1, 0, 1, 0)},
        )
        self.assertEqual((plan.backup_count, plan.change_count), (2, 1))
        self.assertEqual(plan.created_since_count, 1, "x.new is not in the backup")
        self.assertEqual(
            plan.samples,
            [("x.ann", 1, "name", "Ann", "Anne"), ("x.ann", 1, "day", False, day)],
        )
        self.assertEqual(
            (plan.conflicts, plan.conflict_count, plan.deleted), ([], 0, {})
        )
        self.assertFalse(hasattr(plan, "changes"), "changes are never kept")

    def test_blank_values_clear(self):
        """A blank backup value clears the live one; False is a boolean's
        value, never a blank; a required field is never cleared."""
        live = _Live(
            {
                "x.ann": (
                    1,
                    {"phone": "555", "active": True, "tag_ids": [4], "code": "C1"},
                )
            },
            refs={"res.partner.category": {}},
        )
        plan, batches = self.plan(
            [PHONE, ACTIVE, TAGS, CODE],
            live,
            [
                (
                    "x.ann",
                    {"phone": False, "active": False, "tag_ids": (), "code": False},
                )
            ],
        )
        self.assertEqual(
            batches[0][0],
            {1: {"phone": False, "active": False, "tag_ids": frozenset()}},
        )
        self.assertEqual(
            batches[0][1],
            {1: {"phone": "555", "active": True, "tag_ids": frozenset({4})}},
        )
        self.assertEqual(
            self.counts(plan),
            {
                "phone": (0, 1, 0, 0),
                "active": (1, 0, 0, 0),
                "tag_ids": (0, 1, 0, 0),
                "code": (0, 0, 0, 1),
            },
        )
        self.assertEqual(
            [(x, f, str(r)) for x, f, r in plan.conflicts],
            [
                (
                    "x.ann",
                    "code",
                    "the field is now required but the backup has no value",
                )
            ],
        )

    def test_normalisation(self):
        """Live and backup values compared in one form per type: NULL
        integers and floats are 0, floats within rounding, many2many in any
        order, binary read as bytes, empty text as False."""
        live = _Live(
            {
                "x.ann": (
                    1,
                    {
                        "count": None,
                        "amount": 0.1 + 0.2,
                        "tag_ids": [3, 1],
                        "file": memoryview(b"QUJD"),
                        "name": "",
                        "active": None,
                    },
                )
            },
            refs={"res.partner.category": {"x.t1": 1, "x.t3": 3}},
        )
        fields = [COUNT, AMOUNT, TAGS, FILE, NAME, ACTIVE]
        row = {
            "count": False,
            "amount": 0.3,
            "tag_ids": ("x.t1", "x.t3"),
            "file": "QUJD",
            "name": False,
            "active": False,
        }
        plan, batches = self.plan(fields, live, [("x.ann", row)])
        self.assertEqual(batches, [({}, {})])
        self.assertEqual(
            {name: p.unchanged for name, p in plan.fields.items()},
            dict.fromkeys([f.name for f in fields], 1),
        )
        _plan, batches = self.plan([AMOUNT], live, [("x.ann", {"amount": 0.30000001})])
        self.assertEqual(batches[0][0], {1: {"amount": 0.30000001}})

    def test_missing_references(self):
        """A many2one or many2many naming a record that no longer exists, or
        that the user may not read, is a conflict: nothing of that field is
        written for the record."""
        live = _Live(
            {
                "x.ann": (1, {"parent_id": None, "tag_ids": []}),
                "x.bob": (2, {"parent_id": None, "tag_ids": []}),
            },
            refs={"res.partner.category": {"x.t1": 7}},
            hidden={"x.secret"},
        )
        plan, batches = self.plan(
            [PARENT, TAGS],
            live,
            [
                ("x.ann", {"parent_id": "x.gone", "tag_ids": ("x.t1",)}),
                ("x.bob", {"parent_id": "x.ann", "tag_ids": ("x.t1", "x.secret")}),
            ],
        )
        self.assertEqual(
            batches[0][0], {1: {"tag_ids": frozenset({7})}, 2: {"parent_id": 1}}
        )
        self.assertEqual(
            [(x, f, str(r)) for x, f, r in plan.conflicts],
            [
                ("x.ann", "parent_id", "related record x.gone no longer exists"),
                ("x.bob", "tag_ids", "you may not access the related record x.secret"),
            ],
        )
        self.assertEqual(self.counts(plan)["parent_id"], (1, 0, 0, 1))
        # references are resolved once per batch and model, sorted
        self.assertIn(
            ("resolve", "res.partner.category", ["x.secret", "x.t1"]), live.calls
        )

    def test_selection_option_gone(self):
        live = _Live({"x.ann": (1, {"kind": "a"}), "x.bob": (2, {"kind": "a"})})
        plan, batches = self.plan(
            [KIND], live, [("x.ann", {"kind": "c"}), ("x.bob", {"kind": "b"})]
        )
        self.assertEqual(batches[0][0], {2: {"kind": "b"}})
        self.assertEqual(str(plan.conflicts[0][2]), "option 'c' no longer exists")

    def test_hidden_and_changed_records_are_conflicts(self):
        """A record the user may not read, or written after the review, is a
        conflict for every planned field: never overwritten, never recreated."""
        when = datetime.datetime(2026, 1, 1)
        live = _Live(
            {"x.ann": (1, {"name": "Ann"}), "x.bob": (2, {"name": "Bob"})},
            hidden={"x.hidden"},
            stale={2},
        )
        plan, batches = self.plan(
            [NAME, PHONE],
            live,
            [
                ("x.hidden", {"name": "H", "phone": "1"}),
                ("x.bob", {"name": "Robert", "phone": "2"}),
                ("x.ann", {"name": "Anne", "phone": False}),
            ],
            changed_after=when,
        )
        self.assertEqual(batches[0][0], {1: {"name": "Anne"}})
        self.assertEqual(
            plan.conflicts,
            [
                ("x.hidden", "name", NO_ACCESS),
                ("x.hidden", "phone", NO_ACCESS),
                ("x.bob", "name", CHANGED_SINCE_REVIEW),
                ("x.bob", "phone", CHANGED_SINCE_REVIEW),
            ],
        )
        self.assertEqual(plan.deleted, {})
        self.assertIn(("changed_after", [2, 1], when), live.calls)

    def test_deleted_records(self):
        """Records gone from the database are listed by name with the values
        they would be recreated with (all the backup's fields when asked);
        a value that cannot be restored is a conflict of a planned field only."""
        live = _Live({})
        rows = [
            ("x.gone", {"name": "Gone", "phone": "1", "parent_id": "x.nobody"}),
            ("x.bare", {"name": False, "phone": "2", "parent_id": False}),
        ]
        plan, batches = self.plan([PHONE], live, rows, name_field="name")
        self.assertEqual(batches, [({}, {})])
        self.assertEqual(
            plan.deleted, {"x.gone": {"phone": "1"}, "x.bare": {"phone": "2"}}
        )
        self.assertEqual(plan.deleted_names, {"x.gone": "Gone", "x.bare": ""})
        plan, _batches = self.plan(
            [PHONE], live, rows, recreate_fields=[NAME, PHONE, PARENT]
        )
        self.assertEqual(
            plan.deleted,
            {
                "x.gone": {"name": "Gone", "phone": "1"},
                "x.bare": {"name": False, "phone": "2", "parent_id": False},
            },
        )
        self.assertEqual((plan.conflicts, plan.deleted_names), ([], {}))
        plan, _batches = self.plan([PARENT], live, rows, recreate_fields=[PARENT])
        self.assertEqual(plan.conflict_count, 1)
        self.assertEqual(plan.conflicts[0][:2], ("x.gone", "parent_id"))

    def test_batches(self):
        """Rows are planned ``batch_size`` at a time: one lookup of each kind
        per batch, the changes handed over batch by batch, the counts summed."""
        live = _Live({f"x.p{i}": (i, {"phone": str(i)}) for i in range(1, 6)})
        rows = [(f"x.p{i}", {"phone": str(i % 2)}) for i in range(1, 6)]
        plan, batches = self.plan([PHONE], live, rows, batch_size=2)
        self.assertEqual(
            batches,
            [
                ({2: {"phone": "0"}}, {2: {"phone": "2"}}),
                (
                    {3: {"phone": "1"}, 4: {"phone": "0"}},
                    {3: {"phone": "3"}, 4: {"phone": "4"}},
                ),
                ({5: {"phone": "1"}}, {5: {"phone": "5"}}),
            ],
        )
        self.assertEqual(
            [call[2] for call in live.calls if call[0] == "resolve"],
            [["x.p1", "x.p2"], ["x.p3", "x.p4"], ["x.p5"]],
        )
        self.assertEqual(
            [call[1] for call in live.calls if call[0] == "fetch"],
            [[1, 2], [3, 4], [5]],
        )
        self.assertEqual((plan.backup_count, plan.change_count), (5, 4))
        self.assertEqual(self.counts(plan), {"phone": (4, 0, 1, 0)})
        self.assertEqual((live.matched, plan.created_since_count), ({1, 2, 3, 4, 5}, 0))

    def test_lists_are_capped(self):
        """Conflicts and samples shown are the first ones; the counts are all."""
        total = max(CONFLICT_LIST_SIZE, SAMPLE_SIZE) + 5
        live = _Live({f"x.p{i}": (i + 1, {"phone": "old"}) for i in range(total)})
        rows = [
            (f"x.p{i}", {"phone": "new", "parent_id": "x.gone"}) for i in range(total)
        ]
        plan, _batches = self.plan([PHONE, PARENT], live, rows, batch_size=50)
        self.assertEqual(len(plan.conflicts), CONFLICT_LIST_SIZE)
        self.assertEqual(plan.conflict_count, total)
        self.assertEqual(len(plan.samples), SAMPLE_SIZE)
        self.assertEqual(
            (plan.change_count, plan.fields["phone"].change), (total, total)
        )
