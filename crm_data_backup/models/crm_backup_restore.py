# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import datetime
import hashlib
import io
import json
import logging
import secrets
import tempfile
import time

import psycopg2
from markupsafe import Markup
from psycopg2 import errorcodes

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..engine.applier import Applier, ChangeSpool, UndoReader, UndoWriter
from ..engine.cells import PARSABLE_TYPES, column_field
from ..engine.errors import BackupFileError, _lt
from ..engine.planner import Planner, RestoreField
from ..engine.reader import BackupReader
from ..orm.undo_journal import UndoJournal, put_back, still_as_left
from ..orm.write_logic import write_logic
from .fast_target import FastOrmTarget
from .formatting import ValueFormatter
from .request_lock import RESTORE_REQUESTS, serialize_requests
from .tracking_log import finalize_tracking, pending_tracking

_logger = logging.getLogger(__name__)

# Any 64-bit key of our own: "crm_data_backup restore".
RESTORE_LOCK_KEY = 0x63726D5F72657374
GRANT_MINUTES = 15
# Seconds between two messages telling the screens a job progressed, and
# when each running job (database, restore id) last sent one.
LIVE_INTERVAL = 1.0
_ANNOUNCED = {}
# Rows of changes in the downloadable plan.
PLAN_SHEET_ROWS = 100_000
# Backup rows compared (and changes spooled) at a time.
PLAN_BATCH = 5000
MAGIC_FIELDS = {"id", "create_uid", "create_date", "write_uid", "write_date"}
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


def _discard(_changes, _before):
    """A plan's batch of changes, not kept."""


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
# Fields never restored, whatever the model: who may log in and do what.
CREDENTIAL_FIELDS = frozenset(
    {"password", "groups_id", "login", "totp_secret", "signature", "share"}
)


def _cell_key(record, name):
    """How an UndoJournal names a record's value of a field."""
    field = record._fields[name]
    if field.type == "many2many":
        return ((field.relation, field.column1, field.column2), record.id, None)
    return (record._table, record.id, name)


class RestoreLockBusy(UserError):
    """Another restore holds the database lock."""


class _AutomationsDone(dict):
    """base_automation's record of processed rules (context ``__action_done``)
    claiming the records a restore writes were processed already, so that no
    automation rule fires on restored values.

    ``pending_ids`` are the records written since the last flush (the target
    flushes every batch, so recomputations only concern those)."""

    def __init__(self, cr, model, table, watermark):
        super().__init__()
        self.cr = cr
        self.model = model
        self.table = table
        self.watermark = watermark
        self.pending_ids = set()

    def get(self, key, default=None):
        if (
            getattr(key, "_name", None) == "base.automation"
            and default is not None
            and default._name == self.model
        ):
            # Records created by the restore (recreated ones) have new ids.
            self.cr.execute(
                SQL(
                    "SELECT id FROM %s WHERE id > %s",
                    SQL.identifier(self.table),
                    self.watermark,
                )
            )
            ids = self.pending_ids | {r[0] for r in self.cr.fetchall()}
            return default.browse(ids) + super().get(key, default)
        return super().get(key, default)


class _LiveRecords:
    """Live side of a plan: SQL reads in batches, shaped like the backup."""

    def __init__(self, env, model, domain):
        # Reads go to SQL: pending ORM writes must be there first.
        env.flush_all()
        self.env = env
        # The user's own rights: what they may not read is neither planned,
        # written nor used as a related record.
        self.Model = env[model].with_context(active_test=False, lang="en_US")
        self.domain = domain
        self.matched_table = False
        # External IDs of records that exist but that the user may not read.
        self.hidden = set()

    def resolve(self, model, xmlids):
        if not xmlids or model not in self.env:
            return {}
        table = self.env[model]._table
        modules, names = [], []
        for xmlid in xmlids:
            module, _dot, name = xmlid.partition(".")
            modules.append(module)
            names.append(name)
        self.env.cr.execute(
            SQL(
                """
                SELECT d.module || '.' || d.name, d.res_id
                  FROM ir_model_data d
                  JOIN unnest(%s::varchar[], %s::varchar[]) AS x(module, name)
                    ON d.module = x.module AND d.name = x.name
                  JOIN %s t ON t.id = d.res_id
                 WHERE d.model = %s
                """,
                modules,
                names,
                SQL.identifier(table),
                model,
            )
        )
        found = dict(self.env.cr.fetchall())
        readable = set(
            self.env[model]
            .with_context(active_test=False)
            .search([("id", "in", list(found.values()))])
            .ids
        )
        for xmlid, res_id in list(found.items()):
            if res_id not in readable:
                self.hidden.add(xmlid)
                del found[xmlid]
        return found

    def changed_after(self, ids, when):
        """Of ``ids``, those written after ``when`` (the plan's review)."""
        if not ids or not self.Model._log_access:
            return set()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id = ANY(%s) AND write_date > %s",
                SQL.identifier(self.Model._table),
                list(ids),
                when,
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def fetch(self, ids, field_names):
        result = {res_id: {} for res_id in ids}
        if not ids:
            return result
        columns, orm_fields = [], []
        for name in field_names:
            field = self.Model._fields[name]
            if field.type == "many2many":
                self._read_many2many(field, ids, result)
            elif field.column_type and not field.company_dependent:
                if field.translate:
                    columns.append((name, SQL("%s->>'en_US'", SQL.identifier(name))))
                else:
                    columns.append((name, SQL.identifier(name)))
            else:
                orm_fields.append(name)
        if columns:
            self.env.cr.execute(
                SQL(
                    "SELECT id, %s FROM %s WHERE id = ANY(%s)",
                    SQL(", ").join(expr for _n, expr in columns),
                    SQL.identifier(self.Model._table),
                    list(ids),
                )
            )
            for row in self.env.cr.fetchall():
                values = result[row[0]]
                for (name, _expr), value in zip(columns, row[1:], strict=True):
                    values[name] = value
        if orm_fields:
            for row in self.Model.browse(ids).read(orm_fields, load=None):
                values = result[row["id"]]
                for name in orm_fields:
                    values[name] = row[name]
        return result

    def _read_many2many(self, field, ids, result):
        for values in result.values():
            values[field.name] = set()
        self.env.cr.execute(
            SQL(
                "SELECT %s, %s FROM %s WHERE %s = ANY(%s)",
                SQL.identifier(field.column1),
                SQL.identifier(field.column2),
                SQL.identifier(field.relation),
                SQL.identifier(field.column1),
                list(ids),
            )
        )
        for res_id, target in self.env.cr.fetchall():
            result[res_id][field.name].add(target)

    def mark_matched(self, ids):
        # In a temporary table rather than a set: a million ids stay off the heap.
        if not self.matched_table:
            self.env.cr.execute(
                "CREATE TEMP TABLE IF NOT EXISTS crm_backup_restore_matched "
                "(id int4 PRIMARY KEY) ON COMMIT DROP"
            )
            self.env.cr.execute("TRUNCATE crm_backup_restore_matched")
            self.matched_table = True
        ids = list(ids)
        if ids:
            self.env.cr.execute(
                "INSERT INTO crm_backup_restore_matched SELECT unnest(%s::int4[]) "
                "ON CONFLICT DO NOTHING",
                [ids],
            )

    def count_unmatched(self):
        query = self.Model._search(self.domain)
        matched = SQL(
            "AND NOT EXISTS (SELECT 1 FROM crm_backup_restore_matched m "
            "WHERE m.id = live.id)"
            if self.matched_table
            else ""
        )
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM (%s) live WHERE TRUE %s",
                query.subselect(),
                matched,
            )
        )
        return self.env.cr.fetchone()[0]


class _OrmTarget:
    """Where an applier writes: the ORM, so constraints, computed fields and
    tracking behave."""

    def __init__(self, env, model, automations_done=None, journal=None):
        # Restored values are tracked like any edit, whatever the caller says.
        context = {
            "active_test": False,
            "lang": "en_US",
            "tracking_disable": False,
            "mail_notrack": False,
        }
        if automations_done is not None:
            context["__action_done"] = automations_done
        self.automations_done = automations_done
        # Keeps what the writes change, for an exact undo.
        self.journal = journal
        # Writes run with the rights of the user who confirmed the restore.
        self.Model = env[model].with_context(**context)
        self.env = env
        self.written_ids = []
        # Left to Odoo's own finalisation at commit (see finish).
        self.tracking_kept = {
            name: set(ids) for name, ids in pending_tracking(env).items()
        }

    def write_values(self, ids, vals):
        if self.automations_done is not None:
            self.automations_done.pending_ids.update(ids)
        self.written_ids.extend(ids)
        records = self.Model.browse(ids)
        if self.journal is not None:
            self.journal.capture_links(records, vals)
        records.write(vals)

    def create_record(self, xmlid, vals):
        """A deleted record again, under its external ID when that is free or
        still names a vanished record of this model; None when the ID now
        belongs to something else (never re-pointed)."""
        module, _dot, name = xmlid.partition(".")
        Data = self.env["ir.model.data"].sudo()
        existing = Data.search([("module", "=", module), ("name", "=", name)])
        if existing and (
            existing.model != self.Model._name
            or self.Model.sudo().browse(existing.res_id).exists()
        ):
            return None
        record = self.Model.create(vals)
        if existing:
            existing.write({"res_id": record.id})
        else:
            Data.create(
                {
                    "module": module,
                    "name": name,
                    "model": self.Model._name,
                    "res_id": record.id,
                    "noupdate": True,
                }
            )
        return record.id

    def delete_records(self, ids):
        self.Model.browse(ids).exists().unlink()

    def flush(self):
        # Recomputations run in the flushing environment: it must carry the
        # automation context too.
        self.Model.env.flush_all()
        if self.automations_done is not None:
            self.automations_done.pending_ids.clear()

    def finish(self):
        """Tracking messages of the written records, created together rather
        than one by one at commit."""
        self.flush()
        finalize_tracking(self.Model, self.written_ids, keep=self.tracking_kept)
        self.written_ids = []
        # The next records are others: what the cache holds is dead weight.
        self.env.invalidate_all()


class CrmBackupRestore(models.Model):
    """Restore of selected fields of one object from a backup."""

    _name = "crm.backup.restore"
    _description = "CRM Data Restore"
    _inherit = [
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
    available_field_ids = fields.Many2many(
        "ir.model.fields",
        compute="_compute_available_field_ids",
        help="Stored, writable fields of the object that the backup file holds.",
    )
    field_ids = fields.Many2many(
        "ir.model.fields",
        domain="[('id', 'in', available_field_ids)]",
        help="The fields whose values are restored.",
    )
    is_foreign_backup = fields.Boolean(
        compute="_compute_available_field_ids",
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
        help="Where the restore stands. Running: queued or being written.",
    )
    job = fields.Selection(
        [("restore", "Restore"), ("undo", "Undo")],
        readonly=True,
        copy=False,
        help="What the background job does when the restore is running.",
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
            "CREATE UNIQUE INDEX IF NOT EXISTS crm_backup_restore_one_running "
            "ON crm_backup_restore ((true)) WHERE state = 'running'"
        )
        # The running job's counters: written by short transactions of their
        # own while the job's transaction holds the restore's row (see
        # _publish_progress), read by the screens.
        self.env.cr.execute(
            "CREATE TABLE IF NOT EXISTS crm_backup_restore_progress ("
            " restore_id integer PRIMARY KEY, job varchar NOT NULL,"
            " done integer NOT NULL, total integer NOT NULL)"
        )

    # --- computes --------------------------------------------------------

    def _compute_progress(self):
        running = [r.id for r in self if r.state == "running" and isinstance(r.id, int)]
        rows = {}
        if running:
            self.env.cr.execute(
                SQL(
                    "SELECT restore_id, job, done, total "
                    "FROM crm_backup_restore_progress WHERE restore_id IN %s",
                    tuple(running),
                )
            )
            rows = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for restore in self:
            job, done, total = rows.get(restore.id, (None, 0, 0))
            if job != restore.job:  # the counters of an earlier job
                done = total = 0
            restore.progress_done = done
            restore.progress_total = total
            restore.progress = 100.0 * min(done, total) / total if total else 0.0

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

    @api.depends("source", "backup_id", "upload_file", "object_id", "custom_model_id")
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
                ("state", "!=", "running"),
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

    # --- backup file -------------------------------------------------------

    def _backup_file(self):
        """The chosen backup zip: bytes for an upload, an open binary file for
        a stored backup (read from the filestore, never whole in memory)."""
        self.ensure_one()
        if self.source == "upload":
            if not self.upload_file:
                raise UserError(_("Upload a backup file first."))
            return base64.b64decode(self.with_context(bin_size=False).upload_file)
        if not self.backup_id:
            raise UserError(_("Choose a backup first."))
        self._check_backup_access()
        backup = self.backup_id.sudo()
        if backup.state != "done" or not backup.attachment_id:
            raise UserError(
                _(
                    "The backup %s is not available any more (not done or expired).",
                    backup.name,
                )
            )
        attachment = backup.attachment_id
        if attachment.store_fname and attachment.file_size:
            return open(attachment._full_path(attachment.store_fname), "rb")
        return attachment.raw or b""

    def _open_reader(self, full=True, restored_only=False):
        """A checked reader of the chosen backup (UserError when unusable).
        ``restored_only``: of the files' contents, check only the restored
        object's (the job, after the plan checked them all)."""
        self.ensure_one()
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        source = self._backup_file()
        try:
            reader = BackupReader(
                source,
                database_uuid=uuid,
                acknowledge_foreign=self.acknowledge_foreign or not full,
            ).open()
            if full:
                names = None
                if restored_only and (entry := self._find_entry(reader)):
                    names = {entry.name}
                reader.check_files(names)
        except BackupFileError as exc:
            if not isinstance(source, bytes):
                source.close()
            raise UserError(exc.translated(self.env._)) from None
        return reader

    def _find_entry(self, reader):
        key = "custom" if self.object_id.is_custom else self.object_id.key
        return reader.find_entry(self.model_name, key)

    def _restorable_names(self, entry):
        names = [column_field(column) for column in entry.fields]
        return [name for name in names if self._field_restorable(name)]

    # --- plan ----------------------------------------------------------

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

    def _field_restorable(self, name):
        """A stored field of the object that a restore may write, by its type
        and its rights (the backup file decides among them)."""
        if not self.model_name or self.model_name not in self.env:
            return False
        field = self.env[self.model_name]._fields.get(name)
        return bool(
            field
            and name not in MAGIC_FIELDS
            and name not in CREDENTIAL_FIELDS
            and field.store
            and field.type in PARSABLE_TYPES
            and not (field.readonly and not field.inverse)
            and not field.company_dependent
            and field.is_accessible(self.env)
            and not (
                field.relational
                and field.comodel_name.startswith(("res.groups", "ir."))
            )
        )

    def _check_choices(self):
        self.ensure_one()
        if not self.object_id or not self.model_name:
            raise UserError(_("Choose the object to restore."))
        if not self.object_id.restorable:
            raise UserError(_("%s cannot be restored.", self.object_id.name))
        if self.model_name not in self.env:
            raise UserError(
                _("%s are not installed in this database.", self.object_id.name)
            )
        if not self.field_ids:
            raise UserError(_("Choose at least one field to restore."))
        if not self.env["ir.model.access"].check(self.model_name, "write", False):
            raise UserError(
                _(
                    "You are not allowed to change %s: a restore runs with your own "
                    "access rights.",
                    self.object_id.name,
                )
            )

    def _field_specs(self, names):
        Model = self.env[self.model_name]
        specs = []
        for name in names:
            field = Model._fields[name]
            selection = None
            if field.type == "selection":
                selection = frozenset(
                    key for key, _label in field._description_selection(self.env)
                )
            specs.append(
                RestoreField(
                    name=name,
                    type=field.type,
                    label=field._description_string(self.env),
                    relation=field.comodel_name or "",
                    selection=selection,
                    required=field.required,
                )
            )
        return specs

    def _make_plan(self, reader, on_batch=None, changed_after=None):
        """Plan against the live database, from a validated reader; with
        ``on_batch``, changes are handed over batch by batch (see Planner)."""
        self.ensure_one()
        entry = self._find_entry(reader)
        if not entry:
            raise UserError(_("The backup holds no %s.", self.object_id.name))
        names = self.field_ids.mapped("name")
        available = self._restorable_names(entry)
        gone = [n for n in names if n not in available]
        if gone:
            raise UserError(
                _(
                    "These fields cannot be restored from this backup: %s.",
                    ", ".join(gone),
                )
            )
        Model = self.env[self.model_name]
        missing_now = [
            column_field(c)
            for c in entry.fields
            if column_field(c) in names and column_field(c) not in Model._fields
        ]
        if missing_now:
            raise UserError(
                _("These fields no longer exist: %s.", ", ".join(missing_now))
            )
        specs = self._field_specs(names)
        recreate_specs = None
        if self.recreate_deleted:
            recreate_specs = self._field_specs(available)
        types = {s.name: s.type for s in (recreate_specs or specs)}
        domain = [] if self.object_id.is_custom else self.object_id._get_domain()
        if self.record_xmlid:
            # one record: nothing else is created since, or changed
            found = _LiveRecords(self.env, self.model_name, []).resolve(
                self.model_name, [self.record_xmlid]
            )
            domain = domain + [("id", "=", found.get(self.record_xmlid, 0))]
        live = _LiveRecords(self.env, self.model_name, domain)
        name_field = self._name_column(entry)
        planner = Planner(
            self.model_name,
            specs,
            live,
            batch_size=PLAN_BATCH,
            recreate_fields=recreate_specs,
            changed_after=changed_after,
            name_field=name_field,
        )
        # the name is read too (deleted records are listed by it), not restored
        read_types = {name_field: Model._fields[name_field].type} if name_field else {}
        read_types.update(types)
        try:
            rows = reader.iter_rows(entry, read_types)
            if self.record_xmlid:
                rows = (row for row in rows if row[0] == self.record_xmlid)
            plan = planner.plan(rows, on_batch=on_batch)
        except BackupFileError as exc:
            raise UserError(exc.translated(self.env._)) from None
        return plan, specs, types

    def _name_column(self, entry):
        """The backup's column holding the records' names, if it has one."""
        name = self.env[self.model_name]._rec_name
        field = self.env[self.model_name]._fields.get(name)
        if field and field.type in ("char", "text") and name in entry.fields:
            return name
        return None

    def action_plan(self):
        """Check the backup file and compute what the restore would do."""
        for restore in self:
            if restore.state not in ("draft", "planned", "failed"):
                raise UserError(_("Only a restore that has not run can be planned."))
            restore._check_choices()
            started = time.monotonic()
            reader = restore._open_reader()
            try:
                # Counts and samples only: the changes are computed again
                # when the restore runs.
                plan, specs, _types = restore._make_plan(reader, _discard)
            finally:
                reader.close()
            restore._store_plan(plan, specs)
            restore._audit(
                "restore_planned",
                record_count=plan.change_count,
                details=restore._summary_text(plan),
            )
            _logger.info(
                "Restore plan %s: %s records in %.2fs",
                restore.id,
                plan.backup_count,
                time.monotonic() - started,
            )
        return True

    def _fingerprint(self):
        """Digest of the backup file and of every choice of the plan."""
        self.ensure_one()
        if self.source == "upload":
            data = self.sudo().with_context(bin_size=False).upload_file or b""
            file_digest = hashlib.sha256(base64.b64decode(data)).hexdigest()
        else:
            attachment = self.backup_id.sudo().attachment_id
            file_digest = f"{self.backup_id.id}:{attachment.checksum}"
        choices = [
            self.source,
            file_digest,
            self.object_id.key,
            self.model_name,
            sorted(self.field_ids.mapped("name")),
            self.recreate_deleted,
            self.fast_mode,
            self.acknowledge_foreign,
        ]
        if self.record_xmlid:
            choices.append(self.record_xmlid)
        return hashlib.sha256(json.dumps(choices).encode()).hexdigest()

    def _summary_text(self, plan):
        """The plan's counts, for the audit log, in the user's words."""
        _ = self.env._
        lines = [
            _("Records in the backup: %s", plan.backup_count),
            _("Records to change: %s", plan.change_count),
            _("Deleted since the backup: %s", len(plan.deleted)),
            _("Created since the backup: %s", plan.created_since_count),
            _("Conflicts: %s", plan.conflict_count),
        ]
        Model = self.env[self.model_name]
        for name, stats in plan.fields.items():
            field = Model._fields.get(name)
            lines.append(
                _(
                    "%(field)s: change %(change)s, clear %(clear)s, "
                    "unchanged %(unchanged)s, conflicts %(conflicts)s",
                    field=field._description_string(self.env) if field else name,
                    change=stats.change,
                    clear=stats.clear,
                    unchanged=stats.unchanged,
                    conflicts=stats.conflict,
                )
            )
        return "\n".join(lines)

    def _store_plan(self, plan, specs):
        fields_by_name = {f.name: f for f in self.field_ids}
        self.line_ids.sudo().unlink()
        lines = []
        for spec in specs:
            stats = plan.fields[spec.name]
            lines.append(
                {
                    "restore_id": self.id,
                    "field_id": fields_by_name[spec.name].id,
                    "change_count": stats.change,
                    "clear_count": stats.clear,
                    "unchanged_count": stats.unchanged,
                    "conflict_count": stats.conflict,
                }
            )
        self.env["crm.backup.restore.line"].sudo().create(lines)
        self.sudo().write(
            {
                "state": "planned",
                # the snapshot's time: records written after it changed since
                "plan_date": self.env.cr.now(),
                "plan_fingerprint": self._fingerprint(),
                "backup_name": self.backup_id.name or self.upload_filename,
                "backup_record_count": plan.backup_count,
                "change_record_count": plan.change_count,
                "deleted_count": len(plan.deleted),
                "created_since_count": plan.created_since_count,
                "conflict_count": plan.conflict_count,
                "plan_html": self._plan_html(plan, specs),
                "confirm_reviewed": False,
                "error_message": False,
            }
        )

    def _display(self, spec, value, record=None, formatter=None):
        """``value`` of the field of ``spec`` as the user reads it (labels,
        amounts, dates in their language and time zone); ``record``: the live
        record, whose currency an amount is in; ``formatter``: a ValueFormatter
        kept for many values."""
        field = self.env[self.model_name]._fields[spec.name]
        currency = None
        if field.type == "monetary" and record:
            currency_field = field.get_currency_field(record)
            if currency_field:
                currency = record[currency_field]
        formatter = formatter or ValueFormatter(self.env)
        return formatter(field, value, currency or None)

    def _live(self, ids):
        """``{id: record}`` of live records, read together."""
        Model = self.env[self.model_name].sudo().with_context(active_test=False)
        # iterating shares the prefetch: one query per batch, not per record
        return {record.id: record for record in Model.browse(ids)}

    def _display_names(self, ids):
        """``{id: display name}`` of live records, read together."""
        Model = self.env[self.model_name].sudo().with_context(active_test=False)
        # iterating shares the prefetch: one query per batch, not per record
        return {record.id: record.display_name for record in Model.browse(ids)}

    def _sample_rows(self, plan, specs):
        by_name = {s.name: s for s in specs}
        ids = [sample[1] for sample in plan.samples]
        names = self._display_names(ids)
        live = self._live(ids)
        show = ValueFormatter(self.env)
        rows = []
        for xmlid, res_id, name, before, after in plan.samples:
            spec = by_name[name]
            record = live[res_id]
            rows.append(
                (
                    names[res_id] or xmlid,
                    spec.label,
                    self._display(spec, before, record, show),
                    self._display(spec, after, record, show) or _("(empty)"),
                )
            )
        return rows

    def _record_names(self, plan, xmlids):
        """``{xmlid: "Name (xmlid)"}``: the live name, else the backup's."""
        live = _LiveRecords(self.env, self.model_name, []).resolve(
            self.model_name, list(xmlids)
        )
        live_names = self._display_names(list(live.values()))
        names = {}
        for xmlid in xmlids:
            label = live_names[live[xmlid]] if xmlid in live else ""
            if not label:
                label = plan.deleted_names.get(xmlid) or ""
            names[xmlid] = f"{label} ({xmlid})" if label else xmlid
        return names

    def _deleted_rows(self, plan, limit):
        """``[(name, xmlid)]`` of the first deleted records, by their name in
        the backup (the external ID when it has none)."""
        return [
            (plan.deleted_names.get(xmlid) or xmlid, xmlid)
            for xmlid in list(plan.deleted)[:limit]
        ]

    def _plan_html(self, plan, specs):
        parts = [Markup("<h4>%s</h4>") % _("Sample rows")]
        rows = self._sample_rows(plan, specs)
        if rows:
            body = Markup("").join(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>") % row
                for row in rows
            )
            parts.append(
                Markup(
                    '<table class="table table-sm o_crm_restore_samples"><thead><tr>'
                    "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
                    "<tbody>%s</tbody></table>"
                )
                % (_("Record"), _("Field"), _("Now"), _("After restore"), body)
            )
        else:
            parts.append(Markup("<p>%s</p>") % _("No value differs from the backup."))
        names = self._record_names(
            plan, {xmlid for xmlid, _f, _r in plan.conflicts[:50]}
        )
        if plan.conflicts:
            labels = {spec.name: spec.label for spec in specs}
            parts.append(Markup("<h4>%s</h4>") % _("Conflicts (skipped)"))
            items = Markup("").join(
                Markup("<li>%s, %s: %s</li>")
                % (names[xmlid], labels.get(name, name), reason.translated(self.env._))
                for xmlid, name, reason in plan.conflicts[:50]
            )
            parts.append(Markup("<ul>%s</ul>") % items)
        if plan.deleted:
            parts.append(Markup("<h4>%s</h4>") % _("Deleted since the backup"))
            items = Markup(", ").join(
                Markup('<span title="%s">%s</span>') % (xmlid, name)
                for name, xmlid in self._deleted_rows(plan, 50)
            )
            more = len(plan.deleted) - 50
            if more > 0:
                items += " " + (
                    _("and 1 more.") if more == 1 else _("and %s more.", more)
                )
            parts.append(Markup('<p class="o_crm_restore_deleted">%s</p>') % items)
        slow = self._fast_mode_exceptions(specs)
        if slow:
            parts.append(Markup("<h4>%s</h4>") % _("Not written in fast mode"))
            parts.append(
                Markup('<p class="o_crm_restore_slow_fields">%s</p>')
                % _(
                    "Odoo runs its own logic when these fields change (%(where)s): "
                    "fast mode would skip it, so records whose values of these "
                    "fields change are written the normal way: %(fields)s.",
                    where=", ".join(sorted(set(slow.values()))),
                    fields=", ".join(slow),
                )
            )
        return Markup("").join(parts)

    def _fast_mode_exceptions(self, specs):
        """``{field label: where its logic is}`` of the chosen fields that fast
        mode leaves to the model's own write()."""
        if not self.fast_mode:
            return {}
        logic = write_logic(self.env[self.model_name])
        return {spec.label: logic[spec.name] for spec in specs if spec.name in logic}

    def action_download_plan(self):
        """The plan as an XLSX workbook."""
        self.ensure_one()
        if self.state == "draft":
            raise UserError(_("Compute the plan first."))
        import xlsxwriter

        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True})
        bold = book.add_format({"bold": True})
        sheet = book.add_worksheet(_("Plan"))
        samples = book.add_worksheet(_("Changes"))
        for col, text in enumerate(
            (_("Record"), _("Field"), _("Now"), _("After restore"))
        ):
            samples.write_string(0, col, text, bold)
        by_name = {
            spec.name: spec for spec in self._field_specs(self.field_ids.mapped("name"))
        }
        lines = [1]  # next row of the Changes sheet
        show = ValueFormatter(self.env)

        def write_changes(changes, before):
            if lines[0] > PLAN_SHEET_ROWS:
                return
            live = self._live(list(changes))
            for res_id, values in changes.items():
                if lines[0] > PLAN_SHEET_ROWS:
                    return
                record = live[res_id]
                record_name = record.display_name or str(res_id)
                for name, after in values.items():
                    spec = by_name[name]
                    now = before[res_id].get(name)
                    for col, text in enumerate(
                        (
                            record_name,
                            spec.label,
                            self._display(spec, now, record, show),
                            self._display(spec, after, record, show) or _("(empty)"),
                        )
                    ):
                        samples.write_string(lines[0], col, text or "")
                    lines[0] += 1
            # the names read for this part are not needed again
            self.env[self.model_name].invalidate_model()

        reader = self._open_reader()
        try:
            plan, specs, _types = self._make_plan(reader, write_changes)
        finally:
            reader.close()
        headers = [_("Field"), _("Change"), _("Clear"), _("Unchanged"), _("Conflicts")]
        for col, text in enumerate(headers):
            sheet.write_string(0, col, text, bold)
        for row, spec in enumerate(specs, start=1):
            stats = plan.fields[spec.name]
            sheet.write_string(row, 0, spec.label)
            for col, value in enumerate(
                (stats.change, stats.clear, stats.unchanged, stats.conflict), start=1
            ):
                sheet.write_number(row, col, value)
        row = len(specs) + 2
        for label, value in (
            (_("Records in backup"), plan.backup_count),
            (_("Records to change"), plan.change_count),
            (_("Deleted since backup"), len(plan.deleted)),
            (_("Created since backup"), plan.created_since_count),
        ):
            sheet.write_string(row, 0, label)
            sheet.write_number(row, 1, value)
            row += 1
        conflicts = book.add_worksheet(_("Conflicts"))
        for col, text in enumerate((_("Record"), _("Field"), _("Reason"))):
            conflicts.write_string(0, col, text, bold)
        names = self._record_names(plan, {xmlid for xmlid, _f, _r in plan.conflicts})
        for line, (xmlid, name, reason) in enumerate(plan.conflicts, start=1):
            spec = by_name.get(name)
            row = (
                names[xmlid],
                spec.label if spec else name,
                reason.translated(self.env._),
            )
            for col, text in enumerate(row):
                conflicts.write_string(line, col, text)
        # a sheet name holds 31 characters at most (translations too)
        deleted = book.add_worksheet(_("Deleted since the backup")[:31])
        for col, text in enumerate((_("Record"), _("External ID"))):
            deleted.write_string(0, col, text, bold)
        for line, row in enumerate(self._deleted_rows(plan, PLAN_SHEET_ROWS), start=1):
            for col, text in enumerate(row):
                deleted.write_string(line, col, text)
        book.close()
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{self.name} - plan.xlsx",
                "raw": out.getvalue(),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    # --- confirm, re-authenticate, queue -------------------------------------

    def _running_restore(self):
        return self.sudo().search(
            [("state", "=", "running"), ("id", "not in", self.ids)], limit=1
        )

    def _is_orphan(self):
        """Running, but nothing will run it: its identity check's grant is
        gone or expired and no job holds the restore lock."""
        self.ensure_one()
        expiry = self.sudo().execution_grant_expiry
        if expiry and expiry > fields.Datetime.now():
            return False
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_lock(%s)", [RESTORE_LOCK_KEY])
        if not cr.fetchone()[0]:
            return False
        cr.execute("SELECT pg_advisory_unlock(%s)", [RESTORE_LOCK_KEY])
        return True

    def _check_not_running(self):
        other = self._running_restore()
        if other and other._is_orphan():
            # a crash or a forced state must not block every restore
            other._job_failed(_("The job was interrupted before it could run."))
            other = self._running_restore()
        if other:
            raise UserError(
                _(
                    'Another restore is running: "%(name)s" (started by %(user)s). '
                    "Only one restore runs at a time; try again when it has finished.",
                    name=other.name,
                    user=other.requested_by_id.name or _("someone"),
                )
            )

    def _check_ready(self, job):
        """Everything a restore (or undo) needs before the identity check."""
        self.ensure_one()
        if job == "restore":
            if self.state != "planned":
                raise UserError(_("Compute and review the plan before restoring."))
            if not (self.confirm_overwrite and self.confirm_reviewed):
                raise UserError(
                    _("Tick both confirmations: the restore overwrites current values.")
                )
            if self.is_foreign_backup and not self.acknowledge_foreign:
                raise UserError(
                    _("Acknowledge that the backup comes from another database.")
                )
        elif self.state != "done":
            raise UserError(_("Only a completed restore can be undone."))
        elif not self.undo_available:
            raise UserError(
                _(
                    "The values this restore replaced are no longer kept (%s days): "
                    "it cannot be undone.",
                    self._kept_days(),
                )
            )
        else:
            self._check_no_later_restore()
        self._check_not_running()

    def _check_no_later_restore(self):
        """Undoing must not silently overwrite what a later restore wrote."""
        later = self.search(
            [
                ("id", "!=", self.id),
                ("state", "=", "done"),
                ("model_name", "=", self.model_name),
                ("field_ids", "in", self.field_ids.ids),
                "|",
                ("date_done", ">", self.date_done),
                "&",
                ("date_done", "=", self.date_done),
                ("id", ">", self.id),
            ],
            limit=1,
        )
        if later:
            raise UserError(
                _(
                    "%(later)s restored some of the same fields after this restore. "
                    "Undo %(later)s first.",
                    later=later.display_name,
                )
            )

    def action_restore(self):
        """Check the confirmations, then ask the user to re-authenticate."""
        self.ensure_one()
        self._check_ready("restore")
        return self._open_identity_check("restore")

    def action_undo(self):
        """Put back the values the restore replaced (after re-authentication)."""
        self.ensure_one()
        self._check_ready("undo")
        return self._open_identity_check("undo")

    def _open_identity_check(self, job):
        wizard = self.env["crm.backup.restore.auth"].create(
            {"restore_id": self.id, "job": job}
        )
        if wizard.auth_method == "sso":
            return wizard.action_confirm()
        return wizard._action_open()

    def _grant_execution(self, job):
        """Called after a successful identity check only: allows one run."""
        self.ensure_one()
        self.sudo().write(
            {
                "execution_grant": f"{job}:{self.env.uid}:{secrets.token_hex(16)}",
                "execution_grant_expiry": fields.Datetime.now()
                + datetime.timedelta(minutes=GRANT_MINUTES),
            }
        )

    def _consume_grant(self, job):
        self.ensure_one()
        sudo = self.sudo()
        grant = sudo.execution_grant or ""
        expiry = sudo.execution_grant_expiry
        sudo.write({"execution_grant": False, "execution_grant_expiry": False})
        if (
            not grant.startswith(f"{job}:")
            or not expiry
            or expiry < fields.Datetime.now()
        ):
            raise UserError(
                _(
                    "This restore was not confirmed with an identity check (or the check expired)."
                )
            )
        if int(grant.split(":")[1]) != self.env.uid:
            raise UserError(
                _("This job was confirmed by someone else than the user it runs as.")
            )
        return True

    def _mark_running(self, job, **vals):
        try:
            # Two restores confirmed at the same moment in two workers do not
            # see each other; the unique index makes the second one wait for
            # the first and then fail here.
            with self.env.cr.savepoint(flush=True):
                self.sudo().write(dict(vals, state="running", job=job))
        except psycopg2.IntegrityError as exc:
            if exc.pgcode != errorcodes.UNIQUE_VIOLATION:
                raise
            self.invalidate_recordset()
            raise UserError(
                _(
                    "Another restore was started at the same moment. Only one "
                    "restore runs at a time; try again when it has finished."
                )
            ) from None

    def _queue(self, job):
        """Mark the restore running and wake the background job."""
        self.ensure_one()
        serialize_requests(self.env, RESTORE_REQUESTS)
        self._check_not_running()
        who = "undone_by_id" if job == "undo" else "requested_by_id"
        self._mark_running(job, **{who: self.env.uid})
        self._wake_cron()

    # --- run ------------------------------------------------------------

    @api.model
    def _cron_run_restores(self):
        restores = self.sudo().search([("state", "=", "running")], order="id")
        for index, restore in enumerate(restores):
            user = restore._job_user()
            if not user or not user.has_group("crm_data_backup.group_crm_backup_admin"):
                # never the cron's own (superuser) rights in their place
                restore._job_failed(
                    _(
                        "The user who confirmed this job is no longer a CRM "
                        "Backup Administrator."
                    )
                )
                continue
            restore = restore.with_user(user)
            try:
                if restore.job == "undo":
                    restore._execute_undo()
                else:
                    restore._execute_restore()
            except RestoreLockBusy:
                # Another worker is restoring: try again in a minute.
                self._wake_cron(fields.Datetime.now() + datetime.timedelta(minutes=1))
                return
            except UserError as exc:
                # No identity check behind it (state forced by hand).
                restore._job_failed(str(exc))
            self.env["ir.cron"]._notify_progress(
                done=index + 1, remaining=len(restores) - index - 1
            )
            self._commit()

    def _acquire_lock(self):
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [RESTORE_LOCK_KEY])
        if not self.env.cr.fetchone()[0]:
            other = self._running_restore()
            raise RestoreLockBusy(
                _(
                    'Another restore is running: "%s". Only one restore runs at a time.',
                    other.name if other else _("unknown"),
                )
            )

    def _automations_context(self, model):
        if "base.automation" not in self.env or self.run_automations:
            return None
        Model = self.env[model]
        self.env.cr.execute(
            SQL("SELECT COALESCE(MAX(id), 0) FROM %s", SQL.identifier(Model._table))
        )
        return _AutomationsDone(
            self.env.cr, model, Model._table, self.env.cr.fetchone()[0]
        )

    def _execute_restore(self):
        """Run the restore, all or nothing; needs a grant from the identity check."""
        self.ensure_one()
        self._acquire_lock()
        self._consume_grant("restore")
        if self.state not in ("planned", "running"):
            raise UserError(_("This restore cannot run in its current state."))
        self._mark_running("restore")
        with self._job_outcome() as outcome:
            result, plan = self._apply_restore()
        if outcome["failed"]:
            return False
        self.sudo().write(
            {
                "state": "done",
                "date_done": fields.Datetime.now(),
                "restored_record_count": result["records_written"],
                "created_record_count": result["records_created"],
                # the job's own count: records changed since the review are
                # conflicts too
                "conflict_count": plan.conflict_count,
                "error_message": False,
            }
        )
        self._audit(
            "restore_executed",
            record_count=result["records_written"] + result["records_created"],
            details=self._summary_text(plan),
        )
        notice = self._notice_env()
        notice._notify(
            notice.env._("Restore done"),
            notice._outcome_text(
                result["records_written"],
                result["records_created"],
                plan.conflict_count,
            ),
            "success",
        )
        return True

    def _apply_restore(self):
        self._check_choices()
        if self.sudo().plan_fingerprint != self._fingerprint():
            raise UserError(
                _(
                    "The backup file or the choices changed after the plan was "
                    "reviewed. Nothing was changed: plan the restore again."
                )
            )
        # the job plans again before writing (minutes at a million records):
        # the screens show the reviewed total from the start
        self._publish_progress(0, self.change_record_count)
        with (
            tempfile.TemporaryFile(prefix="crm_restore_") as spool_file,
            tempfile.TemporaryFile(prefix="crm_restore_undo_") as undo_file,
        ):
            # The whole plan first (spooled to disk: memory stays bounded),
            # so that it is taken before any write, as reviewed.
            spool = ChangeSpool(spool_file)
            reader = self._open_reader(restored_only=True)
            try:
                plan, _specs, types = self._make_plan(
                    reader, spool.add, changed_after=self.plan_date
                )
            finally:
                reader.close()
            if plan.change_count > self.change_record_count:
                raise UserError(
                    _(
                        "The restore would change %(now)s records, more than the "
                        "%(reviewed)s of the reviewed plan. Nothing was changed: "
                        "plan the restore again.",
                        now=plan.change_count,
                        reviewed=self.change_record_count,
                    )
                )
            self._progress(0, spool.count)  # the plan took a while: writes start
            undo = UndoWriter(undo_file, self.model_name, types)
            automations = self._automations_context(self.model_name)
            with UndoJournal(self.env) as journal:
                applier = Applier(
                    self._target(self.model_name, automations, journal),
                    types,
                    batch_size=self._batch_size(automations),
                    progress=self._progress,
                    total=spool.count,
                )
                for changes, before in spool.batches(types):
                    # The values replaced are saved in the same transaction as
                    # the writes: the undo exists exactly when they do.
                    undo.add(before)
                    applier.write_changes(changes)
                result = applier.finish(plan.deleted if self.recreate_deleted else None)
                self.env.flush_all()
                # and every other value Odoo changed with them
                for change in journal.changes():
                    undo.add_change(change)
                created = {m: sorted(ids) for m, ids in journal.created.items()}
            undo.close(result["created_ids"], created)
            undo_file.seek(0)
            blob = undo_file.read()
            self.sudo().write(
                {
                    "undo_data": base64.b64encode(blob),
                    "undo_sha256": hashlib.sha256(blob).hexdigest(),
                }
            )
        return result, plan

    def _target(self, model, automations, journal=None):
        target = _OrmTarget(self.env, model, automations, journal)
        return FastOrmTarget(target) if self.fast_mode else target

    def _batch_size(self, automations):
        if self.fast_mode:
            return 2000
        # Smaller batches keep the automation bookkeeping cheap.
        return 200 if automations is not None else 1000

    def _progress(self, done, remaining):
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        self._publish_progress(done, done + remaining)

    def _publish_progress(self, done, total):
        """Show the job's progress to the screens, per batch.

        The job writes everything in one transaction, committed at its end,
        and holds the restore's row until then: the counters go to a table of
        their own, in a short transaction of another cursor, not made durable
        (a crash ends the job anyway). The bus message that makes the screens
        read them costs more (Odoo's NOTIFY opens a connection): at most one
        a second, and at the first and last counts."""
        query = SQL(
            "INSERT INTO crm_backup_restore_progress (restore_id, job, done, total) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (restore_id) DO UPDATE SET "
            "job = EXCLUDED.job, done = EXCLUDED.done, total = EXCLUDED.total",
            self.id,
            self.job or "restore",
            done,
            total,
        )
        key = (self.env.cr.dbname, self.id)
        now = time.monotonic()
        announce = done in (0, total) or now - _ANNOUNCED.get(key, 0) >= LIVE_INTERVAL
        if announce:
            _ANNOUNCED[key] = now
        if done == total:
            _ANNOUNCED.pop(key, None)
        if self._in_test():  # tests have one transaction, never committed
            self.env.cr.execute(query)
            if announce:
                self._live_send()
            return
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SET LOCAL synchronous_commit = off")
                cr.execute(query)
                if announce:
                    self._live_send(self.env(cr=cr))
        except psycopg2.Error as exc:
            # what the screens show never stops the job (no free connection...)
            _logger.warning("Restore %s: progress not shown: %s", self.id, exc)

    def _execute_undo(self):
        """Put back the saved values, all or nothing; needs a grant."""
        self.ensure_one()
        self._acquire_lock()
        self._consume_grant("undo")
        if self.state not in ("done", "running") or not self.sudo().undo_data:
            raise UserError(_("This restore cannot be undone."))
        self._check_no_later_restore()
        with self._job_outcome() as outcome:
            count, written_fields, kept = self._apply_undo()
        if outcome["failed"]:
            return False
        self.sudo().write({"state": "undone", "date_undone": fields.Datetime.now()})
        self._audit(
            "restore_undone",
            # what the undo wrote, read from its saved values
            field_names=",".join(written_fields),
            record_count=count,
            details=self._kept_text(kept),
        )
        notice = self._notice_env()
        notice._notify(
            notice.env._("Restore undone"),
            " ".join(
                filter(
                    None,
                    (
                        (
                            notice.env._("%s: 1 record put back.", self.name)
                            if count == 1
                            else notice.env._(
                                "%(name)s: %(count)s records put back.",
                                name=self.name,
                                count=count,
                            )
                        ),
                        notice._kept_text(kept),
                    ),
                )
            ),
            "success",
        )
        return True

    def _outcome_text(self, written, created, conflicts):
        """What a restore did, counts in singular or plural, in the
        environment's language."""
        _ = self.env._
        parts = [
            _("1 record restored")
            if written == 1
            else _("%s records restored", written),
            _("1 recreated") if created == 1 else _("%s recreated", created),
            (
                _("1 conflict skipped")
                if conflicts == 1
                else _("%s conflicts skipped", conflicts)
            ),
        ]
        return _(
            "%(name)s: %(counts)s. It can be undone from the restore.",
            name=self.name,
            counts=", ".join(parts),
        )

    def _kept_text(self, kept):
        """What an undo left as it is, in the environment's language."""
        if kept == 1:
            return self.env._(
                "1 record changed again since the restore: its new values "
                "were left as they are."
            )
        if kept:
            return self.env._(
                "%s records changed again since the restore: their new values "
                "were left as they are.",
                kept,
            )
        return False

    def _apply_undo(self):
        """Put back the saved values; returns (records, field names written)."""
        saved = self.sudo().with_context(bin_size=False)
        blob = base64.b64decode(saved.undo_data or b"")
        if not saved.undo_sha256 or (
            hashlib.sha256(blob).hexdigest() != saved.undo_sha256
        ):
            raise UserError(
                _("The saved values of this restore were altered: nothing was undone.")
            )
        try:
            undo = UndoReader(blob)
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(
                _("The saved values of this restore are unreadable.")
            ) from exc
        if undo.model != self.model_name:
            raise UserError(
                _(
                    "The saved values are not of this restore's object: nothing was undone."
                )
            )
        # only what the restore could have written: its fields, its records
        allowed = set(self.field_ids.mapped("name"))
        # the saved values are checked before any write: the total from the start
        self._publish_progress(0, self.restored_record_count)
        if undo.header["format"] < 3:  # saved before the journal: values only
            return *self._undo_values(undo, allowed, set()), 0
        # Values changed again since the restore are left as they are.
        conflicts = set()
        for change in undo.changes():
            conflicts.update(still_as_left(self.env.cr, change)[1])
        with UndoJournal(self.env) as journal:
            # Through the ORM first (rights, constraints, tracking)...
            count, written_fields = self._undo_values(undo, allowed, conflicts, journal)
            self.env.flush_all()
            # ...then exactly: what these writes changed is reverted, and
            # every value the restore changed is put back.
            journal.revert()
            self._delete_created(journal.created)
        for change in undo.changes():
            put_back(self.env.cr, change, still_as_left(self.env.cr, change)[0])
        self.env.invalidate_all()
        # records (of any table) with values left as they are
        return count, written_fields, len({key[:2] for key in conflicts})

    def _undo_values(self, undo, allowed, conflicts, journal=None):
        """Write the saved values of the restored fields back in the ORM,
        but ``conflicts`` (``(id, column or relation)``); delete what the
        restore created. Returns (records, field names written)."""
        written_fields = set()
        automations = self._automations_context(undo.model)
        target = self._target(undo.model, automations, journal)
        applier = Applier(
            target,
            undo.types,
            batch_size=self._batch_size(automations),
            progress=self._progress,
            total=self.restored_record_count,
        )
        for values in undo.batches():
            for vals in values.values():
                written_fields.update(vals)
            if not written_fields <= allowed:
                raise UserError(
                    _(
                        "The saved values name fields this restore did not write: "
                        "nothing was undone."
                    )
                )
            existing = set(target.Model.browse(list(values)).exists().ids)
            changes = {}
            for res_id, vals in values.items():
                kept = {
                    name: value
                    for name, value in vals.items()
                    if _cell_key(target.Model.browse(res_id), name) not in conflicts
                }
                if res_id in existing and kept:
                    changes[res_id] = kept
            applier.write_changes(changes)
        written = applier.finish()["records_written"]
        if len(undo.created_ids) != self.created_record_count:
            raise UserError(
                _("The saved values do not match this restore: nothing was undone.")
            )
        target.delete_records(undo.created_ids)
        # Records Odoo created along (lead scoring frequencies...): the user
        # never chose them, the server-kept journal lists exactly them.
        self._delete_created(
            {m: ids for m, ids in undo.created.items() if m != undo.model}
        )
        target.flush()
        return written + len(undo.created_ids), sorted(written_fields)

    def _delete_created(self, created):
        for model, ids in created.items():
            if model in self.env:
                self.env[model].sudo().browse(list(ids)).exists().unlink()

    def _job_unexpected_text(self, exc):
        return self.env._("Nothing was changed. The error was: %s", exc)

    def _job_open_label(self):
        return self.env._("Open the restore")

    def _audit_values(self):
        return {
            "backup_id": self.backup_id.id or False,
            "restore_id": self.id,
            "object_id": self.object_id.id,
            "field_names": ",".join(self.field_ids.mapped("name")),
        }

    def _job_failed(self, message):
        """The job failed, nothing was changed: back to where it was."""
        job = self.job or "restore"
        previous = "done" if job == "undo" else "failed"
        self.sudo().write({"state": previous, "error_message": message})
        self._audit("restore_failed", details=f"{job}: {message}")
        notice = self._notice_env()
        notice._notify(
            notice.env._("Restore failed"),
            # the error may quote values: the message, which may be e-mailed,
            # links to the restore that shows it
            notice.env._(
                "%(name)s failed; nothing was changed. The restore says why.",
                name=self.name,
            ),
            "danger",
            toast=notice.env._(
                "%(name)s failed; nothing was changed. %(why)s",
                name=self.name,
                why=message,
            ),
        )

    def _job_user(self):
        """Who asked for the current job (restore or undo)."""
        return self.undone_by_id if self.job == "undo" else self.requested_by_id

    def _notice_env(self):
        """This restore in the language of who asked for the current job."""
        return self.with_context(lang=self._job_user().lang or self.env.lang)

    def _notify(self, title, message, kind, toast=None):
        """Tell who asked for the current job."""
        self._tell(self._job_user(), title, [message], kind, toast=toast)
