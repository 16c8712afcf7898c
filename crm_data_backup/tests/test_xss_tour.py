# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64

from odoo.tests import HttpCase, tagged

from .restore_common import export_rows, file_spec, make_zip

SCRIPT = '<img src=x onerror="window.crmXss=1">'


@tagged("post_install", "-at_install")
class TestStoredScript(HttpCase):
    def test_stored_script_never_runs(self):
        partner = self.env["res.partner"].create(
            {"name": f"Mallory {SCRIPT}", "phone": "+33 1 11 11"}
        )
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        columns = ["id", "name", "phone"]
        data = make_zip(
            [
                file_spec(
                    "contacts", "res.partner", columns, export_rows(partner, columns)
                )
            ],
            database_uuid=uuid,
        )
        partner.phone = "+33 9 99 99"
        contacts = self.env["crm.backup.object"].search([("key", "=", "contacts")])
        restore = self.env["crm.backup.restore"].create(
            {
                "source": "upload",
                "upload_file": base64.b64encode(data),
                "upload_filename": f"{SCRIPT}.zip",
                "object_id": contacts.id,
                "field_ids": [
                    (6, 0, self.env.ref("base.field_res_partner__phone").ids)
                ],
            }
        )
        restore.action_plan()
        self.assertIn("&lt;img", restore.plan_html)
        self.assertNotIn("<img", restore.plan_html)
        self.env["crm.backup.audit"]._log(
            "restore_failed", restore_id=restore.id, details=f"restore: {SCRIPT}"
        )
        self.start_tour(
            f"/odoo/action-crm_data_backup.crm_backup_restore_action/{restore.id}",
            "crm_backup_xss_tour",
            login="admin",
        )
