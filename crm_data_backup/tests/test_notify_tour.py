# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged

from .common import set_backup_params
from .restore_common import export_rows, file_spec, make_zip


@tagged("post_install", "-at_install")
class TestNotifyTour(HttpCase):
    def test_next_backup_hint_before_the_dialog(self):
        set_backup_params(self.env, min_interval_hours="24", file_format="csv")
        self.env["crm.backup"].search([]).unlink()
        self.env["crm.backup"].with_user(
            self.env.ref("base.user_admin")
        ).request_backup()
        self.start_tour(
            "/odoo/action-crm_data_backup.crm_backup_action",
            "crm_backup_next_hint_tour",
            login="admin",
        )
        # the refused click made no backup
        self.assertEqual(self.env["crm.backup"].search_count([]), 1)

    def test_new_restores_in_default_filter(self):
        partner = self.env["res.partner"].create({"name": "Filter contact"})
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        columns = ["id", "name"]
        data = make_zip(
            [
                file_spec(
                    "contacts", "res.partner", columns, export_rows(partner, columns)
                )
            ],
            database_uuid=uuid,
        )
        backup = self.env["crm.backup"].create(
            {"name": "Filter backup", "state": "done"}
        )
        backup.attachment_id = self.env["ir.attachment"].create(
            {
                "name": "f.zip",
                "raw": data,
                "res_model": "crm.backup",
                "res_id": backup.id,
            }
        )
        contacts = self.env["crm.backup.object"].search([("key", "=", "contacts")])
        name_field = self.env["ir.model.fields"]._get("res.partner", "name")
        Restore = self.env["crm.backup.restore"]
        values = {
            "backup_id": backup.id,
            "object_id": contacts.id,
            "field_ids": [(6, 0, name_field.ids)],
        }
        planned = Restore.create(values)
        planned.action_plan()
        self.assertEqual(planned.state, "planned", planned.error_message)
        Restore.create(values)
        self.start_tour(
            "/odoo/action-crm_data_backup.crm_backup_restore_action",
            "crm_restore_default_filter_tour",
            login="admin",
        )
