# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import contextlib
import logging
import threading

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..engine.errors import TranslatableError
from ..orm.notify import notify_requester, record_url

_logger = logging.getLogger(__name__)


class CrmBackupJob(models.AbstractModel):
    """What backups and restores share as background jobs: who asked, the
    outcome (done date or error), the transaction guard, waking the cron,
    telling the requester and writing the audit trail."""

    _name = "crm.backup.job"
    _description = "CRM Backup Job"
    # xmlid of the scheduled action that runs the jobs
    _job_cron = None
    # whether the work commits on its way (a backup, for its progress): it
    # cannot then roll back to a savepoint taken before, only its transaction
    _job_commits = False

    requested_by_id = fields.Many2one(
        "res.users",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="Who asked for the job; told of its outcome.",
    )
    date_done = fields.Datetime(
        readonly=True, copy=False, help="When the job finished."
    )
    error_message = fields.Text(
        readonly=True, copy=False, help="Why the job failed, in plain words."
    )

    # -- transaction ----------------------------------------------------------
    @api.model
    def _in_test(self):
        """Tests share one transaction that is never committed."""
        return bool(
            getattr(threading.current_thread(), "testing", False)
            or config["test_enable"]
        )

    @api.model
    def _commit(self):
        if not self._in_test():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _rollback(self):
        if not self._in_test():
            self.env.cr.rollback()

    @api.model
    def _wake_cron(self, when=None):
        """Have the jobs' scheduled action run (now, or at ``when``)."""
        cron = self.env.ref(self._job_cron, raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(when)

    # -- outcome --------------------------------------------------------------
    @contextlib.contextmanager
    def _job_outcome(self):
        """Run the job's work all or nothing. On an error, what it wrote is
        rolled back and the job fails (``_job_failed``) with a message fit
        for the user; yields a dict whose ``failed`` says which happened."""
        self.ensure_one()
        outcome = {"failed": False}
        rollback = self._job_commits and not self._in_test()
        try:
            with contextlib.nullcontext() if rollback else self.env.cr.savepoint():
                yield outcome
        except Exception as exc:  # pylint: disable=broad-except
            # the type only: the error's text may quote backed-up values
            _logger.warning("%s %s failed: %s", self._name, self.id, type(exc).__name__)
            if rollback:
                self._rollback()
            self.env.invalidate_all()
            outcome["failed"] = True
            self._job_failed(self._job_error_text(exc))

    def _job_error_text(self, exc):
        """What the user reads of ``exc``."""
        if isinstance(exc, TranslatableError):
            return exc.translated(self.env._)
        if isinstance(exc, UserError):
            return str(exc)
        return self._job_unexpected_text(exc)

    def _job_unexpected_text(self, exc):
        return self.env._("Unexpected error: %(error)s", error=exc)

    def _job_failed(self, message):
        """Mark the job failed with ``message``; audit and tell."""
        raise NotImplementedError

    # -- telling and auditing -------------------------------------------------
    def _job_open_label(self):
        """The label of the button that opens the record from a message."""
        return self.env._("Open")

    def _tell(self, user, title, lines, kind, toast=None, links=(), subtype=None):
        """Tell ``user``, in their language, the outcome of this job: a
        message in their inbox (with a button opening the record) and a
        pop-up (``kind``; ``toast``: its text when it may say more than the
        message, which may be e-mailed)."""
        job = self.with_context(lang=user.lang or self.env.lang)
        notify_requester(
            job,
            user,
            title,
            lines,
            [*links, (job._job_open_label(), record_url(job))],
            subtype or "mail.mt_comment",
            (kind, toast or " ".join(lines)),
        )

    def _audit_values(self):
        """What every audit entry of this job names."""
        return {}

    def _audit(self, action, **values):
        self.env["crm.backup.audit"]._log(action, **(self._audit_values() | values))
