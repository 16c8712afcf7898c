# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged

from .common import set_backup_params


@tagged("post_install", "-at_install")
class TestBackupTour(HttpCase):
    def test_create_confirm_download(self):
        set_backup_params(self.env, min_interval_hours="0", file_format="csv")
        self.env["crm.backup"].search([]).unlink()
        self.env["res.partner"].create({"name": "Tour contact"})
        self.start_tour(
            "/odoo/action-crm_data_backup.crm_backup_action",
            "crm_backup_create_tour",
            login="admin",
        )
        backup = self.env["crm.backup"].search([])
        self.assertEqual(len(backup), 1)
        self.assertEqual(backup.state, "queued")
        self.assertEqual(backup.requested_by_id, self.env.ref("base.user_admin"))
        # the background job
        self.env["crm.backup"]._cron_run_queued()
        self.assertEqual(backup.state, "done")
        self.start_tour(
            "/odoo/action-crm_data_backup.crm_backup_action",
            "crm_backup_download_tour",
            login="admin",
        )
