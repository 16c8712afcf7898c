# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64

from odoo.tests import HttpCase, tagged

from .restore_common import backup_of


@tagged("post_install", "-at_install")
class TestPlanDisplayTour(HttpCase):
    def test_plan_shows_labels_and_amounts(self):
        deals = self.env["crm.lead"].create(
            [
                {
                    "name": name,
                    "type": "opportunity",
                    "priority": "3",
                    "expected_revenue": 99999.0,
                }
                for name in ("Kept Deal Alpha", "Deleted Deal Zeta")
            ]
        )
        columns = ["id", "name", "priority", "expected_revenue"]
        data = backup_of(self.env, "deals", deals, columns)
        deals[0].write({"priority": "0", "expected_revenue": 5.0})
        deals[1].unlink()
        deals_object = self.env["crm.backup.object"].search([("key", "=", "deals")])
        field_ids = self.env["ir.model.fields"].search(
            [
                ("model", "=", "crm.lead"),
                ("name", "in", ["priority", "expected_revenue"]),
            ]
        )
        restore = self.env["crm.backup.restore"].create(
            {
                "source": "upload",
                "upload_file": base64.b64encode(data),
                "upload_filename": "deals.zip",
                "object_id": deals_object.id,
                "field_ids": [(6, 0, field_ids.ids)],
            }
        )
        restore.action_plan()
        self.env["crm.backup"].create(
            {"name": "Sized backup", "state": "done", "file_size": 20173}
        )
        self.start_tour(
            f"/odoo/action-crm_data_backup.crm_backup_restore_action/{restore.id}",
            "crm_plan_display_tour",
            login="admin",
        )
