# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import datetime
import io
import secrets
import zipfile
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import UserError

from ..models import crm_backup_restore_plan
from .restore_cases import RestoreCase, RestoreModes
from .restore_common import csv_bytes, export_rows, file_spec, make_zip


class ContactsCase(RestoreCase):
    """Two contacts, their backup, and the changes made after it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tag_a = cls.env["res.partner.category"].create({"name": "A"})
        cls.tag_b = cls.env["res.partner.category"].create({"name": "B"})
        cls.company = cls.env["res.partner"].create(
            {"name": "Acme", "is_company": True}
        )
        Partner = cls.env["res.partner"]
        cls.p1 = Partner.create(
            {
                "name": "Alice",
                "email": "alice@x.com",
                "phone": "+33 1 23",
                "function": "=cmd|' /C calc'!A0",
                "parent_id": cls.company.id,
                "category_id": [Command.set((cls.tag_a | cls.tag_b).ids)],
                "comment": "<p>Likes tea</p>",
            }
        )
        cls.p2 = Partner.create({"name": "Bob", "email": False, "phone": "555"})
        cls.columns = [
            "id",
            "name",
            "email",
            "phone",
            "function",
            "parent_id/id",
            "category_id/id",
            "comment",
        ]
        cls.fields = [
            "email",
            "phone",
            "function",
            "parent_id",
            "category_id",
            "comment",
        ]
        cls.people = cls.p1 | cls.p2
        cls.snapshot = {p.id: {f: p[f] for f in cls.fields} for p in cls.people}

    def backup(self):
        return self.backup_zip("contacts", self.people, self.columns)

    def damage(self):
        """Changes made after the backup."""
        self.p1.write(
            {
                "email": "new@x.com",
                "phone": False,
                "function": "CEO",
                "parent_id": False,
                "category_id": [Command.set(self.tag_a.ids)],
                "comment": False,
            }
        )
        self.p2.write({"email": "bob@x.com", "phone": "556"})

    def assertSnapshot(self):
        self.env.invalidate_all()
        for p in self.people:
            for f in self.fields:
                self.assertEqual(p[f], self.snapshot[p.id][f], f"{p.name}.{f}")

    def planned(self, data=None, fields=None, **vals):
        restore = self.new_restore(
            "contacts", data or self.backup(), fields or self.fields, **vals
        )
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        return restore


class TestRestoreRun(ContactsCase):
    """Checks before and around the job, whatever the mode."""

    def test_needs_grant(self):
        restore = self.planned()
        with self.assertRaisesRegex(UserError, "identity check"):
            restore._execute_restore()
        # A grant for undo does not run a restore, and a grant works once.
        restore._grant_execution("undo")
        with self.assertRaisesRegex(UserError, "identity check"):
            restore._execute_restore()
        restore._grant_execution("restore")
        restore._execute_restore()
        with self.assertRaisesRegex(UserError, "identity check"):
            restore._execute_restore()

    def test_state_not_writable_to_bypass(self):
        restore = self.planned()
        restore.write({"state": "running"})
        self.env["crm.backup.restore"]._cron_run_restores()
        self.assertNotEqual(restore.state, "done")

    def test_confirmations_required(self):
        restore = self.planned()
        restore.confirm_reviewed = False
        with self.assertRaisesRegex(UserError, "both confirmations"):
            restore.action_restore()
        restore.confirm_reviewed = True
        action = restore.action_restore()
        self.assertEqual(action["res_model"], "crm.backup.restore.auth")

    def test_foreign_backup_needs_acknowledgement(self):
        data = self.backup_zip("contacts", self.people, self.columns, database_uuid="x")
        restore = self.new_restore("contacts", data, ["email"])
        self.assertTrue(restore.is_foreign_backup)
        with self.assertRaisesRegex(UserError, "another database"):
            restore.action_plan()
        restore.acknowledge_foreign = True
        restore.action_plan()
        self.assertEqual(restore.state, "planned")

    def bad_inputs(self):
        """Name -> backup bytes that must be refused, built from a good one."""
        columns = ["id", "email", "phone"]
        rows = export_rows(self.people, columns)

        def one(**kw):
            spec = file_spec(
                "contacts", "res.partner", columns, rows, **kw.pop("spec", {})
            )
            return make_zip([spec], database_uuid=kw.pop("uuid", self.uuid), **kw)

        good = one()
        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("contacts.csv", b"0" * (30 * 1024 * 1024))
        latin = (
            csv_bytes(columns, rows).decode().replace("Bob", "Bob") + "\r\nx.y,é,\r\n"
        )
        return {
            "empty": b"",
            "not a zip": b"id,email\r\n",
            "truncated": good[: len(good) - 30],
            "zip bomb": bomb.getvalue(),
            "path traversal": one(extra={"../../etc/cron.d/x": b"x"}),
            "wrong checksum": one(spec={"sha256": "1" * 64}),
            "other database": one(uuid="another-database"),
            "newer format": one(manifest_overrides={"format_version": 2}),
            "extra column": one(
                spec={"data": csv_bytes(columns + ["x"], [r + ["1"] for r in rows])}
            ),
            "missing column": one(
                spec={"data": csv_bytes(columns[:2], [r[:2] for r in rows])}
            ),
            "wrong encoding": one(
                spec={"data": latin.encode("latin-1"), "row_count": 3}
            ),
            "10 MB value": one(
                spec={
                    "rows": [[rows[0][0], "a@b.c", secrets.token_hex(5 * 1024 * 1024)]]
                }
            ),
            "no manifest": zipfile.ZipFile(io.BytesIO(good)).read("contacts.csv"),
        }

    def test_bad_files_change_nothing(self):
        self.damage()

        def state():
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT md5(string_agg(concat_ws('|', id, email, phone, function,"
                " parent_id, comment), ',' ORDER BY id)) FROM res_partner"
            )
            return (
                self.env.cr.fetchone()[0],
                self.env["crm.backup.audit"].search_count([]),
                self.env["mail.message"].search_count([]),
            )

        before = state()
        inputs = self.bad_inputs()
        for name, data in inputs.items():
            restore = self.new_restore("contacts", data or b"x", ["email", "phone"])
            if not data:
                restore.upload_file = False
            with self.assertRaises(UserError, msg=name) as cm:
                restore.action_plan()
            self.assertTrue(str(cm.exception.args[0]), name)
            self.assertEqual(restore.state, "draft", name)
            self.assertFalse(restore.line_ids, name)
            restore.unlink()
        self.assertEqual(state(), before)
        self.assertEqual(len(inputs), 13)

    def test_column_of_removed_field_is_ignored(self):
        # A field removed from the model since the backup: its column cannot be
        # chosen; the other fields restore normally.
        columns = ["id", "phone", "x_removed_since"]
        rows = [r + ["old"] for r in export_rows(self.people, columns[:2])]
        data = make_zip(
            [
                {
                    "name": "contacts.csv",
                    "object": "contacts",
                    "model": "res.partner",
                    "fields": columns,
                    "rows": rows,
                }
            ],
            database_uuid=self.uuid,
        )
        self.damage()
        restore = self.new_restore("contacts", data, ["phone"])
        self.assertEqual(restore.available_field_ids.mapped("name"), ["phone"])
        restore.action_plan()
        self.assertEqual(self.line(restore, "phone").change_count, 2)

    def test_second_restore_refused(self):
        first = self.planned()
        # queued after its identity check, as the wizard does
        first._grant_execution("restore")
        first._queue("restore")
        second = self.planned()
        with self.assertRaisesRegex(
            UserError, "Another restore is running.*Data Restore - Contact"
        ):
            second.action_restore()

    def test_name(self):
        restore = self.new_restore("deals", self.backup(), [], model="crm.lead")
        self.assertRegex(
            restore.name, r"^Data Restore - Deal - \d{4}-\d\d-\d\d \d\d:\d\d$"
        )

    def test_download_plan_xlsx(self):
        data = self.backup()
        self.damage()
        restore = self.planned(data)
        action = restore.action_download_plan()
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[3].split("?")[0])
        )
        self.assertEqual(attachment.raw[:2], b"PK")
        import io

        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(attachment.raw), read_only=True)
        rows = list(book["Changes"].iter_rows(values_only=True))
        self.assertIn(("Alice", "Email", "new@x.com", "alice@x.com"), rows)


class TestRestoreWrites(RestoreModes, ContactsCase):
    """What a restore and its undo write, in normal mode (and in fast mode: see
    TestRestoreWritesFast)."""

    def test_undo_refused_while_a_later_restore_changed_the_same_fields(self):
        data = self.backup()
        self.damage()
        first = self.planned(data, fields=["phone"])
        self.assertTrue(self.run_restore(first))
        self.p1.phone = "+1 after first"
        second = self.planned(data, fields=["phone", "email"])
        self.assertTrue(self.run_restore(second))
        for attempt in (
            lambda: first._check_ready("undo"),
            lambda: self.run_restore(first, "undo"),
        ):
            with (
                self.assertRaisesRegex(UserError, "Undo .* first"),
                self.env.cr.savepoint(),
            ):
                attempt()
        self.env.invalidate_all()
        self.assertEqual(first.state, "done")
        self.assertEqual(self.p1.phone, self.snapshot[self.p1.id]["phone"])
        # Undone in reverse order, both go through.
        self.assertTrue(self.run_restore(second, "undo"))
        self.assertEqual(self.p1.phone, "+1 after first")
        self.assertTrue(self.run_restore(first, "undo"))
        # the phone was edited after the first restore: the edit stays
        self.assertEqual(self.p1.phone, "+1 after first")
        self.assertIn("1 record changed again since", first.message_ids[0].body)

    def test_restore_exact_values_and_undo(self):
        data = self.backup()
        self.damage()
        damaged = {p.id: {f: p[f] for f in self.fields} for p in self.people}
        restore = self.planned(data)
        self.assertEqual(self.line(restore, "email").clear_count, 1)  # Bob's blank
        self.assertEqual(self.line(restore, "phone").change_count, 2)
        self.assertTrue(self.run_restore(restore))
        self.assertEqual(restore.state, "done", restore.error_message)
        self.assertEqual(restore.restored_record_count, 2)
        self.assertSnapshot()
        # Formula-looking text comes back exactly, blanks too.
        self.assertEqual(self.p1.function, "=cmd|' /C calc'!A0")
        self.assertFalse(self.p2.email)
        audit = self.env["crm.backup.audit"].search([("restore_id", "=", restore.id)])
        self.assertEqual(
            audit.mapped("action"), ["restore_executed", "restore_planned"]
        )
        executed = audit[0]
        self.assertEqual(executed.record_count, 2)
        self.assertIn("email", executed.field_names)
        self.assertIn("Email", executed.field_labels.split(", "))
        self.assertNotIn("category_id", executed.field_labels)
        # Inbox notification with counts, and a toast on the bus.
        self.assertIn("2 records restored", restore.message_ids[0].body)
        self.assertIn(self.env.user.partner_id, restore.message_ids[0].partner_ids)
        self.env.cr.precommit.run()
        toasts = (
            self.env["bus.bus"]
            .sudo()
            .search([])
            .filtered(
                lambda m: "simple_notification" in m.message
                and "Restore done" in m.message
            )
        )
        self.assertTrue(toasts)
        # Undo, later: the restore keeps who ran it and when.
        # (a day ago: the undo data is kept 30 days)
        finished = fields.Datetime.now().replace(microsecond=0)
        restore.date_done = finished = finished - datetime.timedelta(days=1)
        self.assertFalse(restore.undone_by_id or restore.date_undone)
        self.assertTrue(self.run_restore(restore, "undo"))
        self.assertEqual(restore.state, "undone")
        self.assertEqual(restore.date_done, finished)
        self.assertEqual(restore.requested_by_id, self.env.user)
        self.assertEqual(restore.undone_by_id, self.env.user)
        self.assertGreater(restore.date_undone, finished)
        self.env.invalidate_all()
        for p in self.people:
            for f in self.fields:
                self.assertEqual(p[f], damaged[p.id][f], f"undo {p.name}.{f}")
        self.assertTrue(
            self.env["crm.backup.audit"].search(
                [("restore_id", "=", restore.id), ("action", "=", "restore_undone")]
            )
        )

    def test_tracking_and_computed_fields(self):
        self.env = self.env(
            context=dict(self.env.context, tracking_disable=False, mail_notrack=False)
        )
        deal = self.env["crm.lead"].create(
            {"name": "Big deal", "type": "opportunity", "expected_revenue": 1000}
        )
        data = self.backup_zip(
            "deals", deal, ["id", "name", "expected_revenue", "phone"]
        )
        deal.write({"expected_revenue": 5, "phone": "+1 555"})
        restore = self.new_restore("deals", data, ["expected_revenue", "phone"])
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        self.run_restore(restore)
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking is written at commit
        self.assertEqual(deal.expected_revenue, 1000)
        self.assertFalse(deal.phone)
        self.assertFalse(deal.phone_sanitized)  # computed from phone
        tracked = deal.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "expected_revenue"
        )
        self.assertIn(1000.0, tracked.mapped("new_value_float"))

    def test_only_selected_fields(self):
        data = self.backup()
        self.damage()
        restore = self.planned(data, fields=["phone"])
        self.run_restore(restore)
        self.assertEqual(self.p1.phone, "+33 1 23")
        self.assertEqual(self.p1.email, "new@x.com")

    def test_recreate_deleted(self):
        gone = self.env["res.partner"].create({"name": "Gone", "email": "g@x.com"})
        people = self.people | gone
        data = self.backup_zip("contacts", people, self.columns)
        xmlid = gone.get_external_id()[gone.id]
        gone.unlink()
        restore = self.planned(data, fields=["email"], recreate_deleted=True)
        self.assertEqual(restore.deleted_count, 1)
        self.run_restore(restore)
        again = self.env.ref(xmlid)
        self.assertEqual((again.name, again.email), ("Gone", "g@x.com"))
        self.assertEqual(restore.created_record_count, 1)
        self.run_restore(restore, "undo")
        self.assertFalse(again.exists())

    def test_deleted_skipped_without_option(self):
        gone = self.env["res.partner"].create({"name": "Gone", "email": "g@x.com"})
        data = self.backup_zip("contacts", self.people | gone, self.columns)
        xmlid = gone.get_external_id()[gone.id]
        gone.unlink()
        restore = self.planned(data, fields=["email"])
        self.run_restore(restore)
        self.assertFalse(self.env.ref(xmlid, raise_if_not_found=False))

    def test_failure_rolls_back(self):
        data = self.backup()
        self.damage()
        restore = self.planned(data)
        # A constraint that fails on the restored value, after other writes.
        self.env["res.partner"].browse(self.p2.id)
        self.p1.parent_id = False
        self.company.parent_id = self.p1  # Acme under Alice: cycle on restore
        restore.write({"confirm_reviewed": True})
        self.assertFalse(self.run_restore(restore))
        self.assertEqual(restore.state, "failed")
        self.assertIn("recursive", restore.error_message.lower())
        self.env.invalidate_all()
        # Bob's phone (written and flushed before Alice's parent) is back.
        self.assertEqual(self.p2.phone, "556")
        self.assertFalse(self.p1.phone)
        self.assertFalse(restore.sudo().undo_data)
        self.assertTrue(
            self.env["crm.backup.audit"].search(
                [("restore_id", "=", restore.id), ("action", "=", "restore_failed")]
            )
        )

    def test_sql_constraint_fails_everything(self):
        data = self.backup_zip(
            "contacts",
            self.people,
            ["id", "name", "phone"],
            edit_rows=lambda rows: rows[0].__setitem__(1, ""),
        )
        self.p1.write({"type": "contact", "phone": "1"})
        self.p2.write({"phone": "2"})
        restore = self.planned(data, ["name", "phone"])
        self.assertEqual(self.line(restore, "name").clear_count, 1)
        self.assertFalse(self.run_restore(restore))
        self.assertEqual(restore.state, "failed")
        self.assertIn("check_name", restore.error_message)
        self.env.invalidate_all()
        self.assertEqual((self.p1.name, self.p1.phone), ("Alice", "1"))
        self.assertEqual(self.p2.phone, "2")

    def test_stored_computed_fields_follow(self):
        globex = self.env["res.partner"].create({"name": "Globex", "is_company": True})
        self.p2.company_name = "Bob & Co"
        data = self.backup_zip("contacts", self.people, self.columns + ["company_name"])
        self.damage()
        self.p1.parent_id = globex
        self.p2.company_name = "Other"
        self.assertEqual(self.p2.commercial_company_name, "Other")
        self.assertEqual(self.p1.commercial_partner_id, globex)
        self.assertEqual(self.p1.commercial_company_name, "Globex")
        restore = self.planned(data, ["parent_id", "company_name"])
        self.assertTrue(self.run_restore(restore), restore.error_message)
        self.env.cr.execute(
            "SELECT id, commercial_partner_id, commercial_company_name "
            "FROM res_partner WHERE id = ANY(%s) ORDER BY id",
            [self.people.ids],
        )
        self.assertEqual(
            self.env.cr.fetchall(),
            [
                (self.p1.id, self.company.id, "Acme"),
                (self.p2.id, self.p2.id, "Bob & Co"),
            ],
        )

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
        self.people.write({"email": "changed@x.com"})
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual(set(leads.mapped("email_from")), {"changed@x.com"})
        before = self.env["mail.message"].search([]).ids
        restore = self.planned(data, ["email"])
        # one contact per part
        with patch.object(crm_backup_restore_plan, "PLAN_BATCH", 1):
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
                [("email_from", "changed@x.com", partner.email)],
            )

    def clear_ref(self):
        # Without the ORM, or the automation would set it again.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET ref = NULL WHERE id = ANY(%s)", [self.people.ids]
        )
        self.env.invalidate_all()
        self.assertFalse(self.p1.ref)

    def test_automations_off_and_on(self):
        if "base.automation" not in self.env:
            self.skipTest("base_automation is not installed")  # pragma: no cover
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
        data = self.backup()
        self.damage()
        self.clear_ref()
        restore = self.planned(data, fields=["phone"])
        self.assertFalse(restore.run_automations)
        self.assertTrue(self.run_restore(restore), restore.error_message)
        self.assertEqual(self.p1.phone, "+33 1 23")
        self.assertFalse(self.p1.ref)
        # With the setting on, automations fire.
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_data_backup.restore_run_automations", "True"
        )
        self.people.write({"phone": "0"})
        self.clear_ref()
        restore2 = self.planned(data, fields=["phone"])
        self.assertTrue(restore2.run_automations)
        self.assertTrue(self.run_restore(restore2), restore2.error_message)
        self.assertEqual(self.people.mapped("ref"), ["AUTOMATED", "AUTOMATED"])
        self.assertEqual(self.p2.phone, "555")

    def test_plan_batches_one_record_at_a_time(self):
        """Changes are spooled and written batch by batch: same result."""
        data = self.backup()
        self.damage()
        damaged = {p.id: {f: p[f] for f in self.fields} for p in self.people}
        with patch.object(crm_backup_restore_plan, "PLAN_BATCH", 1):
            restore = self.planned(data)
            self.assertEqual(restore.change_record_count, 2)
            self.assertEqual(self.line(restore, "phone").change_count, 2)
            self.assertTrue(self.run_restore(restore))
            self.assertEqual(restore.restored_record_count, 2)
            self.assertSnapshot()
            self.assertTrue(self.run_restore(restore, "undo"))
        self.env.invalidate_all()
        for p in self.people:
            for f in self.fields:
                self.assertEqual(p[f], damaged[p.id][f], f"undo {p.name}.{f}")

    def _planned_from_stored_backup(self, file_format):
        """A real backup made by the backup engine, damaged data, a plan."""
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_data_backup.file_format", file_format
        )
        backup = self.env["crm.backup"].request_backup()
        backup.action_run()
        self.assertEqual(backup.state, "done")
        self.damage()
        restore = self.new_restore(
            "contacts",
            b"",
            self.fields,
            source="backup",
            backup_id=backup.id,
            upload_file=False,
        )
        self.assertIn("phone", restore.available_field_ids.mapped("name"))
        restore.action_plan()
        self.assertEqual(restore.state, "planned", restore.error_message)
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        return restore

    def test_restore_from_stored_backup(self):
        """End to end: a real backup made by the backup engine."""
        restore = self._planned_from_stored_backup("csv")
        # Read from the filestore as a file, not loaded whole in memory.
        source = restore._backup_file()
        self.addCleanup(source.close)
        self.assertIsInstance(source, io.BufferedReader)
        self.assertEqual(source.read(2), b"PK")
        self.assertTrue(self.run_restore(restore))
        self.assertSnapshot()
        self.assertEqual(restore.restored_record_count, 2)
        self.run_restore(restore, "undo")
        self.assertEqual(self.p1.phone, False)
        self.assertEqual(self.p2.phone, "556")

    def test_restore_from_xlsx_backup(self):
        """End to end with the backup engine's XLSX format."""
        restore = self._planned_from_stored_backup("xlsx")
        self.assertTrue(self.run_restore(restore), restore.error_message)
        self.assertSnapshot()
        self.assertEqual(self.p1.function, "=cmd|' /C calc'!A0")


class TestRestoreWritesFast(TestRestoreWrites):
    """The same, in fast mode."""

    fast_mode = True
