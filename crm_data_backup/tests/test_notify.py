# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What users see: outcome messages by inbox or e-mail, names, the
frequency limit before the dialog, archived records counted apart."""

import re
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user
from odoo.tools import format_datetime

from .common import set_backup_params
from .restore_cases import RestoreCase

GROUPS = (
    "base.group_user,base.group_partner_manager,crm_data_backup.group_crm_backup_admin"
)
# in a backed-up value, never in a message
SECRET_PHONE = "+33 6 SECRET 42"


class TestNotify(RestoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        set_backup_params(cls.env, min_interval_hours="0", file_format="csv")
        cls.inbox_user, cls.email_user = (
            new_test_user(
                cls.env,
                login=f"notify_{preference}",
                groups=GROUPS,
                notification_type=preference,
                email=f"notify_{preference}@example.com",
                tz=tz,
            )
            for preference, tz in (
                ("inbox", "Europe/Paris"),
                ("email", "America/New_York"),
            )
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Notified Contact", "phone": SECRET_PHONE}
        )
        cls.odoobot = cls.env.ref("base.partner_root")
        cls.base_url = cls.env["crm.backup"].get_base_url()

    # -- helpers ----------------------------------------------------------------
    def delivery(self, message, user):
        """The notification of ``message`` to ``user`` (inbox or e-mail)."""
        return self.env["mail.notification"].search(
            [
                ("mail_message_id", "=", message.id),
                ("res_partner_id", "=", user.partner_id.id),
            ]
        )

    def assertReaches(self, message, user):
        """Posted by OdooBot, delivered to ``user`` their way; e-mails have
        absolute links only and no backed-up value."""
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.odoobot)
        notification = self.delivery(message, user)
        self.assertEqual(notification.notification_type, user.notification_type)
        self.assertNotIn(SECRET_PHONE, message.body)
        self.assertIn(self.base_url, message.body)
        self.assertFalse(re.search(r"href=['\"]/", message.body), message.body)
        mails = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        if user.notification_type == "email":
            mail = mails.filtered(lambda m: user.partner_id in m.recipient_ids)
            self.assertEqual(len(mail), 1)
            # what the mail server is given for this recipient
            (email,) = mail._prepare_outgoing_list()
            self.assertEqual(email["email_to"], [user.partner_id.email_formatted])
            self.assertNotIn(SECRET_PHONE, email["body"])
            links = re.findall(r"href=['\"]([^'\"]*)['\"]", email["body"])
            self.assertTrue(links)
            for link in links:
                self.assertRegex(link, r"^(https?://|mailto:)", link)
        else:
            self.assertFalse(mails, "an inbox user gets no e-mail")
        return notification

    def backup_as(self, user):
        """A backup requested and run by ``user`` (the job runs as them)."""
        backup = self.env["crm.backup"].with_user(user).request_backup()
        # kept queued (no SMTP in tests), so that the e-mail can be read
        backup.with_context(mail_notify_force_send=False).action_run()
        return backup

    def message(self, record, subtype_xmlid=None):
        messages = record.sudo().message_ids.filtered(
            lambda m: m.author_id == self.odoobot and m.message_type == "notification"
        )
        if subtype_xmlid:
            messages = messages.filtered(
                lambda m: m.subtype_id == self.env.ref(subtype_xmlid)
            )
        return messages[:1]

    def restore_as(self, user):
        """A reviewed restore of the secret phone, made by ``user``."""
        self.contact.phone = SECRET_PHONE
        data = self.backup_zip("contacts", self.contact, ["id", "name", "phone"])
        self.contact.phone = f"+1 changed for {user.login}"
        # made by the user, from a browser that gives their time zone
        self.Restore = self.Restore.with_user(user).with_context(tz=user.tz)
        restore = self.new_restore("contacts", data, ["phone"])
        restore.action_plan()
        restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
        return restore.with_context(mail_notify_force_send=False)

    # -- backups ----------------------------------------------------------------
    def test_backup_ready_reaches_inbox_and_email_users(self):
        for user in (self.inbox_user, self.email_user):
            with self.subTest(preference=user.notification_type):
                backup = self.backup_as(user)
                self.assertEqual(backup.state, "done", backup.error_message)
                message = self.message(backup, "crm_data_backup.mt_backup_done")
                self.assertReaches(message, user)
                self.assertIn(
                    f"{self.base_url}/crm_data_backup/download/{backup.id}",
                    message.body,
                )

    def test_backup_failure_reaches_requester_without_reason(self):
        for user in (self.inbox_user, self.email_user):
            with self.subTest(preference=user.notification_type):
                backup = self.env["crm.backup"].with_user(user).request_backup()
                # no longer allowed when the job runs: the backup fails
                self.env.ref("crm_data_backup.group_crm_backup_admin").users -= user
                backup.sudo().with_context(mail_notify_force_send=False)._run()
                self.assertEqual(backup.state, "failed")
                message = self.message(backup, "crm_data_backup.mt_backup_failed")
                self.assertReaches(message, user)
                # the reason is in the backup, not in what may be e-mailed
                self.assertNotIn(backup.error_message, message.body)

    def test_scheduled_backup_reaches_the_backup_admins(self):
        """Nobody asked for a scheduled backup: its outcome goes to each
        backup administrator who may read it (all its companies)."""
        other = self.env["res.company"].create({"name": "Notify B"})
        # a backup admin of company B only cannot read a backup of every company
        outsider = new_test_user(
            self.env,
            login="notify_outsider",
            groups=GROUPS,
            company_id=other.id,
            company_ids=[fields.Command.set(other.ids)],
        )
        everywhere = self.env["res.company"].search([])
        (self.inbox_user | self.email_user).company_ids = everywhere
        backup = self.env["crm.backup"].sudo().request_backup(scheduled=True)
        self.assertTrue(backup.is_scheduled)
        backup.with_context(mail_notify_force_send=False).action_run()
        self.assertEqual(backup.state, "done", backup.error_message)
        messages = backup.sudo().message_ids.filtered(
            lambda m: m.author_id == self.odoobot
            and m.subtype_id == self.env.ref("crm_data_backup.mt_backup_done")
        )
        for user in (self.inbox_user, self.email_user):
            with self.subTest(preference=user.notification_type):
                mine = messages.filtered(
                    lambda m, u=user: u.partner_id in m.partner_ids
                )
                self.assertReaches(mine, user)
        reached = messages.mapped("partner_ids")
        self.assertNotIn(outsider.partner_id, reached)
        self.assertNotIn(self.env.ref("base.partner_root"), reached)

    # -- restores and undos -----------------------------------------------------
    def test_restore_and_undo_reach_inbox_and_email_users(self):
        for user in (self.inbox_user, self.email_user):
            with self.subTest(preference=user.notification_type):
                restore = self.restore_as(user)
                self.assertTrue(self.run_restore(restore), restore.error_message)
                done = self.message(restore)
                self.assertIn("1 record restored", done.body)
                self.assertReaches(done, user)
                self.assertIn("/mail/view?model=crm.backup.restore", done.body)
                self.assertTrue(
                    self.run_restore(restore, "undo"), restore.error_message
                )
                undone = self.message(restore) - done
                self.assertIn("1 record put back", undone.body)
                self.assertReaches(undone, user)

    def test_restore_failure_emailed_without_values(self):
        restore = self.restore_as(self.email_user)
        restore._grant_execution("restore")
        restore._queue("restore")
        # changed after the review: the job refuses to run
        restore.sudo().field_ids |= self.env["ir.model.fields"]._get(
            "res.partner", "email"
        )
        self.assertFalse(restore._execute_restore())
        self.assertEqual(restore.state, "failed")
        message = self.message(restore)
        self.assertReaches(message, self.email_user)
        self.assertNotIn(restore.error_message, message.body)

    # -- names, filters, frequency limit -----------------------------------------
    def test_restore_names_tell_restores_apart(self):
        restore = self.restore_as(self.inbox_user)
        made = fields.Datetime.context_timestamp(
            restore.with_context(tz="Europe/Paris"), restore.create_date
        )
        self.assertNotEqual(made.utcoffset(), timedelta(0))
        self.assertEqual(
            restore.name, f"Data Restore - Contact - {made:%Y-%m-%d %H:%M}"
        )

    def test_next_backup_time_told_before_the_dialog(self):
        Backup = self.env["crm.backup"].with_user(self.inbox_user)
        self.assertFalse(Backup.get_next_backup_hint())
        self.assertEqual(
            Backup.action_open_create_wizard()["res_model"],
            "crm.backup.create.wizard",
        )
        set_backup_params(self.env, min_interval_hours="24")
        backup = Backup.request_backup()
        hint = Backup.get_next_backup_hint()
        self.assertRegex(hint or "", r"^Next backup possible after .+\.$")
        # in the user's time zone, not in UTC
        allowed = backup.create_date + timedelta(hours=24)
        self.assertIn(format_datetime(self.env, allowed, tz="Europe/Paris"), hint)
        self.assertNotIn(format_datetime(self.env, allowed, tz="UTC"), hint)
        with self.assertRaisesRegex(UserError, "next backup can be requested"):
            Backup.action_open_create_wizard()
        # not for users outside the backup group
        salesman = new_test_user(
            self.env, login="notify_sales", groups="sales_team.group_sale_salesman"
        )
        with self.assertRaises(AccessError):
            self.env["crm.backup"].with_user(salesman).get_next_backup_hint()

    # -- archived records counted apart -----------------------------------------
    def test_archived_records_counted_apart(self):
        first = self.backup_as(self.inbox_user)
        self.contact.active = False
        second = self.backup_as(self.inbox_user)
        for backup in (first, second):
            self.assertEqual(
                backup.archived_count, sum(backup.line_ids.mapped("archived_count"))
            )
            for line in backup.line_ids:
                self.assertEqual(
                    line.active_count + line.archived_count, line.record_count
                )
        contacts = second.line_ids.filtered(
            lambda line: line.model_name == "res.partner"
        )
        before = first.line_ids.filtered(
            lambda line: line.file_name == contacts[0].file_name
        )
        # the same records, one more of them archived
        self.assertEqual(contacts[0].record_count, before.record_count)
        self.assertEqual(contacts[0].archived_count, before.archived_count + 1)
        self.assertIn(
            f"{second.archived_count} of them archived",
            self.message(second, "crm_data_backup.mt_backup_done").body,
        )

    def test_counts_are_server_owned(self):
        backup = self.backup_as(self.inbox_user)
        line = backup.line_ids[:1]
        for record, name in ((backup, "archived_count"), (line, "archived_count")):
            with self.subTest(model=record._name), self.assertRaises(AccessError):
                record.write({name: 0})
        with self.assertRaises(AccessError):
            self.env["crm.backup.line"].with_user(self.inbox_user).create(
                {"backup_id": backup.id, "archived_count": 7}
            )
