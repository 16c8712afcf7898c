# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.base.tests.common import BaseCommon

from .common import RoleUsersMixin


@tagged("post_install", "-at_install")
class TestAudit(RoleUsersMixin, BaseCommon):
    """The audit log is append-only, for everybody, superuser included."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("crm_backup_audit", roles=("backup_admin",))
        cls.entry = cls.env["crm.backup.audit"]._log(
            "backup_requested", details="test entry", record_count=3
        )

    def test_log_records_user_and_action(self):
        self.assertEqual(self.entry.action, "backup_requested")
        self.assertEqual(self.entry.user_id, self.env.user)
        self.assertEqual(self.entry.record_count, 3)
        entry = (
            self.env["crm.backup.audit"]
            .with_user(self.backup_admin)
            ._log("restore_planned", details="by admin")
        )
        self.assertEqual(entry.user_id, self.backup_admin)

    def test_admin_reads_but_cannot_create_edit_or_delete(self):
        audit = self.env["crm.backup.audit"].with_user(self.backup_admin)
        self.assertIn(self.entry, audit.search([]))
        with self.assertRaises(AccessError):
            audit.create({"action": "backup_created"})
        with self.assertRaises(AccessError):
            self.entry.with_user(self.backup_admin).write({"details": "x"})
        with self.assertRaises(AccessError):
            self.entry.with_user(self.backup_admin).unlink()

    def test_even_superuser_cannot_rewrite_history(self):
        with self.assertRaises(AccessError):
            self.entry.sudo().write({"details": "rewritten"})
        with self.assertRaises(AccessError):
            self.entry.sudo().unlink()
        with self.assertRaises(AccessError):
            self.env["crm.backup.audit"].sudo().create({"action": "backup_created"})
        self.assertEqual(self.entry.details, "test entry")
