# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import datetime
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form

from ..engine.reader import BackupReader
from .restore_cases import RestoreCase


class TestRestorePlan(RestoreCase):
    def check_object(
        self, key, records, char_field, rel_field, sel_field=None, new=None
    ):
        """Backup 4 records, then: r0 changed, r1 filled (backup blank),
        r2 deleted, r3 untouched, one record created; r0 gets a related
        record and an option that no longer exist (conflicts)."""
        Model = records.env[records._name]
        records[1][char_field] = False
        rel_column = f"{rel_field}/id"
        columns = ["id", char_field, rel_column] + ([sel_field] if sel_field else [])

        def edit(rows):
            rows[0][2] = "__export__.gone_since_backup_1"
            if sel_field:
                rows[0][3] = "no_such_option"

        data = self.backup_zip(key, records, columns, edit_rows=edit)
        records[0][char_field] = "changed since backup"
        records[1][char_field] = "filled since backup"
        xmlid_2 = records[2].get_external_id()[records[2].id]
        records[2].unlink()
        new()
        names = [char_field, rel_field] + ([sel_field] if sel_field else [])
        restore = self.new_restore(key, data, names, model=records._name)
        self.assertEqual(set(restore.available_field_ids.mapped("name")), set(names))
        before_audit = self.env["crm.backup.audit"].search_count([])
        restore.action_plan()
        self.assertEqual(restore.state, "planned")
        line = self.line(restore, char_field)
        self.assertEqual(
            (line.change_count, line.clear_count, line.unchanged_count),
            (1, 1, 1),
            key,
        )
        self.assertEqual(self.line(restore, rel_field).conflict_count, 1, key)
        if sel_field:
            self.assertEqual(self.line(restore, sel_field).conflict_count, 1, key)
        self.assertEqual(restore.conflict_count, 2 if sel_field else 1)
        self.assertEqual(restore.deleted_count, 1)
        self.assertIn(xmlid_2, restore.plan_html)
        self.assertIn("changed since backup", restore.plan_html)
        # A blank from the backup reads as such; a conflict names its record
        # and field as the user knows them.
        self.assertIn("(empty)", restore.plan_html)
        label = Model._fields[rel_field]._description_string(self.env)
        self.assertIn(f"{records[0].display_name} (", restore.plan_html)
        self.assertIn(f", {label}: ", restore.plan_html)
        domain = [] if key == "custom" else self.obj(key)._get_domain()
        live = Model.with_context(active_test=False).search_count(domain)
        self.assertEqual(restore.created_since_count, live - 3)
        self.assertGreaterEqual(restore.created_since_count, 1)
        self.assertEqual(restore.backup_record_count, 4)
        audit = self.env["crm.backup.audit"].search([], limit=1)
        self.assertEqual(
            self.env["crm.backup.audit"].search_count([]), before_audit + 1
        )
        self.assertEqual(audit.action, "restore_planned")
        self.assertEqual(audit.restore_id, restore)
        # Planning writes nothing.
        self.assertEqual(records[0][char_field], "changed since backup")
        return restore

    def test_plan_contacts(self):
        tag = self.env["res.partner.category"].create({"name": "VIP"})
        Partner = self.env["res.partner"]
        recs = Partner.create(
            [
                {
                    "name": f"C{i}",
                    "email": f"c{i}@x.com",
                    "category_id": [(6, 0, tag.ids)],
                }
                for i in range(4)
            ]
        )
        self.check_object(
            "contacts",
            recs,
            "email",
            "category_id",
            "type",
            new=lambda: Partner.create({"name": "New"}),
        )

    def test_plan_companies(self):
        Partner = self.env["res.partner"]
        parent = Partner.create({"name": "Group", "is_company": True})
        recs = Partner.create(
            [
                {
                    "name": f"Co{i}",
                    "is_company": True,
                    "phone": "1",
                    "parent_id": parent.id,
                }
                for i in range(4)
            ]
        )
        self.check_object(
            "companies",
            recs,
            "phone",
            "parent_id",
            new=lambda: Partner.create({"name": "NewCo", "is_company": True}),
        )

    def _check_leads(self, key, type_):
        """check_object on crm.lead records of ``type_`` (deals and leads)."""
        tag = self.env["crm.tag"].create({"name": "Hot"})
        Lead = self.env["crm.lead"]
        recs = Lead.create(
            [
                {
                    "name": f"L{i}",
                    "type": type_,
                    "email_from": f"l{i}@x.com",
                    "tag_ids": [Command.set(tag.ids)],
                    "priority": "1",
                }
                for i in range(4)
            ]
        )
        self.check_object(
            key,
            recs,
            "email_from",
            "tag_ids",
            "priority",
            new=lambda: Lead.create({"name": "N", "type": type_}),
        )

    def test_plan_deals(self):
        self._check_leads("deals", "opportunity")

    def test_plan_leads(self):
        self._check_leads("leads", "lead")

    def test_plan_tickets(self):
        Ticket = self.env["helpdesk.ticket"]
        tag = self.env["helpdesk.ticket.tag"].create({"name": "Urgent"})
        recs = Ticket.create(
            [
                {
                    "name": f"T{i}",
                    "description": "<p>Broken</p>",
                    "partner_email": f"t{i}@x.com",
                    "tag_ids": [Command.set(tag.ids)],
                }
                for i in range(4)
            ]
        )
        self.check_object(
            "tickets",
            recs,
            "partner_email",
            "tag_ids",
            "priority",
            new=lambda: Ticket.create({"name": "N", "description": "<p>x</p>"}),
        )

    def test_plan_products(self):
        Product = self.env["product.template"]
        categ = self.env["product.category"].create({"name": "Goods"})
        recs = Product.create(
            [
                {"name": f"P{i}", "description_sale": "Nice", "categ_id": categ.id}
                for i in range(4)
            ]
        )
        self.check_object(
            "products",
            recs,
            "description_sale",
            "categ_id",
            "type",
            new=lambda: Product.create({"name": "New product"}),
        )

    def _activities(self, type_xmlid):
        partner = self.env["res.partner"].create({"name": "Customer"})
        act_type = self.env.ref(type_xmlid)
        Activity = self.env["mail.activity"]
        model_id = self.env["ir.model"]._get_id("res.partner")

        def make(summary):
            return Activity.create(
                {
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "activity_type_id": act_type.id,
                    "summary": summary,
                    "user_id": self.env.uid,
                    "date_deadline": datetime.date(2026, 12, 1),
                }
            )

        recs = Activity.browse([make(f"A{i}").id for i in range(4)])
        return recs, make

    def test_plan_calls(self):
        recs, make = self._activities("mail.mail_activity_data_call")
        self.check_object("calls", recs, "summary", "user_id", new=lambda: make("new"))

    def test_plan_tasks(self):
        recs, make = self._activities("mail.mail_activity_data_todo")
        self.check_object("tasks", recs, "summary", "user_id", new=lambda: make("new"))

    def test_plan_custom_model(self):
        model = self.env["ir.model"].create(
            {
                "name": "Restore test",
                "model": "x_restore_test",
                "field_id": [
                    Command.create(
                        {"name": "x_name", "ttype": "char", "field_description": "Name"}
                    ),
                    Command.create(
                        {
                            "name": "x_partner_id",
                            "ttype": "many2one",
                            "relation": "res.partner",
                            "field_description": "Partner",
                        }
                    ),
                    Command.create(
                        {
                            "name": "x_level",
                            "ttype": "selection",
                            "selection_ids": [
                                Command.create(
                                    {"value": "low", "name": "Low", "sequence": 1}
                                ),
                                Command.create(
                                    {"value": "high", "name": "High", "sequence": 2}
                                ),
                            ],
                            "field_description": "Level",
                        }
                    ),
                ],
            }
        )
        Custom = self.env[model.model]
        partner = self.env["res.partner"].create({"name": "Linked"})
        recs = Custom.create(
            [
                {"x_name": f"X{i}", "x_partner_id": partner.id, "x_level": "low"}
                for i in range(4)
            ]
        )
        self.check_object(
            "custom",
            recs,
            "x_name",
            "x_partner_id",
            "x_level",
            new=lambda: Custom.create({"x_name": "new"}),
        )

    def test_plan_needs_choices(self):
        restore = self.Restore.create(
            {"source": "upload", "object_id": self.obj("deals").id}
        )
        with self.assertRaisesRegex(UserError, "at least one field"):
            restore.action_plan()
        self.assertEqual(restore.state, "draft")

    def test_not_restorable_object(self):
        partner = self.env["res.partner"].create({"name": "P", "email": "p@x.com"})
        data = self.backup_zip("contacts", partner, ["id", "email"])
        restore = self.new_restore("contacts", data, ["email"])
        # refused by the server when chosen, whatever the form offers
        with self.assertRaisesRegex(UserError, "cannot be restored"):
            restore.object_id = self.obj("conversations")

    def test_replan_after_change(self):
        partner = self.env["res.partner"].create({"name": "P", "email": "p@x.com"})
        data = self.backup_zip("contacts", partner, ["id", "email", "phone"])
        restore = self.new_restore("contacts", data, ["email"])
        restore.action_plan()
        self.assertEqual(restore.state, "planned")
        restore.field_ids = [
            Command.link(self.env.ref("base.field_res_partner__phone").id)
        ]
        self.assertEqual(restore.state, "draft")

    def test_field_choices_read_the_file_once(self):
        """The fields a backup file offers are read when the file or the
        object changes, not on every change of the form."""
        partner = self.env["res.partner"].create({"name": "P", "email": "p@x.com"})
        data = self.backup_zip("contacts", partner, ["id", "email", "phone"])
        restore = self.new_restore("contacts", data, ["email"])
        self.env.flush_all()
        with patch.object(
            BackupReader, "open", autospec=True, side_effect=BackupReader.open
        ) as opened:
            restore.invalidate_recordset()
            self.assertEqual(
                set(restore.available_field_ids.mapped("name")), {"email", "phone"}
            )
            with Form(restore) as form:
                form.fast_mode = True
                form.recreate_deleted = True
                form.field_ids.add(self.env.ref("base.field_res_partner__phone"))
            self.assertEqual(opened.call_count, 0)
            restore.object_id = self.obj("companies")
            restore.read(["available_field_ids"])
            self.assertEqual(opened.call_count, 1)
