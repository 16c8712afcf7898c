# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The background job of a restore, or of its undo: from the scheduled action
to the last written row.

A restore's way: "Restore data" (models/crm_backup_restore_confirm.py,
action_restore) opens the identity check (wizards/crm_backup_restore_auth.py),
which queues it (_queue); the scheduled action (models/crm_backup_restore_run.py,
_cron_run_restores) marks it running and runs RestoreJob: the plan taken again
(models/crm_backup_restore_plan.py), then the writes (engine/applier.py through
orm/orm_target.py or orm/fast_target.py)."""

import base64
import hashlib
import logging
import tempfile
import time

import psycopg2

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine.applier import Applier, ChangeSpool, UndoReader, UndoWriter
from .fast_target import FastOrmTarget
from .orm_target import AutomationsDone, OrmTarget
from .undo_journal import UndoJournal, put_back, still_as_left

_logger = logging.getLogger(__name__)

# Any 64-bit key of our own: "crm_data_backup restore".
RESTORE_LOCK_KEY = 0x63726D5F72657374
# Seconds between two messages telling the screens a job progressed, and
# when each running job (database, restore id) last sent one.
LIVE_INTERVAL = 1.0
_ANNOUNCED = {}


class RestoreLockBusy(UserError):
    """Another restore holds the database lock."""


def _cell_key(record, name):
    """How an UndoJournal names a record's value of a field."""
    field = record._fields[name]
    if field.type == "many2many":
        return ((field.relation, field.column1, field.column2), record.id, None)
    return (record._table, record.id, name)


class RestoreJob:
    """One run of ``restore`` (a crm.backup.restore, with the rights of the
    user who confirmed it): the restore, or its undo, all or nothing, with a
    grant of the identity check."""

    def __init__(self, restore):
        restore.ensure_one()
        self.restore = restore
        self.env = restore.env

    def run(self):
        """The job the restore is queued for; False when it failed."""
        if self.restore.job == "undo":
            return self.run_undo()
        return self.run_restore()

    # --- restore -----------------------------------------------------------

    def run_restore(self):
        """Write the backup's values as reviewed; the undo data with them."""
        restore = self.restore
        _ = self.env._
        self.acquire_lock()
        restore._consume_grant("restore")
        if restore.state not in ("planned", "queued", "running"):
            raise UserError(_("This restore cannot run in its current state."))
        restore._mark("running", "restore")
        with restore._job_outcome() as outcome:
            result, plan = self.apply_restore()
        if outcome["failed"]:
            return False
        restore.sudo().write(
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
        restore._audit(
            "restore_executed",
            record_count=result["records_written"] + result["records_created"],
            details=restore._summary_text(plan),
        )
        notice = restore._notice_env()
        notice._notify(
            notice.env._("Restore done"),
            RestoreJob(notice).outcome_text(
                result["records_written"],
                result["records_created"],
                plan.conflict_count,
            ),
            "success",
        )
        return True

    def apply_restore(self):
        """The plan, taken again from the file against the live records (the
        review kept its counts only), then the writes; returns (the
        applier's result, the plan)."""
        restore = self.restore
        _ = self.env._
        # the user's rights and the object may have changed since the review
        restore._check_choices()
        if restore.sudo().plan_fingerprint != restore._fingerprint():
            raise UserError(
                _(
                    "The backup file or the choices changed after the plan was "
                    "reviewed. Nothing was changed: plan the restore again."
                )
            )
        # the job plans again before writing (minutes at a million records):
        # the screens show the reviewed total from the start
        self.publish_progress(0, restore.change_record_count)
        with (
            tempfile.TemporaryFile(prefix="crm_restore_") as spool_file,
            tempfile.TemporaryFile(prefix="crm_restore_undo_") as undo_file,
        ):
            # The whole plan first (spooled to disk: memory stays bounded),
            # so that it is taken before any write, as reviewed.
            spool = ChangeSpool(spool_file)
            reader = restore._open_reader(restored_only=True)
            try:
                plan, _specs, types = restore._make_plan(
                    reader, spool.add, changed_after=restore.plan_date
                )
            finally:
                reader.close()
            if plan.change_count > restore.change_record_count:
                raise UserError(
                    _(
                        "The restore would change %(now)s records, more than the "
                        "%(reviewed)s of the reviewed plan. Nothing was changed: "
                        "plan the restore again.",
                        now=plan.change_count,
                        reviewed=restore.change_record_count,
                    )
                )
            self.progress(0, spool.count)  # the plan took a while: writes start
            undo = UndoWriter(undo_file, restore.model_name, types)
            automations = self.automations_done(restore.model_name)
            with UndoJournal(self.env) as journal:
                applier = Applier(
                    self.target(restore.model_name, automations, journal),
                    types,
                    batch_size=self.batch_size(automations),
                    progress=self.progress,
                    total=spool.count,
                )
                for changes, before in spool.batches(types):
                    # The values replaced are saved in the same transaction as
                    # the writes: the undo exists exactly when they do.
                    undo.add(before)
                    applier.write_changes(changes)
                deleted = plan.deleted if restore.recreate_deleted else None
                result = applier.finish(deleted)
                self.env.flush_all()
                # and every other value Odoo changed with them
                for change in journal.changes():
                    undo.add_change(change)
                created = {m: sorted(ids) for m, ids in journal.created.items()}
            undo.close(result["created_ids"], created)
            undo_file.seek(0)
            blob = undo_file.read()
            restore.sudo().write(
                {
                    "undo_data": base64.b64encode(blob),
                    "undo_sha256": hashlib.sha256(blob).hexdigest(),
                }
            )
        return result, plan

    def outcome_text(self, written, created, conflicts):
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
            name=self.restore.name,
            counts=", ".join(parts),
        )

    # --- undo --------------------------------------------------------------

    def run_undo(self):
        """Put back the saved values, but those changed again since."""
        restore = self.restore
        self.acquire_lock()
        restore._consume_grant("undo")
        if (
            restore.state not in ("done", "queued", "running")
            or not restore.sudo().undo_data
        ):
            raise UserError(self.env._("This restore cannot be undone."))
        restore._check_no_later_restore()
        with restore._job_outcome() as outcome:
            count, written_fields, kept = self.apply_undo()
        if outcome["failed"]:
            return False
        restore.sudo().write({"state": "undone", "date_undone": fields.Datetime.now()})
        restore._audit(
            "restore_undone",
            # what the undo wrote, read from its saved values
            field_names=",".join(written_fields),
            record_count=count,
            details=self.kept_text(kept),
        )
        notice = restore._notice_env()
        _ = notice.env._
        put = (
            _("%s: 1 record put back.", restore.name)
            if count == 1
            else _(
                "%(name)s: %(count)s records put back.", name=restore.name, count=count
            )
        )
        kept_text = RestoreJob(notice).kept_text(kept)
        notice._notify(
            _("Restore undone"),
            " ".join(filter(None, (put, kept_text))),
            "success",
        )
        return True

    def apply_undo(self):
        """Put back the saved values; returns (records, field names written,
        records with values left as they are)."""
        restore = self.restore
        _ = self.env._
        saved = restore.sudo().with_context(bin_size=False)
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
        if undo.model != restore.model_name:
            raise UserError(
                _(
                    "The saved values are not of this restore's object: nothing was undone."
                )
            )
        # only what the restore could have written: its fields, its records
        allowed = set(restore.field_ids.mapped("name"))
        # the saved values are checked before any write: the total from the start
        self.publish_progress(0, restore.restored_record_count)
        if undo.header["format"] < 3:  # saved before the journal: values only
            return *self.undo_values(undo, allowed, set()), 0
        # Values changed again since the restore are left as they are.
        conflicts = set()
        for change in undo.changes():
            conflicts.update(still_as_left(self.env.cr, change)[1])
        with UndoJournal(self.env) as journal:
            # Through the ORM first (rights, constraints, tracking)...
            count, written_fields = self.undo_values(undo, allowed, conflicts, journal)
            self.env.flush_all()
            # ...then exactly: what these writes changed is reverted, and
            # every value the restore changed is put back.
            journal.revert()
            self.delete_created(journal.created)
        for change in undo.changes():
            put_back(self.env.cr, change, still_as_left(self.env.cr, change)[0])
        self.env.invalidate_all()
        # records (of any table) with values left as they are
        return count, written_fields, len({key[:2] for key in conflicts})

    def undo_values(self, undo, allowed, conflicts, journal=None):
        """Write the saved values of the restored fields back in the ORM,
        but ``conflicts`` (``(id, column or relation)``); delete what the
        restore created. Returns (records, field names written)."""
        restore = self.restore
        _ = self.env._
        written_fields = set()
        automations = self.automations_done(undo.model)
        target = self.target(undo.model, automations, journal)
        applier = Applier(
            target,
            undo.types,
            batch_size=self.batch_size(automations),
            progress=self.progress,
            total=restore.restored_record_count,
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
        if len(undo.created_ids) != restore.created_record_count:
            raise UserError(
                _("The saved values do not match this restore: nothing was undone.")
            )
        target.delete_records(undo.created_ids)
        # Records Odoo created along (lead scoring frequencies...): the user
        # never chose them, the server-kept journal lists exactly them.
        self.delete_created(
            {m: ids for m, ids in undo.created.items() if m != undo.model}
        )
        target.flush()
        return written + len(undo.created_ids), sorted(written_fields)

    def delete_created(self, created):
        for model, ids in created.items():
            if model in self.env:
                self.env[model].sudo().browse(list(ids)).exists().unlink()

    def kept_text(self, kept):
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

    # --- writing -----------------------------------------------------------

    def acquire_lock(self):
        """One job at a time in the database, until its transaction ends."""
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [RESTORE_LOCK_KEY])
        if not cr.fetchone()[0]:
            other = self.restore._running_restore()
            raise RestoreLockBusy(
                self.env._(
                    'Another restore is running: "%s". Only one restore runs at a time.',
                    other.name if other else self.env._("unknown"),
                )
            )

    def automations_done(self, model):
        """The context that keeps automation rules quiet (None when the
        setting lets them run)."""
        if "base.automation" not in self.env or self.restore.run_automations:
            return None
        Model = self.env[model]
        self.env.cr.execute(
            SQL("SELECT COALESCE(MAX(id), 0) FROM %s", SQL.identifier(Model._table))
        )
        return AutomationsDone(
            self.env.cr, model, Model._table, self.env.cr.fetchone()[0]
        )

    def target(self, model, automations, journal=None):
        target = OrmTarget(self.env, model, automations, journal)
        return FastOrmTarget(target) if self.restore.fast_mode else target

    def batch_size(self, automations):
        if self.restore.fast_mode:
            return 2000
        # Smaller batches keep the automation bookkeeping cheap.
        return 200 if automations is not None else 1000

    def progress(self, done, remaining):
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        self.publish_progress(done, done + remaining)

    def publish_progress(self, done, total):
        """Show the job's progress to the screens, per batch.

        The job writes everything in one transaction, committed at its end,
        and holds the restore's row until then: the counters go to a table of
        their own, in a short transaction of another cursor, not made durable
        (a crash ends the job anyway). The bus message that makes the screens
        read them costs more (Odoo's NOTIFY opens a connection): at most one
        a second, and at the first and last counts."""
        restore = self.restore
        query = SQL(
            "INSERT INTO crm_backup_restore_progress (restore_id, job, done, total) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (restore_id) DO UPDATE SET "
            "job = EXCLUDED.job, done = EXCLUDED.done, total = EXCLUDED.total",
            restore.id,
            restore.job or "restore",
            done,
            total,
        )
        key = (self.env.cr.dbname, restore.id)
        now = time.monotonic()
        announce = done in (0, total) or now - _ANNOUNCED.get(key, 0) >= LIVE_INTERVAL
        if announce:
            _ANNOUNCED[key] = now
        if done == total:
            _ANNOUNCED.pop(key, None)
        if restore._in_test():  # tests have one transaction, never committed
            self.env.cr.execute(query)
            if announce:
                restore._live_send()
            return
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SET LOCAL synchronous_commit = off")
                cr.execute(query)
                if announce:
                    restore._live_send(self.env(cr=cr))
        except psycopg2.Error as exc:
            # what the screens show never stops the job (no free connection...)
            _logger.warning("Restore %s: progress not shown: %s", restore.id, exc)
