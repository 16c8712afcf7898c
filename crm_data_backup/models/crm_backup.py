# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import contextlib
import glob
import logging
import os
import shutil
import tempfile
from datetime import timedelta

from odoo import SUPERUSER_ID, Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime, str2bool

from ..orm.backup_export import BackupExport
from ..orm.formatting import human_size
from ..orm.request_lock import BACKUP_REQUESTS, serialize_requests

_logger = logging.getLogger(__name__)

# Held (session advisory lock, key pair (RUN_LOCK_KEY, backup id)) by the
# process running a backup: a crashed process releases it with its connection.
RUN_LOCK_KEY = 84271032


class CrmBackup(models.Model):
    """One backup of the CRM: a zip of one file per object."""

    _name = "crm.backup"
    _description = "CRM Backup"
    _inherit = [
        "crm.backup.server.owned",
        "crm.backup.job",
        "mail.thread",
        "crm.backup.live",
    ]
    _order = "id desc"
    _job_cron = "crm_data_backup.ir_cron_crm_backup_run"
    _job_commits = True
    # Nothing: backups are made by request_backup() and the job only.
    _user_fields = frozenset()
    _live_fields = frozenset({"state", "progress"})

    name = fields.Char(required=True, help="Name of the backup (date and time).")
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        help="Company of the user who requested the backup.",
    )
    company_ids = fields.Many2many(
        "res.company",
        string="Companies",
        readonly=True,
        help="Whose data the backup holds: the companies its requester had "
        "selected. Only users of all of them see the backup.",
    )
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("expired", "Expired"),
        ],
        default="queued",
        required=True,
        tracking=True,
        help="Queued: waiting for the background job. Expired: the file was purged.",
    )
    attachment_id = fields.Many2one(
        "ir.attachment",
        readonly=True,
        ondelete="set null",
        help="The backup zip, while it can be downloaded.",
    )
    expiration_date = fields.Datetime(
        readonly=True, help="After this moment the file is deleted."
    )
    line_ids = fields.One2many(
        "crm.backup.line", "backup_id", help="One line per file in the backup."
    )
    requested_by_id = fields.Many2one(
        default=lambda self: self.env.user,
        help="Who asked for the backup; notified when it is ready or failed.",
    )
    file_format = fields.Selection(
        [("csv", "CSV"), ("xlsx", "XLSX")],
        default="csv",
        required=True,
        readonly=True,
        help="Format of the files inside the zip.",
    )
    progress = fields.Float(
        readonly=True, help="Share of the objects already written (percent)."
    )
    date_done = fields.Datetime(help="When the backup was finished.")
    record_count = fields.Integer(
        readonly=True,
        help="How many records the backup holds, all files together, archived "
        "ones included.",
    )
    archived_count = fields.Integer(
        "Archived records",
        readonly=True,
        help="How many of the records were archived (they are in the backup too).",
    )
    file_size = fields.Float(
        digits=(20, 0),
        readonly=True,
        help="Size of the zip in bytes (a float: zips may pass 2 GB).",
    )
    error_message = fields.Text(help="Why the backup failed, in plain words.")
    is_scheduled = fields.Boolean(
        readonly=True, help="Made by the scheduled backups job, not by a person."
    )
    download_url = fields.Char(
        compute="_compute_download_url",
        help="Address that downloads the zip (for the backup group only).",
    )

    @api.depends("state", "attachment_id")
    def _compute_download_url(self):
        for backup in self:
            backup.download_url = (
                f"/crm_data_backup/download/{backup.id}"
                if backup.state == "done" and backup.attachment_id
                else False
            )

    # -- settings -------------------------------------------------------------
    @api.model
    def _param(self, key, default):
        return self.env["ir.config_parameter"].sudo().get_param(key, default)

    @api.model
    def _retention_days(self):
        try:
            return max(int(self._param("crm_data_backup.retention_days", 14)), 1)
        except ValueError:
            return 14

    @api.model
    def _csv_formula_protection(self):
        """Whether CSV cells get a quote before formula-like values (off by
        default: Import keeps the quote, the files no longer re-import exactly)."""
        value = self._param("crm_data_backup.csv_formula_protection", False)
        return str2bool(value or "false", default=False)

    @api.model
    def _min_interval_hours(self):
        try:
            return max(float(self._param("crm_data_backup.min_interval_hours", 24)), 0)
        except ValueError:
            return 24.0

    # -- requesting -----------------------------------------------------------
    def action_open_create_wizard(self):
        # a list header button: called with the (possibly empty) selection;
        # the frequency limit is told before the dialog, not after it
        self._check_next_allowed()
        return self.env["ir.actions.act_window"]._for_xml_id(
            "crm_data_backup.crm_backup_create_wizard_action"
        )

    @api.model
    def _next_allowed_date(self):
        """When the next backup may be requested (None: now)."""
        hours = self._min_interval_hours()
        if not hours:
            return None
        last = (
            self.sudo()
            .with_context(active_test=False)
            .search([("state", "!=", "failed")], order="create_date desc", limit=1)
        )
        if not last:
            return None
        allowed = last.create_date + timedelta(hours=hours)
        return allowed if allowed > fields.Datetime.now() else None

    @api.model
    def _next_allowed_text(self):
        """The next allowed backup time in the user's time zone (None: now)."""
        allowed = self._next_allowed_date()
        if not allowed:
            return None
        return format_datetime(self.env, allowed, tz=self.env.user.tz or "UTC")

    @api.model
    def _check_next_allowed(self):
        allowed = self._next_allowed_text()
        if allowed:
            raise UserError(
                _(
                    "A backup was made recently. The next backup can be requested "
                    "on %(date)s.",
                    date=allowed,
                )
            )

    @api.model
    def get_next_backup_hint(self):
        """Text for the Backups list: when the next backup may be requested
        (False: now). Called by the list, for the backup group only."""
        self.check_access("create")
        allowed = self._next_allowed_text()
        return allowed and _("Next backup possible after %(date)s.", date=allowed)

    @api.model
    @api.returns("self", lambda backup: backup.id)
    def request_backup(self, scheduled=False):
        """Queue a backup (frequency limit enforced) and wake the job up."""
        self.check_access("create")
        # Two requests at once must not both pass the limit.
        serialize_requests(self.env, BACKUP_REQUESTS)
        self._check_next_allowed()
        now = fields.Datetime.now()
        # named in the requester's time zone, like the dates the screens show
        local_now = fields.Datetime.context_timestamp(self, now)
        # a scheduled backup (made by the system) holds every company's data
        Company = self.env["res.company"].sudo()
        # pylint: disable-next=no-search-all
        companies = Company.search([]) if self.env.su else self.env.companies
        backup = self.sudo().create(
            {
                "company_id": self.env.company.id,
                "company_ids": [Command.set(companies.ids)],
                "requested_by_id": self.env.uid,
                "name": _(
                    "Backup %(date)s", date=local_now.strftime("%Y-%m-%d %H:%M:%S")
                ),
                "file_format": self._param("crm_data_backup.file_format", "csv")
                if self._param("crm_data_backup.file_format", "csv") in ("csv", "xlsx")
                else "csv",
                # only the system's own job makes scheduled backups
                "is_scheduled": bool(scheduled and self.env.su),
            }
        )
        backup._audit(
            "backup_requested",
            user_id=self.env.uid,
            details=_("Scheduled") if scheduled else _("Requested by a user"),
        )
        self._wake_cron()
        return backup.with_env(self.env)

    def action_download(self):
        self.ensure_one()
        if self.state != "done" or not self.attachment_id:
            raise UserError(
                _("Only finished backups that have not expired can be downloaded.")
            )
        return {
            "type": "ir.actions.act_url",
            "url": f"/crm_data_backup/download/{self.id}",
            "target": "self",
        }

    # -- running --------------------------------------------------------------
    def action_run(self):
        """Run queued backups now (also what the background job does)."""
        self.check_access("write")
        for backup in self:
            backup.sudo()._run()
        return True

    @api.model
    def _cron_run_queued(self):
        for backup in self.search([("state", "=", "running")]):
            with backup._run_lock() as locked:
                # Its lock is free: the process that ran it is gone (a live run
                # keeps it however long it takes). The state is read again: the
                # search above may predate the commit that ended the run.
                if locked and backup.exists().state == "running":
                    # its files go before "failed" is committed (at the unlock)
                    backup._remove_work_dir()
                    backup._job_failed(
                        _("The backup was interrupted (the server stopped).")
                    )
        self._sweep_work_dirs()
        queued = self.search([("state", "=", "queued")], order="id")
        for backup in queued:
            backup._run()
            self._commit()

    @contextlib.contextmanager
    def _run_lock(self):
        """Hold this backup's run lock; yields False, without waiting, when
        another process holds it (that process runs, fails or sweeps it).

        Odoo's transactions are REPEATABLE READ: their snapshot is taken at
        their first query, so a state read before a lock may be stale, and
        locking (FOR UPDATE) or updating a row that another worker committed
        since then raises a serialization failure. So the lock comes first: a
        session advisory lock (it outlives our commits, and a crashed process
        releases it with its connection), then a commit, so that the state is
        read on a snapshot taken after the lock. Whoever holds the lock
        commits the backup's new state before releasing it: the next holder
        reads it. No row is locked and no state is stale, so the worker that
        does not get the backup steps aside without a serialization error.
        """
        self.ensure_one()
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_KEY, self.id])
        if not cr.fetchone()[0]:
            yield False
            return
        try:
            self._commit()
            yield True
            self._commit()
        except Exception:
            # an aborted transaction could not release the lock below
            self._rollback()
            raise
        finally:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_KEY, self.id])

    def _run(self):
        """Run this backup if it is still queued and no other process has it."""
        self.ensure_one()
        with self._run_lock() as locked:
            if not locked or self.exists().state != "queued":
                return False
            return self._run_locked()

    def _run_locked(self):
        self.write({"state": "running", "progress": 0.0, "error_message": False})
        self._commit()
        workdir = self._work_dir()
        try:
            with self._job_outcome():
                self._remove_work_dir()
                os.makedirs(workdir, mode=0o700)
                path = os.path.join(workdir, "backup.zip")
                export = BackupExport(self)
                result = export.make_zip(path)
                self._store(path, result, export)
        finally:
            self._remove_work_dir()
        if self.state == "done":
            # the outcome is committed first: the comparison with the previous
            # backup (mass-change alert) never fails nor delays it
            self._commit()
            self._check_mass_changes()  # pylint: disable=no-member
            self._commit()
        return self.state == "done"

    def _work_dir(self):
        """Where the zip is made before it is stored: a known place, so that
        the file of a killed run can be found and deleted."""
        self.ensure_one()
        name = f"crm_backup_{self.env.cr.dbname}_{self.id}"
        return os.path.join(tempfile.gettempdir(), name)

    def _remove_work_dir(self):
        shutil.rmtree(self._work_dir(), ignore_errors=True)

    @api.model
    def _sweep_work_dirs(self):
        """Delete the files of runs that died: no process holds their run lock
        (a state read here may predate a run that has just made its files)."""
        prefix = os.path.join(
            tempfile.gettempdir(), f"crm_backup_{self.env.cr.dbname}_"
        )
        for path in glob.glob(prefix + "*"):
            backup_id = path[len(prefix) :]
            # digits only: not the files of a database whose name extends ours
            if not backup_id.isdigit():
                continue
            with self.browse(int(backup_id))._run_lock() as locked:
                if locked:
                    shutil.rmtree(path, ignore_errors=True)

    def _progress(self, done, total):
        self.write({"progress": 100.0 * done / total if total else 100.0})
        self.env["ir.cron"]._notify_progress(done=done, remaining=total - done)
        self._commit()

    def _store(self, path, result, export):
        """Keep the zip as an attachment of the backup, streamed to the
        filestore, and announce it."""
        self.ensure_one()
        size = os.path.getsize(path)
        attachment = export.attach(path, size)
        now = fields.Datetime.now()
        self.write(
            {
                "state": "done",
                "attachment_id": attachment.id,
                "date_done": now,
                "expiration_date": now + timedelta(days=self._retention_days()),
                "progress": 100.0,
                "file_size": size,
                "record_count": sum(v["record_count"] for v in result["lines"]),
                "archived_count": sum(v["archived_count"] for v in result["lines"]),
                "line_ids": [(5, 0, 0)] + [(0, 0, v) for v in result["lines"]],
            }
        )
        self._audit(
            "backup_created",
            record_count=self.record_count,
            details=(
                _("1 file, %s", human_size(self.env, size))
                if len(result["lines"]) == 1
                else _(
                    "%(files)s files, %(size)s",
                    files=len(result["lines"]),
                    size=human_size(self.env, size),
                )
            ),
        )
        self._announce()
        # off-site copy (models/crm_backup_offsite.py): queued for its job
        self._offsite_queue()  # pylint: disable=no-member

    # -- outcome messages -----------------------------------------------------
    def _download_link(self):
        """Absolute address of the zip, usable from a mail client."""
        return f"{self.get_base_url()}/crm_data_backup/download/{self.id}"

    def _announce_recipients(self):
        """Who is told of the outcome: the requester; for a scheduled backup,
        the backup administrators who may read it (all its companies)."""
        if not self.is_scheduled:
            return self.requested_by_id
        admins = (
            self.env.ref("crm_data_backup.group_crm_backup_admin")
            .sudo()
            .users.filtered(lambda u: u.active and not u.share)
        )
        return admins.filtered(lambda u: self.company_ids <= u.company_ids)

    def _announce(self, reason=None):
        """Tell the requester(s) the backup is ready, or failed (``reason``)."""
        for user in self._announce_recipients():
            # in the user's language and time zone: the message is theirs
            backup = self.with_context(lang=user.lang or self.env.lang)
            if reason is None:
                backup._announce_ready(user)
            else:
                backup._announce_failed(user, reason)

    def _announce_ready(self, user):
        _ = self.env._
        line = _(
            "Your backup %(name)s is ready (%(count)s records, %(archived)s "
            "of them archived). It can be downloaded until %(date)s.",
            name=self.name,
            count=self.record_count,
            archived=self.archived_count,
            date=format_datetime(self.env, self.expiration_date, tz=user.tz or "UTC"),
        )
        self._tell(
            user,
            _("Backup ready"),
            [line],
            "success",
            toast=_("%(name)s can be downloaded.", name=self.name),
            links=[(_("Download"), self._download_link())],
            subtype="crm_data_backup.mt_backup_done",
        )

    def _announce_failed(self, user, reason):
        _ = self.env._
        # the reason stays in the application (it may quote data): the
        # message, which may be e-mailed, links to it
        line = _(
            "The backup %(name)s failed; no file was kept. The backup says why.",
            name=self.name,
        )
        self._tell(
            user,
            _("Backup failed"),
            [line],
            "danger",
            toast=reason,
            subtype="crm_data_backup.mt_backup_failed",
        )

    def _job_open_label(self):
        return self.env._("Open the backup")

    def _job_unexpected_text(self, exc):
        if isinstance(exc, OSError):  # disk full, permissions: said as is
            return str(exc)
        return super()._job_unexpected_text(exc)

    def _audit_values(self):
        return {
            "backup_id": self.id,
            "user_id": self.requested_by_id.id or self.env.uid,
        }

    def _job_failed(self, message):
        """Mark failed with ``message``, drop any file, tell the requester."""
        self.ensure_one()
        attachment = self.attachment_id
        self.write(
            {
                "state": "failed",
                "error_message": message,
                "attachment_id": False,
                "line_ids": [(5, 0, 0)],
            }
        )
        attachment.sudo().unlink()
        self._audit("backup_failed", details=message)
        self._announce(message)

    # -- expiry and schedule --------------------------------------------------
    @api.model
    def _cron_purge_expired(self):
        expired = self.search(
            [
                ("state", "=", "done"),
                ("expiration_date", "<=", fields.Datetime.now()),
            ]
        )
        for backup in expired:
            attachment = backup.attachment_id
            backup.write({"state": "expired", "attachment_id": False})
            attachment.sudo().unlink()
            backup._audit("backup_expired", user_id=SUPERUSER_ID)
            self._commit()
        return expired

    @api.model
    def _cron_scheduled_backup(self):
        schedule = self._param("crm_data_backup.schedule", "off")
        if schedule not in ("daily", "weekly"):
            return self.browse()
        period = timedelta(days=1 if schedule == "daily" else 7)
        last = self.search(
            [("is_scheduled", "=", True), ("state", "!=", "failed")],
            order="create_date desc",
            limit=1,
        )
        # a little slack so a daily cron never skips a day by a few seconds
        if (
            last
            and last.create_date + period - timedelta(hours=1) > fields.Datetime.now()
        ):
            return self.browse()
        try:
            with self.env.cr.savepoint():
                return self.request_backup(scheduled=True)
        except UserError as exc:
            _logger.info("Scheduled backup skipped: %s", exc)
            return self.browse()

    def unlink(self):
        for backup in self:
            backup._audit("backup_deleted", user_id=self.env.uid)
        # restores made from them keep their history (the backup's name)
        restores = (
            self.env["crm.backup.restore"]
            .sudo()
            .with_context(active_test=False)
            .search([("backup_id", "in", self.ids)])
        )
        for restore in restores:
            restore.backup_name = restore.backup_name or restore.backup_id.name
        attachments = self.sudo().attachment_id
        result = super().unlink()
        # mail.thread may already have removed them
        attachments.exists().unlink()
        return result
