# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared fixtures: data in every backed-up object, users of each role, and
helpers to read backups."""

import csv
import hashlib
import io
import json
import zipfile

from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.base.tests.common import BaseCommon

from ..engine.cells import unneutralise

# Every backed-up object has at least one record in the fixture.
OBJECT_KEYS = (
    "contacts",
    "companies",
    "deals",
    "leads",
    "tickets",
    "products",
    "calls",
    "tasks",
    "conversations",
    "custom",
)


# Users of the access tests: role -> groups. Only ``backup_admin`` is in the backup group.
ROLE_GROUPS = {
    "salesman": "sales_team.group_sale_salesman",
    "internal": "base.group_user",
    "settings_admin": "base.group_user,base.group_system",
    "backup_admin": "base.group_user,crm_data_backup.group_crm_backup_admin",
}


class RoleUsersMixin:
    """Creates the users of ``ROLE_GROUPS`` as class attributes named after their role."""

    @classmethod
    def _create_role_users(cls, prefix, roles=tuple(ROLE_GROUPS)):
        """One user per role, login and password ``<prefix>_<role>``."""
        for role in roles:
            login = f"{prefix}_{role}"
            user = new_test_user(
                cls.env, login=login, password=login, groups=ROLE_GROUPS[role]
            )
            setattr(cls, role, user)


def set_backup_params(env, **values):
    """Set crm_data_backup.* settings (``min_interval_hours=0`` ...)."""
    params = env["ir.config_parameter"].sudo()
    for key, value in values.items():
        params.set_param(f"crm_data_backup.{key}", value)


def create_custom_model(env):
    """A custom x_ model with x_ fields of several types, and an x_ field on deals."""
    model = env["ir.model"].create(
        {
            "name": "Gadget",
            "model": "x_gadget",
            "state": "manual",
            "field_id": [
                Command.create(
                    {"name": "x_name", "ttype": "char", "field_description": "Name"}
                ),
                Command.create(
                    {"name": "x_price", "ttype": "float", "field_description": "Price"}
                ),
                Command.create(
                    {"name": "x_count", "ttype": "integer", "field_description": "N"}
                ),
                Command.create(
                    {"name": "x_ok", "ttype": "boolean", "field_description": "OK"}
                ),
                Command.create(
                    {"name": "x_day", "ttype": "date", "field_description": "Day"}
                ),
                Command.create(
                    {
                        "name": "x_partner_id",
                        "ttype": "many2one",
                        "relation": "res.partner",
                        "field_description": "Partner",
                    }
                ),
            ],
        }
    )
    env["ir.model.fields"].create(
        {
            "model_id": env["ir.model"]._get("crm.lead").id,
            "name": "x_budget_code",
            "ttype": "char",
            "field_description": "Budget code",
            "state": "manual",
        }
    )
    return model


def create_activity(record, type_xmlid, summary, deadline):
    """An activity of type ``type_xmlid`` on ``record``, assigned to the admin."""
    env = record.env
    return env["mail.activity"].create(
        {
            "activity_type_id": env.ref(type_xmlid).id,
            "res_model_id": env["ir.model"]._get(record._name).id,
            "res_id": record.id,
            "summary": summary,
            "date_deadline": deadline,
            "user_id": env.ref("base.user_admin").id,
        }
    )


def create_backup_data(env):
    """One or more records in every object the backup saves; returns them."""
    create_custom_model(env)
    country = env.ref("base.be")
    tag_vip = env["res.partner.category"].create({"name": "VIP"})
    tag_new = env["res.partner.category"].create({"name": "New, hot"})
    company = env["res.partner"].create(
        {
            "name": "Acme, Inc.",
            "is_company": True,
            "phone": "+33 1 23 45 67",
            "website": "https://acme.example.com",
            "street": 'Rue "Haute" 12',
            "city": "Bruxelles",
            "country_id": country.id,
            "category_id": [Command.set([tag_vip.id, tag_new.id])],
            "comment": "<p>Line one</p>\n<p>Line two, with é ü 中文</p>",
        }
    )
    contact = env["res.partner"].create(
        {
            "name": 'Zoë "Z" O\'Neil',
            "parent_id": company.id,
            "email": "zoe@acme.example.com",
            "function": '=HYPERLINK("http://evil")',
            "mobile": "-1+2=3",
            "phone": "+32 2 555 00 00",
            "category_id": [Command.set([tag_vip.id])],
            "partner_latitude": 50.8503,
            "barcode": "BC-0001",
        }
    )
    crm_tag = env["crm.tag"].create({"name": "Big"})
    deal = env["crm.lead"].create(
        {
            "name": "Big deal, phase 1",
            "type": "opportunity",
            "partner_id": company.id,
            "expected_revenue": 12345.67,
            "probability": 33.5,
            "priority": "2",
            "date_deadline": "2026-12-31",
            "description": "<p>Multi\nline</p>",
            "tag_ids": [Command.set([crm_tag.id])],
            "x_budget_code": "@SUM(A1)",
        }
    )
    deal2 = env["crm.lead"].create(
        {"name": "Second deal", "type": "opportunity", "partner_id": contact.id}
    )
    lead = env["crm.lead"].create(
        {"name": "A lead", "type": "lead", "email_from": "lead@example.com"}
    )
    product = env["product.template"].create(
        {
            "name": "Widget",
            "list_price": 9.99,
            "default_code": "W-1",
            "description_sale": "Sold, with care",
        }
    )
    product.product_variant_ids.standard_price = 4.2
    call = create_activity(
        deal, "mail.mail_activity_data_call", "Call the buyer", "2026-12-01"
    )
    task = create_activity(
        contact, "mail.mail_activity_data_todo", "Send the offer", "2026-12-02"
    )
    message = deal.message_post(
        body="Hello, we agreed on the price.", message_type="comment"
    )
    contact.message_post(body="Note on the contact", message_type="comment")
    ticket = env["helpdesk.ticket"].create(
        {
            "name": "Printer broken",
            "description": "<p>It does not print</p>",
            "partner_id": contact.id,
        }
    )
    gadget = env["x_gadget"].create(
        {
            "x_name": "Gizmo",
            "x_price": 2.5,
            "x_count": 3,
            "x_ok": True,
            "x_day": fields.Date.to_date("2026-01-02"),
            "x_partner_id": company.id,
        }
    )
    return {
        "company": company,
        "contact": contact,
        "deal": deal,
        "deal2": deal2,
        "lead": lead,
        "product": product,
        "call": call,
        "task": task,
        "message": env["mail.message"].browse(message.id),
        "ticket": ticket,
        "gadget": gadget,
    }


def export_cells(records, header):
    """What ``export_data(import_compat=True)`` gives for ``header``, as text
    cells of the contract (selection keys instead of labels, UTC, en_US)."""
    records = records.sudo().with_context(
        import_compat=True, lang="en_US", tz="UTC", active_test=False
    )
    paths = [h.replace("/", "/") for h in header]
    rows = records.export_data(paths)["datas"]
    model = records.browse()
    result = []
    for row in rows:
        cells = []
        for path, value in zip(paths, row, strict=True):
            field = model._fields.get(path.split("/")[0])
            if (
                field is not None
                and field.type == "selection"
                and isinstance(field.selection, list)
            ):
                # export_data prints the label; the contract keeps the key
                labels = dict(field._description_selection(model.env))
                keys = [k for k, label in labels.items() if label == value]
                value = keys[0] if keys else value
            if field is not None and field.type == "properties":
                # a Python dict in export_data, JSON in backups
                value = json.dumps(value, sort_keys=True) if value else ""
            if value is None:
                value = ""
            elif isinstance(value, bytes):
                value = value.decode()
            cells.append(str(value))
        result.append(cells)
    return result


class BackupZip:
    """An opened backup zip: manifest, checked checksums, decoded CSV rows."""

    def __init__(self, data):
        self.data = data
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.manifest = json.loads(self.zip.read("manifest.json"))

    def names(self):
        return self.zip.namelist()

    def entry(self, name):
        return next(f for f in self.manifest["files"] if f["name"] == name)

    def checksum_ok(self, name):
        raw = self.zip.read(name)
        return hashlib.sha256(raw).hexdigest() == self.entry(name)["sha256"]

    def rows(self, name, neutralised=False):
        """Header and rows of a CSV member (cells un-neutralised, if the
        backup neutralised them, unless asked)."""
        text = self.zip.read(name).decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        rows = list(reader)
        if not neutralised and self.manifest.get("formula_protection", True):
            rows = [[unneutralise(c) for c in row] for row in rows]
        return header, rows


class BackupCommon(BaseCommon):
    """Backups on data in every object; settings without frequency limit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tz="UTC", lang="en_US"), su=False
        )
        set_backup_params(
            cls.env,
            min_interval_hours="0",
            retention_days="14",
            file_format="csv",
            schedule="off",
        )
        cls.data = create_backup_data(cls.env)

    def make_backup(self):
        backup = self.env["crm.backup"].request_backup()
        backup.action_run()
        return backup

    def open_zip(self, backup):
        return BackupZip(backup.attachment_id.raw)
