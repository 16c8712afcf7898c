# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A restore plan as its user reads it: the form's HTML, the XLSX workbook
and the audit log's summary, values shown in their language and time zone."""

import io

from markupsafe import Markup

from .formatting import ValueFormatter
from .live_records import LiveRecords
from .write_logic import write_logic

# Rows of changes in the downloadable plan.
PLAN_SHEET_ROWS = 100_000
# Conflicts and deleted records listed on the form.
SHOWN = 50


class PlanReport:
    """The report of a plan of ``restore`` (a crm.backup.restore)."""

    def __init__(self, restore):
        restore.ensure_one()
        self.restore = restore
        self.env = restore.env
        self.model_name = restore.model_name

    def summary_text(self, plan):
        """The plan's counts, for the audit log, in the user's words."""
        _ = self.env._
        lines = [
            _("Records in the backup: %s", plan.backup_count),
            _("Records to change: %s", plan.change_count),
            _("Deleted since the backup: %s", len(plan.deleted)),
            _("Created since the backup: %s", plan.created_since_count),
            _("Conflicts: %s", plan.conflict_count),
        ]
        Model = self.env[self.model_name]
        for name, stats in plan.fields.items():
            field = Model._fields.get(name)
            lines.append(
                _(
                    "%(field)s: change %(change)s, clear %(clear)s, "
                    "unchanged %(unchanged)s, conflicts %(conflicts)s",
                    field=field._description_string(self.env) if field else name,
                    change=stats.change,
                    clear=stats.clear,
                    unchanged=stats.unchanged,
                    conflicts=stats.conflict,
                )
            )
        return "\n".join(lines)

    def display(self, spec, value, record=None, formatter=None):
        """``value`` of the field of ``spec`` as the user reads it (labels,
        amounts, dates in their language and time zone); ``record``: the live
        record, whose currency an amount is in; ``formatter``: a ValueFormatter
        kept for many values."""
        field = self.env[self.model_name]._fields[spec.name]
        currency = None
        if field.type == "monetary" and record:
            currency_field = field.get_currency_field(record)
            if currency_field:
                currency = record[currency_field]
        formatter = formatter or ValueFormatter(self.env)
        return formatter(field, value, currency or None)

    def live(self, ids):
        """``{id: record}`` of live records, read together."""
        Model = self.env[self.model_name].sudo().with_context(active_test=False)
        # iterating shares the prefetch: one query per batch, not per record
        return {record.id: record for record in Model.browse(ids)}

    def display_names(self, ids):
        """``{id: display name}`` of live records, read together."""
        return {
            res_id: record.display_name for res_id, record in self.live(ids).items()
        }

    def sample_rows(self, plan, specs):
        """``[(record, field, now, after)]`` of the plan's sample changes."""
        _ = self.env._
        by_name = {s.name: s for s in specs}
        live = self.live([sample[1] for sample in plan.samples])
        show = ValueFormatter(self.env)
        rows = []
        for xmlid, res_id, name, before, after in plan.samples:
            spec = by_name[name]
            record = live[res_id]
            rows.append(
                (
                    record.display_name or xmlid,
                    spec.label,
                    self.display(spec, before, record, show),
                    self.display(spec, after, record, show) or _("(empty)"),
                )
            )
        return rows

    def record_names(self, plan, xmlids):
        """``{xmlid: "Name (xmlid)"}``: the live name, else the backup's."""
        live = LiveRecords(self.env, self.model_name, []).resolve(
            self.model_name, list(xmlids)
        )
        live_names = self.display_names(list(live.values()))
        names = {}
        for xmlid in xmlids:
            label = live_names[live[xmlid]] if xmlid in live else ""
            if not label:
                label = plan.deleted_names.get(xmlid) or ""
            names[xmlid] = f"{label} ({xmlid})" if label else xmlid
        return names

    @staticmethod
    def deleted_rows(plan, limit):
        """``[(name, xmlid)]`` of the first deleted records, by their name in
        the backup (the external ID when it has none)."""
        return [
            (plan.deleted_names.get(xmlid) or xmlid, xmlid)
            for xmlid in list(plan.deleted)[:limit]
        ]

    def fast_mode_exceptions(self, specs):
        """``{field label: where its logic is}`` of the chosen fields that fast
        mode leaves to the model's own write()."""
        if not self.restore.fast_mode:
            return {}
        logic = write_logic(self.env[self.model_name])
        return {spec.label: logic[spec.name] for spec in specs if spec.name in logic}

    def html(self, plan, specs):
        """The plan as the restore's form shows it."""
        _ = self.env._
        parts = [Markup("<h4>%s</h4>") % _("Sample rows")]
        rows = self.sample_rows(plan, specs)
        if rows:
            body = Markup("").join(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>") % row
                for row in rows
            )
            parts.append(
                Markup(
                    '<table class="table table-sm o_crm_restore_samples"><thead><tr>'
                    "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead>"
                    "<tbody>%s</tbody></table>"
                )
                % (_("Record"), _("Field"), _("Now"), _("After restore"), body)
            )
        else:
            parts.append(Markup("<p>%s</p>") % _("No value differs from the backup."))
        names = self.record_names(
            plan, {xmlid for xmlid, _f, _r in plan.conflicts[:SHOWN]}
        )
        if plan.conflicts:
            labels = {spec.name: spec.label for spec in specs}
            parts.append(Markup("<h4>%s</h4>") % _("Conflicts (skipped)"))
            items = Markup("").join(
                Markup("<li>%s, %s: %s</li>")
                % (names[xmlid], labels.get(name, name), reason.translated(_))
                for xmlid, name, reason in plan.conflicts[:SHOWN]
            )
            parts.append(Markup("<ul>%s</ul>") % items)
        if plan.deleted:
            parts.append(Markup("<h4>%s</h4>") % _("Deleted since the backup"))
            items = Markup(", ").join(
                Markup('<span title="%s">%s</span>') % (xmlid, name)
                for name, xmlid in self.deleted_rows(plan, SHOWN)
            )
            more = len(plan.deleted) - SHOWN
            if more > 0:
                items += " " + (
                    _("and 1 more.") if more == 1 else _("and %s more.", more)
                )
            parts.append(Markup('<p class="o_crm_restore_deleted">%s</p>') % items)
        slow = self.fast_mode_exceptions(specs)
        if slow:
            parts.append(Markup("<h4>%s</h4>") % _("Not written in fast mode"))
            parts.append(
                Markup('<p class="o_crm_restore_slow_fields">%s</p>')
                % _(
                    "Odoo runs its own logic when these fields change (%(where)s): "
                    "fast mode would skip it, so records whose values of these "
                    "fields change are written the normal way: %(fields)s.",
                    where=", ".join(sorted(set(slow.values()))),
                    fields=", ".join(slow),
                )
            )
        return Markup("").join(parts)

    def workbook(self, specs_by_name, make_plan):
        """The plan as XLSX bytes: counts per field, changes (the first
        PLAN_SHEET_ROWS), conflicts and deleted records. ``make_plan(on_batch)``
        plans again, handing each batch of changes to ``on_batch``."""
        import xlsxwriter

        _ = self.env._
        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True})
        bold = book.add_format({"bold": True})
        sheet = book.add_worksheet(_("Plan"))
        samples = book.add_worksheet(_("Changes"))
        for col, text in enumerate(
            (_("Record"), _("Field"), _("Now"), _("After restore"))
        ):
            samples.write_string(0, col, text, bold)
        lines = [1]  # next row of the Changes sheet
        show = ValueFormatter(self.env)

        def write_changes(changes, before):
            if lines[0] > PLAN_SHEET_ROWS:
                return
            live = self.live(list(changes))
            for res_id, values in changes.items():
                if lines[0] > PLAN_SHEET_ROWS:
                    return
                record = live[res_id]
                record_name = record.display_name or str(res_id)
                for name, after in values.items():
                    spec = specs_by_name[name]
                    now = before[res_id].get(name)
                    for col, text in enumerate(
                        (
                            record_name,
                            spec.label,
                            self.display(spec, now, record, show),
                            self.display(spec, after, record, show) or _("(empty)"),
                        )
                    ):
                        samples.write_string(lines[0], col, text or "")
                    lines[0] += 1
            # the names read for this part are not needed again
            self.env[self.model_name].invalidate_model()

        plan, specs = make_plan(write_changes)
        headers = [_("Field"), _("Change"), _("Clear"), _("Unchanged"), _("Conflicts")]
        for col, text in enumerate(headers):
            sheet.write_string(0, col, text, bold)
        for row, spec in enumerate(specs, start=1):
            stats = plan.fields[spec.name]
            sheet.write_string(row, 0, spec.label)
            for col, value in enumerate(
                (stats.change, stats.clear, stats.unchanged, stats.conflict), start=1
            ):
                sheet.write_number(row, col, value)
        row = len(specs) + 2
        for label, value in (
            (_("Records in backup"), plan.backup_count),
            (_("Records to change"), plan.change_count),
            (_("Deleted since backup"), len(plan.deleted)),
            (_("Created since backup"), plan.created_since_count),
        ):
            sheet.write_string(row, 0, label)
            sheet.write_number(row, 1, value)
            row += 1
        conflicts = book.add_worksheet(_("Conflicts"))
        for col, text in enumerate((_("Record"), _("Field"), _("Reason"))):
            conflicts.write_string(0, col, text, bold)
        names = self.record_names(plan, {xmlid for xmlid, _f, _r in plan.conflicts})
        for line, (xmlid, name, reason) in enumerate(plan.conflicts, start=1):
            spec = specs_by_name.get(name)
            row = (names[xmlid], spec.label if spec else name, reason.translated(_))
            for col, text in enumerate(row):
                conflicts.write_string(line, col, text)
        # a sheet name holds 31 characters at most (translations too)
        deleted = book.add_worksheet(_("Deleted since the backup")[:31])
        for col, text in enumerate((_("Record"), _("External ID"))):
            deleted.write_string(0, col, text, bold)
        for line, row in enumerate(self.deleted_rows(plan, PLAN_SHEET_ROWS), start=1):
            for col, text in enumerate(row):
                deleted.write_string(line, col, text)
        book.close()
        return out.getvalue()
