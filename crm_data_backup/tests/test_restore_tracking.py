# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import TransactionCase, new_test_user

from ..orm.tracking_log import finalize_tracking, pending_tracking

# Columns that differ between two otherwise identical messages.
OWN = {"id", "res_id", "message_id", "date", "create_date", "write_date"}


class TestTrackingLog(TransactionCase):
    """Restored records get the tracking messages Odoo itself would write."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=False, mail_notrack=False)
        )
        cls.acme, cls.globex = cls.env["res.partner"].create(
            [
                {"name": "Acme", "is_company": True},
                {"name": "Globex", "is_company": True},
            ]
        )
        cls.seller = new_test_user(
            cls.env, "trk_seller", "sales_team.group_sale_salesman"
        )

    def twins(self, model, vals_list):
        """The same records twice: one set for Odoo, one for us."""
        twins = [self.env[model].create(vals_list) for _twin in range(2)]
        # mail.thread tracks nothing on records created in the same transaction.
        self.env.flush_all()
        self.env.cr.precommit.run()
        return twins

    def rows(self, table, where, params, order):
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT * FROM {table} WHERE {where} ORDER BY {order}",
            params,
        )
        names = [column.name for column in self.env.cr.description]
        return [dict(zip(names, row, strict=True)) for row in self.env.cr.fetchall()]

    def messages(self, records):
        """Per record, in order: its messages and their tracking values, as
        stored, without what tells two copies apart."""
        result = []
        for record in records:
            messages = self.rows(
                "mail_message",
                "model = %s AND res_id = %s",
                [record._name, record.id],
                "id",
            )
            entries = []
            position = {message["id"]: i for i, message in enumerate(messages)}
            for message in messages:
                # A reply's parent is the record's own first message.
                message["parent_id"] = position.get(message["parent_id"])
                values = self.rows(
                    "mail_tracking_value",
                    "mail_message_id = %s",
                    [message["id"]],
                    "field_id, id",
                )
                entries.append(
                    (
                        {k: v for k, v in message.items() if k not in OWN},
                        [
                            {
                                k: v
                                for k, v in value.items()
                                if k not in OWN and k != "mail_message_id"
                            }
                            for value in values
                        ],
                    )
                )
            result.append(entries)
        return result

    def assert_like_odoo(self, theirs, ours, changes):
        before = [self.messages(theirs), self.messages(ours)]
        self.assertEqual(before[0], before[1])
        for record, vals in zip(theirs, changes, strict=True):
            record.write(vals)
        self.env.flush_all()
        self.env.cr.precommit.run()  # Odoo writes tracking at commit
        for record, vals in zip(ours, changes, strict=True):
            record.write(vals)
        finalize_tracking(ours.sudo(), ours.ids)
        self.env.flush_all()
        created = self.env["mail.message"].search(
            [("model", "=", ours._name), ("res_id", "in", ours.ids)]
        )
        # Nothing left for Odoo to do at commit.
        self.env.cr.precommit.run()
        after = self.env["mail.message"].search(
            [("model", "=", ours._name), ("res_id", "in", ours.ids)]
        )
        self.assertEqual(after, created)
        theirs_now, ours_now = self.messages(theirs), self.messages(ours)
        self.assertEqual(len(ours_now), len(changes))
        for record_theirs, record_ours, old in zip(
            theirs_now, ours_now, before[1], strict=True
        ):
            self.assertGreater(len(record_ours), len(old))
            self.assertEqual(record_ours, record_theirs)
        # The ORM sees them too (its cache was refreshed).
        for record in ours:
            last = record.message_ids[:1]
            self.assertTrue(last.tracking_value_ids)
            self.assertEqual(last.tracking_value_ids.mail_message_id, last)

    def test_contacts_like_odoo(self):
        vals = [
            {"name": f"Person {i}", "email": f"p{i}@x.com", "parent_id": self.acme.id}
            for i in range(4)
        ]
        theirs, ours = self.twins("res.partner", vals)
        changes = [
            {"email": "new0@x.com", "phone": "+1 555"},
            {"email": False, "parent_id": self.globex.id},
            # what COPY's text format escapes: tab, backslash, line ends
            {"phone": "0033\t1\\23\r\n4", "function": "CEO"},
            {"email": "p3@y.com", "phone": "1", "parent_id": False},
        ]
        self.assert_like_odoo(theirs, ours, changes)

    def test_deals_like_odoo(self):
        # A stage change has a subtype: it is posted (and notifies), not logged.
        stages = self.env["crm.stage"].search([], limit=2)
        self.assertEqual(len(stages), 2)
        vals = [
            {
                "name": f"Deal {i}",
                "type": "opportunity",
                "stage_id": stages[0].id,
                "expected_revenue": 100 * i,
            }
            for i in range(4)
        ]
        theirs, ours = self.twins("crm.lead", vals)
        changes = [
            {"expected_revenue": 5.5, "user_id": self.seller.id},
            {"stage_id": stages[1].id},
            {"expected_revenue": 0, "date_deadline": "2020-02-29"},
            {"active": False, "type": "lead"},
        ]
        self.assert_like_odoo(theirs, ours, changes)

    def test_tasks_like_odoo(self):
        # Every kind of tracked value: text, selection, date and time,
        # number, many2many, boolean.
        project = self.env["project.project"].create({"name": "Tracked"})
        vals = [
            {"name": f"Task {i}", "project_id": project.id, "allocated_hours": i}
            for i in range(3)
        ]
        theirs, ours = self.twins("project.task", vals)
        changes = [
            {"name": "Renamed", "priority": "1", "allocated_hours": 2.5},
            {"date_deadline": "2026-03-01 10:30:00", "user_ids": [self.seller.id]},
            {"active": False, "allocated_hours": 0},
        ]
        self.assert_like_odoo(theirs, ours, changes)

    def test_recomputed_records_like_odoo(self):
        """A contact's new e-mail is recomputed on its leads, which track it:
        their messages are made with the contact's, not left for the commit,
        and are Odoo's. What was pending before stays pending."""
        theirs, ours = self.twins(
            "res.partner", [{"name": f"Lead owner {i}"} for i in range(2)]
        )
        leads = [
            self.env["crm.lead"].create(
                [
                    {"name": f"Lead {i}", "partner_id": partner.id}
                    for i, partner in enumerate(partners)
                ]
            )
            for partners in (theirs, ours)
        ]
        self.env.flush_all()
        self.env.cr.precommit.run()
        before = self.messages(leads[1])
        self.assertEqual(self.messages(leads[0]), before)
        unrelated = self.env["crm.lead"].create({"name": "Unrelated"})
        self.env.flush_all()
        self.env.cr.precommit.run()
        unrelated.write({"priority": "2", "email_from": "kept@x.com"})
        kept = pending_tracking(self.env)
        self.assertEqual(kept, {"crm.lead": [unrelated.id]})

        for partners in (theirs, ours):
            for i, partner in enumerate(partners):
                partner.write({"email": f"new{i}@x.com"})
        # theirs' tracking is still pending too: only ours is finalized
        keep = {
            "crm.lead": {unrelated.id, *leads[0].ids},
            "res.partner": set(theirs.ids),
        }
        finalize_tracking(ours.sudo(), ours.ids, keep=keep)
        self.assertEqual(
            {model: set(ids) for model, ids in pending_tracking(self.env).items()},
            keep,
        )
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual(self.messages(leads[1]), self.messages(leads[0]))
        for lead, old in zip(self.messages(leads[1]), before, strict=True):
            self.assertGreater(len(lead), len(old))
        self.assertEqual(self.messages(ours), self.messages(theirs))
