# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Confirming a restore (or its undo): readiness, the identity check's
grant, one job at a time, the queue."""

import datetime
import secrets

import psycopg2
from psycopg2 import errorcodes

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..orm.request_lock import RESTORE_REQUESTS, serialize_requests
from ..orm.restore_job import RESTORE_LOCK_KEY

GRANT_MINUTES = 15


class CrmBackupRestoreConfirm(models.AbstractModel):
    """From the button to the queue: what must hold before a restore or an
    undo runs, the identity check that allows one run, and the queue."""

    _name = "crm.backup.restore.confirm"
    _description = "CRM Data Restore: confirmation"
    # The fields are crm.backup.restore's, which inherits this: pylint
    # cannot follow Odoo's _inherit to them.
    # pylint: disable=no-member

    def _running_restore(self):
        """Another restore queued or running, if any (one at a time)."""
        return self.sudo().search(
            [("state", "in", ("queued", "running")), ("id", "not in", self.ids)],
            limit=1,
        )

    def _is_orphan(self):
        """Queued or running, but nothing will run it: its identity check's
        grant is gone or expired and no job holds the restore lock."""
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

    def _open_identity_check(self, job):
        """Once ready for ``job``, the identity check that queues it."""
        self.ensure_one()
        self._check_ready(job)
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

    def _mark(self, state, job, **vals):
        """The restore ``state`` (queued or running) for ``job``."""
        try:
            # Two restores confirmed at the same moment in two workers do not
            # see each other; the unique index makes the second one wait for
            # the first and then fail here.
            with self.env.cr.savepoint(flush=True):
                self.sudo().write(dict(vals, state=state, job=job))
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
        """Check, on fresh data, that the restore is ready for ``job``; queue
        it and wake the background job."""
        self.ensure_one()
        serialize_requests(self.env, RESTORE_REQUESTS)
        self._check_ready(job)
        who = "undone_by_id" if job == "undo" else "requested_by_id"
        self._mark("queued", job, **{who: self.env.uid})
        self._wake_cron()
