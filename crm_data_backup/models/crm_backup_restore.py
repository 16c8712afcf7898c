# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import datetime

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..engine.errors import _lt

# marked for the translation export, translated where shown
OBJECT_SINGULAR = {
    "contacts": _lt("Contact"),
    "companies": _lt("Company"),
    "deals": _lt("Deal"),
    "leads": _lt("Lead"),
    "tickets": _lt("Ticket"),
    "products": _lt("Product"),
    "calls": _lt("Call"),
    "tasks": _lt("Task"),
}


# The choices a plan is made of (a changed choice makes the plan stale).
CHOICE_FIELDS = frozenset(
    {
        "source",
        "backup_id",
        "upload_file",
        "upload_filename",
        "object_id",
        "custom_model_id",
        "field_ids",
        "acknowledge_foreign",
        "recreate_deleted",
        "fast_mode",
        "record_xmlid",
    }
)
# Where the choices can still change: before the identity check.
OPEN_STATES = ("draft", "planned", "failed")


class CrmBackupRestore(models.Model):
    """Restore of selected fields of one object from a backup."""

    _name = "crm.backup.restore"
    _description = "CRM Data Restore"
    # its concerns in the order of a restore, then what it shares with
    # backups (the first parents' methods override the next ones')
    _inherit = [
        "crm.backup.restore.plan",
        "crm.backup.restore.confirm",
        "crm.backup.restore.run",
        "crm.backup.server.owned",
        "crm.backup.job",
        "mail.thread",
        "crm.backup.live",
    ]
    _order = "id desc"
    _job_cron = "crm_data_backup.ir_cron_restore_run"
    _check_company_auto = True
    # What a user chooses; frozen once the identity check passed.
    _user_fields = frozenset(
        CHOICE_FIELDS | {"name", "confirm_overwrite", "confirm_reviewed"}
    )

    name = fields.Char(
        required=True,
        compute="_compute_name",
        store=True,
        precompute=True,
        readonly=False,
        help='Name of the restore job, like "Data Restore - Deal - 2026-11-30 '
        "14:05\" (the object and when it was made, in the user's time zone).",
    )
    source = fields.Selection(
        [("backup", "A backup"), ("upload", "A backup file I upload")],
        default="backup",
        required=True,
        help="Restore from a backup kept here, or from a backup zip you upload.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
        help="Company of the user who made the restore: only its users see it.",
    )
    backup_id = fields.Many2one(
        "crm.backup",
        ondelete="set null",
        domain="[('state', '=', 'done'), ('attachment_id', '!=', False)]",
        help="The backup values are restored from.",
    )
    backup_name = fields.Char(
        readonly=True,
        copy=False,
        help="Name of the backup, kept when the backup itself is deleted.",
    )
    upload_file = fields.Binary(
        "Backup file",
        attachment=True,
        help="A backup zip downloaded earlier from this application.",
    )
    upload_filename = fields.Char(help="Name of the uploaded backup file.")
    object_id = fields.Many2one(
        "crm.backup.object",
        ondelete="restrict",
        domain="[('restorable', '=', True)]",
        help="The object whose fields are restored.",
    )
    object_is_custom = fields.Boolean(
        related="object_id.is_custom", help="Whether a custom model is restored."
    )
    custom_model_id = fields.Many2one(
        "ir.model",
        ondelete="cascade",
        domain="[('state', '=', 'manual')]",
        help="The custom model restored, when the object is 'Custom objects'.",
    )
    model_name = fields.Char(
        compute="_compute_model_name",
        store=True,
        precompute=True,
        help="Technical name of the model whose records are restored.",
    )
    # Stored: the backup file is read when the file or the object changes,
    # not on every change of the form.
    available_field_ids = fields.Many2many(
        "ir.model.fields",
        relation="crm_backup_restore_available_field_rel",
        compute="_compute_available_field_ids",
        store=True,
        help="Stored, writable fields of the object that the backup file holds.",
    )
    field_ids = fields.Many2many(
        "ir.model.fields",
        domain="[('id', 'in', available_field_ids)]",
        help="The fields whose values are restored.",
    )
    is_foreign_backup = fields.Boolean(
        compute="_compute_available_field_ids",
        store=True,
        help="The backup was made on another database.",
    )
    acknowledge_foreign = fields.Boolean(
        "Restore from another database",
        help="I know this backup comes from another database and want its values "
        "written here anyway.",
    )
    record_xmlid = fields.Char(
        "Only the record",
        help="External ID of the one record restored (from its history); empty: "
        "every record of the object.",
    )
    recreate_deleted = fields.Boolean(
        "Recreate deleted records",
        help="Records deleted since the backup come back, under their original "
        "external IDs, with every value the backup holds for them.",
    )
    confirm_overwrite = fields.Boolean(
        "I understand this overwrites current values",
        copy=False,
        help="Required before restoring.",
    )
    confirm_reviewed = fields.Boolean(
        "I reviewed the restore plan",
        copy=False,
        help="Required before restoring.",
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("planned", "Planned"),
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("undone", "Undone"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        help="Where the restore stands. Queued: confirmed, waiting for the "
        "background job. Running: being written.",
    )
    job = fields.Selection(
        [("restore", "Restore"), ("undo", "Undo")],
        readonly=True,
        copy=False,
        help="What the background job does when the restore is queued or running.",
    )
    line_ids = fields.One2many(
        "crm.backup.restore.line",
        "restore_id",
        readonly=True,
        help="The restore plan, per field.",
    )
    plan_date = fields.Datetime(
        readonly=True, copy=False, help="When the plan was made."
    )
    backup_record_count = fields.Integer(
        "Records in backup",
        readonly=True,
        copy=False,
        help="Records of the object in the backup.",
    )
    change_record_count = fields.Integer(
        "Records to change",
        readonly=True,
        copy=False,
        help="Records with at least one value to restore.",
    )
    deleted_count = fields.Integer(
        "Deleted since backup",
        readonly=True,
        copy=False,
        help="Records in the backup that no longer exist: skipped unless recreated.",
    )
    created_since_count = fields.Integer(
        "Created since backup",
        readonly=True,
        copy=False,
        help="Records created after the backup: left untouched.",
    )
    conflict_count = fields.Integer(
        "Conflicts",
        readonly=True,
        copy=False,
        help="Values that can no longer be written (skipped).",
    )
    plan_html = fields.Html(
        "Plan details",
        readonly=True,
        copy=False,
        help="Sample rows (before -> after) and conflicts.",
    )
    plan_fingerprint = fields.Char(
        readonly=True,
        copy=False,
        groups=fields.NO_ACCESS,
        help="Digest of the backup file and the choices that were reviewed: the "
        "job runs only if they are still the same.",
    )
    fast_mode = fields.Boolean(
        "Fast mode",
        copy=False,
        help="Write the values of thousands of records at once: much faster on "
        "large restores. Constraints, computed fields, "
        "tracking and automated actions behave as usual, but the object's own "
        "write logic is skipped: for example, a company's address is not copied "
        "to its contacts and a deal's stage change does not update its closing "
        "date. Undo uses the same mode.",
    )
    run_automations = fields.Boolean(
        compute="_compute_run_automations",
        help="Whether automation rules fire on restored values (a setting).",
    )
    undo_data = fields.Binary(
        attachment=True,
        readonly=True,
        copy=False,
        groups=fields.NO_ACCESS,
        help="The values the restore replaced, to undo it.",
    )
    undo_sha256 = fields.Char(
        readonly=True,
        copy=False,
        groups=fields.NO_ACCESS,
        help="Digest of the undo data written by the job, checked before an undo.",
    )
    undo_available = fields.Boolean(
        compute="_compute_undo_available",
        help="Whether the values replaced are still kept (see the retention setting).",
    )
    restored_record_count = fields.Integer(
        "Records restored",
        readonly=True,
        copy=False,
        help="Records written by the restore.",
    )
    created_record_count = fields.Integer(
        "Records recreated",
        readonly=True,
        copy=False,
        help="Deleted records recreated.",
    )
    # the running restore's or undo's counters (see _publish_progress)
    progress_done = fields.Integer(
        "Records written", compute="_compute_progress", help="Written so far."
    )
    progress_total = fields.Integer(
        "Records to write", compute="_compute_progress", help="Written in all."
    )
    progress = fields.Float(compute="_compute_progress", help="Percent written.")
    error_message = fields.Text(help="Why the restore failed (nothing was changed).")
    requested_by_id = fields.Many2one(help="Who confirmed the restore.")
    date_done = fields.Datetime(help="When the restore finished.")
    undone_by_id = fields.Many2one(
        "res.users", readonly=True, copy=False, help="Who confirmed the undo."
    )
    date_undone = fields.Datetime(
        readonly=True, copy=False, help="When the undo finished."
    )
    execution_grant = fields.Char(
        copy=False,
        groups=fields.NO_ACCESS,
        help="Single-use token set by a successful identity check.",
    )
    execution_grant_expiry = fields.Datetime(
        copy=False, groups=fields.NO_ACCESS, help="The token is valid until then."
    )

    def init(self):
        # At most one restore (or undo) queued or running in the database.
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS crm_backup_restore_one_job "
            "ON crm_backup_restore ((true)) WHERE state IN ('queued', 'running')"
        )
        # The running job's counters: written by short transactions of their
        # own while the job's transaction holds the restore's row (see
        # _publish_progress), read by the screens.
        self.env.cr.execute(
            "CREATE TABLE IF NOT EXISTS crm_backup_restore_progress ("
            " restore_id integer PRIMARY KEY, job varchar NOT NULL,"
            " done integer NOT NULL, total integer NOT NULL)"
        )

    @api.depends("object_id", "custom_model_id")
    def _compute_name(self):
        for restore in self:
            obj = restore.object_id
            if not obj:
                restore.name = restore.name or _("Data Restore")
                continue
            label = OBJECT_SINGULAR.get(obj.key)
            if obj.is_custom and restore.custom_model_id:
                label = restore.custom_model_id.name
            # the date tells apart the restores of one object
            made = fields.Datetime.context_timestamp(
                restore, restore.create_date or fields.Datetime.now()
            )
            restore.name = _(
                "Data Restore - %(object)s - %(date)s",
                object=self.env._(label) if label else obj.name,
                date=made.strftime("%Y-%m-%d %H:%M"),
            )

    @api.depends("object_id", "custom_model_id")
    def _compute_model_name(self):
        for restore in self:
            if restore.object_id.is_custom:
                restore.model_name = restore.custom_model_id.model or False
            else:
                restore.model_name = restore.object_id.model_name or False

    @api.depends(
        "source",
        "backup_id.state",
        "backup_id.attachment_id",
        "upload_file",
        "object_id",
        "custom_model_id",
    )
    def _compute_available_field_ids(self):
        for restore in self:
            restore.available_field_ids = False
            restore.is_foreign_backup = False
            if not restore.model_name or restore.model_name not in self.env:
                continue
            try:
                reader = restore._open_reader(full=False)
            except Exception:  # any unusable file (UserError or worse): the form opens
                continue
            restore.is_foreign_backup = reader.foreign
            entry = restore._find_entry(reader)
            reader.close()
            if entry:
                names = restore._restorable_names(entry)
                restore.available_field_ids = self.env["ir.model.fields"].search(
                    [("model", "=", restore.model_name), ("name", "in", names)]
                )

    @api.model
    def _kept_days(self):
        """How long uploaded files and undo data are kept (a setting)."""
        try:
            value = int(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param("crm_data_backup.restore_retention_days", 30)
            )
        except ValueError:
            value = 30
        return max(value, 1)

    def _kept_since(self):
        return fields.Datetime.now() - datetime.timedelta(days=self._kept_days())

    @api.depends("state", "date_done")
    def _compute_undo_available(self):
        kept = self.sudo().filtered("undo_sha256")
        since = self._kept_since()
        for restore in self:
            restore.undo_available = (
                restore.state == "done"
                and restore in kept
                and bool(restore.date_done)
                and restore.date_done > since
            )

    @api.model
    def _cron_purge_restore_data(self):
        """Uploaded files and undo data are kept while the undo is allowed."""
        files = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_field", "in", ("upload_file", "undo_data")),
                ]
            )
        )
        old = self.sudo().search(
            [
                ("id", "in", files.mapped("res_id")),
                ("state", "not in", ("queued", "running")),
                ("create_date", "<", self._kept_since()),
            ]
        )
        for restore in old:
            restore.write(
                {"upload_file": False, "undo_data": False, "undo_sha256": False}
            )
            self.env["crm.backup.audit"]._log(
                "restore_data_purged",
                restore_id=restore.id,
                object_id=restore.object_id.id,
                user_id=SUPERUSER_ID,
                details=_(
                    "Uploaded file and undo data removed after %s days.",
                    self._kept_days(),
                ),
            )
        return old

    def _compute_run_automations(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("crm_data_backup.restore_run_automations")
        )
        for restore in self:
            restore.run_automations = value not in (False, "", "False", "0")

    @api.model_create_multi
    def create(self, vals_list):
        restores = super().create(vals_list)
        restores._check_backup_access()  # pylint: disable=no-member
        return restores

    def write(self, vals):
        choices = CHOICE_FIELDS & set(vals)
        if not self.env.su:
            frozen = self.filtered(lambda r: r.state not in OPEN_STATES)
            if frozen and (
                choices or {"confirm_overwrite", "confirm_reviewed"} & set(vals)
            ):
                raise UserError(
                    _(
                        "%(name)s was confirmed: its backup, object and fields can "
                        "no longer change. Make a new restore instead.",
                        name=frozen[0].name,
                    )
                )
        stale = self.filtered(lambda r: r.state == "planned") if choices else self
        result = super().write(vals)
        if choices:
            self._check_backup_access()
            # the plan was made of other choices: review a new one
            stale.sudo().write({"state": "draft", "confirm_reviewed": False})
        return result

    @api.onchange(*CHOICE_FIELDS)
    def _onchange_choices_discard_plan(self):
        """Show at once, before saving, what saving does (see ``write``):
        the plan was made of other choices."""
        if self.state == "planned":
            self.state = "draft"
            self.confirm_reviewed = False

    def _check_backup_access(self):
        """The chosen backup must be one the user may read (its companies)."""
        for restore in self:
            if restore.backup_id and not self.env.su:
                restore.backup_id.check_access("read")

    @api.constrains("object_id", "custom_model_id", "field_ids")
    def _check_target(self):
        """Only registered CRM objects and custom models, only fields a restore
        may write: whatever the form shows, whoever sends the values."""
        for restore in self:
            obj = restore.object_id
            if obj and (not obj.restorable or not obj._is_allowed()):
                raise ValidationError(_("%s cannot be restored.", obj.name))
            if obj.is_custom and restore.custom_model_id:
                custom = restore.custom_model_id.sudo()
                if custom.state != "manual" or not custom.model.startswith("x_"):
                    raise ValidationError(
                        _("%s is not a custom model of this database.", custom.model)
                    )
            wrong = restore.field_ids.filtered(
                lambda f, r=restore: f.model != r.model_name
                or not r._field_restorable(f.name)
            )
            if wrong:
                raise ValidationError(
                    _(
                        "These fields cannot be restored: %s.",
                        ", ".join(wrong.mapped("name")),
                    )
                )

    # --- the form's buttons --------------------------------------------------
    # Here, not in the mixins that do the work: a public method of a mixin
    # could be called by RPC on the mixin itself.

    def action_plan(self):
        """Check the backup file and compute what the restore would do."""
        return self._plan()

    def action_download_plan(self):
        """The plan as an XLSX workbook."""
        return self._download_plan()

    def action_restore(self):
        """Check the confirmations, then ask the user to re-authenticate."""
        return self._open_identity_check("restore")

    def action_undo(self):
        """Put back the values the restore replaced (after re-authentication)."""
        return self._open_identity_check("undo")
