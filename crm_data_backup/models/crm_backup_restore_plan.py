# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Planning a restore: the backup file, the choices it allows, the plan
and its report."""

import base64
import hashlib
import json
import logging
import time

from odoo import _, models
from odoo.exceptions import UserError

from ..engine.cells import column_field
from ..engine.errors import BackupFileError
from ..engine.planner import Planner
from ..engine.reader import BackupReader
from ..orm.live_records import LiveRecords
from ..orm.plan_report import PlanReport
from ..orm.restorable_fields import RestorableFields

_logger = logging.getLogger(__name__)

# Backup rows compared (and changes spooled) at a time.
PLAN_BATCH = 5000


def _discard(_changes, _before):
    """A plan's batch of changes, not kept."""


class CrmBackupRestorePlan(models.AbstractModel):
    """What a restore would do: read from its backup file, compared with the
    live records, shown to the user before they confirm it."""

    _name = "crm.backup.restore.plan"
    _description = "CRM Data Restore: plan"
    # The fields are crm.backup.restore's, which inherits this: pylint
    # cannot follow Odoo's _inherit to them.
    # pylint: disable=no-member

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
        return self._restorable().names_in(entry)

    def _restorable(self):
        return RestorableFields(self.env, self.model_name)

    # --- choices and plan -------------------------------------------------

    def _field_restorable(self, name):
        """Whether a restore may write the field ``name`` (see RestorableFields)."""
        return self._restorable().allows(name)

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
        return self._restorable().specs(names)

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
            found = LiveRecords(self.env, self.model_name, []).resolve(
                self.model_name, [self.record_xmlid]
            )
            domain = domain + [("id", "=", found.get(self.record_xmlid, 0))]
        live = LiveRecords(self.env, self.model_name, domain)
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

    def _plan(self):
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
        return PlanReport(self).summary_text(plan)

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
                "plan_html": PlanReport(self).html(plan, specs),
                "confirm_reviewed": False,
                "error_message": False,
            }
        )

    def _display(self, spec, value, record=None, formatter=None):
        """``value`` of the field of ``spec`` as the user reads it."""
        return PlanReport(self).display(spec, value, record, formatter)

    def _download_plan(self):
        """The plan as an XLSX workbook."""
        self.ensure_one()
        if self.state == "draft":
            raise UserError(_("Compute the plan first."))
        specs = self._field_specs(self.field_ids.mapped("name"))

        def make_plan(on_batch):
            reader = self._open_reader()
            try:
                plan, plan_specs, _types = self._make_plan(reader, on_batch)
            finally:
                reader.close()
            return plan, plan_specs

        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{self.name} - plan.xlsx",
                "raw": PlanReport(self).workbook(
                    {spec.name: spec for spec in specs}, make_plan
                ),
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
