# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    crm_backup_totp_last_step = fields.Integer(
        copy=False,
        groups=fields.NO_ACCESS,
        help="Time step of the last two-factor code accepted for a restore: "
        "a code works once.",
    )
