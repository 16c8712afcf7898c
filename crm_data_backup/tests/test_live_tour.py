# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Screens that follow a job in the browser, without a reload."""

import base64

from odoo import Command
from odoo.tests import HttpCase, tagged

from .common import set_backup_params
from .restore_common import export_rows, file_spec, make_zip

LOGIN = "live_tour_admin"


@tagged("post_install", "-at_install")
class TestLiveTour(HttpCase):
    def setUp(self):
        super().setUp()
        groups = [
            "base.group_user",
            "base.group_partner_manager",
            "crm_data_backup.group_crm_backup_admin",
            # runs the background job from the page (ir.cron)
            "base.group_system",
        ]
        self.user = self.env["res.users"].create(
            {
                "name": "Live Tour Admin",
                "login": LOGIN,
                "password": LOGIN,
                "groups_id": [Command.set([self.env.ref(g).id for g in groups])],
            }
        )

    def planned_restore(self):
        """A restore of a contact's phone and email, planned by the tour user."""
        partner = self.env["res.partner"].create(
            {"name": "Live Contact", "phone": "+33 1 11", "email": "a@x.com"}
        )
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        columns = ["id", "name", "phone", "email"]
        data = make_zip(
            [
                file_spec(
                    "contacts", "res.partner", columns, export_rows(partner, columns)
                )
            ],
            database_uuid=uuid,
        )
        partner.phone = "+33 9 99"
        restore = (
            self.env["crm.backup.restore"]
            .with_user(self.user)
            .create(
                {
                    "source": "upload",
                    "upload_file": base64.b64encode(data),
                    "upload_filename": "live.zip",
                    "object_id": self.env["crm.backup.object"]
                    .search([("key", "=", "contacts")])
                    .id,
                    "field_ids": [
                        Command.set(
                            self.env["ir.model.fields"]
                            .search(
                                [
                                    ("model", "=", "res.partner"),
                                    ("name", "in", ("phone", "email")),
                                ]
                            )
                            .ids
                        )
                    ],
                }
            )
        )
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        return restore, partner

    def form_url(self, restore):
        return f"/odoo/action-crm_data_backup.crm_backup_restore_action/{restore.id}"

    def test_backup_list_follows_the_job(self):
        set_backup_params(self.env, min_interval_hours="0", file_format="csv")
        self.env["crm.backup"].search([]).unlink()
        backup = self.env["crm.backup"].with_user(self.user).request_backup()
        self.assertEqual(backup.state, "queued")
        self.start_tour(
            "/odoo/action-crm_data_backup.crm_backup_action",
            "crm_live_backup_tour",
            login=LOGIN,
        )
        self.assertEqual(backup.state, "done")

    def test_restore_form_follows_the_job(self):
        restore, partner = self.planned_restore()
        restore._grant_execution("restore")
        restore._queue("restore")
        self.assertEqual(restore.state, "queued")
        self.start_tour(self.form_url(restore), "crm_live_restore_tour", login=LOGIN)
        self.assertEqual(restore.state, "done", restore.error_message)
        self.assertEqual(partner.phone, "+33 1 11")

    def test_changed_choice_marks_the_plan_stale_at_once(self):
        restore, _partner = self.planned_restore()
        self.start_tour(self.form_url(restore), "crm_live_stale_plan_tour", login=LOGIN)
        # the change was discarded: the reviewed plan stands
        self.assertEqual(restore.state, "planned")
        self.assertEqual(len(restore.field_ids), 2)
