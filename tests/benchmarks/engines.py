"""Adapters between the benchmarks and crm_data_backup's engines.

Everything the benchmarks know about the addon's own code is here, so that a change
of the engines' API is a change of this file only. When an engine is not there (yet),
the adapters raise EngineUnavailable and the report shows "n/a" for its rows.
"""

import importlib


class EngineUnavailable(Exception):
    """The addon has no such engine (yet): the measurement is skipped."""


def _engine(module):
    try:
        return importlib.import_module(f"odoo.addons.crm_data_backup.engine.{module}")
    except ImportError as exc:
        raise EngineUnavailable(f"crm_data_backup.engine.{module}: {exc}") from exc


def _require(env, model, method):
    if model not in env or not hasattr(env[model], method):
        raise EngineUnavailable(f"{model}.{method}() does not exist yet")


def export_rows(env, model, domain, fields, path, batches=False):
    """Export `fields` (import-compatible paths) of the matching records to a CSV.

    The object description comes from crm.backup.object (as in a backup), for
    the benchmark's fields only; the SQL exporter writes the file (`batches`:
    through its row batches and the CSV writer, not PostgreSQL's COPY).
    """
    exporter_mod = _engine("exporter")
    _require(env, "crm.backup.object", "_object_spec")
    names = [path.split("/")[0] for path in fields if path != "id"]
    spec = env["crm.backup.object"]._object_spec(model, domain, field_names=names)
    by_header = {f.header: f for f in spec.fields}
    spec.fields = [by_header[path] for path in fields if path != "id"]
    exporter = exporter_mod.SqlExporter(env.cr)
    with open(path, "wb") as stream:
        # as crm.backup._export_object: formula-like cells neutralised in SQL
        if not batches:
            return exporter.write_csv(spec, stream, neutralise=True)
        writer = _engine("writer").CsvWriter(stream, spec.header)
        for batch in exporter.iter_batches(spec, neutralise=True):
            writer.write_rows(batch)
        writer.close()
        return writer.rows


def drop_backups(env):
    """Delete the backups of earlier benchmark runs (their files go too)."""
    if "crm.backup" not in env:
        return
    backups = env["crm.backup"].search([("name", "=like", "benchmark%")])
    if "crm.backup.restore" in env:
        env["crm.backup.restore"].search([("backup_id", "in", backups.ids)]).unlink()
    backups.unlink()


def full_backup(env):
    """Run a backup of every object now; return rows, files and zip size."""
    _require(env, "crm.backup", "action_run")
    # what request_backup() makes, without its frequency limit
    companies = env["res.company"].sudo().search([])
    backup = (
        env["crm.backup"]
        .sudo()
        .create(
            {
                "name": "benchmark",
                "company_ids": [(6, 0, companies.ids)],
                "requested_by_id": env.uid,
            }
        )
    )
    env.cr.commit()
    backup.action_run()
    if backup.state != "done":
        raise RuntimeError(f"the backup ended {backup.state}: {_error(backup)}")
    return {
        "rows": sum(backup.line_ids.mapped("record_count")),
        "files": len(backup.line_ids),
        "zip_bytes": backup.attachment_id.file_size,
        "backup_id": backup.id,
        "per_file": {line.file_name: line.record_count for line in backup.line_ids},
    }


def new_compare(env, backup_from, backup_to, object_key):
    """A comparison of the object ``object_key`` between two backups."""
    _require(env, "crm.backup.compare", "action_compare")
    obj = env.ref(f"crm_data_backup.backup_object_{object_key}")
    return env["crm.backup.compare"].create(
        {"backup_from_id": backup_from, "backup_to_id": backup_to, "object_id": obj.id}
    )


def run_compare(compare):
    """Compare; the counts of the object's main file."""
    compare.action_compare()
    line = compare.line_ids.filtered(lambda line: line.model_name == "res.partner")
    return {
        "added": line.added_count,
        "deleted": line.deleted_count,
        "changed": line.changed_count,
        "from_count": line.from_count,
    }


def _error(backup):
    return getattr(backup, "error_message", "") or "no reason given"


def new_restore(env, backup_id, object_key, field_names, fast=False):
    """A draft restore of `field_names` of the object `object_key` from a backup
    (`fast`: in fast mode)."""
    _require(env, "crm.backup.restore", "action_plan")
    _require(env, "crm.backup.restore", "_execute_restore")
    obj = env.ref(f"crm_data_backup.backup_object_{object_key}")
    fields = env["ir.model.fields"].search(
        [("model", "=", obj.model_name), ("name", "in", field_names)]
    )
    return env["crm.backup.restore"].create(
        {
            "backup_id": backup_id,
            "object_id": obj.id,
            "field_ids": [(6, 0, fields.ids)],
            "fast_mode": fast,
        }
    )


def plan(restore):
    """Compute the restore plan."""
    return restore.action_plan()


def run_restore(restore):
    """Run the restore as its background job does once the user confirmed and
    re-authenticated; return how many records it wrote."""
    restore.write({"confirm_overwrite": True, "confirm_reviewed": True})
    restore._grant_execution("restore")
    restore._execute_restore()
    if restore.state != "done":
        raise RuntimeError(f"the restore ended {restore.state}: {_error(restore)}")
    return restore.restored_record_count


def offsite_store(env, directory, encrypted=False):
    """The addon's off-site store on a directory ``fs.storage`` (rolled back by
    the caller); ``encrypted``: age-encrypted to a throw-away recipient."""
    try:
        offsite = importlib.import_module("odoo.addons.crm_data_backup.orm.offsite")
    except ImportError as exc:
        raise EngineUnavailable(f"crm_data_backup.orm.offsite: {exc}") from exc
    if "fs.storage" not in env:
        raise EngineUnavailable("fs_storage is not installed")
    import pyrage

    storage = env["fs.storage"].create(
        {
            "name": "benchmark",
            "code": "crm_backup_bench",
            "protocol": "file",
            "directory_path": directory,
        }
    )
    recipients = [pyrage.x25519.Identity.generate().to_public()] if encrypted else []
    return offsite.OffsiteStore(storage, env.cr.dbname, recipients)


def offsite_copy(store, backup_id):
    """Copy a backup's zip to the store as the off-site job does; its size."""
    backup = store.storage.env["crm.backup"].browse(backup_id)
    attachment = backup.attachment_id
    info = store.upload(
        attachment._full_path(attachment.store_fname),
        backup.id,
        backup.date_done,
        backup._offsite_sidecar(),
    )
    return info["size"]
