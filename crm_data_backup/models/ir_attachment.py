# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.exceptions import AccessError
from odoo.tools import SQL


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def check(self, mode, values=None):
        # A backup's zip follows the backup: users may read it, only the
        # application (expiry, deletion of the backup) changes or removes it.
        if mode in ("write", "unlink") and self and not self.env.su:
            self.env.cr.execute(
                SQL(
                    "SELECT 1 FROM crm_backup WHERE attachment_id = ANY(%s) LIMIT 1",
                    list(self.ids),
                )
            )
            if self.env.cr.fetchone():
                raise AccessError(
                    self.env._(
                        "A backup file can only be removed by deleting its backup."
                    )
                )
        return super().check(mode, values=values)  # pylint: disable=no-member
