# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import datetime

from odoo import Command
from odoo.tests import new_test_user

from .restore_cases import RestoreCase


class TestRestoreFast(RestoreCase):
    """Fast mode gives the normal path's results, in bulk: both compared (each
    restore scenario runs in both modes in test_restore_run)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.tag_a = cls.env["res.partner.category"].create({"name": "A"})
        cls.tag_b = cls.env["res.partner.category"].create({"name": "B"})
        cls.acme = Partner.create({"name": "Acme", "is_company": True})
        cls.globex = Partner.create({"name": "Globex", "is_company": True})
        cls.p1 = Partner.create(
            {
                "name": "Alice",
                "email": "alice@x.com",
                "phone": "+33 1 23",
                "function": "=cmd|' /C calc'!A0",
                "type": "invoice",
                "parent_id": cls.acme.id,
                "category_id": [Command.set((cls.tag_a | cls.tag_b).ids)],
                "partner_latitude": 48.8566,
                "comment": "<p>Likes tea</p>",
            }
        )
        cls.p2 = Partner.create({"name": "Bob", "phone": "555"})
        cls.people = cls.p1 | cls.p2
        cls.fields = [
            "email",
            "phone",
            "function",
            "type",
            "parent_id",
            "category_id",
            "partner_latitude",
            "comment",
        ]
        cls.columns = ["id", "name", "email", "phone", "function", "type"]
        cls.columns += ["parent_id/id", "category_id/id"]
        cls.columns += ["partner_latitude", "comment"]

    def values(self):
        self.env.invalidate_all()
        return {p.id: {f: p[f] for f in self.fields} for p in self.people}

    def messages(self, records):
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking is written at commit
        return self.env["mail.message"].search(
            [("model", "=", records._name), ("res_id", "in", records.ids)]
        )

    def tracking(self, messages, skip=()):
        """What a user sees of tracking messages, ids and dates aside."""
        return sorted(
            (
                m.res_id,
                m.message_type,
                m.subtype_id.id,
                m.author_id.id,
                str(m.body),
                tuple(
                    sorted(
                        (
                            t.field_id.name,
                            t.old_value_float,
                            t.new_value_float,
                            t.old_value_char,
                            t.new_value_char,
                            t.old_value_integer,
                            t.new_value_integer,
                        )
                        for t in m.tracking_value_ids
                        if t.field_id.name not in skip
                    )
                ),
            )
            for m in messages
        )

    def damage(self):
        self.p1.write(
            {
                "email": "new@x.com",
                "phone": False,
                "function": "CEO",
                "type": "contact",
                "parent_id": self.globex.id,
                "category_id": [Command.set(self.tag_a.ids)],
                "partner_latitude": 1.5,
                "comment": False,
            }
        )
        self.p2.write(
            {
                "email": "bob@x.com",
                "phone": "556",
                "type": "delivery",
                "partner_latitude": -3.25,
            }
        )

    def planned(self, key, data, field_names, **vals):
        restore = self.new_restore(key, data, field_names, **vals)
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        return restore

    def test_default_off_and_on_the_form(self):
        restore = self.new_restore("contacts", b"", ["phone"])
        self.assertFalse(restore.fast_mode)
        arch = self.Restore.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="fast_mode"', arch)
        self.assertIn("own write logic", arch)

    def test_same_values_as_normal_mode_and_undo(self):
        snapshot = self.values()
        data = self.backup_zip("contacts", self.people, self.columns)
        self.damage()
        damaged = self.values()
        self.assertNotEqual(damaged, snapshot)
        fast = self.planned("contacts", data, self.fields, fast_mode=True)
        self.assertEqual(fast.change_record_count, 2)
        before = self.messages(self.people)
        self.assertTrue(self.run_restore(fast), fast.error_message)
        # The normal path's res.partner.write copies the new parent's address
        # (and so changes the tracked inline address): fast mode skips that.
        skip = ["contact_address_inline"]
        fast_tracking = self.tracking(self.messages(self.people) - before, skip)
        self.assertEqual(fast.state, "done")
        self.assertEqual(fast.restored_record_count, 2)
        fast_values = self.values()
        self.assertEqual(fast_values, snapshot)
        self.assertEqual(self.p1.function, "=cmd|' /C calc'!A0")
        self.assertFalse(self.p2.email)
        self.assertEqual(self.p1.category_id, self.tag_a | self.tag_b)
        # Written to the database, not only to the cache.
        self.env.cr.execute(
            "SELECT phone, partner_latitude FROM res_partner WHERE id = %s",
            [self.p1.id],
        )
        self.assertEqual(self.env.cr.fetchone(), ("+33 1 23", 48.8566))
        # Undo in fast mode puts the damaged values back.
        self.assertTrue(self.run_restore(fast, "undo"), fast.error_message)
        self.assertEqual(fast.state, "undone")
        self.assertEqual(self.values(), damaged)
        # The normal path on the same backup ends in the same state.
        normal = self.planned("contacts", data, self.fields)
        self.assertFalse(normal.fast_mode)
        before = self.messages(self.people)
        self.assertTrue(self.run_restore(normal), normal.error_message)
        self.assertEqual(self.values(), fast_values)
        # Same tracking messages (phone, email and parent are tracked).
        normal_tracking = self.tracking(self.messages(self.people) - before, skip)
        self.assertEqual({row[0] for row in fast_tracking}, set(self.people.ids))
        self.assertEqual(fast_tracking, normal_tracking)

    def test_tracking_like_normal_mode(self):
        self.env = self.env(
            context=dict(self.env.context, tracking_disable=False, mail_notrack=False)
        )
        seller = new_test_user(
            self.env, "fast_seller", "sales_team.group_sale_salesman"
        )
        other = new_test_user(self.env, "fast_other", "sales_team.group_sale_salesman")
        Lead = self.env["crm.lead"]
        deals = Lead.create(
            [
                {
                    "name": "Big deal",
                    "type": "opportunity",
                    "expected_revenue": 1000,
                    "phone": False,
                    "user_id": seller.id,
                    "date_deadline": datetime.date(2020, 2, 29),
                }
                for _mode in ("normal", "fast")
            ]
        )
        columns = ["id", "name", "expected_revenue", "phone", "user_id/id"]
        columns.append("date_deadline")
        names = ["expected_revenue", "phone", "user_id", "date_deadline"]
        backups = [self.backup_zip("deals", deal, columns) for deal in deals]
        deals.write(
            {
                "expected_revenue": 5,
                "phone": "+1 555",
                "user_id": other.id,
                "date_deadline": False,
            }
        )
        deals.message_unsubscribe(partner_ids=seller.partner_id.ids)
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertTrue(deals[0].phone_sanitized)
        before = self.messages(deals)
        for data, fast in zip(backups, (False, True), strict=True):
            restore = self.planned("deals", data, names, fast_mode=fast)
            self.assertTrue(self.run_restore(restore), restore.error_message)
        messages = self.messages(deals) - before
        self.env.invalidate_all()
        for deal in deals:
            self.assertEqual(deal.expected_revenue, 1000)
            self.assertEqual(deal.user_id, seller)
            self.assertEqual(deal.date_deadline, datetime.date(2020, 2, 29))
            self.assertFalse(deal.phone)
            self.assertFalse(deal.phone_sanitized)  # computed from phone
            self.assertIn(seller.partner_id, deal.message_partner_ids)
        normal, fast = (
            [row[1:] for row in self.tracking(messages) if row[0] == deal.id]
            for deal in deals
        )
        tracked = [t[0] for row in fast for t in row[-1]]
        self.assertIn("expected_revenue", tracked)
        self.assertIn("user_id", tracked)
        self.assertEqual(fast, normal)
