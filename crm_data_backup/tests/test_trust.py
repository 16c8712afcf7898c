# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The backup administrator is a delegated role: what the server refuses them,
whatever they send (the end-to-end attacker suite does the same over RPC)."""

import base64
import io
import zipfile

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .restore_cases import RestoreCase

BACKUP_ADMIN = "base.group_user,crm_data_backup.group_crm_backup_admin"


@tagged("post_install", "-at_install")
class TestTrust(RestoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.ref("base.main_company")
        cls.company_b = cls.env["res.company"].create({"name": "Trust B"})
        cls.admin_a = new_test_user(
            cls.env, login="trust_a", groups=BACKUP_ADMIN, company_id=cls.company_a.id
        )
        cls.admin_b = new_test_user(
            cls.env,
            login="trust_b",
            groups=BACKUP_ADMIN,
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.settings = new_test_user(
            cls.env, login="trust_s", groups="base.group_user,base.group_system"
        )
        cls.alice = cls.env["res.partner"].create(
            {"name": "Alice", "email": "alice@x.com", "company_id": cls.company_a.id}
        )

    @staticmethod
    def review(restore):
        """Plan and tick both confirmations, as the user does before the check."""
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})

    def restore_as(self, user, fields=("email",), **vals):
        data = self.backup_zip("contacts", self.alice, ["id", "name", "email"])
        restore = self.new_restore("contacts", data, list(fields), **vals)
        restore.sudo().company_id = user.company_id
        return restore.with_user(user)

    # -- objects: only CRM models, only Settings administrators register ------
    def test_backup_admin_cannot_register_objects(self):
        Object = self.env["crm.backup.object"].with_user(self.admin_a)
        with self.assertRaises(AccessError):
            Object.create({"name": "P", "key": "x_params", "model_name": "res.partner"})
        contacts = self.obj("contacts").with_user(self.admin_a)
        with self.assertRaises(AccessError):
            contacts.write({"model_name": "res.users"})
        with self.assertRaises(AccessError):
            contacts.write({"domain": "[]"})
        contacts.write({"active": False, "sequence": 99})

    def test_forbidden_models_and_keys_whoever_asks(self):
        Object = self.env["crm.backup.object"].with_user(self.settings)
        for model in ("res.users", "res.groups", "ir.config_parameter", "crm.backup"):
            with self.subTest(model=model), self.assertRaises(ValidationError):
                Object.create({"name": "X", "key": "x_forbidden", "model_name": model})
        for key in ("../../../../tmp/x", "a/b", "X", "x y", "é"):
            with self.subTest(key=key), self.assertRaises(ValidationError):
                Object.create({"name": "X", "key": key, "model_name": "res.partner"})
        registered = Object.create(
            {"name": "Tags", "key": "tags", "model_name": "res.partner.category"}
        )
        self.assertTrue(registered._is_allowed())

    # -- restores: server-owned fields, targets, frozen choices ---------------
    def test_server_owned_fields_refused(self):
        restore = self.restore_as(self.admin_a)
        owned = {
            "state": "done",
            "job": "undo",
            "undo_data": base64.b64encode(b"x"),
            "plan_html": "<img src=x onerror=alert(1)>",
            "change_record_count": 9,
            "requested_by_id": self.admin.id,
            "company_id": self.company_b.id,
            "backup_name": "x",
            "progress_done": 9,
            "progress_total": 9,
            "progress": 50.0,
        }
        for name, value in owned.items():
            with self.subTest(field=name), self.assertRaises(AccessError):
                restore.write({name: value})
        self.assertEqual(restore.state, "draft")
        with self.assertRaises(AccessError):
            self.Restore.with_user(self.admin_a).create({"state": "done"})
        # a default in the context is a value too
        with self.assertRaises(AccessError):
            self.Restore.with_user(self.admin_a).with_context(
                default_state="done"
            ).create({"object_id": self.obj("contacts").id})

    def test_restore_targets_only_crm_fields(self):
        restore = self.restore_as(self.admin_a)
        users = self.env["ir.model"]._get("res.users")
        with self.assertRaises(ValidationError):
            restore.write(
                {"object_id": self.obj("custom").id, "custom_model_id": users.id}
            )
        groups = self.env.ref("base.field_res_users__groups_id")
        with self.assertRaises(ValidationError):
            restore.write({"field_ids": [Command.set(groups.ids)]})
        user_ids = self.env.ref("base.field_res_partner__user_ids")
        with self.assertRaises(ValidationError):
            restore.write({"field_ids": [Command.set(user_ids.ids)]})

    def test_choices_frozen_once_confirmed(self):
        restore = self.restore_as(self.admin_a)
        self.review(restore)
        restore._grant_execution("restore")
        restore._queue("restore")
        phone = self.env.ref("base.field_res_partner__phone")
        for vals in (
            {"field_ids": [Command.link(phone.id)]},
            {"upload_file": base64.b64encode(b"PK")},
            {"recreate_deleted": True},
            {"fast_mode": True},
        ):
            with self.subTest(vals=list(vals)), self.assertRaises(UserError):
                restore.write(vals)

    def test_job_runs_only_what_was_reviewed(self):
        restore = self.restore_as(self.admin_a)
        self.alice.email = "changed@x.com"
        self.review(restore)
        # the file changed behind the plan (e.g. by a bug or a database edit)
        other = self.backup_zip(
            "contacts", self.alice, ["id", "name", "email"], edit_rows=_set_email
        )
        restore._grant_execution("restore")
        restore._queue("restore")
        restore.sudo().upload_file = base64.b64encode(other)
        self.assertFalse(restore._execute_restore())
        self.assertEqual(restore.state, "failed")
        self.assertIn("changed after the plan", restore.error_message)
        self.assertEqual(self.alice.email, "changed@x.com")

    def test_record_changed_after_review_is_a_conflict(self):
        restore = self.restore_as(self.admin_a)
        self.alice.email = "changed@x.com"
        restore.action_plan()
        self.assertEqual(restore.change_record_count, 1)
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        # a user edits the record after the review (a later transaction)
        restore.sudo().plan_date = restore.plan_date.replace(year=2000)
        self.run_restore(restore)
        self.assertEqual(restore.state, "done")
        self.assertEqual(restore.restored_record_count, 0)
        self.assertEqual(self.alice.email, "changed@x.com")

    def test_undo_data_checked(self):
        restore = self.restore_as(self.admin_a)
        self.alice.email = "changed@x.com"
        self.review(restore)
        self.run_restore(restore)
        self.assertEqual(self.alice.email, "alice@x.com")
        with self.assertRaises(AccessError):
            restore.write({"undo_data": base64.b64encode(b"forged")})
        with self.assertRaises(AccessError):
            restore.read(["undo_data"])
        # altered behind the application's back: refused, nothing written
        restore.sudo().undo_data = base64.b64encode(b"forged")
        self.run_restore(restore, "undo")
        self.assertEqual(restore.state, "done")
        self.assertIn("altered", restore.error_message)
        self.assertEqual(self.alice.email, "alice@x.com")

    def test_recreate_never_takes_over_an_external_id(self):
        team = self.env.ref("sales_team.team_sales_department")

        def foreign_id(rows):
            rows[0][0] = "sales_team.team_sales_department"

        data = self.backup_zip(
            "contacts", self.alice, ["id", "name", "email"], edit_rows=foreign_id
        )
        restore = self.new_restore(
            "contacts", data, ["email"], recreate_deleted=True
        ).with_user(self.admin_a)
        self.review(restore)
        self.run_restore(restore)
        self.assertEqual(restore.state, "done")
        self.assertEqual(restore.created_record_count, 0)
        data_row = self.env["ir.model.data"]._xmlid_lookup(
            "sales_team.team_sales_department"
        )
        self.assertEqual(data_row, ("crm.team", team.id))

    def test_orphan_running_restore_does_not_block(self):
        stuck = self.restore_as(self.admin_a)
        stuck.sudo().write({"state": "running", "job": "restore"})
        restore = self.restore_as(self.admin_a)
        self.alice.email = "changed@x.com"
        self.review(restore)
        self.run_restore(restore)
        self.assertEqual(stuck.state, "failed")
        self.assertIn("interrupted", stuck.error_message)
        self.assertEqual(restore.state, "done")
        # a job that may still run (its grant is valid) is waited for
        stuck.sudo().write({"state": "running", "job": "restore"})
        stuck._grant_execution("restore")
        with self.assertRaisesRegex(UserError, "Another restore is running"):
            restore.action_undo()

    # -- companies ------------------------------------------------------------
    def test_companies_are_separated(self):
        restore = self.restore_as(self.admin_a)
        restore.action_plan()
        self.assertTrue(restore.line_ids)
        self.assertFalse(
            self.env["crm.backup.restore.line"]
            .with_user(self.admin_b)
            .search([("restore_id", "=", restore.id)])
        )
        theirs = restore.with_user(self.admin_b)
        with self.assertRaises(AccessError):
            theirs.read(["name"])
        self.assertFalse(
            self.Restore.with_user(self.admin_b).search([("id", "=", restore.id)])
        )
        backup = self.env["crm.backup"].with_user(self.admin_a).request_backup()
        with self.assertRaises(AccessError):
            self.Restore.with_user(self.admin_b).create(
                {"source": "backup", "backup_id": backup.id}
            )
        # a restore by B cannot write A's contact, even from a file naming it
        mine = self.restore_as(self.admin_b)
        self.alice.email = "changed@x.com"
        mine.action_plan()
        self.assertEqual(mine.change_record_count, 0)
        self.assertEqual(mine.conflict_count, 1)

    def test_backup_holds_what_its_requester_may_read(self):
        self.env["ir.config_parameter"].set_param(
            "crm_data_backup.min_interval_hours", "0"
        )
        lead_a = self.env["crm.lead"].create(
            {"name": "Lead of A", "company_id": self.company_a.id}
        )
        backup = self.env["crm.backup"].with_user(self.admin_b).request_backup()
        backup.sudo().action_run()
        self.assertEqual(backup.sudo().state, "done")
        with zipfile.ZipFile(io.BytesIO(backup.sudo().attachment_id.raw)) as zf:
            names = zf.namelist()
            content = b"".join(zf.read(name) for name in names)
        self.assertIn("contacts.csv", names)
        self.assertNotIn(b"Lead of A", content)
        self.assertNotIn(b"alice@x.com", content)
        self.assertTrue(lead_a.exists())
        self.assertEqual(backup.sudo().company_ids, self.company_b)
        self.assertFalse(
            self.env["crm.backup"]
            .with_user(self.admin_a)
            .search([("id", "=", backup.id)])
        )

    # -- destruction ----------------------------------------------------------
    def test_backup_file_cannot_be_removed_alone(self):
        self.env["ir.config_parameter"].set_param(
            "crm_data_backup.min_interval_hours", "0"
        )
        backup = self.env["crm.backup"].with_user(self.admin_a).request_backup()
        backup.sudo().action_run()
        attachment = backup.sudo().attachment_id.with_user(self.admin_a)
        with self.assertRaises(AccessError):
            attachment.unlink()
        with self.assertRaises(AccessError):
            attachment.write({"datas": base64.b64encode(b"x")})
        restore = self.Restore.with_user(self.admin_a).create(
            {
                "source": "backup",
                "backup_id": backup.id,
                "object_id": self.obj("contacts").id,
            }
        )
        name = backup.name
        backup.unlink()
        self.assertFalse(restore.backup_id)
        self.assertEqual(restore.backup_name, name)

    def test_restore_data_purged_after_retention(self):
        restore = self.restore_as(self.admin_a)
        self.alice.email = "changed@x.com"
        self.review(restore)
        self.run_restore(restore)
        self.assertTrue(restore.undo_available)
        self.env.cr.execute(
            "UPDATE crm_backup_restore SET create_date = now() - interval '40 days', "
            "date_done = now() - interval '40 days' WHERE id = %s",
            [restore.id],
        )
        restore.invalidate_recordset()
        purged = self.Restore._cron_purge_restore_data()
        self.assertIn(restore, purged)
        self.assertFalse(restore.sudo().undo_data)
        self.assertFalse(restore.sudo().upload_file)
        self.assertFalse(restore.undo_available)
        with self.assertRaisesRegex(UserError, "no longer kept"):
            restore.action_undo()


def _set_email(rows):
    rows[0][2] = "forged@x.com"
