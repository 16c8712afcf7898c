# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import json
import os
import secrets
import time

import pyotp

import odoo
from odoo import Command, api
from odoo.service import security
from odoo.tests import HttpCase, get_db_name, tagged

from .restore_common import export_rows, file_spec, make_zip


@tagged("post_install", "-at_install")
class TestRestoreTour(HttpCase):
    def login_session(self, login, password):
        """A signed-in session for a user with two-factor authentication,
        after a real (interactive) password check."""
        self.env.flush_all()
        session = odoo.http.root.session_store.new()
        session.update(odoo.http.get_default_session(), db=get_db_name())
        auth_info = self.env.registry["res.users"].authenticate(
            session.db,
            {"login": login, "password": password, "type": "password"},
            {"interactive": True},
        )
        env = api.Environment(self.cr, auth_info["uid"], {})
        session.uid = auth_info["uid"]
        session.login = login
        session.session_token = security.compute_session_token(session, env)
        session.context = dict(env["res.users"].context_get())
        odoo.http.root.session_store.save(session)
        return session

    def setup_restore(self):
        """A backup administrator and a backup of a contact whose phone changed."""
        groups = [
            self.env.ref("base.group_user").id,
            self.env.ref("base.group_partner_manager").id,
            self.env.ref("crm_data_backup.group_crm_backup_admin").id,
        ]
        group_field = (
            "group_ids" if "group_ids" in self.env["res.users"]._fields else "groups_id"
        )
        self.user = self.env["res.users"].create(
            {
                "name": "Tour Admin",
                "login": "restore_tour",
                "password": "restore_tour_pw1",
                group_field: [Command.set(groups)],
            }
        )
        self.partner = self.env["res.partner"].create(
            {"name": "Tour Contact", "phone": "+33 1 11 11"}
        )
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        columns = ["id", "name", "phone"]
        rows = export_rows(self.partner, columns)
        data = make_zip(
            [file_spec("contacts", "res.partner", columns, rows)], database_uuid=uuid
        )
        self.backup = self.env["crm.backup"].create(
            {"name": "Tour backup", "state": "done"}
        )
        self.backup.attachment_id = self.env["ir.attachment"].create(
            {
                "name": "tour.zip",
                "raw": data,
                "res_model": "crm.backup",
                "res_id": self.backup.id,
            }
        )
        self.partner.phone = "+33 9 99 99"

    def run_tour(self, secret, wrong):
        """The restore tour, answering ``wrong`` then ``secret`` at the check."""
        session = self.login_session("restore_tour", "restore_tour_pw1")
        self.start_tour(
            "/odoo/action-crm_data_backup.crm_backup_restore_action",
            "crm_restore_tour",
            code=(
                f"sessionStorage.setItem('crm_restore_secret', {json.dumps(secret)});"
                f"sessionStorage.setItem('crm_restore_wrong', {json.dumps(wrong)});"
                "odoo.startTour('crm_restore_tour', "
                + json.dumps(
                    {
                        "stepDelay": 0,
                        "keepWatchBrowser": False,
                        "debug": False,
                        "startUrl": "/odoo/action-crm_data_backup.crm_backup_restore_action",
                        "delayToCheckUndeterminisms": 0,
                    }
                )
                + ")"
            ),
            cookies={"session_id": session.sid},
        )
        restore = self.env["crm.backup.restore"].search(
            [("backup_id", "=", self.backup.id)]
        )
        self.assertEqual(restore.state, "queued")
        self.assertTrue(restore.name.startswith("Data Restore - Contact - "))
        failed = self.env["crm.backup.audit"].search(
            [("action", "=", "identity_failed"), ("user_id", "=", self.user.id)]
        )
        self.assertEqual(len(failed), 1)
        self.env["crm.backup.restore"]._cron_run_restores()
        self.assertEqual(restore.state, "done", restore.error_message)
        self.assertEqual(self.partner.phone, "+33 1 11 11")
        # The requester is the recipient of the completion message.
        done = restore.message_ids.filtered(
            lambda m: "record restored" in (m.body or "")
            or "records restored" in (m.body or "")
        )
        self.assertIn(self.user.partner_id, done.partner_ids)

    def wizard_rows_holding(self, text):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT count(*) FROM crm_backup_restore_auth t"
            " WHERE strpos(t::text, %s) > 0",
            [text],
        )
        return self.env.cr.fetchone()[0]

    def test_restore_wizard_tour_totp(self):
        self.setup_restore()
        secret = base64.b32encode(os.urandom(20)).decode()
        self.user.sudo().totp_secret = secret
        totp = pyotp.TOTP(secret)
        code = totp.now()
        valid = {totp.at(time.time(), offset) for offset in range(-2, 3)}
        wrong = next(
            c
            for c in (f"{(int(code) + i) % 1000000:06d}" for i in range(1, 9))
            if c not in valid
        )
        self.run_tour(code, wrong)

    def test_restore_wizard_tour_password(self):
        self.setup_restore()
        wrong = "Wrong-Tour-" + secrets.token_hex(6)
        self.run_tour("restore_tour_pw1", wrong)
        self.assertFalse(self.wizard_rows_holding(wrong))
        self.assertFalse(self.wizard_rows_holding("restore_tour_pw1"))
