# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestCompareTour(HttpCase):
    """A real Chromium opens a comparison, sees its lines and restores from it."""

    def test_restore_from_a_comparison(self):
        admin = self.env.ref("base.user_admin")
        admin.write(
            {
                "group_ids" if "group_ids" in admin._fields else "groups_id": [
                    Command.link(
                        self.env.ref("crm_data_backup.group_crm_backup_admin").id
                    )
                ]
            }
        )
        company = self.env["res.partner"].create(
            {"name": "Tour Compare Co", "is_company": True, "city": "Gent"}
        )
        Backup = self.env["crm.backup"]
        older = Backup.request_backup()
        older.action_run()
        older.name = "Tour compare older"
        company.city = "Brugge"
        compare = self.env["crm.backup.compare"].create(
            {
                "backup_from_id": older.id,
                "object_id": self.env.ref("crm_data_backup.backup_object_companies").id,
            }
        )
        compare.action_compare()
        self.assertEqual(compare.changed_count, 1)
        self.start_tour(
            f"/odoo/action-crm_data_backup.crm_backup_compare_action/{compare.id}",
            "crm_compare_tour",
            login="admin",
        )
