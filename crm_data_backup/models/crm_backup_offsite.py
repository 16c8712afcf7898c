# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
# The fields and helpers (_param, _commit...) of crm.backup are defined in
# crm_backup.py: pylint sees this extension's class alone.
# pylint: disable=no-member
import contextlib
import logging
from datetime import timedelta

from odoo import SUPERUSER_ID, Command, api, fields, models
from odoo.exceptions import UserError

from ..engine.reader import BackupFileError, BackupReader
from ..orm.notify import notify_requester, record_url
from ..orm.offsite import (
    OffsiteError,
    OffsiteStore,
    WrongIdentity,
    parse_recipients,
    read_keep,
)
from .crm_backup_restore_plan import _discard

_logger = logging.getLogger(__name__)

# Held (session advisory lock, key pair (OFFSITE_LOCK_KEY, backup id)) while a
# backup's copy is written, verified or purged: the cron and a button never
# work on one copy at once.
OFFSITE_LOCK_KEY = 84271033
# Failed copies are tried again by the job this many times (then by hand).
MAX_ATTEMPTS = 24


class CrmBackup(models.Model):
    """Off-site copy of a backup: where it is, its checksum, its state."""

    _inherit = "crm.backup"
    # the screens follow a verification queued from them
    _live_fields = frozenset({"state", "progress", "offsite_state"})

    # All server-owned (crm.backup.server.owned: not in _user_fields).
    offsite_state = fields.Selection(
        [
            ("pending", "Pending"),
            ("copied", "Copied"),
            ("verifying", "Verification queued"),
            ("failed", "Failed"),
            ("verified", "Verified"),
            ("purged", "Purged"),
        ],
        string="Off-site copy",
        readonly=True,
        copy=False,
        help="Pending: waiting for the background job. Copied: on the off-site "
        "storage. Verification queued: the background job reads it back soon. "
        "Verified: read back and checked. Failed: the copy or its "
        "verification failed (the job tries again). Purged: deleted off-site by "
        "the retention tiers.",
    )
    offsite_path = fields.Char(
        "Off-site path",
        readonly=True,
        copy=False,
        help="Where the copy is, in the off-site storage.",
    )
    offsite_sha256 = fields.Char(
        "Off-site SHA-256",
        readonly=True,
        copy=False,
        help="SHA-256 of the copy as written (encrypted bytes for an encrypted copy).",
    )
    offsite_size = fields.Float(
        "Off-site size",
        digits=(20, 0),
        readonly=True,
        copy=False,
        help="Size of the copy in bytes.",
    )
    offsite_encrypted = fields.Boolean(
        "Encrypted copy",
        readonly=True,
        copy=False,
        help="The copy is encrypted with age for the recipients set in Settings.",
    )
    offsite_date = fields.Datetime(
        "Copied on", readonly=True, copy=False, help="When the copy was written."
    )
    offsite_verified_date = fields.Datetime(
        "Verified on",
        readonly=True,
        copy=False,
        help="When the copy was last read back and found whole.",
    )
    offsite_error = fields.Text(
        "Off-site error",
        readonly=True,
        copy=False,
        help="Why the copy or its verification failed.",
    )
    offsite_verify_requested_by_id = fields.Many2one(
        "res.users",
        "Verification asked by",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="Who queued the verification running now; told of its outcome.",
    )
    offsite_attempts = fields.Integer(
        "Failed copy attempts",
        readonly=True,
        copy=False,
        help="Failed copy attempts so far.",
    )

    # -- settings -------------------------------------------------------------
    @api.model
    def _offsite_store(self):
        """The configured storage (None: off-site copies are off)."""
        storage_id = self._param("crm_data_backup.offsite_storage_id", False)
        try:
            storage = self.env["fs.storage"].sudo().browse(int(storage_id or 0))
        except ValueError:
            return None
        if not storage or not storage.exists():
            return None
        keep = read_keep(self._param)
        try:
            recipients = parse_recipients(
                self._param("crm_data_backup.offsite_age_recipients", "")
            )
        except OffsiteError as exc:
            # never copy in clear what was meant to be encrypted
            raise UserError(exc.translated(self.env._)) from None
        return OffsiteStore(storage, self.env.cr.dbname, recipients, keep)

    # -- queueing -------------------------------------------------------------
    def _offsite_queue(self):
        """Called when a backup is done: its copy waits for the job."""
        if not self.env["crm.backup"]._offsite_store_configured():
            return
        self.sudo().write({"offsite_state": "pending", "offsite_attempts": 0})
        self._offsite_wake()

    @api.model
    def _offsite_wake(self, when=None):
        """Have the off-site job run (now, or at ``when``)."""
        cron = self.env.ref(
            "crm_data_backup.ir_cron_crm_backup_offsite", raise_if_not_found=False
        )
        if cron:
            cron.sudo()._trigger(when)

    @api.model
    def _offsite_store_configured(self):
        return bool(self._param("crm_data_backup.offsite_storage_id", False))

    @contextlib.contextmanager
    def _offsite_lock(self):
        """This backup's off-site lock (yields False when another process has
        it); what is done under it is committed before it is released."""
        self.ensure_one()
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", [OFFSITE_LOCK_KEY, self.id])
        if not cr.fetchone()[0]:
            yield False
            return
        try:
            yield True
            self._commit()
        except Exception:
            self._rollback()
            raise
        finally:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", [OFFSITE_LOCK_KEY, self.id])

    # -- the job --------------------------------------------------------------
    @api.model
    def _cron_offsite(self):
        """Run the verifications asked for, copy pending backups, retry failed
        copies, then apply the tiers."""
        for backup in self.search([("offsite_state", "=", "verifying")], order="id"):
            if backup._offsite_verify() is None:
                # a copy or another verification holds it: soon again
                self._offsite_wake(fields.Datetime.now() + timedelta(minutes=1))
        if not self._offsite_store_configured():
            return
        backups = self.search(
            [
                ("state", "=", "done"),
                ("attachment_id", "!=", False),
                "|",
                ("offsite_state", "=", "pending"),
                "&",
                ("offsite_state", "=", "failed"),
                ("offsite_attempts", "<", MAX_ATTEMPTS),
            ],
            order="id",
        )
        for backup in backups:
            backup._offsite_copy()
        self._offsite_prune()

    def _offsite_copy(self):
        """Write this backup's copy (state copied), or record why not (failed)."""
        self.ensure_one()
        with self._offsite_lock() as locked:
            if not locked:
                return False
            backup = self.sudo()
            try:
                store = self._offsite_store()
                if store is None:
                    return False
                attachment = backup.attachment_id
                if backup.state != "done" or not attachment.store_fname:
                    raise UserError(
                        self.env._("The backup's file is no longer kept here.")
                    )
                info = store.upload(
                    attachment._full_path(attachment.store_fname),
                    backup.id,
                    backup.date_done,
                    backup._offsite_sidecar(),
                )
            except Exception as exc:  # pylint: disable=broad-except
                self._rollback()
                backup._offsite_failed(self._offsite_reason(exc), copying=True)
                return False
            backup._offsite_succeeded(
                "offsite_copied",
                info["path"],
                offsite_state="copied",
                offsite_path=info["path"],
                offsite_sha256=info["sha256"],
                offsite_size=info["size"],
                offsite_encrypted=info["encrypted"],
                offsite_date=fields.Datetime.now(),
                offsite_verified_date=False,
            )
        return True

    def _offsite_succeeded(self, action, details, user=None, **values):
        """Record a copy or verification that worked, and audit it (as
        ``user``: who asked for it, else the current user)."""
        self.write(dict(values, offsite_error=False))
        self.env["crm.backup.audit"]._log(
            action,
            backup_id=self.id,
            details=details,
            user_id=(user or self.env.user).id,
        )

    def _offsite_sidecar(self):
        """What the storage keeps beside the copy: enough to list and check it
        without this database (no CRM value)."""
        self.ensure_one()
        return {
            "format": "crm_data_backup.offsite",
            "backup_id": self.id,
            "backup_name": self.name,
            "database_name": self.env.cr.dbname,
            "database_uuid": self._param("database.uuid", ""),
            "done_date": fields.Datetime.to_string(self.date_done),
            "zip_size": int(self.file_size),
            "record_count": self.record_count,
            "file_format": self.file_format,
        }

    def _offsite_reason(self, exc):
        if isinstance(exc, OffsiteError | BackupFileError):
            return exc.translated(self.env._)
        if isinstance(exc, UserError):
            return exc.args[0]
        _logger.warning("Off-site copy of backup %s failed: %s", self.id, exc)
        return self.env._(
            "The storage failed: %(error)s", error=str(exc) or type(exc).__name__
        )

    def _offsite_failed(self, reason, copying, user=None):
        """Record a failure, audit it and tell the backup administrators (and
        ``user``, who asked for the verification) the first time (the job tries
        a copy again, quietly)."""
        first = self.offsite_state != "failed"
        self.write(
            {
                "offsite_state": "failed",
                "offsite_error": reason,
                "offsite_attempts": self.offsite_attempts + 1 if copying else 0,
                "offsite_verify_requested_by_id": False,
            }
        )
        self.env["crm.backup.audit"]._log(
            "offsite_failed" if copying else "offsite_verify_failed",
            backup_id=self.id,
            user_id=SUPERUSER_ID if copying else (user or self.env.user).id,
            details=reason,
        )
        if first or not copying:
            self._offsite_notify(copying, user)
        self._commit()

    def _offsite_notify(self, copying, requester=None):
        admins = (
            self.env.ref("crm_data_backup.group_crm_backup_admin")
            .sudo()
            .users.filtered(lambda u: u.active and not u.share)
            .filtered(lambda u: self.company_ids <= u.company_ids)
        )
        for user in admins | (requester or self.env["res.users"]):
            backup = self.with_context(lang=user.lang or self.env.lang)
            _ = backup.env._
            title = (
                _("Off-site copy failed")
                if copying
                else _("Off-site copy not verified")
            )
            line = (
                _(
                    "The off-site copy of the backup %(name)s failed; the backup "
                    "itself is kept here. The job tries again; the backup says why.",
                    name=self.name,
                )
                if copying
                else _(
                    "The off-site copy of the backup %(name)s did not pass its "
                    "verification. The backup says why.",
                    name=self.name,
                )
            )
            notify_requester(
                backup,
                user,
                title,
                [line],
                [(_("Open the backup"), record_url(self))],
                "crm_data_backup.mt_backup_failed",
                ("danger", line),
            )

    # -- retention ------------------------------------------------------------
    @api.model
    def _offsite_prune(self):
        """Delete the copies the daily/weekly/monthly tiers do not keep."""
        try:
            store = self._offsite_store()
            if store is None:
                return []
            purged = store.prune()
        except Exception as exc:  # pylint: disable=broad-except
            _logger.warning("Off-site retention skipped: %s", exc)
            return []
        Audit = self.env["crm.backup.audit"]
        for copy in purged:
            backup = self.sudo().browse(copy["backup_id"]).exists()
            if backup and backup.offsite_path == copy["path"]:
                backup.write({"offsite_state": "purged"})
            Audit._log(
                "offsite_purged",
                backup_id=backup.id or False,
                backup_name=backup.name or copy["name"],
                user_id=SUPERUSER_ID,
                details=copy["path"],
            )
        self._commit()
        return purged

    # -- verification ----------------------------------------------------------
    def action_verify(self):
        """Queue a verification of this backup's off-site copy for the
        background job (button); the outcome lands on the backup, in the audit
        and in the inbox of who asked."""
        self.ensure_one()
        self.check_access("write")
        self._offsite_check_verifiable()
        backup = self.sudo()
        if backup.offsite_state != "verifying":
            backup.write(
                {
                    "offsite_state": "verifying",
                    "offsite_verify_requested_by_id": self.env.uid,
                }
            )
            self._offsite_wake()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "title": self.env._("Off-site copy verification queued"),
                "message": self.env._(
                    "The background job reads the copy of %(name)s back; the "
                    "outcome shows on the backup and in your inbox.",
                    name=backup.name,
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _offsite_check_verifiable(self):
        if (
            self.sudo().offsite_state
            not in (
                "copied",
                "verified",
                "failed",
                "verifying",
            )
            or not self.sudo().offsite_path
        ):
            raise UserError(self.env._("This backup has no off-site copy to verify."))

    @api.model
    def _cron_offsite_verify(self):
        """Verify the newest copy (daily)."""
        newest = self.search(
            [("offsite_state", "in", ("copied", "verified"))],
            order="offsite_date desc, id desc",
            limit=1,
        )
        if newest:
            newest._offsite_verify()
        return newest

    def _offsite_verify(self, identity=None):
        """Re-read the copy: size and SHA-256; for an unencrypted copy, or an
        encrypted one with ``identity`` (a pyrage identity, never stored),
        every file's checksum in the zip and a dry-run plan of every object
        against the live data. The outcome lands on the backup, in the audit
        and, with who queued it, in their inbox. None: the copy is busy.
        ``WrongIdentity`` (nothing recorded) when ``identity`` does not open it."""
        self.ensure_one()
        requester = self.offsite_verify_requested_by_id
        with self._offsite_lock() as locked:
            if not locked:
                return None
            try:
                store = self._offsite_store()
                if store is None:
                    raise UserError(self.env._("No off-site storage is set."))
                if not self.offsite_path or not self.offsite_sha256:
                    raise UserError(self.env._("This backup has no off-site copy."))
                store.check_copy(
                    self.offsite_path, self.offsite_sha256, self.offsite_size
                )
                details = self.env._("SHA-256 and size match.")
                if not self.offsite_encrypted or identity is not None:
                    details = self._offsite_check_zip(store, identity)
            except WrongIdentity:
                # the key's fault, not the copy's
                self._rollback()
                raise
            except Exception as exc:  # pylint: disable=broad-except
                self._rollback()
                self._offsite_failed(
                    self._offsite_reason(exc), copying=False, user=requester
                )
                return False
            self._offsite_succeeded(
                "offsite_verified",
                details,
                user=requester,
                offsite_state="verified",
                offsite_verified_date=fields.Datetime.now(),
                offsite_verify_requested_by_id=False,
            )
            if requester:
                self._offsite_tell_verified(requester, details)
        return True

    def _offsite_tell_verified(self, user, details):
        backup = self.with_context(lang=user.lang or self.env.lang)
        _ = backup.env._
        line = _(
            "The off-site copy of the backup %(name)s was read back and found "
            "whole: %(details)s",
            name=self.name,
            details=details,
        )
        notify_requester(
            backup,
            user,
            _("Off-site copy verified"),
            [line],
            [(_("Open the backup"), record_url(self))],
            "mail.mt_comment",
            ("success", line),
        )

    def _offsite_check_zip(self, store, identity=None):
        """Every file's checksum, then a dry-run plan of each object; the zip
        decrypted (streamed to a temporary file) with ``identity``."""
        uuid = self._param("database.uuid", "")
        source = store.fetch_zip(self.offsite_path, identity, self.offsite_encrypted)
        reader = BackupReader(source, database_uuid=uuid, acknowledge_foreign=True)
        try:
            reader.open()
            reader.check_files()
            planned = self._offsite_dry_run(reader)
        finally:
            reader.close()
        return self.env._(
            "SHA-256 and size match; %(files)s files checked; %(objects)s objects "
            "planned (%(records)s records).",
            files=len(reader.manifest.files),
            objects=len(planned),
            records=sum(planned.values()),
        )

    def _offsite_dry_run(self, reader):
        """Plan a restore of every restorable field of every object of the
        backup, without keeping anything; {object key: records in backup}."""
        Object = self.env["crm.backup.object"].sudo()
        Fields = self.env["ir.model.fields"].sudo()
        Restore = self.env["crm.backup.restore"].sudo()
        planned = {}
        # a plan may fill work tables: nothing of it is kept (closing rolls back)
        with contextlib.closing(self.env.cr.savepoint(flush=False)):
            for entry in reader.manifest.files:
                key = entry.object
                obj = Object.search([("key", "=", key)], limit=1)
                if not obj or not obj.restorable or entry.model not in self.env:
                    continue
                custom = obj.is_custom and self.env["ir.model"].sudo()._get(entry.model)
                restore = Restore.new(
                    {
                        "source": "backup",
                        "object_id": obj.id,
                        "custom_model_id": custom.id if custom else False,
                        "company_id": self.company_id.id,
                    }
                )
                names = restore._restorable_names(entry)
                if not names:
                    continue
                restore.field_ids = [
                    Command.set([Fields._get(entry.model, name).id for name in names])
                ]
                plan, _specs, _types = restore._make_plan(reader, _discard)
                planned[key] = planned.get(key, 0) + plan.backup_count
        return planned
