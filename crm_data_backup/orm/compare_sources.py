# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The two sides of a comparison as rows ``(xmlid, {field: parsed value})``:
a backup's file, or the live data rendered as a backup made now would hold it
(the same exporter, so both sides compare cell for cell)."""

from ..engine.cells import PARSABLE_TYPES, column_field, parse_cell
from ..engine.exporter import SqlExporter

# Bookkeeping columns: they change on every write, the data does not.
IGNORED_FIELDS = frozenset({"create_uid", "create_date", "write_uid", "write_date"})


def compared_fields(model, *headers):
    """``[(name, type)]`` of the columns every header holds that the model
    still has (a field added or removed between the two is not compared)."""
    common = None
    for header in headers:
        names = {column_field(c) for c in header if c != "id"}
        common = names if common is None else common & names
    result = []
    for column in headers[0]:
        name = column_field(column)
        field = model._fields.get(name)
        if (
            column == "id"
            or name not in common
            or name in IGNORED_FIELDS
            or not field
            or field.type not in PARSABLE_TYPES
        ):
            continue
        result.append((name, field.type))
    return result


def live_rows(env, obj, target, fields):
    """Rows of ``target`` (an ``_export_targets`` tuple of ``obj``) as the
    exporter renders them now, with ``env``'s rights; records without an
    external ID get one, as in a backup."""
    Object = env["crm.backup.object"]
    _obj, _key, model_name, domain, own = target
    names = {name for name, _t in fields}
    spec = Object._object_spec(model_name, domain, own_only=own, field_names=names)
    import_safe = {
        t[2]
        for o in Object.search([("parent_id", "=", False)])
        for t in o._export_targets()
    }
    exporter = SqlExporter(env.cr, import_safe=import_safe)
    types = dict(fields)
    columns = [
        (index, f.name, types[f.name])
        for index, f in enumerate(spec.fields, 1)
        if f.name in types
    ]
    for batch in exporter.iter_batches(spec):
        for row in batch:
            # live cells are never neutralised: read as they are
            yield (
                row[0],
                {name: parse_cell(ftype, row[i], False) for i, name, ftype in columns},
            )


def live_header(env, target):
    """The columns a backup made now would hold for ``target``."""
    _obj, _key, model_name, domain, own = target
    return (
        env["crm.backup.object"]._object_spec(model_name, domain, own_only=own).header
    )
