# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import json
import os

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

    def test_restore_wizard_tour_totp(self):
        groups = [
            self.env.ref("base.group_user").id,
            self.env.ref("base.group_partner_manager").id,
            self.env.ref("crm_data_backup.group_crm_backup_admin").id,
        ]
        group_field = (
            "group_ids" if "group_ids" in self.env["res.users"]._fields else "groups_id"
        )
        user = self.env["res.users"].create(
            {
                "name": "Tour Admin",
                "login": "restore_tour",
                "password": "restore_tour_pw1",
                group_field: [Command.set(groups)],
            }
        )
        partner = self.env["res.partner"].create(
            {"name": "Tour Contact", "phone": "+33 1 11 11"}
        )
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        columns = ["id", "name", "phone"]
        rows = export_rows(partner, columns)
        data = make_zip(
            [file_spec("contacts", "res.partner", columns, rows)], database_uuid=uuid
        )
        backup = self.env["crm.backup"].create({"name": "Tour backup", "state": "done"})
        backup.attachment_id = self.env["ir.attachment"].create(
            {
                "name": "tour.zip",
                "raw": data,
                "res_model": "crm.backup",
                "res_id": backup.id,
            }
        )
        partner.phone = "+33 9 99 99"
        secret = base64.b32encode(os.urandom(20)).decode()
        user.sudo().totp_secret = secret
        session = self.login_session("restore_tour", "restore_tour_pw1")
        code = pyotp.TOTP(secret).now()
        self.start_tour(
            "/odoo/action-crm_data_backup.crm_backup_restore_action",
            "crm_restore_tour",
            code=(
                f"sessionStorage.setItem('crm_restore_totp', {json.dumps(code)});"
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
        restore = self.env["crm.backup.restore"].search([("backup_id", "=", backup.id)])
        self.assertEqual(restore.state, "running")
        self.assertEqual(restore.name, "Data Restore - Contact")
        self.env["crm.backup.restore"]._cron_run_restores()
        self.assertEqual(restore.state, "done", restore.error_message)
        self.assertEqual(partner.phone, "+33 1 11 11")
        # The requester is the recipient of the completion message.
        done = restore.message_ids.filtered(
            lambda m: "records restored" in (m.body or "")
        )
        self.assertIn(user.partner_id, done.partner_ids)
