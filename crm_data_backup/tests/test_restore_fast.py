# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import datetime
from unittest.mock import patch

from odoo import Command
from odoo.tests import new_test_user

from ..models import crm_backup_restore
from .restore_cases import RestoreCase


class TestRestoreFast(RestoreCase):
    """Fast mode gives the normal path's results, in bulk."""

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

    def test_stored_computed_fields_follow(self):
        self.p2.company_name = "Bob & Co"
        data = self.backup_zip("contacts", self.people, self.columns + ["company_name"])
        self.damage()
        self.p2.company_name = "Other"
        self.assertEqual(self.p2.commercial_company_name, "Other")
        self.assertEqual(self.p1.commercial_partner_id, self.globex)
        self.assertEqual(self.p1.commercial_company_name, "Globex")
        restore = self.planned(
            "contacts", data, ["parent_id", "company_name"], fast_mode=True
        )
        self.assertTrue(self.run_restore(restore), restore.error_message)
        self.env.cr.execute(
            "SELECT id, commercial_partner_id, commercial_company_name "
            "FROM res_partner WHERE id = ANY(%s) ORDER BY id",
            [self.people.ids],
        )
        self.assertEqual(
            self.env.cr.fetchall(),
            [
                (self.p1.id, self.acme.id, "Acme"),
                (self.p2.id, self.p2.id, "Bob & Co"),
            ],
        )

    def test_python_constraint_fails_everything(self):
        data = self.backup_zip("contacts", self.people, self.columns)
        self.damage()
        restore = self.planned("contacts", data, ["phone", "parent_id"], fast_mode=True)
        # Acme under Alice: restoring Alice's parent (Acme) makes a cycle.
        self.p1.parent_id = False
        self.acme.parent_id = self.p1
        restore.write({"confirm_reviewed": True})
        self.assertFalse(self.run_restore(restore))
        self.assertEqual(restore.state, "failed")
        self.assertIn("recursive", restore.error_message.lower())
        self.env.invalidate_all()
        # Bob's phone (another field set, written and flushed first) is back.
        self.assertEqual(self.p2.phone, "556")
        self.assertFalse(self.p1.phone)
        self.assertFalse(restore.sudo().undo_data)

    def test_sql_constraint_fails_everything(self):
        data = self.backup_zip(
            "contacts",
            self.people,
            ["id", "name", "phone"],
            edit_rows=lambda rows: rows[0].__setitem__(1, ""),
        )
        self.p1.write({"type": "contact", "phone": "1"})
        self.p2.write({"phone": "2"})
        restore = self.planned("contacts", data, ["name", "phone"], fast_mode=True)
        self.assertEqual(self.line(restore, "name").clear_count, 1)
        self.assertFalse(self.run_restore(restore))
        self.assertEqual(restore.state, "failed")
        self.assertIn("check_name", restore.error_message)
        self.env.invalidate_all()
        self.assertEqual((self.p1.name, self.p1.phone), ("Alice", "1"))
        self.assertEqual(self.p2.phone, "2")

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

    def test_leads_tracked_with_their_contacts(self):
        """Restoring contacts' e-mails recomputes their leads' e-mail, which
        is tracked: the leads' messages are written with each part of the
        job, not all at its end (where they piled up in memory)."""
        self.env = self.env(
            context=dict(self.env.context, tracking_disable=False, mail_notrack=False)
        )
        self.p2.email = "bob@x.com"
        leads = self.env["crm.lead"].create(
            [{"name": f"Lead of {p.name}", "partner_id": p.id} for p in self.people]
        )
        data = self.backup_zip("contacts", self.people, ["id", "name", "email"])
        for fast in (False, True):
            self.people.write({"email": f"changed.{fast}@x.com"})
            self.env.flush_all()
            self.env.cr.precommit.run()
            self.assertEqual(set(leads.mapped("email_from")), {f"changed.{fast}@x.com"})
            before = self.env["mail.message"].search([]).ids
            restore = self.planned("contacts", data, ["email"], fast_mode=fast)
            # one contact per part
            with patch.object(crm_backup_restore, "PLAN_BATCH", 1):
                self.assertTrue(self.run_restore(restore), restore.error_message)
            self.assertEqual(leads.mapped("email_from"), ["alice@x.com", "bob@x.com"])
            messages = self.env["mail.message"].search(
                [
                    ("id", "not in", before),
                    ("model", "in", ["res.partner", "crm.lead"]),
                    ("res_id", "in", self.people.ids + leads.ids),
                ],
                order="id",
            )
            self.assertEqual(
                [(m.model, m.res_id) for m in messages],
                [
                    ("res.partner", self.p1.id),
                    ("crm.lead", leads[0].id),
                    ("res.partner", self.p2.id),
                    ("crm.lead", leads[1].id),
                ],
            )
            for message, partner in zip(messages[1::2], self.people, strict=True):
                self.assertEqual(
                    message.tracking_value_ids.mapped(
                        lambda t: (t.field_id.name, t.old_value_char, t.new_value_char)
                    ),
                    [("email_from", f"changed.{fast}@x.com", partner.email)],
                )

    def clear_ref(self):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET ref = NULL WHERE id = ANY(%s)", [self.people.ids]
        )
        self.env.invalidate_all()

    def test_automations_like_normal_mode(self):
        model_id = self.env["ir.model"]._get_id("res.partner")
        self.env["base.automation"].create(
            {
                "name": "Mark on phone change",
                "model_id": model_id,
                "trigger": "on_create_or_write",
                # Only a write of phone fires it, not a recomputation.
                "trigger_field_ids": [
                    Command.set(
                        self.env["ir.model.fields"]._get("res.partner", "phone").ids
                    )
                ],
                "action_server_ids": [
                    Command.create(
                        {
                            "name": "mark",
                            "model_id": model_id,
                            "state": "code",
                            "code": "records.write({'ref': 'AUTOMATED'})",
                        }
                    )
                ],
            }
        )
        data = self.backup_zip("contacts", self.people, self.columns)
        self.damage()
        self.clear_ref()
        restore = self.planned("contacts", data, ["phone"], fast_mode=True)
        self.assertFalse(restore.run_automations)
        self.assertTrue(self.run_restore(restore), restore.error_message)
        self.assertEqual(self.p1.phone, "+33 1 23")
        self.assertFalse(self.p1.ref)
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_data_backup.restore_run_automations", "True"
        )
        self.people.write({"phone": "0"})
        self.clear_ref()
        restore = self.planned("contacts", data, ["phone"], fast_mode=True)
        self.assertTrue(restore.run_automations)
        self.assertTrue(self.run_restore(restore), restore.error_message)
        self.assertEqual(self.people.mapped("ref"), ["AUTOMATED", "AUTOMATED"])
        self.assertEqual(self.p2.phone, "555")
