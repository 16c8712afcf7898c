# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestMenuTour(HttpCase):
    """A real Chromium clicks through Settings > Data Management > Backup."""

    def test_admin_opens_backup_screen(self):
        self.start_tour("/odoo/settings", "crm_data_backup_menu_tour", login="admin")
