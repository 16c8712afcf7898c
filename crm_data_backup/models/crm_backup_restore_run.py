# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Running a restore's queued job (see orm/restore_job.py for the job
itself) and telling how it went."""

import datetime

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..orm.restore_job import RestoreJob, RestoreLockBusy


class CrmBackupRestoreRun(models.AbstractModel):
    """The scheduled action that runs the queued restores and undos, their
    progress, and the outcome hooks of the job mixin (crm.backup.job)."""

    _name = "crm.backup.restore.run"
    _description = "CRM Data Restore: job"
    # The fields are crm.backup.restore's, which inherits this: pylint
    # cannot follow Odoo's _inherit to them.
    # pylint: disable=no-member

    def _compute_progress(self):
        """The running job's counters (see _publish_progress)."""
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

    @api.model
    def _cron_run_restores(self):
        """Run the queued jobs (and any left running by a crash), one by one,
        each as the user who confirmed it (see orm/restore_job.py)."""
        restores = self.sudo().search(
            [("state", "in", ("queued", "running"))], order="id"
        )
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
            # the screens show it being written from now on
            restore._mark("running", restore.job or "restore")
            self._commit()
            try:
                RestoreJob(restore).run()
            except RestoreLockBusy:
                # Another worker is restoring: queued again, for a minute later.
                restore._mark("queued", restore.job or "restore")
                self._commit()
                self._wake_cron(fields.Datetime.now() + datetime.timedelta(minutes=1))
                return
            except UserError as exc:
                # No identity check behind it (state forced by hand).
                restore._job_failed(str(exc))
            self.env["ir.cron"]._notify_progress(
                done=index + 1, remaining=len(restores) - index - 1
            )
            self._commit()

    def _execute_restore(self):
        """Run the restore, all or nothing; needs a grant from the identity check."""
        return RestoreJob(self).run_restore()

    def _execute_undo(self):
        """Put back the saved values, all or nothing; needs a grant."""
        return RestoreJob(self).run_undo()

    def _publish_progress(self, done, total):
        """Show the running job's counters to the screens."""
        RestoreJob(self).publish_progress(done, total)

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
