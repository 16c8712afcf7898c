# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import contextlib
import logging
import os
import tempfile
import time

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..engine.compare import ADDED, CHANGED, DELETED, compare_rows, decode
from ..engine.reader import BackupFileError, BackupReader
from ..engine.writer import XlsxWriter
from ..orm.backup_export import attach_file
from ..orm.compare_sources import compared_fields, live_header, live_rows
from ..orm.formatting import ValueFormatter

_logger = logging.getLogger(__name__)

# Rows of the differences workbook, all objects together.
DIFF_SHEET_ROWS = 1_000_000
# Deleted records listed by name, per object (the workbook has them all).
DELETED_SAMPLE = 200


def _cell(ftype, value):
    """A spooled value as a workbook cell: as a backup file writes it."""
    if value is None or value is False and ftype != "boolean":
        return ""
    if ftype == "many2many":
        return ",".join(value)
    return str(value)


class CrmBackupCompare(models.Model):
    """What changed between two backups, or between a backup and the live data."""

    _name = "crm.backup.compare"
    _description = "CRM Backup Comparison"
    _inherit = ["crm.backup.server.owned", "mail.thread"]
    _order = "id desc"
    _user_fields = frozenset({"backup_from_id", "backup_to_id", "object_id"})

    name = fields.Char(
        compute="_compute_name", store=True, help="The two sides compared."
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
        help="Company of the user who made the comparison.",
    )
    backup_from_id = fields.Many2one(
        "crm.backup",
        "Older backup",
        required=True,
        ondelete="cascade",
        domain="[('state', '=', 'done'), ('attachment_id', '!=', False)]",
        help="The backup the changes are counted from.",
    )
    backup_to_id = fields.Many2one(
        "crm.backup",
        "Newer backup",
        ondelete="cascade",
        domain="[('state', '=', 'done'), ('attachment_id', '!=', False)]",
        help="The backup the changes are counted to; empty: the live data.",
    )
    object_id = fields.Many2one(
        "crm.backup.object",
        ondelete="cascade",
        domain="[('parent_id', '=', False)]",
        help="The object compared; empty: every object of the backups.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("done", "Compared")],
        default="draft",
        required=True,
        readonly=True,
        help="Compared: the counts below are up to date.",
    )
    compare_date = fields.Datetime(
        "Compared on", readonly=True, help="When the comparison ran."
    )
    line_ids = fields.One2many(
        "crm.backup.compare.line",
        "compare_id",
        readonly=True,
        help="The comparison, per object.",
    )
    added_count = fields.Integer(
        "Added", readonly=True, help="Records added, all objects together."
    )
    deleted_count = fields.Integer(
        "Deleted", readonly=True, help="Records deleted, all objects together."
    )
    changed_count = fields.Integer(
        "Changed",
        readonly=True,
        help="Records with a changed value, all objects together.",
    )
    difference_file = fields.Binary(
        "Differences",
        attachment=True,
        readonly=True,
        copy=False,
        help="Every difference, one row per record added or deleted and per "
        "value changed.",
    )
    difference_filename = fields.Char(
        "Differences file name", readonly=True, help="Name of the workbook."
    )

    @api.depends("backup_from_id", "backup_to_id", "object_id")
    def _compute_name(self):
        for compare in self:
            to = compare.backup_to_id.name or self.env._("live data")
            name = f"{compare.backup_from_id.name or ''} → {to}"
            if compare.object_id:
                name = f"{name} ({compare.object_id.name})"
            compare.name = name

    @api.model_create_multi
    def create(self, vals_list):
        compares = super().create(vals_list)
        compares._check_backups()  # pylint: disable=no-member
        return compares

    def write(self, vals):
        result = super().write(vals)
        if {"backup_from_id", "backup_to_id", "object_id"} & set(vals):
            self._check_backups()
            # counts of other choices: compare again
            self.line_ids.sudo().unlink()
            self.sudo().write(
                {
                    "state": "draft",
                    "difference_file": False,
                    "added_count": 0,
                    "deleted_count": 0,
                    "changed_count": 0,
                }
            )
        return result

    def _check_backups(self):
        """The user may read both backups (all their companies)."""
        if self.env.su:
            return
        for compare in self:
            (compare.backup_from_id | compare.backup_to_id).check_access("read")

    # --- comparing ---------------------------------------------------------

    def action_compare(self):
        """Compare the two sides, per object; store counts, samples and the
        workbook of every difference."""
        for compare in self:
            compare._check_backups()
            started = time.monotonic()
            compare._compare()
            _logger.info(
                "Comparison %s: %s changed, %s added, %s deleted in %.2fs",
                compare.id,
                compare.changed_count,
                compare.added_count,
                compare.deleted_count,
                time.monotonic() - started,
            )
        return True

    def _open(self, backup):
        """A checked reader of ``backup``'s zip (UserError when unusable)."""
        stored = backup.sudo()
        if stored.state != "done" or not stored.attachment_id:
            raise UserError(
                self.env._(
                    "The backup %s is not available any more (not done or expired).",
                    stored.name,
                )
            )
        attachment = stored.attachment_id
        if attachment.store_fname:
            source = open(attachment._full_path(attachment.store_fname), "rb")
        else:
            source = attachment.raw or b""
        reader = BackupReader(source, acknowledge_foreign=True)
        try:
            reader.open().check_files()
        except BackupFileError as exc:
            reader.close()
            raise UserError(exc.translated(self.env._)) from None
        return reader

    def _live_env(self):
        """The user's rights on the backup's companies, values as a backup
        reads them (English, every record, archived ones included)."""
        companies = self.backup_from_id.sudo().company_ids or self.company_id
        return self.env(
            context=dict(
                self.env.context,
                lang="en_US",
                tz="UTC",
                active_test=False,
                allowed_company_ids=companies.ids,
            )
        )

    def _targets(self, reader):
        """``[(object, file key, object key of the file, entry of the older
        backup, export target)]``; a custom model's object is the child of
        'Custom objects', its files are of the object key ``custom``."""
        Object = self.env["crm.backup.object"].with_context(active_test=False)
        objects = self.object_id or Object.search([("parent_id", "=", False)])
        result = []
        for obj in objects:
            if not obj.is_custom and obj.model_name not in self.env:
                continue
            object_key = "custom" if obj.is_custom else obj.key
            for target in obj._export_targets():
                child, key, model_name, _domain, _own = target
                entry = reader.find_entry(model_name, object_key)
                if entry:
                    result.append((child, key, object_key, entry, target))
        return result

    def _compare(self):
        self.ensure_one()
        self.env.flush_all()
        old = self._open(self.backup_from_id)
        new = self._open(self.backup_to_id) if self.backup_to_id else None
        live_env = None if new else self._live_env()
        lines = []
        with contextlib.ExitStack() as stack:
            stack.callback(old.close)
            if new:
                stack.callback(new.close)
            handle, path = tempfile.mkstemp(prefix="crmbackupcmp_", suffix=".xlsx")
            os.close(handle)
            stack.callback(os.unlink, path)
            book = XlsxWriter(path)
            book.add_sheet(
                self.env._("Differences"),
                [
                    self.env._("Object"),
                    self.env._("External ID"),
                    self.env._("Change"),
                    self.env._("Field"),
                    self.env._("Before"),
                    self.env._("After"),
                ],
            )
            try:
                for obj, key, object_key, entry, target in self._targets(old):
                    Model = self.env[entry.model]
                    if new:
                        other = new.find_entry(entry.model, object_key)
                        header = other.fields if other else None
                    else:
                        header = live_header(live_env, target)
                    if header is None:
                        continue
                    cmp_fields = compared_fields(Model, entry.fields, header)
                    types = dict(cmp_fields)
                    try:
                        # external IDs given twice are found by the comparer
                        rows_from = old.iter_rows(entry, types, unique=False)
                        if new:
                            rows_to = new.iter_rows(other, types, unique=False)
                        else:
                            rows_to = live_rows(live_env, obj, target, cmp_fields)
                        writer = _DiffWriter(book, key, cmp_fields, Model, self.env)
                        diff = compare_rows(
                            cmp_fields,
                            rows_from,
                            rows_to,
                            writer,
                            names=(entry.name, other.name if new else key),
                        )
                    except BackupFileError as exc:
                        raise UserError(exc.translated(self.env._)) from None
                    lines.append(
                        self._line_values(obj, entry.model, diff, writer.deleted)
                    )
            finally:
                book.close()
            self._store(lines, path)

    def _line_values(self, obj, model_name, diff, deleted):
        return {
            "deleted_ids": [
                fields.Command.create({"record_xmlid": xmlid, "record_name": name})
                for xmlid, name in deleted
            ],
            "object_id": obj.id,
            "model_name": model_name,
            "from_count": diff.from_count,
            "to_count": diff.to_count,
            "added_count": diff.added,
            "deleted_count": diff.deleted,
            "changed_count": diff.changed,
            "unchanged_count": diff.unchanged,
            "changed_field_names": ",".join(n for n, c in diff.fields.items() if c),
            "details_html": self._details_html(model_name, diff),
        }

    def _store(self, lines, path):
        """Counts and lines; the workbook at ``path`` streamed to the filestore."""
        self.line_ids.sudo().unlink()
        day = fields.Date.context_today(self)
        name = f"differences-{day}.xlsx"
        # the field's attachment, written without holding the file in memory
        self.sudo().write({"difference_file": False})
        attach_file(
            self.env,
            path,
            os.path.getsize(path),
            {
                "name": "difference_file",
                "res_model": self._name,
                "res_field": "difference_file",
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument"
                ".spreadsheetml.sheet",
                "type": "binary",
            },
        )
        self.invalidate_recordset(["difference_file"])
        self.sudo().write(
            {
                "state": "done",
                "compare_date": fields.Datetime.now(),
                "line_ids": [fields.Command.create(v) for v in lines],
                "added_count": sum(v["added_count"] for v in lines),
                "deleted_count": sum(v["deleted_count"] for v in lines),
                "changed_count": sum(v["changed_count"] for v in lines),
                "difference_filename": name,
            }
        )

    # --- display -----------------------------------------------------------

    def _resolve(self, ftype, value):
        """A spooled value as the ORM holds it (ids for relations), for the
        formatter; a related record gone is shown by its external ID."""
        value = decode(ftype, value)
        if ftype not in ("many2one", "many2many") or not value:
            return value, None
        Data = self.env["ir.model.data"].sudo()
        xmlids = [value] if ftype == "many2one" else sorted(value)
        ids, missing = [], []
        for xmlid in xmlids:
            res_id = Data._xmlid_to_res_id(xmlid, raise_if_not_found=False)
            if res_id:
                ids.append(res_id)
            else:
                missing.append(xmlid)
        if missing:
            return None, ", ".join(xmlids)
        return (ids[0] if ftype == "many2one" else frozenset(ids)), None

    def _display(self, show, field, value):
        shown, raw = self._resolve(field.type, value)
        if raw is not None:
            return raw
        return show(field, shown) or self.env._("(empty)")

    def _details_html(self, model_name, diff):
        """Per field, the records whose value changed; the sample of changes,
        values shown as the restore plan shows them."""
        _ = self.env._
        Model = self.env[model_name]
        show = ValueFormatter(self.env)
        counts = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td></tr>")
            % (Model._fields[name]._description_string(self.env), count)
            for name, count in diff.fields.items()
            if count
        )
        parts = []
        if counts:
            parts.append(
                Markup(
                    '<table class="table table-sm o_crm_compare_fields"><thead><tr>'
                    "<th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody></table>"
                )
                % (_("Field"), _("Records changed"), counts)
            )
        rows = []
        Data = self.env["ir.model.data"].sudo()
        for xmlid, name, before, after in diff.samples:
            field = Model._fields[name]
            res_id = Data._xmlid_to_res_id(xmlid, raise_if_not_found=False)
            record = Model.sudo().browse(res_id).exists() if res_id else None
            label = record.display_name if record else xmlid
            rows.append(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>")
                % (
                    label,
                    field._description_string(self.env),
                    self._display(show, field, before),
                    self._display(show, field, after),
                )
            )
        if rows:
            parts.append(
                Markup(
                    '<table class="table table-sm o_crm_compare_samples"><thead><tr>'
                    "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
                    "<tbody>%s</tbody></table>"
                )
                % (
                    _("Record"),
                    _("Field"),
                    _("Before"),
                    _("After"),
                    Markup("").join(rows),
                )
            )
        if not parts:
            parts.append(Markup("<p>%s</p>") % _("No value changed."))
        return Markup("").join(parts)

    def action_download(self):
        """The workbook of every difference."""
        self.ensure_one()
        if self.state != "done" or not self.difference_file:
            raise UserError(self.env._("Compare first."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/difference_file"
            f"/{self.difference_filename}?download=true",
            "target": "self",
        }


class _DiffWriter:
    """Writes each difference of one object to the workbook's sheet."""

    def __init__(self, book, key, cmp_fields, model, env):
        self.book = book
        self.key = key
        self.fields = cmp_fields
        self.labels = [
            model._fields[n]._description_string(env) for n, _t in cmp_fields
        ]
        self.kinds = {
            ADDED: env._("Added"),
            DELETED: env._("Deleted"),
            CHANGED: env._("Changed"),
        }
        self.deleted = []  # (xmlid, name) of the first records deleted
        name = model._rec_name
        self.name_index = next(
            (i for i, (n, _t) in enumerate(cmp_fields) if n == name), None
        )

    def __call__(self, kind, xmlid, before, after, changed):
        if kind != CHANGED:
            values = before if kind == DELETED else after
            shown = ""
            if self.name_index is not None:
                ftype = self.fields[self.name_index][1]
                shown = _cell(ftype, values[self.name_index])
            if kind == DELETED and len(self.deleted) < DELETED_SAMPLE:
                self.deleted.append((xmlid, shown[:500] or xmlid))
        if self.book.rows >= DIFF_SHEET_ROWS:
            return
        if kind != CHANGED:
            row = [self.key, xmlid, self.kinds[kind], "", "", ""]
            row[4 if kind == DELETED else 5] = shown
            self.book.write_rows([row])
            return
        rows = []
        for index, (name, ftype) in enumerate(self.fields):
            if name in changed:
                rows.append(
                    [
                        self.key,
                        xmlid,
                        self.kinds[kind],
                        self.labels[index],
                        _cell(ftype, before[index])[:32000],
                        _cell(ftype, after[index])[:32000],
                    ]
                )
        self.book.write_rows(rows)
