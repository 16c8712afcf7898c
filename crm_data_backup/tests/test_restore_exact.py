# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Restore then undo gives back every stored column of the database (but the
write log and the chatter), for every restorable object, in both modes."""

import contextlib
import logging
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import OBJECT_KEYS, BackupCommon, BackupZip, set_backup_params
from .exact_common import dump_changes, dump_database, dump_diff, other_value
from .restore_cases import RestoreCase
from .test_engine_reader import HYPOTHESIS

_logger = logging.getLogger(__name__)
# Hypothesis examples of the property (each a restore and an undo); the
# explore profile (see test_engine_reader) takes HYPOTHESIS_EXAMPLES.
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "0")) or 30
# conversations are not restorable
RESTORABLE = tuple(key for key in OBJECT_KEYS if key != "conversations")


class NothingEdited(Exception):
    """No field of the choice could be edited (a draw to skip)."""


class ExactCase(BackupCommon, RestoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        set_backup_params(cls.env, min_interval_hours="0")
        cls.backup = cls.env["crm.backup"].request_backup()
        cls.backup.action_run()
        cls.backup_data = cls.backup.attachment_id.raw
        cls.zip = BackupZip(cls.backup_data)

    @contextlib.contextmanager
    def isolated(self):
        """What the block changes is rolled back (edits of one object, such as
        archiving a lead, delete records of another)."""
        self.env.flush_all()
        self.env.cr.execute("SAVEPOINT exact_round_trip")
        try:
            yield
        finally:
            self.env.invalidate_all()
            self.env.cr.execute("ROLLBACK TO SAVEPOINT exact_round_trip")

    def records_of(self, key):
        obj = self.obj(key)
        found = self.env[obj.model_name].browse()
        for record in self.data.values():
            if record._name == obj.model_name:
                found |= record
        if obj.is_custom:
            return self.data["gadget"]
        return found.filtered_domain(obj._get_domain())

    def entry_fields(self, key, model):
        name = f"{model}.csv" if key == "custom" else f"{key}.csv"
        return self.zip.entry(name)["fields"]

    def restorable(self, key, model):
        probe = self.new_restore(key, self.backup_data, [], model=model)
        names = sorted({c.split("/")[0] for c in self.entry_fields(key, model)})
        return [n for n in names if probe._field_restorable(n)]

    def edit(self, records, names, rank=0):
        """Edit ``names`` on ``records`` as a user would, each field on its
        own (refused edits are left out); returns the names edited."""
        edited = []
        for name in names:
            field = records._fields[name]
            done = False
            for record in records:
                value = other_value(record, field, rank)
                if value is None:
                    continue
                try:
                    with self.env.cr.savepoint():
                        record.write({name: value})
                        record.env.flush_all()
                    done = True
                except Exception as exc:  # a refused edit is left out
                    _logger.info("edit of %s refused: %s", name, exc)
                    self.env.invalidate_all()
            if done:
                edited.append(name)
        return edited

    def round_trip(self, key, names, fast=False, rank=0):
        """Edit, restore ``names`` from the backup, undo: the differences."""
        model = self.obj(key).model_name
        if key == "custom":
            model = "x_gadget"
        records = self.records_of(key)
        self.assertTrue(records, key)
        edited = self.edit(records, names, rank)
        if not edited:
            raise NothingEdited(key)
        before = dump_database(self.env)
        restore = self.new_restore(
            key, self.backup_data, edited, model=model, fast_mode=fast
        )
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        self.assertTrue(self.run_restore(restore), restore.error_message)
        self.assertTrue(restore.restored_record_count, restore.plan_html)
        self.assertTrue(self.run_restore(restore, "undo"), restore.error_message)
        return edited, dump_diff(before, dump_database(self.env))


@tagged("post_install", "-at_install")
class TestRestoreExact(ExactCase):
    def check_object(self, key, fast):
        model = "x_gadget" if key == "custom" else self.obj(key).model_name
        names = self.restorable(key, model)
        with self.isolated():
            edited, diff = self.round_trip(key, names, fast=fast)
        self.assertEqual(diff, [], f"{key} ({'fast' if fast else 'normal'}): {edited}")

    def test_every_object_normal(self):
        for key in RESTORABLE:
            with self.subTest(key=key):
                self.check_object(key, fast=False)

    def test_every_object_fast(self):
        for key in RESTORABLE:
            with self.subTest(key=key):
                self.check_object(key, fast=True)

    def restored_state(self, key, names, fast):
        """The changes an edit then a restore of ``names`` make (rolled back)."""
        model = "x_gadget" if key == "custom" else self.obj(key).model_name
        with self.isolated():
            start = dump_database(self.env)
            self.env.cr.execute("SELECT to_jsonb(now() AT TIME ZONE 'UTC') #>> '{}'")
            self.since = self.env.cr.fetchone()[0][:19]
            edited = self.edit(self.records_of(key), names)
            restore = self.new_restore(
                key, self.backup_data, edited, model=model, fast_mode=fast
            )
            restore.action_plan()
            restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
            self.assertTrue(self.run_restore(restore), restore.error_message)
            changes = dump_changes(start, dump_database(self.env), self.since)
            return changes, restore.plan_html

    def test_fast_mode_leaves_what_write_leaves(self):
        """Fast mode ends where the model's own write() ends, for every object
        and all its restorable fields; the plan names the fields it leaves to
        write()."""
        for key in RESTORABLE:
            model = "x_gadget" if key == "custom" else self.obj(key).model_name
            names = self.restorable(key, model)
            with self.subTest(key=key):
                normal, _restore = self.restored_state(key, names, fast=False)
                fast, plan = self.restored_state(key, names, fast=True)
                self.assertEqual(fast, normal)
                if key in ("deals", "companies", "tickets"):
                    self.assertIn("o_crm_restore_slow_fields", plan)

    def test_leads_of_another_company(self):
        """The issue's case: 8 deals of a second company, the salesperson,
        stage, customer, tags, revenue and e-mail restored, then undone."""
        company = self.env["res.company"].create({"name": "Exact B"})
        self.env.user.company_ids |= company
        seller = new_test_user(
            self.env,
            login="exact_seller",
            groups="sales_team.group_sale_salesman",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        stages = self.env["crm.stage"].search([], limit=3)
        won = self.env["crm.stage"].create({"name": "Won B", "is_won": True})
        tags = self.env["crm.tag"].create([{"name": "B1"}, {"name": "B2"}])
        partners = self.env["res.partner"].create(
            [{"name": f"Customer {i}", "company_id": company.id} for i in range(3)]
        )
        leads = self.env["crm.lead"].create(
            [
                {
                    "name": f"Deal {i}",
                    "type": "opportunity",
                    "company_id": company.id,
                    "partner_id": partners[i % 3].id,
                    "stage_id": stages[i % len(stages)].id,
                    "user_id": seller.id if i % 2 else False,
                    "tag_ids": [Command.set(tags[: i % 3].ids)],
                    "expected_revenue": 1000.0 * i,
                    "email_from": f"deal{i}@b.example.com",
                }
                for i in range(8)
            ]
        )
        names = ["partner_id", "stage_id", "user_id", "tag_ids"]
        names += ["expected_revenue", "email_from"]
        columns = ["partner_id/id", "stage_id/id", "user_id/id", "tag_ids/id"]
        columns += ["expected_revenue", "email_from"]
        data = self.backup_zip("deals", leads, ["id", "name", *columns])
        for i, lead in enumerate(leads):
            lead.write(
                {
                    "partner_id": partners[(i + 1) % 3].id,
                    "stage_id": won.id if i % 3 == 0 else stages[0].id,
                    "user_id": False if i % 2 else seller.id,
                    "tag_ids": [Command.set(tags[(i + 1) % 3 :].ids)],
                    "expected_revenue": 7.5 * i,
                    "email_from": f"other{i}@b.example.com",
                }
            )
        for fast in (False, True):
            with self.subTest(fast=fast), self.isolated():
                before = dump_database(self.env)
                restore = self.new_restore("deals", data, names, fast_mode=fast)
                restore.action_plan()
                restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
                self.assertTrue(self.run_restore(restore), restore.error_message)
                self.assertEqual(restore.restored_record_count, 8)
                self.assertEqual(leads.company_id, company)
                self.assertTrue(self.run_restore(restore, "undo"))
                self.assertEqual(dump_diff(before, dump_database(self.env)), [])

    def test_undo_leaves_later_edits(self):
        """A value changed again after the restore is not the restore's any
        more: the undo leaves it, and puts back everything else."""
        deal, deal2 = self.data["deal"], self.data["deal2"]
        deals = deal | deal2
        data = self.backup_zip("deals", deals, ["id", "name", "priority", "tag_ids/id"])
        deals.write({"priority": "0", "name": "Renamed"})
        tag = self.env["crm.tag"].create({"name": "Later"})
        deals.tag_ids = tag
        restore = self.new_restore("deals", data, ["name", "priority", "tag_ids"])
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        self.assertTrue(self.run_restore(restore))
        self.assertEqual(deal.name, "Big deal, phase 1")
        # after the restore, a user edits one deal
        deal.write({"name": "Edited later", "tag_ids": [Command.link(tag.id)]})
        self.assertTrue(self.run_restore(restore, "undo"), restore.error_message)
        self.assertEqual(deal.name, "Edited later")
        self.assertEqual(
            deal.tag_ids, self.env["crm.tag"].search([("name", "=", "Big")]) | tag
        )
        self.assertEqual(deal.priority, "0")
        self.assertEqual(deal2.name, "Renamed")
        self.assertEqual(deal2.tag_ids, tag)

    @given(data=st.data())
    @settings(HYPOTHESIS, max_examples=EXAMPLES)
    def test_any_fields_any_object(self, data):
        """Restore + undo is exact for any restorable object, any fields, any
        mode (Hypothesis draws them)."""
        key = data.draw(st.sampled_from(RESTORABLE), label="object")
        model = "x_gadget" if key == "custom" else self.obj(key).model_name
        names = data.draw(
            st.lists(
                st.sampled_from(self.restorable(key, model)),
                min_size=1,
                max_size=8,
                unique=True,
            ),
            label="fields",
        )
        fast = data.draw(st.booleans(), label="fast")
        rank = data.draw(st.integers(0, 2), label="rank")
        with self.isolated():
            try:
                edited, diff = self.round_trip(key, names, fast=fast, rank=rank)
            except NothingEdited:
                return
        self.assertEqual(diff, [], f"{key} ({'fast' if fast else 'normal'}): {edited}")

    def test_recreated_records_undone(self):
        """Records deleted since the backup, recreated by the restore, are
        gone again after the undo, with their external IDs; nothing else moved."""
        for key in ("contacts", "deals", "tickets"):
            with self.subTest(key=key), self.isolated():
                model = self.obj(key).model_name
                self.records_of(key)[:1].unlink()
                before = dump_database(self.env)
                restore = self.new_restore(
                    key, self.backup_data, ["name"], recreate_deleted=True
                )
                restore.action_plan()
                restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
                self.assertTrue(self.run_restore(restore), restore.error_message)
                self.assertEqual(restore.created_record_count, 1, model)
                self.assertTrue(self.run_restore(restore, "undo"))
                self.assertEqual(dump_diff(before, dump_database(self.env)), [])
