# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared set-up of the restore tests: admin user, backups, restores."""

import base64

from odoo.addons.base.tests.common import BaseCommon

from .restore_common import export_rows, file_spec, make_zip


class RestoreCase(BaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uuid = cls.env["ir.config_parameter"].sudo().get_param("database.uuid")
        cls.admin = cls.env.ref("base.user_admin")
        cls.Restore = cls.env["crm.backup.restore"]

    def obj(self, key):
        return self.env["crm.backup.object"].search([("key", "=", key)])

    def backup_zip(self, key, records, columns, edit_rows=None, **kw):
        rows = export_rows(records, columns)
        if edit_rows:
            edit_rows(rows)
        kw.setdefault("database_uuid", self.uuid)
        return make_zip([file_spec(key, records._name, columns, rows)], **kw)

    def new_restore(self, key, data, field_names, model=None, **vals):
        obj = self.obj(key)
        model = model or obj.model_name
        field_ids = self.env["ir.model.fields"].search(
            [("model", "=", model), ("name", "in", field_names)]
        )
        values = {
            "source": "upload",
            "upload_file": base64.b64encode(data),
            "upload_filename": "backup.zip",
            "object_id": obj.id,
            "field_ids": [(6, 0, field_ids.ids)],
        }
        if obj.is_custom:
            values["custom_model_id"] = self.env["ir.model"]._get(model).id
        values.update(vals)
        return self.Restore.create(values)

    def line(self, restore, name):
        return restore.line_ids.filtered(lambda line: line.field_id.name == name)

    def run_restore(self, restore, job="restore"):
        """What the identity wizard does on success, then the job."""
        restore._queue(job)
        restore._grant_execution(job)
        if job == "undo":
            return restore._execute_undo()
        return restore._execute_restore()


class RestoreModes(RestoreCase):
    """Restores run in one mode: normal, or fast in a subclass that sets
    ``fast_mode = True`` (the same tests, each restore written in bulk). A
    test may still choose a mode."""

    fast_mode = False

    def new_restore(self, key, data, field_names, model=None, **vals):
        vals.setdefault("fast_mode", self.fast_mode)
        return super().new_restore(key, data, field_names, model=model, **vals)
