# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.http import request

AUDIT_ACTIONS = [
    ("backup_requested", "Backup requested"),
    ("backup_created", "Backup created"),
    ("backup_failed", "Backup failed"),
    ("backup_downloaded", "Backup downloaded"),
    ("backup_expired", "Backup expired"),
    ("backup_deleted", "Backup deleted"),
    ("restore_planned", "Restore planned"),
    ("restore_executed", "Restore executed"),
    ("restore_failed", "Restore failed"),
    ("restore_undone", "Restore undone"),
    ("identity_failed", "Identity check failed"),
    ("restore_data_purged", "Restore data purged"),
    ("offsite_copied", "Off-site copy written"),
    ("offsite_failed", "Off-site copy failed"),
    ("offsite_verified", "Off-site copy verified"),
    ("offsite_verify_failed", "Off-site verification failed"),
    ("offsite_purged", "Off-site copy purged"),
    ("offsite_fetched", "Off-site copy fetched for a restore"),
    ("backup_alert", "Mass change alert"),
    ("backup_alert_acknowledged", "Mass change alert acknowledged"),
]


class CrmBackupAudit(models.Model):
    """Append-only trail of every backup, download and restore."""

    _name = "crm.backup.audit"
    _description = "CRM Backup Audit Entry"
    _order = "id desc"
    _rec_name = "action"
    _log_access = False

    date = fields.Datetime(
        required=True,
        readonly=True,
        default=fields.Datetime.now,
        help="When the action happened.",
    )
    user_id = fields.Many2one(
        "res.users",
        readonly=True,
        ondelete="restrict",
        help="Who performed the action (the requester for background jobs).",
    )
    remote_addr = fields.Char(
        "Remote Address",
        readonly=True,
        help="IP address of the HTTP request that performed the action, if any.",
    )
    action = fields.Selection(
        AUDIT_ACTIONS, required=True, readonly=True, help="What was done."
    )
    backup_id = fields.Many2one(
        "crm.backup",
        readonly=True,
        ondelete="set null",
        help="The backup concerned.",
    )
    backup_name = fields.Char(
        readonly=True,
        help="Name of the backup, kept when the backup itself is deleted.",
    )
    restore_id = fields.Many2one(
        "crm.backup.restore",
        readonly=True,
        ondelete="set null",
        help="The restore concerned.",
    )
    object_id = fields.Many2one(
        "crm.backup.object",
        readonly=True,
        ondelete="set null",
        help="The CRM object concerned.",
    )
    field_names = fields.Char(
        readonly=True, help="Technical names of the fields concerned."
    )
    field_labels = fields.Char(
        "Fields",
        compute="_compute_field_labels",
        help="The fields concerned, as users know them.",
    )
    record_count = fields.Integer(
        readonly=True, help="How many records were concerned."
    )
    details = fields.Text(readonly=True, help="Counts, reasons and other details.")
    company_id = fields.Many2one(
        "res.company",
        readonly=True,
        help="Company of the backup or restore concerned (or of the user): only "
        "its users read the entry.",
    )

    @api.depends("action")
    @api.depends_context("lang")
    def _compute_display_name(self):
        # the action as users read it (breadcrumbs, links), not its key
        labels = dict(self._fields["action"]._description_selection(self.env))
        for entry in self:
            entry.display_name = labels.get(entry.action, entry.action or "")

    @api.depends("field_names", "object_id")
    def _compute_field_labels(self):
        for entry in self:
            names = [n for n in (entry.field_names or "").split(",") if n]
            model = entry.object_id.sudo().model_name
            if names and model in self.env:
                model_fields = self.env[model]._fields
                entry.field_labels = ", ".join(
                    model_fields[name]._description_string(self.env)
                    if name in model_fields
                    else name
                    for name in names
                )
            else:
                entry.field_labels = ", ".join(names)

    @api.model
    def _log(self, action, **values):
        """Append an entry; the only way entries are written."""
        values.setdefault("user_id", self.env.uid)
        if "remote_addr" not in values and request:
            values["remote_addr"] = request.httprequest.remote_addr
        backup = values.get("backup_id")
        if backup and not isinstance(backup, int):
            values["backup_id"] = backup.id
        if values.get("backup_id") and "backup_name" not in values:
            values["backup_name"] = (
                self.env["crm.backup"].sudo().browse(values["backup_id"]).name
            )
        for key in ("restore_id", "object_id"):
            if values.get(key) and not isinstance(values[key], int):
                values[key] = values[key].id
        if "company_id" not in values:
            values["company_id"] = self._company_of(values)
        return (
            self.sudo()
            .with_context(crm_backup_audit_append=True)
            .create(dict(values, action=action))
        )

    @api.model
    def _company_of(self, values):
        if values.get("restore_id"):
            restore = self.env["crm.backup.restore"].sudo().browse(values["restore_id"])
            return restore.company_id.id
        if values.get("backup_id"):
            return (
                self.env["crm.backup"].sudo().browse(values["backup_id"]).company_id.id
            )
        return self.env.company.id

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("crm_backup_audit_append"):
            raise AccessError(_("Audit entries are written by the system only."))
        return super().create(vals_list)

    def write(self, vals):
        if self:
            raise AccessError(_("Audit entries cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise AccessError(_("Audit entries cannot be deleted."))
