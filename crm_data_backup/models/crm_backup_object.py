# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools.safe_eval import safe_eval


class CrmBackupObject(models.Model):
    """A CRM object that backups write to one file (contacts, deals, ...)."""

    _name = "crm.backup.object"
    _description = "CRM Backup Object"
    _order = "sequence, id"

    name = fields.Char(
        required=True, translate=True, help="Name of the object, as users say it."
    )
    key = fields.Char(
        required=True,
        help="Stable technical key, also the base of the file name in the backup.",
    )
    sequence = fields.Integer(default=10, help="Order of the files in a backup.")
    active = fields.Boolean(
        default=True, help="Inactive objects are left out of new backups."
    )
    model_name = fields.Char(
        required=True,
        help="Technical name of the Odoo model holding the object's records.",
    )
    domain = fields.Char(
        default="[]",
        help="Which records of the model belong to this object (Odoo domain).",
    )
    is_custom = fields.Boolean(
        help="Stands for every custom (x_) model: each gets a file of its own.",
    )
    parent_id = fields.Many2one(
        "crm.backup.object",
        ondelete="cascade",
        help="The 'custom' object a custom model's object was derived from.",
    )
    restorable = fields.Boolean(
        default=True, help="Whether fields of this object can be restored."
    )
    installed = fields.Boolean(
        compute="_compute_installed",
        help="Whether the model exists in this database (e.g. tickets need a helpdesk).",
    )

    _sql_constraints = [
        ("key_uniq", "unique(key)", "The key of a backup object must be unique.")
    ]

    @api.depends("model_name")
    def _compute_installed(self):
        for obj in self:
            obj.installed = bool(obj.model_name) and obj.model_name in self.env

    def _get_domain(self):
        self.ensure_one()
        return safe_eval(self.domain or "[]")
