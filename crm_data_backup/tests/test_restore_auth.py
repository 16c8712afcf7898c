# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import os
import secrets
import threading
from datetime import timedelta

import psycopg2
import pyotp
from psycopg2 import errorcodes

from odoo import fields, sql_db
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user
from odoo.tools import SQL

from ..orm.restore_job import RESTORE_LOCK_KEY
from .restore_cases import RestoreCase


class TestRestoreAuth(RestoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # new_test_user fills the groups field of this Odoo version
        cls.user = new_test_user(
            cls.env,
            name="Backup Admin",
            login="backup_admin_restore",
            password="Correct-Horse-9",
            groups="base.group_user,base.group_partner_manager,"
            "crm_data_backup.group_crm_backup_admin",
        )
        cls.partner = cls.env["res.partner"].create({"name": "P", "phone": "111"})

    def planned_restore(self):
        data = self.backup_zip("contacts", self.partner, ["id", "name", "phone"])
        self.partner.phone = "222"
        restore = self.new_restore("contacts", data, ["phone"]).with_user(self.user)
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        return restore

    def enable_totp(self):
        secret = base64.b32encode(os.urandom(20)).decode()
        self.user.sudo().totp_secret = secret
        self.assertTrue(self.user.totp_enabled)
        return pyotp.TOTP(secret)

    def open_wizard(self, restore, **vals):
        action = restore.action_restore()
        wizard = (
            self.env["crm.backup.restore.auth"]
            .with_user(self.user)
            .browse(action["res_id"])
        )
        wizard.write(vals)
        return wizard

    def failures(self):
        return self.env["crm.backup.audit"].search_count(
            [("action", "=", "identity_failed"), ("user_id", "=", self.user.id)]
        )

    def test_totp_accepted_then_replayed(self):
        totp = self.enable_totp()
        restore = self.planned_restore()
        code = totp.now()
        wizard = self.open_wizard(restore, totp_code=code)
        self.assertEqual(wizard.auth_method, "totp")
        result = wizard.action_confirm()
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        self.assertEqual(restore.state, "queued")
        self.assertFalse(wizard.totp_code)  # not kept
        self.env["crm.backup.restore"]._cron_run_restores()
        self.assertEqual(restore.state, "done")
        self.assertEqual(self.partner.phone, "111")
        # The same code cannot confirm anything else.
        self.partner.phone = "333"
        again = self.planned_restore()
        wizard = self.open_wizard(again, totp_code=code)
        result = wizard.action_confirm()
        self.assertEqual(result["res_model"], "crm.backup.restore.auth")
        self.assertIn("already used", wizard.error)
        self.assertEqual(again.state, "planned")
        self.assertEqual(self.failures(), 1)

    def test_sso_user_is_not_asked(self):
        """Users signing in through an identity provider have no password
        here: no prompt. With two-factor codes on, they are asked a code."""
        provider = self.env["auth.oauth.provider"].create(
            {
                "name": "Corporate SSO",
                "client_id": "crm",
                "auth_endpoint": "https://sso.example.com/auth",
                "validation_endpoint": "https://sso.example.com/userinfo",
                "body": "Sign in with Corporate SSO",
            }
        )
        self.user.sudo().write({"oauth_provider_id": provider.id, "oauth_uid": "u-1"})
        restore = self.planned_restore()
        result = restore.action_restore()
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        self.assertEqual(restore.state, "queued")
        self.env["crm.backup.restore"]._cron_run_restores()
        self.assertEqual(restore.state, "done")
        self.assertEqual(self.partner.phone, "111")
        self.enable_totp()
        self.partner.phone = "333"
        again = self.planned_restore()
        wizard = self.open_wizard(again)
        self.assertEqual(wizard.auth_method, "totp")
        self.assertEqual(again.state, "planned")
        self.assertEqual(wizard.action_confirm()["res_model"], wizard._name)
        self.assertEqual(again.state, "planned")

    def test_totp_wrong_and_missing(self):
        totp = self.enable_totp()
        restore = self.planned_restore()
        wrong = f"{(int(totp.now()) + 1) % 1000000:06d}"
        for code, message in ((wrong, "Wrong authentication code"), (False, "6-digit")):
            wizard = self.open_wizard(restore, totp_code=code)
            wizard.action_confirm()
            self.assertIn(message, wizard.error)
            self.assertEqual(restore.state, "planned")
        self.assertEqual(self.failures(), 2)
        audit = self.env["crm.backup.audit"].search(
            [("action", "=", "identity_failed")], limit=1
        )
        self.assertEqual(audit.restore_id, restore)
        self.assertNotIn(wrong, audit.details or "")
        # A password does not replace the code for a TOTP user.
        wizard = self.open_wizard(restore, password="Correct-Horse-9")
        wizard.action_confirm()
        self.assertEqual(restore.state, "planned")

    def test_rate_limit(self):
        totp = self.enable_totp()
        restore = self.planned_restore()
        for _i in range(5):
            self.open_wizard(restore, totp_code="000000").action_confirm()
        wizard = self.open_wizard(restore, totp_code=totp.now())
        wizard.action_confirm()
        self.assertIn("Too many failed attempts", wizard.error)
        self.assertEqual(restore.state, "planned")

    def test_password_path(self):
        restore = self.planned_restore()
        wizard = self.open_wizard(restore, password="wrong")
        self.assertEqual(wizard.auth_method, "password")
        wizard.action_confirm()
        self.assertIn("Wrong password", wizard.error)
        self.assertEqual(restore.state, "planned")
        wizard = self.open_wizard(restore, password="")
        wizard.action_confirm()
        self.assertIn("Enter your password", wizard.error)
        wizard = self.open_wizard(restore, password="Correct-Horse-9")
        wizard.action_confirm()
        self.assertFalse(wizard.password)
        self.assertEqual(restore.state, "queued")
        restore._execute_restore()
        self.assertEqual(restore.state, "done")
        self.assertEqual(self.partner.phone, "111")

    def test_undo_needs_identity(self):
        restore = self.planned_restore()
        self.open_wizard(restore, password="Correct-Horse-9").action_confirm()
        restore._execute_restore()
        action = restore.action_undo()
        wizard = (
            self.env["crm.backup.restore.auth"]
            .with_user(self.user)
            .browse(action["res_id"])
        )
        self.assertEqual(wizard.job, "undo")
        wizard.password = "nope"
        wizard.action_confirm()
        self.assertEqual(restore.state, "done")
        with self.assertRaisesRegex(UserError, "identity check"):
            restore._execute_undo()
        wizard.password = "Correct-Horse-9"
        wizard.action_confirm()
        self.assertEqual(restore.state, "queued")
        self.env["crm.backup.restore"]._cron_run_restores()
        self.assertEqual(restore.state, "undone")
        self.assertEqual(self.partner.phone, "222")

    def test_wizard_cannot_skip_confirmations(self):
        restore = self.planned_restore()
        restore.confirm_reviewed = False
        Wizard = self.env["crm.backup.restore.auth"].with_user(self.user)
        with self.assertRaisesRegex(UserError, "both confirmations"):
            Wizard.create({"restore_id": restore.id, "password": "Correct-Horse-9"})
        wizard = Wizard.create({"restore_id": restore.id})
        with self.assertRaisesRegex(UserError, "both confirmations"):
            wizard.write({"password": "Correct-Horse-9"})
        with self.assertRaisesRegex(UserError, "both confirmations"):
            wizard.action_confirm()
        # Confirmations withdrawn between the check and the button.
        restore.confirm_reviewed = True
        wizard.write({"password": "Correct-Horse-9"})
        restore.confirm_reviewed = False
        with self.assertRaisesRegex(UserError, "both confirmations"):
            wizard.action_confirm()
        self.assertEqual(restore.state, "planned")
        self.assertFalse(restore.sudo().execution_grant)

    def stored_anywhere(self, secret):
        """Tables with a row whose text holds ``secret``."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        found = []
        for (table,) in self.env.cr.fetchall():
            self.env.cr.execute(
                SQL(
                    "SELECT 1 FROM %s t WHERE strpos(t::text, %s) > 0 LIMIT 1",
                    SQL.identifier(table),
                    secret,
                )
            )
            if self.env.cr.fetchone():
                found.append(table)
        return found

    def wizard_row(self, wizard):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT t::text FROM crm_backup_restore_auth t WHERE id = %s", [wizard.id]
        )
        return self.env.cr.fetchone()[0]

    def test_no_column_for_the_password_or_code(self):
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'crm_backup_restore_auth'"
        )
        columns = {name for (name,) in self.env.cr.fetchall()}
        self.assertIn("error", columns)
        self.assertFalse(columns & {"password", "totp_code"})

    def test_secret_never_stored(self):
        """As the web client does it: save the wizard (password included), then
        call the button, which may fail and roll back. No stored value ever
        holds the password, whether the check passed or failed."""
        restore = self.planned_restore()
        wrong = "Wrong-Guess-" + secrets.token_hex(8)
        # A wrong password, then the button.
        wizard = self.open_wizard(restore)
        wizard.web_save({"password": wrong}, {"error": {}})
        self.assertIn("Wrong password", wizard.error)
        self.assertEqual(wizard.action_confirm()["res_model"], wizard._name)
        self.assertNotIn(wrong, self.wizard_row(wizard))
        self.assertFalse(self.stored_anywhere(wrong))
        # The right password, then the button refused by _check_ready.
        wizard.web_save({"password": "Correct-Horse-9"}, {"error": {}})
        self.assertFalse(wizard.error)
        restore.confirm_overwrite = False
        with self.assertRaisesRegex(UserError, "both confirmations"):
            wizard.action_confirm()
        self.assertNotIn("Correct-Horse-9", self.wizard_row(wizard))
        self.assertFalse(self.stored_anywhere("Correct-Horse-9"))
        # A save refused by _check_ready, then a passing check.
        with self.assertRaisesRegex(UserError, "both confirmations"):
            wizard.web_save({"password": wrong}, {})
        restore.confirm_overwrite = True
        wizard.web_save({"password": "Correct-Horse-9"}, {})
        self.assertFalse(wizard.password)
        self.assertEqual(wizard.action_confirm()["type"], "ir.actions.act_window_close")
        self.assertEqual(restore.state, "queued")
        self.assertNotIn("Correct-Horse-9", self.wizard_row(wizard))
        self.assertFalse(self.stored_anywhere("Correct-Horse-9"))
        self.assertFalse(self.stored_anywhere(wrong))
        self.assertEqual(self.failures(), 1)

    def test_code_never_stored(self):
        totp = self.enable_totp()
        restore = self.planned_restore()
        code = totp.now()
        wizard = self.open_wizard(restore)
        wizard.web_save({"totp_code": code}, {})
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT error FROM crm_backup_restore_auth WHERE id = %s", [wizard.id]
        )
        self.assertIsNone(self.env.cr.fetchone()[0])
        self.assertFalse(wizard.totp_code)
        self.assertEqual(wizard.action_confirm()["type"], "ir.actions.act_window_close")

    def test_server_fields_refused(self):
        """The outcome of the check is the server's: users cannot write it."""
        restore = self.planned_restore()
        other = self.planned_restore()
        wizard = self.open_wizard(restore)
        Wizard = self.env["crm.backup.restore.auth"].with_user(self.user)
        for vals in (
            {"verified_date": fields.Datetime.now()},
            {"error": False},
            {"auth_method": "sso"},
            {"restore_id": other.id},
            {"job": "undo"},
        ):
            with self.assertRaises(AccessError):
                wizard.write(vals)
        with self.assertRaises(AccessError):
            Wizard.create(
                {"restore_id": restore.id, "verified_date": fields.Datetime.now()}
            )
        # a default in the context is a value too
        with self.assertRaises(AccessError):
            Wizard.with_context(default_verified_date=fields.Datetime.now()).create(
                {"restore_id": restore.id}
            )
        self.assertEqual(wizard.action_confirm()["res_model"], wizard._name)
        self.assertIn("Enter your password", wizard.error)
        self.assertEqual(restore.state, "planned")

    def test_check_is_good_once_and_for_minutes(self):
        restore = self.planned_restore()
        wizard = self.open_wizard(restore, password="Correct-Horse-9")
        self.assertTrue(wizard.verified_date)
        wizard.sudo().verified_date = fields.Datetime.now() - timedelta(minutes=6)
        self.assertEqual(wizard.action_confirm()["res_model"], wizard._name)
        self.assertIn("expired", wizard.error)
        self.assertEqual(restore.state, "planned")
        wizard.password = "Correct-Horse-9"
        self.assertEqual(wizard.action_confirm()["type"], "ir.actions.act_window_close")
        self.assertFalse(wizard.verified_date)
        self.assertEqual(self.failures(), 0)

    def test_lock_held_by_another_connection(self):
        restore = self.planned_restore()
        other = self.planned_restore()
        other.sudo().write({"name": "Data Restore - Elsewhere"})
        restore._grant_execution("restore")
        # Another worker (a real second connection) is restoring.
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr2:
            cr2.execute("SELECT pg_try_advisory_xact_lock(%s)", [RESTORE_LOCK_KEY])
            self.assertTrue(cr2.fetchone()[0])
            other.sudo().write({"state": "running"})
            with self.assertRaisesRegex(
                UserError, "Another restore is running.*Elsewhere"
            ):
                restore._execute_restore()
            self.assertEqual(self.partner.phone, "222")
            cr2.rollback()
        other.sudo().write({"state": "planned"})
        restore._grant_execution("restore")
        self.assertTrue(restore._execute_restore())
        self.assertEqual(self.partner.phone, "111")

    def test_cron_waits_for_lock(self):
        restore = self.planned_restore()
        restore._grant_execution("restore")
        restore._queue("restore")
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr2:
            cr2.execute("SELECT pg_try_advisory_xact_lock(%s)", [RESTORE_LOCK_KEY])
            self.env["crm.backup.restore"]._cron_run_restores()
            self.assertEqual(restore.state, "queued")  # left queued, not failed
            cr2.rollback()
        self.env["crm.backup.restore"]._cron_run_restores()
        self.assertEqual(restore.state, "done")

    def test_one_running_restore_in_database(self):
        """Two workers queue a restore at once: the second waits, then fails;
        a queued one and a running one are two too."""
        dbname = self.env.cr.dbname
        insert = (
            "INSERT INTO crm_backup_restore (name, source, state, company_id) "
            "VALUES (%s, 'backup', %s, 1)"
        )
        with (
            sql_db.db_connect(dbname).cursor() as cr1,
            sql_db.db_connect(dbname).cursor() as cr2,
        ):
            cr1.execute(insert, ["first", "queued"])
            cr2.execute("SET LOCAL lock_timeout = '300ms'")
            with self.assertRaises(psycopg2.OperationalError) as cm:
                cr2.execute(insert, ["second", "running"])
            self.assertEqual(cm.exception.pgcode, errorcodes.LOCK_NOT_AVAILABLE)
            cr2.rollback()
            cr1.rollback()

    def test_queue_refuses_second_running(self):
        """Another worker queues a restore that this transaction cannot see
        yet: queuing ours waits for it, then gives a clear message."""
        restore = self.planned_restore()
        dbname = self.env.cr.dbname
        cr1 = sql_db.db_connect(dbname).cursor()
        cr1.execute(
            "INSERT INTO crm_backup_restore (name, source, state, company_id) "
            "VALUES ('other worker', 'backup', 'queued', 1) RETURNING id"
        )
        other_id = cr1.fetchone()[0]
        timer = threading.Timer(0.5, cr1.commit)
        timer.start()
        try:
            with self.assertRaisesRegex(UserError, "same moment"):
                restore._queue("restore")
            self.assertEqual(restore.state, "planned")
        finally:
            timer.join()
            cr1.execute("DELETE FROM crm_backup_restore WHERE id = %s", [other_id])
            cr1.commit()
            cr1.close()
