# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Which fields of a model a restore may write, and how the planner sees them."""

from ..engine.cells import PARSABLE_TYPES, column_field
from ..engine.planner import RestoreField

MAGIC_FIELDS = {"id", "create_uid", "create_date", "write_uid", "write_date"}
# Fields never restored, whatever the model: who may log in and do what.
CREDENTIAL_FIELDS = frozenset(
    {"password", "groups_id", "login", "totp_secret", "signature", "share"}
)


class RestorableFields:
    """The fields of ``model_name`` a restore may write, with the rights of
    ``env``'s user (a model missing here has none)."""

    def __init__(self, env, model_name):
        self.env = env
        self.Model = env[model_name] if model_name and model_name in env else None

    def allows(self, name):
        """A stored field that a restore may write, by its type and its
        rights (the backup file decides among them)."""
        if self.Model is None:
            return False
        field = self.Model._fields.get(name)
        return bool(
            field
            and name not in MAGIC_FIELDS
            and name not in CREDENTIAL_FIELDS
            and field.store
            and field.type in PARSABLE_TYPES
            and not (field.readonly and not field.inverse)
            and not field.company_dependent
            and field.is_accessible(self.env)
            and not (
                field.relational
                and field.comodel_name.startswith(("res.groups", "ir."))
            )
        )

    def names_in(self, entry):
        """The restorable fields of a backup file's ``entry``, in its order."""
        names = [column_field(column) for column in entry.fields]
        return [name for name in names if self.allows(name)]

    def specs(self, names):
        """What the planner knows of the fields ``names``."""
        specs = []
        for name in names:
            field = self.Model._fields[name]
            selection = None
            if field.type == "selection":
                selection = frozenset(
                    key for key, _label in field._description_selection(self.env)
                )
            specs.append(
                RestoreField(
                    name=name,
                    type=field.type,
                    label=field._description_string(self.env),
                    relation=field.comodel_name or "",
                    selection=selection,
                    required=field.required,
                )
            )
        return specs
