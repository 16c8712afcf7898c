# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Live screens: what the server tells open screens, the restore's progress
counters, and a changed choice discarding the plan at once in the form."""

import json

from odoo import Command
from odoo.tests import Form

from ..models.crm_backup_live import LIVE_NOTIFICATION
from .restore_cases import RestoreCase


class TestLive(RestoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.people = cls.env["res.partner"].create(
            [{"name": f"Live {i}", "phone": f"+33 1 {i}"} for i in range(5)]
        )
        cls.outsider = cls.env["res.users"].create(
            {
                "name": "Live outsider",
                "login": "live_outsider",
                "groups_id": [Command.set([cls.env.ref("base.group_user").id])],
            }
        )

    def setUp(self):
        super().setUp()
        self.env.cr.flush()
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM bus_bus")
        self.bus_start = self.env.cr.fetchone()[0]

    def live_messages(self, user):
        """Payloads of the live messages ``user`` received since the test began."""
        self.env.cr.flush()  # the bus writes its messages before committing
        channel = json.dumps(
            [self.env.cr.dbname, "res.partner", user.partner_id.id],
            separators=(",", ":"),
        )
        messages = (
            self.env["bus.bus"]
            .sudo()
            .search(
                [("id", ">", self.bus_start), ("channel", "=", channel)], order="id"
            )
        )
        return [
            message["payload"]
            for message in map(json.loads, messages.mapped("message"))
            if message["type"] == LIVE_NOTIFICATION
        ]

    def planned(self):
        data = self.backup_zip("contacts", self.people, ["id", "name", "phone"])
        self.people.write({"phone": "changed"})
        restore = self.new_restore("contacts", data, ["phone"])
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        return restore

    def progress(self, restore):
        restore.invalidate_recordset(["progress_done", "progress_total", "progress"])
        return restore.progress_done, restore.progress_total, restore.progress

    def start(self, restore, job, done):
        """Queue ``job``: no counters until it writes, then ``done`` of 5."""
        restore._grant_execution(job)
        restore._queue(job)
        self.assertEqual(restore.state, "queued")
        self.assertEqual(self.progress(restore), (0, 0, 0.0))
        # as the background job does when it starts
        restore._mark("running", job)
        restore._publish_progress(done, 5)
        self.assertEqual(self.progress(restore), (done, 5, 20.0 * done))

    def test_restore_progress_counters_and_messages(self):
        restore = self.planned()
        self.start(restore, "restore", 2)
        self.assertTrue(restore._execute_restore())
        self.assertEqual(restore.state, "done")
        # only a running job shows counters
        self.assertEqual(self.progress(restore), (0, 0, 0.0))
        self.env.cr.execute(
            "SELECT job, done, total FROM crm_backup_restore_progress"
            " WHERE restore_id = %s",
            [restore.id],
        )
        self.assertEqual(self.env.cr.fetchone(), ("restore", 5, 5))
        mine = {"model": "crm.backup.restore", "ids": restore.ids}
        received = self.live_messages(self.admin)
        # running, the counters (before the writes, the test's, after the
        # last batch), done
        self.assertGreaterEqual(received.count(mine), 5, received)
        self.assertFalse(self.live_messages(self.outsider))
        # the undo starts from nothing, not from the restore's counters
        self.start(restore, "undo", 1)
        self.assertTrue(restore._execute_undo())
        self.assertEqual(restore.state, "undone")

    def test_backup_messages_while_it_runs(self):
        backup = self.env["crm.backup"].request_backup()
        backup.action_run()
        self.assertEqual(backup.state, "done", backup.error_message)
        mine = {"model": "crm.backup", "ids": backup.ids}
        received = self.live_messages(self.admin)
        # running, one per object written, done
        objects = len(backup.line_ids)
        self.assertGreaterEqual(received.count(mine), objects + 2, received)
        self.assertFalse(self.live_messages(self.outsider))

    def test_changed_choice_discards_the_plan_in_the_form(self):
        restore = self.planned()
        self.assertEqual(restore.state, "planned")
        name_field = self.env["ir.model.fields"]._get("res.partner", "name")
        form = Form(restore)
        form.field_ids.add(name_field)
        # at once, before saving
        self.assertEqual(form.state, "draft")
        self.assertFalse(form.confirm_reviewed)
        form.save()
        self.assertEqual(restore.state, "draft")
        self.assertFalse(restore.confirm_reviewed)
        # the name is not a choice: the plan stays
        restore.action_plan()
        form = Form(restore)
        form.name = "Renamed restore"
        self.assertEqual(form.state, "planned")

    def test_progress_message_at_most_once_a_second(self):
        restore = self.planned()
        restore._grant_execution("restore")
        restore._queue("restore")
        restore._mark("running", "restore")
        before = len(self.live_messages(self.admin))
        for done in range(11):  # eleven batches in well under a second
            restore._publish_progress(done, 10)
        # every count is written, the screens are told of the first and last
        self.assertEqual(self.progress(restore), (10, 10, 100.0))
        self.assertEqual(len(self.live_messages(self.admin)) - before, 2)
