# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Writing one backup's zip, from one database snapshot, and keeping it.

A backup's way: "Create backup" (models/crm_backup.py, request_backup)
queues it; the scheduled action (_cron_run_queued) runs it under its run
lock (_run); BackupExport makes the zip (engine/exporter.py, one file or
sheet per object, engine/archive.py) and attaches it to the backup, which
is then done and announced (_store)."""

import contextlib
import hashlib
import os
import shutil

from odoo import SUPERUSER_ID, api, fields, release
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine.archive import BackupArchive
from ..engine.exporter import SqlExporter
from ..engine.manifest import Manifest, ManifestEntry
from ..engine.writer import XlsxWriter


class BackupExport:
    """The export of ``backup`` (a crm.backup), with its requester's rights."""

    def __init__(self, backup):
        backup.ensure_one()
        self.backup = backup
        self.env = backup.env

    @contextlib.contextmanager
    def snapshot_env(self):
        """Environment on ONE database snapshot for the whole export.

        A cursor of its own at REPEATABLE READ, committed at the end so the
        external IDs created by the export stay. In tests (whose data is not
        committed) the test cursor is used unless ``crm_backup_real_snapshot``.
        """
        backup = self.backup
        context = {
            "lang": "en_US",
            "tz": "UTC",
            "active_test": False,
            "allowed_company_ids": backup.company_ids.ids or backup.company_id.ids,
        }
        uid = self.requester_uid()
        if backup._in_test() and not self.env.context.get("crm_backup_real_snapshot"):
            self.env.flush_all()
            yield api.Environment(self.env.cr, uid, context)
            return
        with self.env.registry.cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield api.Environment(cr, uid, context)

    def requester_uid(self):
        """Whose rights the export runs with: the backup holds what its
        requester may read (the system's own scheduled backups: everything)."""
        _ = self.env._
        user = self.backup.requested_by_id
        if not user:
            raise UserError(_("The user who requested this backup no longer exists."))
        if user.id != SUPERUSER_ID and not user.has_group(
            "crm_data_backup.group_crm_backup_admin"
        ):
            raise UserError(
                _(
                    "%(user)s is no longer a CRM Backup Administrator: the backup "
                    "was not made.",
                    user=user.name,
                )
            )
        return user.id

    def _manifest(self, protect):
        backup = self.backup
        return Manifest(
            database_uuid=backup._param("database.uuid", ""),
            database_name=self.env.cr.dbname,
            odoo_version=release.serie,
            addon_version=self.env["ir.module.module"]
            .sudo()
            .search([("name", "=", "crm_data_backup")], limit=1)
            .installed_version
            or "18.0.1.0.0",
            created_at=fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            file_format=backup.file_format,
            # how the reader knows whether cells carry a formula quote
            formula_protection=protect,
        )

    def make_zip(self, path, on_object_done=None):
        """Write the backup zip at ``path`` from one snapshot; returns the
        manifest entries and line values."""
        backup = self.backup
        self.env["crm.backup.object"]._sync_custom_objects()
        backup._commit()
        # XLSX cells are strings, never formulas: only CSV files need quotes
        protect = backup.file_format == "csv" and backup._csv_formula_protection()
        archive = BackupArchive(path, self._manifest(protect))
        lines = []
        xlsx_path = path + ".xlsx"
        xlsx = XlsxWriter(xlsx_path) if backup.file_format == "xlsx" else None
        try:
            with self.snapshot_env() as senv:
                Object = senv["crm.backup.object"]
                objects = Object.search([("parent_id", "=", False)])
                targets = [t for obj in objects for t in obj._export_targets()]
                # the records of the backup get external IDs Import can
                # create them with, were they deleted
                exporter = SqlExporter(
                    senv.cr, import_safe={target[2] for target in targets}
                )
                for done, (obj, key, model_name, domain, own) in enumerate(targets):
                    spec = Object._object_spec(model_name, domain, own_only=own)
                    entry = self._export_object(
                        exporter,
                        spec,
                        archive,
                        key,
                        xlsx,
                        protect,
                        object_key="custom" if obj.parent_id else obj.key,
                    )
                    if entry:
                        archive.add_entry(entry)
                        lines.append(
                            {
                                "sequence": len(lines),
                                "object_id": obj.id,
                                "model_name": model_name,
                                "record_count": entry.rows,
                                "archived_count": self._archived_rows(senv, spec),
                                "file_name": entry.sheet
                                and f"backup.xlsx ({entry.sheet})"
                                or entry.name,
                            }
                        )
                    if on_object_done:
                        on_object_done(key)
                    backup._progress(done + 1, len(targets))
            if xlsx:
                xlsx.close()
                xlsx = None
                if archive.manifest.files:
                    archive.add_path("backup.xlsx", xlsx_path)
            archive.close()
        except Exception:
            archive.abort()
            raise
        finally:
            if xlsx:
                with contextlib.suppress(Exception):
                    xlsx.close()
            with contextlib.suppress(OSError):
                os.unlink(xlsx_path)
        return {"lines": lines}

    @staticmethod
    def _archived_rows(senv, spec):
        """How many records of the file are archived (0: none can be)."""
        model = senv[spec.model]
        active = model._active_name
        if not active or not model._fields[active].store:
            return 0
        senv.cr.execute(
            SQL(
                "SELECT count(*) FROM %s WHERE (%s) AND %s IS NOT TRUE",
                SQL(spec.from_sql),
                SQL(spec.where_sql),
                SQL.identifier(spec.alias, active),
            )
        )
        return senv.cr.fetchone()[0]

    @staticmethod
    def _export_object(
        exporter, spec, archive, key, xlsx=None, protect=False, object_key=None
    ):
        """Write one object's file (or sheet); its manifest entry (of the
        backup object ``object_key``), or None when it has no record.
        ``protect``: neutralise formula-like CSV cells."""
        if not exporter.has_rows(spec):
            return None
        header = spec.header
        if xlsx:
            # string cells: the values themselves, never run as formulas
            xlsx.add_sheet(key, header)
            for batch in exporter.iter_batches(spec):
                xlsx.write_rows(batch)
            # its checksum is the workbook's (BackupArchive.add_path)
            return ManifestEntry(
                spec.model,
                header,
                "backup.xlsx",
                xlsx.rows,
                object=object_key,
                sheet=key[:31],
            )
        name = f"{key}.csv"
        member = archive.open_file(name)
        with member as stream:
            # cells come neutralised from SQL: the writer adds nothing per cell
            rows = exporter.write_csv(spec, stream, neutralise=protect)
        return ManifestEntry(
            spec.model, header, name, rows, member.sha256, object=object_key
        )

    def attach(self, path, size):
        """The zip as an attachment of the backup, streamed to the filestore."""
        backup = self.backup
        name = f"{backup.name.replace(' ', '_').replace(':', '-')}.zip"
        values = {
            "name": name,
            "res_model": backup._name,
            "res_id": backup.id,
            "public": False,
            "mimetype": "application/zip",
            "type": "binary",
        }
        return attach_file(self.env, path, size, values)


def attach_file(env, path, size, values):
    """An attachment of ``values`` holding the file at ``path``, copied to
    the filestore in chunks rather than loaded in memory (in the database
    when attachments are stored there)."""
    Attachment = env["ir.attachment"].sudo()
    if Attachment._storage() != "file":
        with open(path, "rb") as f:
            return Attachment.create(dict(values, raw=f.read()))
    # streamed: a backup's zip or workbook may not fit in memory
    sha1 = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha1.update(chunk)
    checksum = sha1.hexdigest()
    fname = f"{checksum[:2]}/{checksum}"
    full_path = Attachment._full_path(fname)
    os.makedirs(os.path.dirname(full_path), exist_ok=True)
    if not os.path.exists(full_path):
        shutil.copyfile(path, full_path)
        # if the transaction aborts, the filestore GC removes the file
        Attachment._mark_for_gc(fname)
    attachment = Attachment.create(values)
    env.cr.execute(
        SQL(
            "UPDATE ir_attachment SET store_fname = %s, file_size = %s, "
            "checksum = %s, db_datas = NULL WHERE id = %s",
            fname,
            # ir_attachment.file_size is an int4 column
            min(size, 2**31 - 1),
            checksum,
            attachment.id,
        )
    )
    attachment.invalidate_recordset()
    return attachment
