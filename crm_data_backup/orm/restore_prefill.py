# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The restore form opened pre-filled (from a comparison or a record's
history): its choices only, as defaults; the plan, the confirmation, the
identity check and the audit follow as for any restore."""


def restore_action(env, backup, obj, field_names, record_xmlid=False):
    """An action opening a restore of ``obj`` from ``backup``, the fields of
    ``field_names`` a restore may write chosen (of one record, by its
    external ID, if ``record_xmlid``)."""
    backup.check_access("read")
    choice = {"object_id": obj.id}
    if obj.parent_id:
        # a custom model: restored as 'Custom objects', that model chosen
        model = env["ir.model"].sudo()._get(obj.model_name)
        choice = {"object_id": obj.parent_id.id, "custom_model_id": model.id}
    probe = env["crm.backup.restore"].new(choice)
    names = [name for name in field_names if name and probe._field_restorable(name)]
    field_ids = (
        env["ir.model.fields"]
        .sudo()
        .search([("model", "=", obj.model_name), ("name", "in", names)])
        .ids
    )
    context = {
        "default_source": "backup",
        "default_backup_id": backup.id,
        "default_field_ids": [(6, 0, field_ids)],
        **{f"default_{name}": value for name, value in choice.items()},
    }
    if record_xmlid:
        context["default_record_xmlid"] = record_xmlid
    return {
        "type": "ir.actions.act_window",
        "res_model": "crm.backup.restore",
        "view_mode": "form",
        "views": [(False, "form")],
        "target": "current",
        "context": context,
    }
