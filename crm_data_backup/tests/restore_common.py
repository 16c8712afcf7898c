# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Backup zips for restore tests, built straight from the file contract."""

import contextlib
import csv
import hashlib
import io
import json
import zipfile

from ..engine.cells import neutralise
from ..engine.reader import BackupReader


def csv_bytes(header, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def file_spec(obj_key, model, columns, rows, /, **overrides):
    """One entry of ``make_zip``'s ``files``: ``<obj_key>.csv`` (custom objects:
    ``<model>.csv``) of ``model``, with ``overrides`` (rows, data, sha256, row_count...)."""
    name = f"{obj_key}.csv" if obj_key != "custom" else f"{model}.csv"
    spec = {
        "name": name,
        "object": obj_key,
        "model": model,
        "fields": columns,
        "rows": rows,
    }
    spec.update(overrides)
    return spec


@contextlib.contextmanager
def open_backup(data, names=None, **kwargs):
    """A reader of the backup ``data`` as a restore opens one: the zip and
    its manifest checked, then the contents of ``names`` (None: every file)."""
    reader = BackupReader(data, **kwargs).open()
    try:
        reader.check_files(names)
        yield reader
    finally:
        reader.close()


def make_zip(files, database_uuid="test-uuid", manifest_overrides=None, extra=None):
    """``files``: list of dicts {name, object, model, fields, rows (list), data?}."""
    buf = io.BytesIO()
    entries = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for spec in files:
            data = spec.get("data")
            if data is None:
                data = csv_bytes(spec["fields"], spec["rows"])
            zf.writestr(spec["name"], data)
            entries.append(
                {
                    "name": spec["name"],
                    "object": spec["object"],
                    "model": spec["model"],
                    "rows": spec.get("row_count", len(spec["rows"])),
                    "fields": spec.get("manifest_fields", spec["fields"]),
                    "sha256": spec.get("sha256") or hashlib.sha256(data).hexdigest(),
                }
            )
        manifest = {
            "format": "crm_data_backup",
            "format_version": 1,
            "database_uuid": database_uuid,
            "database_name": "test",
            "odoo_version": "18.0",
            "addon_version": "18.0.1.0.0",
            "created_at": "2026-11-25T22:00:00Z",
            "file_format": "csv",
            "files": entries,
        }
        manifest.update(manifest_overrides or {})
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def export_rows(records, columns):
    """Rows as the contract says: export_data(import_compat=True) + neutralise."""
    fields_ = records._fields
    datas = records.with_context(import_compat=True).export_data(columns)["datas"]
    rows = []
    for line in datas:
        row = []
        for column, value in zip(columns, line, strict=True):
            fname = column.split("/")[0]
            ftype = fields_[fname].type if fname in fields_ else "char"
            if ftype == "selection" and value:
                # export_data gives the label; the contract stores the key.
                value = False
            if isinstance(value, bool) and ftype == "boolean":
                value = "True" if value else "False"
            elif value is False or value is None:
                value = ""
            elif ftype in ("float", "monetary"):
                value = repr(float(value))
            else:
                value = str(value)
            if ftype in ("char", "text", "html", "selection"):
                value = neutralise(value)
            row.append(value)
        for index, column in enumerate(columns):
            fname = column.split("/")[0]
            if fname in fields_ and fields_[fname].type == "selection":
                rec = records[len(rows)]
                row[index] = rec[fname] or ""
            if (
                fname in fields_
                and fields_[fname].type == "datetime"
                and records[len(rows)][fname]
            ):
                row[index] = records[len(rows)][fname].strftime("%Y-%m-%d %H:%M:%S")
        rows.append(row)
    return rows


def backup_of(env, obj_key, records, columns, **kwargs):
    """A contract backup zip of ``records`` (one object) with ``columns``."""
    uuid = env["ir.config_parameter"].sudo().get_param("database.uuid")
    kwargs.setdefault("database_uuid", uuid)
    rows = export_rows(records, columns)
    return make_zip([file_spec(obj_key, records._name, columns, rows)], **kwargs)
