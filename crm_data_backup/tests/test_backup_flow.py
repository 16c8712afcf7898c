# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import io
import re
from datetime import timedelta

from openpyxl import load_workbook

from odoo import fields
from odoo.exceptions import UserError

from ..engine.cells import unneutralise
from ..models.crm_backup import RUN_LOCK_KEY
from ..orm.formatting import human_size
from .common import (
    OBJECT_KEYS,
    BackupCommon,
    BackupZip,
    export_cells,
    set_backup_params,
)


class TestBackupFlow(BackupCommon):
    def audit(self, action, backup):
        return self.env["crm.backup.audit"].search(
            [("action", "=", action), ("backup_id", "=", backup.id)]
        )

    def test_end_to_end_every_object(self):
        backup = self.env["crm.backup"].request_backup()
        self.assertEqual(backup.state, "queued")
        self.assertTrue(self.audit("backup_requested", backup))
        backup.action_run()
        self.assertEqual(backup.state, "done", backup.error_message)
        attachment = backup.attachment_id
        self.assertEqual(
            (attachment.res_model, attachment.res_id, attachment.public),
            ("crm.backup", backup.id, False),
        )
        self.assertAlmostEqual(
            backup.expiration_date,
            backup.date_done + timedelta(days=14),
            delta=timedelta(seconds=1),
        )
        archive = self.open_zip(backup)
        manifest = archive.manifest
        self.assertEqual(manifest["format"], "crm_data_backup")
        self.assertEqual(manifest["format_version"], 1)
        self.assertEqual(manifest["file_format"], "csv")
        self.assertEqual(manifest["odoo_version"], "18.0")
        self.assertEqual(
            manifest["addon_version"],
            self.env.ref("base.module_crm_data_backup").latest_version,
        )
        self.assertEqual(manifest["database_name"], self.env.cr.dbname)
        self.assertEqual(
            manifest["database_uuid"],
            self.env["ir.config_parameter"].sudo().get_param("database.uuid"),
        )
        self.assertRegex(manifest["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        names = {f["name"] for f in manifest["files"]}
        # the custom object's file is named after its model
        keys = [key for key in OBJECT_KEYS if key != "custom"] + ["products_variants"]
        for key in keys:
            self.assertIn(f"{key}.csv", names)
        self.assertIn("x_gadget.csv", names)
        self.assertEqual(set(archive.names()), names | {"manifest.json"})
        self.assertEqual(len(backup.line_ids), len(manifest["files"]))
        objects = {line.file_name: line for line in backup.line_ids}
        total = 0
        for entry in manifest["files"]:
            name = entry["name"]
            self.assertTrue(archive.checksum_ok(name), name)
            header, rows = archive.rows(name)
            self.assertEqual(header, entry["fields"])
            self.assertEqual(len(rows), entry["rows"])
            self.assertEqual(objects[name].record_count, entry["rows"])
            total += entry["rows"]
            # every value against the database (Odoo's own export of the records)
            model = self.env[entry["model"]].with_context(active_test=False)
            xids = [row[0] for row in rows]
            records = model.browse(
                [self.env.ref(xid).id if "." in xid else 0 for xid in xids]
            )
            self.assertEqual(records.ids, sorted(records.ids), name)
            expected = export_cells(records, header)
            props = [
                i
                for i, h in enumerate(header)
                if model._fields.get(h) and model._fields[h].type == "properties"
            ]
            for row, want in zip(rows, expected, strict=True):
                for i in props:
                    row[i] = want[i]  # compared in test_engine_exporter
                self.assertEqual(row, want, name)
        self.assertEqual(backup.record_count, total)
        custom_entry = archive.entry("x_gadget.csv")
        self.assertEqual(custom_entry["object"], "custom")
        self.assertEqual(objects["x_gadget.csv"].object_id.parent_id.key, "custom")
        self.assertEqual(archive.entry("deals.csv")["object"], "deals")
        # the records are there, and their values
        _header, rows = archive.rows("contacts.csv", neutralised=True)
        cells = {c for row in rows for c in row}
        self.assertFalse(archive.manifest["formula_protection"])
        self.assertIn(
            '=HYPERLINK("http://evil")', cells, "the value, as Import reads it"
        )
        self.assertIn("+32 2 555 00 00", cells, "phone untouched")
        header, rows = archive.rows("companies.csv")
        acme = next(
            dict(zip(header, r, strict=True))
            for r in rows
            if r[header.index("name")] == "Acme, Inc."
        )
        self.assertEqual(acme["country_id/id"], "base.be")
        self.assertEqual(acme["is_company"], "True")
        self.assertIn("中文", acme["comment"])
        header, rows = archive.rows("x_gadget.csv")
        gadget = dict(zip(header, rows[0], strict=True))
        self.assertEqual(
            (gadget["x_name"], gadget["x_price"], gadget["x_count"], gadget["x_ok"]),
            ("Gizmo", "2.5", "3", "True"),
        )
        self.assertEqual(gadget["x_day"], "2026-01-02")
        self.assertTrue(gadget["x_partner_id/id"])
        header, rows = archive.rows("conversations.csv")
        bodies = " ".join(r[header.index("body")] for r in rows)
        self.assertIn("we agreed on the price", bodies)
        header, rows = archive.rows("calls.csv")
        self.assertEqual([r[header.index("summary")] for r in rows], ["Call the buyer"])
        header, rows = archive.rows("tasks.csv")
        self.assertIn("Send the offer", [r[header.index("summary")] for r in rows])
        # outcome: audit, chatter message with a download link for the requester
        created = self.audit("backup_created", backup)
        self.assertEqual(created.record_count, total)
        # the zip's size as people read it: "12 files, 19.7 kB"
        self.assertRegex(created.details, r"^\d+ files, \d+\.\d (kB|MB)$")
        self.assertIn(human_size(self.env, backup.file_size), created.details)
        message = backup.message_ids.filtered(
            lambda m: f"/crm_data_backup/download/{backup.id}" in (m.body or "")
        )
        self.assertTrue(message)
        self.assertIn(backup.requested_by_id.partner_id, message.partner_ids)

    def test_no_file_for_empty_object(self):
        self.env["helpdesk.ticket"].with_context(active_test=False).search([]).unlink()
        backup = self.make_backup()
        archive = self.open_zip(backup)
        self.assertNotIn("tickets.csv", archive.names())
        self.assertNotIn("tickets.csv", backup.line_ids.mapped("file_name"))
        self.assertIn("deals.csv", archive.names())

    def test_xlsx_format(self):
        set_backup_params(self.env, file_format="xlsx")
        backup = self.make_backup()
        self.assertEqual(backup.state, "done", backup.error_message)
        archive = self.open_zip(backup)
        self.assertEqual(set(archive.names()), {"backup.xlsx", "manifest.json"})
        entries = archive.manifest["files"]
        self.assertTrue(all(e["name"] == "backup.xlsx" for e in entries))
        self.assertTrue(archive.checksum_ok("backup.xlsx"))
        book = load_workbook(
            io.BytesIO(archive.zip.read("backup.xlsx")), read_only=True
        )
        self.assertEqual(book.sheetnames, [e["sheet"] for e in entries])
        rows = list(book["contacts"].iter_rows(values_only=True))
        entry = next(e for e in entries if e["sheet"] == "contacts")
        self.assertEqual(list(rows[0]), entry["fields"])
        self.assertEqual(len(rows) - 1, entry["rows"])
        function = entry["fields"].index("function")
        values = [r[function] for r in rows[1:]]
        # string cells hold the value itself, even with the CSV protection on
        self.assertIn('=HYPERLINK("http://evil")', values)
        self.assertFalse(archive.manifest["formula_protection"])

    def test_import_through_base_import(self):
        deal, deal2 = self.data["deal"], self.data["deal2"]
        backup = self.make_backup()
        archive = self.open_zip(backup)
        raw = archive.zip.read("deals.csv")
        deal2_xid = deal2.get_external_id()[deal2.id]
        deal.name = "Renamed after the backup"
        deal2.unlink()
        header = archive.entry("deals.csv")["fields"]
        # columns a user would import back: values, not what Odoo computes
        keep = {
            "id",
            "name",
            "partner_id/id",
            "expected_revenue",
            "probability",
            "priority",
            "date_deadline",
            "tag_ids/id",
            "type",
            "description",
        }
        fields_ = [h if h in keep else False for h in header]
        wizard = self.env["base_import.import"].create(
            {
                "res_model": "crm.lead",
                "file": raw,
                "file_name": "deals.csv",
                "file_type": "text/csv",
            }
        )
        result = wizard.execute_import(
            fields_,
            header,
            {
                "quoting": '"',
                "separator": ",",
                "encoding": "utf-8",
                "has_headers": True,
                "date_format": "%Y-%m-%d",
                "datetime_format": "%Y-%m-%d %H:%M:%S",
                "float_thousand_separator": "",
                "float_decimal_separator": ".",
                "fallback_values": {},
                "name_create_enabled_fields": {},
                "import_set_empty_fields": [],
                "import_skip_records": [],
                "limit": 2000,
                "skip": 0,
                "advanced": True,
            },
        )
        self.assertFalse(
            [m for m in result["messages"] if m["type"] == "error"], result["messages"]
        )
        self.assertEqual(deal.name, "Big deal, phase 1")
        recreated = self.env.ref(deal2_xid)
        self.assertEqual(recreated.name, "Second deal")
        self.assertEqual(recreated.partner_id, self.data["contact"])

    def test_frequency_limit(self):
        set_backup_params(self.env, min_interval_hours="24")
        self.env["crm.backup"].search([]).unlink()
        self.env.user.tz = "Europe/Brussels"
        first = self.env["crm.backup"].request_backup()
        with self.assertRaisesRegex(
            UserError, "next backup can be requested on"
        ) as err:
            self.env["crm.backup"].request_backup()
        allowed = fields.Datetime.context_timestamp(
            self.env.user.with_context(tz="Europe/Brussels"),
            first.create_date + timedelta(hours=24),
        )
        self.assertIn(
            allowed.strftime("%-I:%M"), re.sub(r"\s", " ", str(err.exception))
        )
        self.assertEqual(self.env["crm.backup"].search_count([]), 1)
        # a failed backup does not count; an older one neither
        first.state = "failed"
        second = self.env["crm.backup"].request_backup()
        self.env.cr.execute(
            "UPDATE crm_backup SET create_date = create_date - interval '25 hours' "
            "WHERE id = %s",
            [second.id],
        )
        second.invalidate_recordset()
        self.assertTrue(self.env["crm.backup"].request_backup())

    def test_background_job_runs_queued(self):
        cron = self.env.ref("crm_data_backup.ir_cron_crm_backup_run")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        backup = self.env["crm.backup"].request_backup()
        self.assertGreater(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers,
        )
        self.env["crm.backup"]._cron_run_queued()
        self.assertEqual(backup.state, "done")
        self.assertEqual(backup.progress, 100.0)
        # running it again does nothing
        attachment = backup.attachment_id
        backup.action_run()
        self.assertEqual(backup.attachment_id, attachment)

    def test_expiry(self):
        backup = self.make_backup()
        attachment = backup.attachment_id
        self.env["crm.backup"]._cron_purge_expired()
        self.assertEqual(backup.state, "done", "not expired yet")
        backup.expiration_date = fields.Datetime.now() - timedelta(minutes=1)
        self.env["crm.backup"]._cron_purge_expired()
        self.assertEqual(backup.state, "expired")
        self.assertFalse(backup.attachment_id)
        self.assertFalse(attachment.exists())
        self.assertTrue(self.audit("backup_expired", backup))
        self.assertFalse(backup.download_url)

    def test_failure_leaves_no_attachment(self):
        set_backup_params(self.env, file_format="xlsx")
        self.data["contact"].comment = "x" * 40000  # too long for a sheet cell
        attachments = self.env["ir.attachment"].search_count(
            [("res_model", "=", "crm.backup")]
        )
        backup = self.make_backup()
        self.assertEqual(backup.state, "failed")
        self.assertIn("CSV backup format", backup.error_message)
        self.assertFalse(backup.attachment_id)
        self.assertFalse(backup.line_ids)
        self.assertEqual(
            self.env["ir.attachment"].search_count([("res_model", "=", "crm.backup")]),
            attachments,
        )
        self.assertTrue(self.audit("backup_failed", backup))
        # the reason stays in the backup: the message, maybe e-mailed, links to it
        message = backup.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("crm_data_backup.mt_backup_failed")
        )
        self.assertIn(backup.requested_by_id.partner_id, message.partner_ids)

    def test_scheduled_backups(self):
        Backup = self.env["crm.backup"]
        self.assertFalse(Backup._cron_scheduled_backup(), "schedule is off")
        set_backup_params(self.env, schedule="daily")
        scheduled = Backup._cron_scheduled_backup()
        self.assertTrue(scheduled.is_scheduled)
        self.assertEqual(scheduled.state, "queued")
        self.assertFalse(Backup._cron_scheduled_backup(), "already made today")

    def test_delete_is_audited(self):
        backup = self.make_backup()
        attachment = backup.attachment_id
        backup_id = backup.id
        backup.unlink()
        self.assertFalse(attachment.exists())
        entry = self.env["crm.backup.audit"].search(
            [("action", "=", "backup_deleted"), ("backup_name", "!=", False)]
        )
        self.assertTrue(entry)
        self.assertFalse(self.env["crm.backup"].search([("id", "=", backup_id)]))

    def test_unneutralise_is_inverse_in_backup(self):
        set_backup_params(self.env, csv_formula_protection="1")
        backup = self.make_backup()
        archive = BackupZip(backup.attachment_id.raw)
        self.assertIs(archive.manifest["formula_protection"], True)
        _h, raw_rows = archive.rows("deals.csv", neutralised=True)
        _h, rows = archive.rows("deals.csv")
        for raw_row, row in zip(raw_rows, rows, strict=True):
            self.assertEqual([unneutralise(c) for c in raw_row], row)
        self.assertIn("'@SUM(A1)", {c for r in raw_rows for c in r})

    def test_interrupted_backup_is_failed_by_the_job(self):
        backup = self.env["crm.backup"].request_backup()
        backup.state = "running"
        self.env.flush_all()
        # another process runs it: it holds the run lock
        with self.registry.cursor() as other:
            other.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK_KEY, backup.id])
            self.env["crm.backup"]._cron_run_queued()
            self.assertEqual(backup.state, "running", "its process is alive")
            other.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_KEY, backup.id]
            )
        # that process died: the lock is free
        self.env["crm.backup"]._cron_run_queued()
        self.assertEqual(backup.state, "failed")
        self.assertIn("interrupted", backup.error_message)
        self.assertFalse(backup.attachment_id)
        self.assertTrue(self.audit("backup_failed", backup))

    def test_download_action(self):
        backup = self.make_backup()
        action = backup.action_download()
        self.assertEqual(action["url"], f"/crm_data_backup/download/{backup.id}")
        self.assertEqual(backup.download_url, action["url"])
        backup.state = "expired"
        with self.assertRaises(UserError):
            backup.action_download()

    def test_create_wizard_queues_a_backup(self):
        action = self.env["crm.backup"].action_open_create_wizard()
        self.assertEqual(action["res_model"], "crm.backup.create.wizard")
        wizard = self.env["crm.backup.create.wizard"].create({})
        result = wizard.action_confirm()
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        backup = self.env["crm.backup"].search([], limit=1)
        self.assertEqual(backup.state, "queued")
        self.assertEqual(backup.requested_by_id, self.env.user)
