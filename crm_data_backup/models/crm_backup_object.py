# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from ..engine.exporter import ExportField, ExportObject

# Types the SQL exporter renders itself; any other stored type goes through
# Odoo's own export (per batch) so that its cells stay identical.
SQL_TYPES = frozenset(
    {
        "char",
        "text",
        "html",
        "selection",
        "integer",
        "many2one_reference",
        "boolean",
        "date",
        "datetime",
        "reference",
        "float",
        "monetary",
        "many2one",
        "many2many",
        "properties",
    }
)


# The CRM objects of the application; any other model needs a Settings administrator.
CRM_MODELS = frozenset(
    {
        "res.partner",
        "crm.lead",
        "helpdesk.ticket",
        "product.template",
        "product.product",
        "mail.activity",
        "mail.message",
    }
)
# Never backed up nor restored, whoever asks: they hold access rights, credentials
# or the application's own state.
FORBIDDEN_PREFIXES = (
    "ir.",
    "res.users",
    "res.groups",
    "res.config",
    "base.",
    "bus.",
    "auth",
    "crm.backup",
    "fs.",
    "payment.",
    "iap.",
    "fetchmail.",
)
# A stored field with one of these in its name marks a model holding credentials.
CREDENTIAL_WORDS = ("password", "secret", "token", "api_key", "apikey", "totp")
# A key is also a file name in the zip users extract.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CUSTOM_KEY_PATTERN = re.compile(r"^x_[a-z0-9_.]{1,62}$")
# What a backup administrator may change on a registered object: which objects
# are backed up and in what order; which records (the domain) is a Settings
# administrator's decision.
ADMIN_FIELDS = frozenset({"name", "sequence", "active"})


class CrmBackupObject(models.Model):
    """A CRM object that backups write to one file (contacts, deals, ...)."""

    _name = "crm.backup.object"
    _description = "CRM Backup Object"
    _order = "sequence, id"

    name = fields.Char(
        required=True, translate=True, help="Name of the object, as users say it."
    )
    key = fields.Char(
        required=True,
        help="Stable technical key, also the base of the file name in the backup.",
    )
    sequence = fields.Integer(default=10, help="Order of the files in a backup.")
    active = fields.Boolean(
        default=True, help="Inactive objects are left out of new backups."
    )
    model_name = fields.Char(
        required=True,
        help="Technical name of the Odoo model holding the object's records.",
    )
    domain = fields.Char(
        default="[]",
        help="Which records of the model belong to this object (Odoo domain).",
    )
    is_custom = fields.Boolean(
        help="Stands for every custom (x_) model: each gets a file of its own.",
    )
    parent_id = fields.Many2one(
        "crm.backup.object",
        ondelete="cascade",
        help="The 'custom' object a custom model's object was derived from.",
    )
    restorable = fields.Boolean(
        default=True, help="Whether fields of this object can be restored."
    )
    installed = fields.Boolean(
        compute="_compute_installed",
        help="Whether the model exists in this database (e.g. tickets need a helpdesk).",
    )

    _sql_constraints = [
        ("key_uniq", "unique(key)", "The key of a backup object must be unique.")
    ]

    @api.constrains("key")
    def _check_key(self):
        for obj in self:
            pattern = CUSTOM_KEY_PATTERN if obj.parent_id else KEY_PATTERN
            if not pattern.match(obj.key or ""):
                raise ValidationError(
                    self.env._(
                        "The key %(key)r is not a safe file name: use lower-case "
                        "letters, digits and underscores, starting with a letter.",
                        key=obj.key,
                    )
                )

    @api.constrains("model_name", "is_custom", "parent_id")
    def _check_model_name(self):
        for obj in self:
            reason = obj._forbidden_reason()
            if reason:
                raise ValidationError(reason)

    def _forbidden_reason(self):
        """Why this object's model may not be backed up or restored (or None)."""
        self.ensure_one()
        name = self.model_name or ""
        if self.is_custom:
            return (
                None
                if name == "ir.model" and not self.parent_id
                else (
                    self.env._(
                        "Only the 'Custom objects' line stands for custom models."
                    )
                )
            )
        if self.parent_id:
            # a custom model: created as such (x_, state manual), nothing else
            model = self.env["ir.model"].sudo()._get(name)
            if name.startswith("x_") and model.state == "manual":
                return None
            return self.env._("%(model)s is not a custom model.", model=name)
        if name in CRM_MODELS:
            return None
        return self._model_refusal(name)

    @api.model
    def _model_refusal(self, name):
        """Why a model outside the CRM objects may not be registered (or None)."""
        if name.startswith(FORBIDDEN_PREFIXES) or name not in self.env:
            return self.env._(
                "%(model)s cannot be backed up: it holds access rights, credentials "
                "or technical data.",
                model=name,
            )
        Model = self.env[name]
        if Model._abstract or Model._transient:
            return self.env._("%(model)s holds no data to back up.", model=name)
        for fname, field in Model._fields.items():
            if field.store and (
                field.groups == fields.NO_ACCESS
                or any(word in fname.lower() for word in CREDENTIAL_WORDS)
            ):
                return self.env._(
                    "%(model)s cannot be backed up: its field %(field)s holds "
                    "credentials.",
                    model=name,
                    field=fname,
                )
        return None

    @api.model_create_multi
    def create(self, vals_list):
        # Backup administrators use the registered objects; registering one is
        # a Settings administrator's decision (custom models are synced by sudo).
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(
                self.env._("Only Settings administrators can register backup objects.")
            )
        return super().create(vals_list)

    def write(self, vals):
        if not (
            self.env.su
            or self.env.user.has_group("base.group_system")
            or set(vals) <= ADMIN_FIELDS
        ):
            raise AccessError(
                self.env._(
                    "Only Settings administrators can change which model or "
                    "records a backup object stands for."
                )
            )
        return super().write(vals)

    def _is_allowed(self):
        """Checked again when a backup or restore runs: registered data may be
        older than the rules."""
        return not self._forbidden_reason()

    @api.depends("model_name")
    def _compute_installed(self):
        for obj in self:
            obj.installed = bool(obj.model_name) and obj.model_name in self.env

    def _get_domain(self):
        self.ensure_one()
        return safe_eval(self.domain or "[]")

    # -- custom models ------------------------------------------------------
    @api.model
    def _custom_model_names(self):
        """Technical names of the custom (x_) models of this database."""
        custom = self.env.ref(
            "crm_data_backup.backup_object_custom", raise_if_not_found=False
        )
        domain = custom._get_domain() if custom else [("model", "=like", "x\\_%")]
        models_ = (
            self.env["ir.model"]
            .sudo()
            .search(domain + [("state", "=", "manual"), ("transient", "=", False)])
        )
        return [m.model for m in models_ if m.model in self.env]

    @api.model
    def _sync_custom_objects(self):
        """Keep one child object of 'custom' per custom model (restore picks them)."""
        custom = self.env.ref(
            "crm_data_backup.backup_object_custom", raise_if_not_found=False
        )
        if not custom:
            return self.browse()
        Object = self.sudo().with_context(active_test=False)
        children = Object.search([("parent_id", "=", custom.id)])
        by_model = {child.model_name: child for child in children}
        for model_name in self._custom_model_names():
            if model_name not in by_model:
                by_model[model_name] = Object.create(
                    {
                        "name": self.env["ir.model"]._get(model_name).name
                        or model_name,
                        "key": model_name,
                        "model_name": model_name,
                        "parent_id": custom.id,
                        "sequence": custom.sequence,
                    }
                )
        return Object.search([("parent_id", "=", custom.id)])

    # -- export description -------------------------------------------------
    def _export_targets(self):
        """What this object writes: list of (object, file key, model, domain,
        own-fields-only) tuples; empty when the model is not installed."""
        self.ensure_one()
        if self.is_custom:
            children = self.with_context(active_test=False).search(
                [("parent_id", "=", self.id), ("active", "=", True)]
            )
            return [
                (child, child.model_name, child.model_name, [], False)
                for child in children
                if child._readable()
            ]
        if not self._readable():
            return []
        targets = [(self, self.key, self.model_name, self._get_domain(), False)]
        if self.model_name == "product.template":
            # Variants' own fields (code, barcode, attributes...) in a second file.
            targets.append(
                (
                    self,
                    f"{self.key}_variants",
                    "product.product",
                    [("product_tmpl_id", "in", self._template_query())],
                    True,
                )
            )
        return targets

    def _readable(self):
        """Installed, allowed, and readable by the user the backup runs as."""
        return (
            self.model_name in self.env
            and self._is_allowed()
            and self.env["ir.model.access"].check(self.model_name, "read", False)
        )

    def _template_query(self):
        return (
            self.env["product.template"]
            .with_context(active_test=False)
            ._search(self._get_domain())
        )

    @api.model
    def _backup_fields(self, model, own_only=False):
        """Stored fields of ``model`` a backup saves, in definition order.

        Computed fields nothing can write (readonly, no inverse) are left out,
        as in Odoo's import-compatible export: Import and restores recompute
        them from the others, and Import would match their columns by name
        to another field (``res_model`` to ``res_model_id``).
        """
        include_binary = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("crm_data_backup.include_binary")
        )
        result = []
        for fname, field in model._fields.items():
            if fname == "id" or not field.store or field.type == "one2many":
                continue
            if field.compute and field.readonly and not field.inverse:
                continue
            if not field.is_accessible(self.env):
                # a backup holds what its requester may read, no more
                continue
            if field.type == "binary" and not include_binary:
                continue
            if own_only and (field.inherited or field.model_name != model._name):
                continue
            result.append(field)
        return result

    @api.model
    def _m2m_pairs_sql(self, model, field):
        """(src, dst, pos) of a many2many, pos in the order the ORM reads it.

        The comodel's rows (field domain and record rules applied) are ranked
        once, by its ``_order`` then id (the ORM leaves ties in no particular
        order; ours is stable), and the pairs take the rank of their target:
        no sort over all pairs.
        """
        comodel = self.env[field.comodel_name].with_context(
            **dict(field.context, active_test=False)
        )
        query = comodel._where_calc(field.get_domain_list(model))
        comodel._apply_ir_rules(query, "read")
        order = comodel._order_to_sql(comodel._order, query)
        comodel_id = SQL.identifier(comodel._table, "id")
        ranks = query.select(
            SQL("%s AS dst", comodel_id),
            SQL("row_number() OVER (ORDER BY %s, %s) AS pos", order, comodel_id),
        )
        return SQL(
            "SELECT r.%s AS src, r.%s AS dst, k.pos FROM %s r "
            "JOIN (%s) k ON k.dst = r.%s",
            SQL.identifier(field.column1),
            SQL.identifier(field.column2),
            SQL.identifier(field.relation),
            ranks,
            SQL.identifier(field.column2),
        )

    @api.model
    def _object_spec(self, model_name, domain, own_only=False, field_names=None):
        """Plain description of the records of ``model_name`` matching ``domain``
        for the SQL exporter (of its backup fields, or of those of
        ``field_names`` only)."""
        model = self.env[model_name].with_context(active_test=False)
        query = model._search(domain)
        alias = model._table
        if query.is_empty():
            where = SQL("FALSE")
        elif query.from_clause == SQL.identifier(alias):
            # the records' own condition, on the exported table itself: no
            # second scan of the table to match ids
            where = query.where_clause or SQL("TRUE")
        else:
            alias = "t"
            where = SQL("%s IN %s", SQL.identifier(alias, "id"), query.subselect())
        specs = []
        for field in self._backup_fields(model, own_only=own_only):
            if field_names is not None and field.name not in field_names:
                continue
            python = field.type not in SQL_TYPES or (
                field.company_dependent and field.type in ("many2many", "properties")
            )
            spec = ExportField(
                name=field.name,
                type=field.type,
                column=field.name,
                translate=bool(field.translate),
                python=python,
            )
            if field.company_dependent and not python:
                # the value of the current company, or the default, as the ORM
                # reads it (jsonb per company)
                spec.expr = model._field_to_sql(alias, field.name, flush=False)
            if field.type == "float" and not python:
                digits = field.get_digits(self.env)
                spec.digits = digits[1] if digits else None
            if field.type in ("many2one", "many2many") and not python:
                comodel = self.env[field.comodel_name]
                if not comodel._is_an_ordinary_table():
                    spec.python = True
                else:
                    spec.comodel = comodel._name
                    spec.comodel_table = comodel._table
                    if field.type == "many2many":
                        spec.pairs_sql = self._m2m_pairs_sql(model, field)
            specs.append(spec)
        return ExportObject(
            model=model._name,
            table=model._table,
            alias=alias,
            where_sql=where,
            fields=specs,
            python_cells=self._python_cells_reader(model),
        )

    @api.model
    def _python_cells_reader(self, model):
        """Callback giving the cells of the rare fields SQL does not render, with
        Odoo's own export (so they match it by construction)."""

        def read(ids, fspecs):
            records = model.browse(ids).with_context(import_compat=True)
            paths = [
                [f.name, "id"] if f.type in ("many2one", "many2many") else [f.name]
                for f in fspecs
            ]
            rows = records._export_rows(paths)
            result = {}
            for record_id, row in zip(ids, rows, strict=False):
                result[record_id] = {
                    f.name: _to_cell(value)
                    for f, value in zip(fspecs, row, strict=True)
                }
            records.invalidate_recordset()
            return result

        return read


def _to_cell(value):
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return str(value)
