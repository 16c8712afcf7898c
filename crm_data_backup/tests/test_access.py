# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.base.tests.common import BaseCommon

from .common import RoleUsersMixin

BACKUP_MODELS = (
    "crm.backup",
    "crm.backup.line",
    "crm.backup.object",
    "crm.backup.restore",
    "crm.backup.restore.line",
    "crm.backup.audit",
)
MENUS = (
    "crm_data_backup.menu_data_management",
    "crm_data_backup.menu_crm_backup",
    "crm_data_backup.menu_crm_backup_restore",
    "crm_data_backup.menu_crm_backup_audit",
)


@tagged("post_install", "-at_install")
class TestAccess(RoleUsersMixin, BaseCommon):
    """Only the backup group sees the menu and the backup models."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users("crm_backup")

    def _visible_menus(self, user):
        visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        return {xmlid for xmlid in MENUS if self.env.ref(xmlid).id in visible}

    def test_admin_is_backup_administrator(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("crm_data_backup.group_crm_backup_admin"))
        self.assertEqual(self._visible_menus(admin), set(MENUS))

    def test_backup_admin_sees_menu_and_models(self):
        self.assertEqual(self._visible_menus(self.backup_admin), set(MENUS))
        for model in BACKUP_MODELS:
            self.env[model].with_user(self.backup_admin).search([], limit=1)

    def test_outsiders_see_no_menu_and_get_access_errors(self):
        for user in (self.salesman, self.internal, self.settings_admin):
            with self.subTest(user=user.login):
                self.assertFalse(self._visible_menus(user))
                for model in BACKUP_MODELS:
                    if model == "crm.backup.object" and user == self.settings_admin:
                        # Settings administrators register the objects
                        continue
                    with self.assertRaises(AccessError):
                        self.env[model].with_user(user).search([], limit=1)
                with self.assertRaises(AccessError):
                    self.env["crm.backup"].with_user(user).create({"name": "sneaky"})
