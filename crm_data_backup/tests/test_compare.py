# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Comparisons of backups checked against an independent computation (two
``export_data`` runs diffed here), mass-change alerts, and the restore a
comparison opens."""

import base64
import io

import openpyxl

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user

from ..orm.compare_sources import IGNORED_FIELDS, compared_fields
from .common import OBJECT_KEYS, BackupCommon, export_cells, set_backup_params

# The objects compared in the fixture (calls, tasks and conversations are
# activities and messages: compared too, but not changed here).
OBJECTS = tuple(k for k in OBJECT_KEYS if k not in ("calls", "tasks", "conversations"))


def run_restore(restore):
    """Run a planned restore as its job does once confirmed and re-authenticated."""
    restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
    restore._grant_execution("restore")
    restore._queue("restore")
    restore._execute_restore()


class TestCompare(BackupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Compare = cls.env["crm.backup.compare"]
        cls.extra = cls.env["res.partner"].create(
            [{"name": f"Extra {i}", "email": f"extra{i}@example.com"} for i in range(6)]
        )

    def object(self, key):
        return self.env["crm.backup.object"].search([("key", "=", key)])

    def snapshot(self, backup):
        """``{(object key, model): (header, {xmlid: cells})}`` of what
        export_data gives now for the records and columns of ``backup``."""
        result = {}
        zipped = self.open_zip(backup)
        for key in OBJECTS:
            obj = self.object(key)
            for _o, _k, model_name, domain, _own in obj._export_targets():
                entry = next(
                    (
                        e
                        for e in zipped.manifest["files"]
                        if e["model"] == model_name and e["object"] == key
                    ),
                    None,
                )
                if not entry:
                    continue
                Model = self.env[model_name].with_context(active_test=False)
                records = Model.search(domain, order="id")
                header = entry["fields"]
                rows = export_cells(records, header)
                result[key, model_name] = (
                    header,
                    {row[0]: row for row in rows},
                )
        return result

    def expected(self, before, after):
        """Counts of the independent diff, per (object, model)."""
        result = {}
        for target, (header, old) in before.items():
            new_header, new = after[target]
            Model = self.env[target[1]]
            names = {n for n, _t in compared_fields(Model, header, new_header)}
            columns = [
                i
                for i, c in enumerate(header)
                if c.split("/")[0] in names and c.split("/")[0] not in IGNORED_FIELDS
            ]
            changed, per_field = 0, {}
            for xmlid in old.keys() & new.keys():
                differ = [i for i in columns if old[xmlid][i] != new[xmlid][i]]
                changed += bool(differ)
                for i in differ:
                    name = header[i].split("/")[0]
                    per_field[name] = per_field.get(name, 0) + 1
            result[target] = {
                "added": len(new.keys() - old.keys()),
                "deleted": len(old.keys() - new.keys()),
                "changed": changed,
                "fields": per_field,
            }
        return result

    def mutate(self):
        data = self.data
        # deletes, creations, changes, blanks and relations, in every object
        self.extra[:2].unlink()
        self.env["res.partner"].create({"name": "Newcomer", "phone": "+1 555"})
        self.extra[2].write({"email": False, "phone": "+32 9"})
        self.extra[3].write(
            {"category_id": [Command.set(data["company"].category_id.ids)]}
        )
        data["contact"].write({"function": "CEO", "parent_id": False})
        data["company"].write({"website": False, "city": "Liège"})
        data["deal"].write({"expected_revenue": 99.5, "tag_ids": [Command.clear()]})
        data["deal2"].unlink()
        self.env["crm.lead"].create({"name": "Fresh deal", "type": "opportunity"})
        data["lead"].write({"email_from": False, "partner_id": data["company"].id})
        data["ticket"].write({"name": "Printer fixed", "partner_id": False})
        data["product"].write({"list_price": 19.99, "description_sale": False})
        self.env["product.template"].create({"name": "Gadget two", "list_price": 3.0})
        # custom x_ objects too
        data["gadget"].write({"x_price": 7.5, "x_partner_id": False})
        self.env["x_gadget"].create({"x_name": "Gizmo two", "x_count": 1})

    def line(self, compare, key, model_name):
        return compare.line_ids.filtered(
            lambda line: key in (line.object_id.key, line.object_id.parent_id.key)
            and line.model_name == model_name
        )

    def assertMatches(self, compare, expected):
        self.assertEqual(compare.state, "done")
        for (key, model_name), counts in expected.items():
            line = self.line(compare, key, model_name)
            self.assertEqual(len(line), 1, (key, model_name))
            got = (line.added_count, line.deleted_count, line.changed_count)
            want = (counts["added"], counts["deleted"], counts["changed"])
            self.assertEqual(got, want, (key, model_name))
            names = {n for n in (line.changed_field_names or "").split(",") if n}
            self.assertEqual(names, set(counts["fields"]), (key, model_name))
        self.assertEqual(
            compare.changed_count, sum(line.changed_count for line in compare.line_ids)
        )

    def test_backups_compared_as_two_exports_diffed(self):
        first = self.make_backup()
        before = self.snapshot(first)
        self.mutate()
        second = self.make_backup()
        after = self.snapshot(second)
        expected = self.expected(before, after)
        # the mutations reach every object compared
        for key in OBJECTS:
            counts = [c for (k, _m), c in expected.items() if k == key]
            self.assertTrue(
                any(c["added"] or c["deleted"] or c["changed"] for c in counts), key
            )
        compare = self.Compare.create(
            {"backup_from_id": first.id, "backup_to_id": second.id}
        )
        compare.action_compare()
        self.assertMatches(compare, expected)
        self.assertGreater(compare.deleted_count, 0)
        self.assertGreater(compare.added_count, 0)
        # every difference in the workbook: a row per record added or deleted
        # and per value changed
        book = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(compare.difference_file)), read_only=True
        )
        rows = list(book.active.iter_rows(values_only=True))[1:]
        per_field = sum(sum(c["fields"].values()) for c in expected.values())
        records = sum(c["added"] + c["deleted"] for c in expected.values())
        self.assertEqual(len(rows), per_field + records)
        cities = [r for r in rows if r[3] == "City" and r[4] == "Bruxelles"]
        self.assertEqual([r[5] for r in cities], ["Liège"])
        # one object only
        deals = self.Compare.create(
            {
                "backup_from_id": first.id,
                "backup_to_id": second.id,
                "object_id": self.object("deals").id,
            }
        )
        deals.action_compare()
        self.assertEqual(deals.line_ids.object_id, self.object("deals"))
        self.assertMatches(
            deals, {t: c for t, c in expected.items() if t[0] == "deals"}
        )

    def test_live_data_compared_as_a_backup_made_now(self):
        first = self.make_backup()
        before = self.snapshot(first)
        self.mutate()
        live = self.Compare.create({"backup_from_id": first.id})
        live.action_compare()
        after = self.snapshot(self.make_backup())
        self.assertMatches(live, self.expected(before, after))
        # the sample shows values as the restore plan does
        contacts = self.line(live, "companies", "res.partner")
        self.assertIn("Liège", contacts.details_html)
        self.assertIn("Bruxelles", contacts.details_html)

    def test_values_shown_escaped(self):
        first = self.make_backup()
        self.data["company"].write({"city": "<img src=x onerror=alert(1)>"})
        compare = self.Compare.create({"backup_from_id": first.id})
        compare.action_compare()
        html = self.line(compare, "companies", "res.partner").details_html
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", html)
        self.assertNotIn("<img", html)

    def test_restore_opened_prefilled(self):
        first = self.make_backup()
        self.data["company"].write({"city": "Namur"})
        compare = self.Compare.create({"backup_from_id": first.id})
        compare.action_compare()
        line = self.line(compare, "companies", "res.partner")
        self.assertEqual(line.changed_count, 1)
        action = line.action_restore()
        restore = (
            self.env["crm.backup.restore"].with_context(**action["context"]).create({})
        )
        self.assertEqual(restore.backup_id, first)
        self.assertEqual(restore.object_id, self.object("companies"))
        self.assertEqual(restore.field_ids.mapped("name"), ["city"])
        restore.action_plan()
        self.assertEqual(restore.change_record_count, 1)

    def test_custom_object_compared_and_restored(self):
        first = self.make_backup()
        self.data["gadget"].write({"x_price": 7.5})
        compare = self.Compare.create(
            {"backup_from_id": first.id, "object_id": self.object("custom").id}
        )
        compare.action_compare()
        line = self.line(compare, "custom", "x_gadget")
        self.assertEqual(
            (line.added_count, line.deleted_count, line.changed_count), (0, 0, 1)
        )
        self.assertEqual(line.changed_field_names, "x_price")
        action = line.action_restore()
        restore = (
            self.env["crm.backup.restore"].with_context(**action["context"]).create({})
        )
        self.assertEqual(restore.object_id, self.object("custom"))
        self.assertEqual(restore.model_name, "x_gadget")
        self.assertEqual(restore.field_ids.mapped("name"), ["x_price"])
        restore.action_plan()
        self.assertEqual(restore.change_record_count, 1)

    def test_comparisons_removed_with_their_backups(self):
        first = self.make_backup()
        self.data["company"].write({"city": "Namur"})
        second = self.make_backup()
        compare = self.Compare.create(
            {"backup_from_id": first.id, "backup_to_id": second.id}
        )
        live = self.Compare.create({"backup_from_id": first.id})
        (compare | live).action_compare()
        Attachment = self.env["ir.attachment"].sudo()
        books = Attachment.search(
            [
                ("res_model", "=", "crm.backup.compare"),
                ("res_id", "in", (compare | live).ids),
                ("res_field", "=", "difference_file"),
            ]
        )
        self.assertEqual(len(books), 2)
        # the workbook streamed to the filestore, read back whole
        self.assertTrue(books[0].store_fname)
        with open(books[0]._full_path(books[0].store_fname), "rb") as f:
            book = openpyxl.load_workbook(f, read_only=True)
            self.assertEqual(next(book.active.values)[0], "Object")
        # the newer backup expires: its comparisons and workbooks go
        second.sudo().expiration_date = "2000-01-01 00:00:00"
        self.env["crm.backup"]._cron_purge_expired()
        self.assertEqual(second.state, "expired")
        self.assertFalse(compare.exists())
        self.assertFalse(second.alert_compare_id.exists())
        self.assertTrue(live.exists())
        # the older backup deleted: the rest go
        first.unlink()
        self.assertFalse(live.exists())
        self.assertFalse(books.exists())

    def test_deleted_record_found_and_recreated(self):
        first = self.make_backup()
        self.extra[:2].unlink()
        compare = self.Compare.create(
            {"backup_from_id": first.id, "object_id": self.object("contacts").id}
        )
        compare.action_compare()
        line = self.line(compare, "contacts", "res.partner")
        self.assertEqual(line.deleted_count, 2)
        # found by its name among the deleted records
        self.assertEqual(
            sorted(line.deleted_ids.mapped("record_name")), ["Extra 0", "Extra 1"]
        )
        gone = line.deleted_ids.filtered(lambda d: d.record_name == "Extra 0")
        action = gone.action_recreate()
        restore = (
            self.env["crm.backup.restore"].with_context(**action["context"]).create({})
        )
        self.assertEqual(restore.backup_id, first)
        self.assertEqual(restore.record_xmlid, gone.record_xmlid)
        self.assertTrue(restore.recreate_deleted)
        restore.action_plan()
        # that record only: the other one deleted stays deleted
        self.assertEqual(restore.deleted_count, 1)
        self.assertEqual(restore.change_record_count, 0)
        run_restore(restore)
        self.assertEqual(restore.state, "done")
        self.assertEqual(restore.created_record_count, 1)
        Partner = self.env["res.partner"]
        back = Partner.search([("name", "=", "Extra 0")])
        self.assertEqual(back.email, "extra0@example.com")
        self.assertFalse(Partner.search([("name", "=", "Extra 1")]))

    def test_unusable_backup_refused(self):
        first = self.make_backup()
        first.attachment_id.sudo().raw = b"not a zip"
        compare = self.Compare.create({"backup_from_id": first.id})
        with self.assertRaises(UserError):
            compare.action_compare()
        self.assertEqual(compare.state, "draft")
        self.assertFalse(compare.line_ids)


class TestAlerts(BackupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        set_backup_params(
            cls.env,
            alert_deleted_percent="5",
            alert_changed_percent="20",
            alert_min_records="50",
        )
        cls.people = cls.env["res.partner"].create(
            [
                {"name": f"Person {i}", "email": f"p{i}@example.com", "phone": str(i)}
                for i in range(600)
            ]
        )

    def alert_messages(self, backup):
        return backup.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("crm_data_backup.mt_backup_alert")
        )

    def test_mass_delete_alerts(self):
        first = self.make_backup()
        self.assertFalse(first.alert)
        self.people[:60].unlink()
        second = self.make_backup()
        self.assertTrue(second.alert)
        self.assertIn("60 of", second.alert_summary)
        self.assertIn("deleted", second.alert_summary)
        compare = second.alert_compare_id
        self.assertEqual(compare.backup_from_id, first)
        self.assertEqual(compare.backup_to_id, second)
        audit = self.env["crm.backup.audit"].search(
            [("action", "=", "backup_alert"), ("backup_id", "=", second.id)]
        )
        self.assertEqual(len(audit), 1)
        message = self.alert_messages(second)
        self.assertEqual(len(message), 1)
        self.assertIn(self.env.ref("base.user_admin").partner_id, message.partner_ids)
        self.assertIn(str(compare.id), message.body)
        second.action_acknowledge_alert()
        self.assertFalse(second.alert)
        with self.assertRaises(UserError):
            second.action_acknowledge_alert()

    def test_bulk_overwrite_alerts(self):
        self.make_backup()
        # an import that overwrote one field of most contacts
        self.people[:300].write({"phone": "+00 000"})
        second = self.make_backup()
        self.assertTrue(second.alert)
        self.assertIn("changed", second.alert_summary)
        self.assertEqual(len(self.alert_messages(second)), 1)

    def test_daily_churn_does_not_alert(self):
        self.make_backup()
        # a day of work: a few contacts removed, some edited, some added
        self.people[:5].unlink()
        self.people[10:70].write({"function": "Buyer"})
        self.env["res.partner"].create([{"name": f"New {i}"} for i in range(40)])
        second = self.make_backup()
        self.assertFalse(second.alert)
        self.assertTrue(second.alert_compare_id)
        line = second.alert_compare_id.line_ids.filtered(
            lambda line: line.object_id.key == "contacts"
        )
        self.assertEqual(
            (line.deleted_count, line.changed_count, line.added_count), (5, 60, 40)
        )
        self.assertFalse(self.alert_messages(second))

    def test_failed_comparison_never_fails_the_backup(self):
        first = self.make_backup()
        # the previous backup's file damaged: the comparison fails
        first.attachment_id.sudo().raw = b"not a zip"
        self.people[:60].unlink()
        logger = "odoo.addons.crm_data_backup.orm.mass_alert"
        with self.assertLogs(logger, "WARNING") as logs:
            second = self.make_backup()
        self.assertEqual(second.state, "done")
        self.assertTrue(second.attachment_id)
        self.assertFalse(second.alert)
        self.assertFalse(second.alert_compare_id)
        self.assertFalse(
            self.env["crm.backup.compare"].search([("backup_to_id", "=", second.id)])
        )
        # the type of the error only: its text may quote backed-up values
        self.assertEqual(
            logs.output,
            [
                f"WARNING:{logger}:Backup {second.id}: comparison with backup "
                f"{first.id} failed: UserError"
            ],
        )
        # the requester was told the backup is ready
        self.assertTrue(
            second.message_ids.filtered(lambda m: "ready" in (m.body or "").lower())
        )


class TestHistory(BackupCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env,
            login="history_salesman",
            groups="sales_team.group_sale_salesman,helpdesk_mgmt.group_helpdesk_user",
        )

    def history(self, record):
        action = (
            self.env["crm.backup.history"]
            .with_context(active_model=record._name, active_id=record.id)
            .action_open()
        )
        return self.env["crm.backup.history"].browse(action["res_id"])

    def test_history_lists_values_and_restores_one_record(self):
        company = self.data["company"]
        other = self.env["res.partner"].create(
            {"name": "Other Co", "is_company": True, "city": "Gent"}
        )
        first = self.make_backup()
        company.write({"city": "Namur"})
        second = self.make_backup()
        company.write({"city": "Liège", "website": False})
        other.write({"city": "Brugge"})
        fresh = self.env["res.partner"].create({"name": "Not backed up"})
        history = self.history(company)
        lines = history.line_ids.filtered(
            lambda line: line.backup_id in first | second
        ).sorted(lambda line: -line.backup_id.id)
        self.assertEqual(lines.backup_id, second | first)
        self.assertTrue(all(lines.mapped("found")))
        # differences from today, highlighted
        self.assertEqual(lines.mapped("differ_count"), [2, 2])
        self.assertEqual(
            set(lines[1].differ_field_names.split(",")), {"city", "website"}
        )
        self.assertIn("Bruxelles", lines[1].values_html)
        self.assertIn("Liège", lines[1].values_html)
        self.assertIn("o_crm_history_differs", lines[1].values_html)
        # a record no backup holds
        self.assertFalse(any(self.history(fresh).line_ids.mapped("found")))
        # restore the city of this record only, from the first backup
        action = lines[1].action_restore()
        restore = (
            self.env["crm.backup.restore"].with_context(**action["context"]).create({})
        )
        self.assertTrue(restore.record_xmlid)
        restore.field_ids = restore.field_ids.filtered(lambda f: f.name == "city")
        restore.action_plan()
        self.assertEqual(
            (restore.backup_record_count, restore.change_record_count), (1, 1)
        )
        self.assertEqual(restore.created_since_count, 0)
        run_restore(restore)
        self.assertEqual(restore.state, "done")
        self.assertEqual(company.city, "Bruxelles")
        self.assertFalse(company.website)
        self.assertEqual(other.city, "Brugge")

    def test_history_shows_a_damaged_backup_and_the_others(self):
        company = self.data["company"]
        first = self.make_backup()
        company.write({"city": "Namur"})
        damaged = self.make_backup()
        damaged.attachment_id.sudo().raw = b"not a zip"
        lines = self.history(company).line_ids
        good = lines.filtered(lambda line: line.backup_id == first)
        self.assertTrue(good.found)
        self.assertIn("Bruxelles", good.values_html)
        bad = lines.filtered(lambda line: line.backup_id == damaged)
        self.assertFalse(bad.found)
        self.assertIn("This backup cannot be read", bad.values_html)

    def test_backups_button_for_backup_admins_only(self):
        # tickets (an app the addon does not depend on) get it too
        for model in ("res.partner", "crm.lead", "product.template", "helpdesk.ticket"):
            for user, shown in (
                (self.env.ref("base.user_admin"), True),
                (self.salesman, False),
            ):
                arch = (
                    self.env[model]
                    .with_user(user)
                    .get_views([(False, "form")])["views"]["form"]["arch"]
                )
                self.assertEqual(
                    "o_crm_backup_history" in arch, shown, (model, user.login)
                )

    def test_history_refuses_what_is_not_backed_up(self):
        self.make_backup()
        for model, res_id in (("res.users", self.env.uid), ("res.partner", 99999999)):
            with self.assertRaises(UserError):
                self.env["crm.backup.history"].with_context(
                    active_model=model, active_id=res_id
                ).action_open()
