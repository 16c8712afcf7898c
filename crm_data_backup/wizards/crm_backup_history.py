# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..engine.compare import encode
from ..engine.reader import BackupFileError
from ..orm.compare_sources import compared_fields, live_header, live_rows
from ..orm.formatting import ValueFormatter

# Forms of apps the addon does not depend on that get the "Backups" button
# once installed: their view's external ID -> name of the view adding it.
OPTIONAL_FORMS = {"helpdesk_mgmt.ticket_view_form": "ticket_view_form_backups"}
BUTTON = (
    '<div name="button_box" position="inside"><button name="%s" type="action" '
    'class="oe_stat_button o_crm_backup_history" icon="fa-history" '
    'string="Backups" groups="crm_data_backup.group_crm_backup_admin"/></div>'
)

# Backups read for one record's history, the most recent first: each is read
# whole (its files are ordered by id, not by external ID).
HISTORY_BACKUPS = 10


class CrmBackupHistory(models.TransientModel):
    """One record's values in each backup that holds it, against today's."""

    _name = "crm.backup.history"
    _description = "CRM Backup: a record's history"

    res_model = fields.Char(
        "Model", required=True, readonly=True, help="Model of the record."
    )
    res_id = fields.Integer(
        "Record ID", required=True, readonly=True, help="Id of the record."
    )
    record_name = fields.Char(
        "Record", readonly=True, help="The record, as it is named today."
    )
    line_ids = fields.One2many(
        "crm.backup.history.line",
        "history_id",
        readonly=True,
        help="One line per backup, the most recent first.",
    )

    def _register_hook(self):
        super()._register_hook()
        self._add_optional_buttons()

    @api.model
    def _add_optional_buttons(self):
        """The "Backups" button on the forms of optional apps (tickets): a
        view of this addon made when the app is there (a data file cannot
        name a view of a module it does not depend on)."""
        action = self.env.ref(
            "crm_data_backup.crm_backup_history_open_action", raise_if_not_found=False
        )
        for parent_xmlid, name in OPTIONAL_FORMS.items():
            parent = self.env.ref(parent_xmlid, raise_if_not_found=False)
            xmlid = f"crm_data_backup.{name}"
            if (
                not action
                or not parent
                or self.env.ref(xmlid, raise_if_not_found=False)
            ):
                continue
            view = (
                self.env["ir.ui.view"]
                .sudo()
                .create(
                    {
                        "name": f"{parent.model}.form.crm_data_backup",
                        "model": parent.model,
                        "inherit_id": parent.id,
                        "arch": BUTTON % action.id,
                    }
                )
            )
            # its label in every language (the addon's own translation)
            view.update_field_translations(
                "arch_db",
                {
                    code: {"Backups": self.with_context(lang=code).env._("Backups")}
                    for code, _name in self.env["res.lang"].get_installed()
                    if code != "en_US"
                },
            )
            # the addon's own: removed with it (and with the app, by its parent;
            # the app installed again, its stale external ID goes first)
            Data = self.env["ir.model.data"].sudo()
            Data.search(
                [("module", "=", "crm_data_backup"), ("name", "=", name)]
            ).unlink()
            Data.create(
                {
                    "module": "crm_data_backup",
                    "name": name,
                    "model": "ir.ui.view",
                    "res_id": view.id,
                    "noupdate": True,
                }
            )

    @api.model
    def action_open(self):
        """The history of the record the context names (``active_model``,
        ``active_id``: the form the "Backups" button is on), made here: its
        values are the server's, never the client's."""
        # backup administrators only (a method is callable by anyone over RPC)
        self.check_access("read")
        model = self.env.context.get("active_model")
        res_id = self.env.context.get("active_id")
        if not isinstance(model, str) or not isinstance(res_id, int):
            raise UserError(self.env._("Open the history from a record."))
        # sudo: only the server writes histories (the user keeps reading his own)
        history = self.sudo().create(self._history(model, res_id))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Backups of %s", history.record_name),
            "res_model": self._name,
            "res_id": history.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def _objects(self, model):
        """The backed-up objects of ``model`` (contacts and companies share one)."""
        Object = self.env["crm.backup.object"]
        return Object.search(
            [("model_name", "=", model), ("parent_id", "=", False)]
        ).filtered(lambda o: not o.is_custom and o._readable())

    def _history(self, model, res_id):
        """Values of the wizard for record ``res_id`` of ``model``."""
        objects = self._objects(model) if model in self.env else None
        if not objects:
            raise UserError(self.env._("This record is not backed up."))
        record = self.env[model].browse(res_id).exists()
        if not record:
            raise UserError(self.env._("This record no longer exists."))
        record.check_access("read")
        # today's values are read in SQL: pending writes first
        self.env.flush_all()
        live_env = self.env(
            context=dict(self.env.context, lang="en_US", tz="UTC", active_test=False)
        )
        # today's values, as a backup made now holds them
        today = {}
        for obj in objects:
            domain = obj._get_domain() + [("id", "=", record.id)]
            target = (obj, obj.key, model, domain, False)
            header = live_header(live_env, target)
            cmp_fields = compared_fields(self.env[model], header)
            for xmlid, values in live_rows(live_env, obj, target, cmp_fields):
                today = {"object": obj, "xmlid": xmlid, "values": values}
        if not today:
            raise UserError(self.env._("This record is not in any backed-up object."))
        xmlids = set(
            self.env["ir.model.data"]
            .sudo()
            .search([("model", "=", model), ("res_id", "=", record.id)])
            .mapped("complete_name")
        )
        xmlids.add(today["xmlid"])
        backups = self.env["crm.backup"].search(
            [("state", "=", "done"), ("attachment_id", "!=", False)],
            order="id desc",
            limit=HISTORY_BACKUPS,
        )
        lines = []
        for backup in backups:
            try:
                found = self._find(backup, today["object"], model, xmlids)
            except UserError as exc:
                # one damaged or altered file must not hide the other backups
                lines.append(
                    fields.Command.create(self._unreadable(backup, today, exc))
                )
                continue
            lines.append(fields.Command.create(self._line(backup, today, found)))
        return {
            "res_model": model,
            "res_id": record.id,
            "record_name": record.display_name,
            "line_ids": lines,
        }

    def _find(self, backup, obj, model, xmlids):
        """``(xmlid, {field: value}, [(name, type)])`` of the record in
        ``backup``, or None."""
        reader = self.env["crm.backup.compare"]._open(backup)
        try:
            entry = reader.find_entry(model, obj.key)
            if not entry:
                return None
            cmp_fields = compared_fields(self.env[model], entry.fields)
            try:
                for xmlid, values in reader.iter_rows(entry, dict(cmp_fields)):
                    if xmlid in xmlids:
                        return xmlid, values, cmp_fields
            except BackupFileError as exc:
                raise UserError(exc.translated(self.env._)) from None
        finally:
            reader.close()
        return None

    def _unreadable(self, backup, today, exc):
        """The line of a backup whose file cannot be read, saying why."""
        return {
            "backup_id": backup.id,
            "object_id": today["object"].id,
            "found": False,
            "values_html": Markup("<p class='text-danger'>%s</p>")
            % self.env._("This backup cannot be read: %s", exc.args[0]),
        }

    def _line(self, backup, today, found):
        values = {"backup_id": backup.id, "object_id": today["object"].id}
        if not found:
            return dict(values, found=False)
        xmlid, then, cmp_fields = found
        Model = self.env[self.res_model or today["object"].model_name]
        show = ValueFormatter(self.env)
        compare = self.env["crm.backup.compare"]
        rows, differ = [], []
        for name, ftype in cmp_fields:
            if ftype == "binary" or name not in today["values"]:
                continue
            field = Model._fields[name]
            old = compare._display(show, field, encode(ftype, then.get(name)))
            new = compare._display(
                show, field, encode(ftype, today["values"].get(name))
            )
            changed = old != new
            if changed:
                differ.append(name)
            rows.append(
                Markup('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td></tr>')
                % (
                    "table-warning o_crm_history_differs" if changed else "",
                    field._description_string(self.env),
                    old,
                    new,
                )
            )
        _ = self.env._
        html = Markup(
            '<table class="table table-sm o_crm_history_values"><thead><tr>'
            "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody></table>"
        ) % (_("Field"), _("In the backup"), _("Today"), Markup("").join(rows))
        return dict(
            values,
            found=True,
            xmlid=xmlid,
            differ_count=len(differ),
            differ_field_names=",".join(differ),
            values_html=html,
        )
