# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import os
import tempfile

from odoo import SUPERUSER_ID, api
from odoo.tests.common import TransactionCase

from ..orm.backup_export import BackupExport
from .common import BackupZip


class TestBackupSnapshot(TransactionCase):
    """All files come from one snapshot while another transaction commits.

    Uses real committed data and real cursors (the backup's own REPEATABLE READ
    cursor and a concurrent writer); everything committed is removed after.
    """

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            cr.execute("SELECT COALESCE(max(id), 0) FROM ir_model_data")
            self.max_xid = cr.fetchone()[0]
            partner = env["res.partner"].create({"name": "Snapshot contact A"})
            deal = env["crm.lead"].create(
                {
                    "name": "Snapshot deal",
                    "type": "opportunity",
                    "partner_id": partner.id,
                }
            )
            self.partner_id, self.deal_id = partner.id, deal.id
        self.addCleanup(self._remove_committed_data)

    def _remove_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            env["crm.lead"].search([("name", "=like", "Snapshot deal%")]).unlink()
            env["res.partner"].browse(self.partner_id).unlink()
            cr.execute(
                "DELETE FROM ir_model_data WHERE module = '__export__' AND id > %s",
                [self.max_xid],
            )

    def _concurrent_write(self, key):
        """Between two files, another transaction changes and commits data."""
        if key != "contacts":
            return
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            env["res.partner"].browse(self.partner_id).name = "Snapshot contact B"
            env["crm.lead"].browse(self.deal_id).name = "Snapshot deal changed"
            env["crm.lead"].create(
                {
                    "name": "Snapshot deal late",
                    "type": "opportunity",
                    "partner_id": self.partner_id,
                }
            )
        self.writes_done = True

    def test_concurrent_writer_sees_nothing_in_backup(self):
        self.writes_done = False
        backup = (
            self.env["crm.backup"]
            .with_context(crm_backup_real_snapshot=True)
            .create({"name": "Snapshot test"})
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "b.zip")
            BackupExport(backup).make_zip(path, on_object_done=self._concurrent_write)
            with open(path, "rb") as f:
                archive = BackupZip(f.read())
        self.assertTrue(self.writes_done)
        # the change is committed ...
        with self.registry.cursor() as cr:
            cr.execute("SELECT name FROM res_partner WHERE id = %s", [self.partner_id])
            self.assertEqual(cr.fetchone()[0], "Snapshot contact B")
        # ... but the backup shows the state before it, in every file
        header, rows = archive.rows("contacts.csv")
        names = {r[header.index("name")] for r in rows}
        self.assertIn("Snapshot contact A", names)
        self.assertNotIn("Snapshot contact B", names)
        header, rows = archive.rows("deals.csv")
        deals = {r[header.index("name")] for r in rows}
        self.assertIn("Snapshot deal", deals)
        self.assertNotIn("Snapshot deal changed", deals)
        self.assertNotIn("Snapshot deal late", deals)
        self.assertEqual(archive.entry("deals.csv")["rows"], len(rows))
        # the external IDs the backup created were committed with it
        xid = next(r[0] for r in rows if r[header.index("name")] == "Snapshot deal")
        with self.registry.cursor() as cr:
            module, name = xid.split(".")
            cr.execute(
                "SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s",
                [module, name],
            )
            self.assertEqual(cr.fetchone()[0], self.deal_id)
