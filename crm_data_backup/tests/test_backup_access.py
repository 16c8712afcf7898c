# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import io
import zipfile
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import RoleUsersMixin, set_backup_params


@tagged("post_install", "-at_install")
class TestBackupAccess(RoleUsersMixin, HttpCase):
    """Only the backup group sees, makes, downloads or deletes backups."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        set_backup_params(cls.env, min_interval_hours="0", file_format="csv")
        cls._create_role_users("backup")
        cls.env["res.partner"].create({"name": "Downloadable contact"})  # pylint: disable=unsubscriptable-object
        cls.backup = cls.env["crm.backup"].request_backup()  # pylint: disable=unsubscriptable-object
        cls.backup.action_run()

    def test_orm_denied_outside_the_group(self):
        self.assertEqual(self.backup.state, "done")
        for user in (self.salesman, self.internal, self.settings_admin):
            Backup = self.env["crm.backup"].with_user(user)
            with self.assertRaises(AccessError, msg=user.login):
                Backup.search([])
            with self.assertRaises(AccessError, msg=user.login):
                Backup.browse(self.backup.id).read(["name"])
            with self.assertRaises(AccessError, msg=user.login):
                Backup.request_backup()
            with self.assertRaises(AccessError, msg=user.login):
                Backup.create({"name": "x"})
            with self.assertRaises(AccessError, msg=user.login):
                Backup.browse(self.backup.id).unlink()
            with self.assertRaises(AccessError, msg=user.login):
                self.env["ir.attachment"].with_user(user).browse(
                    self.backup.attachment_id.id
                ).read(["datas"])
        Backup = self.env["crm.backup"].with_user(self.backup_admin)
        self.assertIn(self.backup, Backup.search([]))

    def test_download_controller(self):
        url = f"/crm_data_backup/download/{self.backup.id}"
        content_url = f"/web/content/{self.backup.attachment_id.id}?download=true"
        for user in (self.salesman, self.internal, self.settings_admin):
            login = user.login
            self.authenticate(login, login)
            response = self.url_open(url)
            self.assertEqual(response.status_code, 403, login)
            response = self.url_open(content_url)
            self.assertIn(response.status_code, (403, 404), login)
        self.authenticate(None, None)
        response = self.url_open(url, allow_redirects=False)
        self.assertIn(response.status_code, (302, 303, 401, 403), "public")
        self.assertNotIn(b"PK", response.content[:2])
        self.authenticate(self.backup_admin.login, self.backup_admin.login)
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        self.assertIn("manifest.json", archive.namelist())
        self.assertIn("attachment", response.headers.get("Content-Disposition", ""))
        audit = self.env["crm.backup.audit"].search(
            [("action", "=", "backup_downloaded"), ("backup_id", "=", self.backup.id)]
        )
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit.user_id, self.backup_admin)
        self.assertEqual(audit.remote_addr, "127.0.0.1")
        # unknown, queued and expired backups: not found
        self.assertEqual(
            self.url_open("/crm_data_backup/download/999999").status_code, 404
        )
        queued = self.env["crm.backup"].request_backup()
        response = self.url_open(f"/crm_data_backup/download/{queued.id}")
        self.assertEqual(response.status_code, 404)
        self.backup.expiration_date = fields.Datetime.now() - timedelta(seconds=1)
        self.assertEqual(self.url_open(url).status_code, 404)
