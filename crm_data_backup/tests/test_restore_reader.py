# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The restore form with a backup its reader refuses (the reader's own
tests: test_engine_reader)."""

from odoo.exceptions import UserError

from .restore_cases import RestoreCase
from .test_engine_reader import zip_of


class TestRestoreFormBadFile(RestoreCase):
    def test_unreadable_file_keeps_the_form_readable(self):
        """The field choices' compute opens the file: a RecursionError from the
        manifest made the restore form unreadable. No choices; planning says why."""
        data = zip_of({"manifest.json": "[" * 200000 + "]" * 200000})
        restore = self.new_restore("contacts", data, ["name"])
        self.assertFalse(restore.available_field_ids)
        self.assertFalse(restore.is_foreign_backup)
        with self.assertRaisesRegex(UserError, "nests its values too deeply"):
            restore.action_plan()
