# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A backup's CSV files re-import exactly through Odoo's standard Import."""

import csv
import io
import json
import re
import zipfile

from openpyxl import load_workbook

from odoo import Command
from odoo.exceptions import AccessError
from odoo.models import MAGIC_COLUMNS

from ..engine.cells import column_field, danger
from ..engine.errors import BackupFileError
from .common import BackupCommon, RoleUsersMixin, set_backup_params
from .restore_common import open_backup

# Fields the model sets itself on every write, whatever the imported value
# (helpdesk_mgmt's write() stamps them when stage_id or user_id is written).
STAMPED = {
    ("helpdesk.ticket", "last_stage_update"),
    ("helpdesk.ticket", "assigned_date"),
    ("helpdesk.ticket", "kanban_state"),
}

# Text values a spreadsheet or an importer may alter (NUL cannot be stored).
TRICKY_TEXTS = (
    "=1+1",
    "+33 6",
    "-5",
    "@Sales lead",
    '=HYPERLINK("x")',
    "'quoted",
    "tab\there",
    "\tleading tab",
    "two\nlines",
    "crlf\r\nline",
    "unicode é ü 中文 🎉",
    "-2+3;x",
)
# Options of the web client's first parse_preview (import_model.js).
WEB_CLIENT_OPTIONS = {
    "import_skip_records": [],
    "import_set_empty_fields": [],
    "fallback_values": {},
    "name_create_enabled_fields": {},
    "encoding": "",
    "separator": "",
    "quoting": '"',
    "date_format": "",
    "datetime_format": "",
    "float_thousand_separator": ",",
    "float_decimal_separator": ".",
    "advanced": True,
    "has_headers": True,
    "keep_matches": False,
    "limit": 2000,
    "sheets": [],
    "sheet": "",
    "skip": 0,
    "tracking_disable": True,
}


def web_client_import(env, model, name, data, mimetype="text/csv", skip=()):
    """Import ``data`` into ``model`` with the calls the web client makes:
    create, the file upload, parse_preview, then execute_import batch by
    batch with the options parse_preview sent back. Returns the mapped
    fields (False: column not imported) and the messages. The columns of
    ``skip`` are set to "Don't import".

    The user sets a Properties column to "Don't import" too: Import takes a
    properties field as a whole only in its read format, and fails on an
    empty one when it updates a record (``_load_records_write``).
    """
    importer = env["base_import.import"].create({"res_model": model})
    importer.write({"file": data, "file_name": name, "file_type": mimetype})
    options = dict(WEB_CLIENT_OPTIONS)
    preview = importer.parse_preview(dict(options))
    if preview.get("error"):
        return None, [{"message": preview["error"]}]
    options.update(
        {k: v for k, v in preview["options"].items() if k in WEB_CLIENT_OPTIONS}
    )
    matches = preview["matches"] or {}
    headers = preview["headers"]
    Model = env[model]
    mapped = [
        "/".join(matches[i])
        if matches.get(i)
        and headers[i] not in skip
        and getattr(Model._fields.get(matches[i][0]), "type", None) != "properties"
        else False
        for i in range(len(headers))
    ]
    columns = [h.strip().lower() for h in headers]
    messages = []
    while True:
        result = importer.with_context(tracking_disable=True).execute_import(
            mapped, columns, dict(options), dryrun=False
        )
        messages += result.get("messages") or []
        if messages or not result.get("nextrow"):
            break
        options["skip"] = result["nextrow"]
    return mapped, messages


def csv_rows(raw):
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    header = next(reader)
    return header, list(reader)


class TestImportRoundTrip(BackupCommon):
    """Every CSV of a backup imports back through base_import with the values
    it holds, for existing and deleted records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        data = cls.data
        company = data["company"]
        # contacts of their own (their address is theirs) and of the company
        # (their address follows the company's: only other fields)
        cls.tricky = cls.env["res.partner"].create(
            [
                {
                    "name": value,
                    "function": value,
                    "street": value,
                    "city": value,
                    "ref": value,
                    "comment": value,
                }
                for value in TRICKY_TEXTS
            ]
            + [
                {"name": value, "function": value, "parent_id": company.id}
                for value in TRICKY_TEXTS
            ]
        )
        company.write({"function": "@Sales lead", "city": "=1+1"})
        data["deal"].write({"name": "=1+1", "x_budget_code": "+33 6"})
        data["lead"].write({"name": "-5", "contact_name": "@Sales lead"})
        data["ticket"].write({"name": '=HYPERLINK("x")'})
        data["product"].write({"name": "@Sales lead", "description_sale": "-5"})
        data["product"].product_variant_ids.default_code = "=1+1"
        data["call"].write({"summary": "+33 6"})
        data["task"].write({"summary": "tab\there"})
        data["gadget"].write({"x_name": "=1+1"})
        # a company, its own commercial entity, and its contact: both deleted
        cls.own_company = cls.env["res.partner"].create(
            {"name": "=Own company", "is_company": True, "function": "-5"}
        )
        cls.own_child = cls.env["res.partner"].create(
            {"name": "@Child", "parent_id": cls.own_company.id}
        )
        # module data: a contact whose external ID names an installed module
        cls.module_partner = cls.env["res.partner"].create(
            {
                "name": "Module contact",
                "function": "=1+1",
                "category_id": [Command.set(company.category_id.ids)],
            }
        )
        cls.env["ir.model.data"].create(
            {
                "module": "base",
                "name": "crm_backup_test_partner",
                "model": "res.partner",
                "res_id": cls.module_partner.id,
            }
        )

    def backup_files(self):
        backup = self.make_backup()
        self.assertEqual(backup.state, "done", backup.error_message)
        archive = self.open_zip(backup)
        self.assertIs(archive.manifest["formula_protection"], False)
        return {
            entry["name"]: (entry, archive.zip.read(entry["name"]))
            for entry in archive.manifest["files"]
        }

    def assert_mapped_to_own_field(self, entry, header, mapped):
        """Import maps each column to its own field, or skips a column it
        cannot write (magic fields, readonly ones): none to another field."""
        Model = self.env[entry["model"]]
        for column, path in zip(header, mapped, strict=True):
            if path:
                self.assertEqual(path, column, f"{entry['name']}: {column}")
                continue
            field = Model._fields[column_field(column)]
            self.assertTrue(
                column_field(column) in MAGIC_COLUMNS
                or field.readonly
                or field.type == "properties",
                f"{entry['name']}: {column} can be imported but was not",
            )

    def test_every_object_reimports_exactly(self):
        before = self.backup_files()
        self.assertGreaterEqual(len(before), 11, "every object has a file")
        module_xid = self.module_partner.get_external_id()[self.module_partner.id]
        deleted = self.tricky[:3] | self.tricky[-2:] | self.own_child
        deleted |= self.own_company | self.module_partner
        deleted = [deleted, self.data["deal2"] | self.data["lead"], self.data["gadget"]]
        deleted_xids = {
            xid
            for records in deleted
            for record in records
            for xid in record._get_external_ids()[record.id]
        }
        for records in deleted:
            records.unlink()
        # a contact's company is in companies.csv: that file goes first
        names = sorted(before, key=lambda name: name != "companies.csv")
        for name in names:
            entry, raw = before[name]
            mapped, messages = web_client_import(self.env, entry["model"], name, raw)
            self.assertEqual(messages, [], name)
            header, _rows = csv_rows(raw)
            self.assert_mapped_to_own_field(entry, header, mapped)
            before[name] = (entry, raw, mapped)
        self.assertTrue(self.env["res.partner"].search([("name", "=", "@Child")]))
        header, rows = csv_rows(before["contacts.csv"][1])
        functions = {row[header.index("function")] for row in rows}
        self.assertLessEqual(set(TRICKY_TEXTS), functions, "values as they are")
        for value in TRICKY_TEXTS:
            partner = self.env["res.partner"].search([("ref", "=", value)])
            self.assertEqual(
                partner.read(["name", "function", "street", "city"])[0],
                {"id": partner.id, "name": value, "function": value}
                | {"street": value, "city": value},
            )
        contacts = {row[0] for row in rows}
        self.assertIn(module_xid, deleted_xids)
        self.assertNotIn(module_xid, contacts, "an ID Import can create with")
        after = self.backup_files()
        recreated = 0
        for name, (entry, raw, mapped) in before.items():
            header, rows = csv_rows(raw)
            after_header, rows_after = csv_rows(after[name][1])
            self.assertEqual(after_header, header)
            by_id = {row[0]: row for row in rows_after}
            for row in rows:
                got = by_id.get(row[0])
                self.assertIsNotNone(got, f"{name}: {row[0]} is back")
                recreated += row[0] in deleted_xids
                for index, column in enumerate(header):
                    if not mapped[index] or (entry["model"], column) in STAMPED:
                        continue
                    self.assertEqual(
                        got[index], row[index], f"{name} {row[0]} {column}"
                    )
        self.assertEqual(recreated, sum(map(len, deleted)), "deleted records recreated")


class TestImportParentsLater(BackupCommon):
    """A deleted record whose deleted parent comes later in the same file:
    the documented two Imports (first without the parent column) recreate
    both, with their values."""

    def test_parent_later_in_the_file(self):
        Partner = self.env["res.partner"]
        child = Partner.create({"name": "=Subsidiary", "is_company": True})
        parent = Partner.create({"name": "@Holding", "is_company": True})
        child.parent_id = parent
        archive = self.open_zip(self.make_backup())
        raw = archive.zip.read("companies.csv")
        ids = [row[0] for row in csv_rows(raw)[1]]
        xids = [child.get_external_id()[child.id], parent.get_external_id()[parent.id]]
        self.assertLess(ids.index(xids[0]), ids.index(xids[1]), "child first")
        (child | parent).unlink()
        _mapped, messages = web_client_import(
            self.env, "res.partner", "companies.csv", raw
        )
        self.assertIn("No matching record", messages[0]["message"])
        self.assertFalse(self.env.ref(xids[1], raise_if_not_found=False))
        for skip in (["parent_id/id"], []):
            _mapped, messages = web_client_import(
                self.env, "res.partner", "companies.csv", raw, skip=skip
            )
            self.assertEqual(messages, [])
        child, parent = (self.env.ref(xid) for xid in xids)
        self.assertEqual(
            (child.name, child.parent_id, parent.name),
            ("=Subsidiary", parent, "@Holding"),
        )


# An external ID a spreadsheet would run (module "=cmd|' /C calc", name "exe'!A0").
FORMULA_ID = "=cmd|' /C calc.exe'!A0"


class TestFormulaExternalIds(RoleUsersMixin, BackupCommon):
    """External IDs are cells like any other: raw (and re-importable) by
    default, neutralised with the CSV protection, string cells in XLSX."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_role_users(
            "formula", ("salesman", "backup_admin", "settings_admin")
        )
        # a salesman may name what he creates: load() takes any external ID
        result = (
            cls.env["res.partner"]
            .with_user(cls.salesman)
            .load(["id", "name", "function"], [[FORMULA_ID, "Evil", "'=x"]])
        )
        assert not result["messages"], result["messages"]
        cls.evil = cls.env["res.partner"].browse(result["ids"])
        cls.formula_tag = cls.env["res.partner.category"].create({"name": "Evil tag"})
        cls.env["ir.model.data"].create(
            {
                "module": '=HYPERLINK("http://x")',
                "name": "tag",
                "model": "res.partner.category",
                "res_id": cls.formula_tag.id,
            }
        )
        cls.data["deal"].partner_id = cls.evil

    def backup(self, **params):
        set_backup_params(self.env, **params)
        backup = self.make_backup()
        self.assertEqual(backup.state, "done", backup.error_message)
        return backup

    def cell(self, archive, name, xmlid_cell, column):
        header, rows = archive.rows(name, neutralised=True)
        (row,) = [r for r in rows if r[header.index(column)] == xmlid_cell]
        return dict(zip(header, row, strict=True))

    def test_load_gave_the_formula_id(self):
        self.assertEqual(self.env.ref(FORMULA_ID), self.evil)

    def tagged_backup(self, protect):
        """A CSV backup, the formula contact tagged with the formula tag and a
        fresh tag without external ID (that cell is then joined in Python)."""
        fresh = self.env["res.partner.category"].create({"name": "Fresh tag"})
        self.evil.category_id = self.formula_tag | fresh
        archive = self.open_zip(self.backup(csv_formula_protection=protect))
        self.assertIs(archive.manifest["formula_protection"], bool(protect))
        return archive

    def test_csv_default_raw_and_reimported_exactly(self):
        archive = self.tagged_backup("")
        contact = self.cell(archive, "contacts.csv", FORMULA_ID, "id")
        self.assertEqual(contact["function"], "'=x")
        self.assertTrue(
            contact["category_id/id"].startswith('=HYPERLINK("http://x").tag,')
        )
        deal = self.cell(archive, "deals.csv", FORMULA_ID, "partner_id/id")
        self.assertEqual(deal["name"], self.data["deal"].name)
        # deleted, then imported back as the web client does
        self.evil.unlink()
        self.assertFalse(self.data["deal"].partner_id)
        for name in ("contacts.csv", "deals.csv"):
            _mapped, messages = web_client_import(
                self.env, archive.entry(name)["model"], name, archive.zip.read(name)
            )
            self.assertEqual(messages, [], name)
        evil = self.env.ref(FORMULA_ID)
        self.assertEqual((evil.name, evil.function), ("Evil", "'=x"))
        self.assertEqual(self.data["deal"].partner_id, evil)
        self.assertIn(self.formula_tag, evil.category_id)
        # the addon's restore reads the values as they are
        self.assertEqual(self.read_back(archive)[FORMULA_ID]["function"], "'=x")

    def read_back(self, archive, manifest=None):
        """The contacts' ``function`` and tags as the restore's reader gives them."""
        data = archive.data
        if manifest is not None:
            data = rezip(data, manifest)
        with open_backup(data) as reader:
            entry = reader.find_entry("res.partner", "contacts")
            types = {"function": "char", "category_id": "many2many"}
            return dict(reader.iter_rows(entry, types))

    def test_csv_protected_every_cell(self):
        archive = self.tagged_backup("1")
        contact = self.cell(archive, "contacts.csv", "'" + FORMULA_ID, "id")
        self.assertEqual(contact["function"], "''=x")
        self.assertTrue(contact["category_id/id"].startswith("'=HYPERLINK"))
        deal = self.cell(archive, "deals.csv", "'" + FORMULA_ID, "partner_id/id")
        self.assertEqual(deal["name"], self.data["deal"].name)
        for name in ("contacts.csv", "deals.csv", "companies.csv"):
            _header, rows = archive.rows(name, neutralised=True)
            for row in rows:
                for cell in row:
                    self.assertFalse(danger(cell), f"{name}: {cell!r}")
        # the addon's restore removes the quotes, ids included
        values = self.read_back(archive)
        self.assertEqual(values[FORMULA_ID]["function"], "'=x")
        self.assertEqual(
            values[FORMULA_ID]["category_id"][0], '=HYPERLINK("http://x").tag'
        )

    def test_backups_before_the_flag_unquote_text_cells(self):
        archive = self.open_zip(self.backup(csv_formula_protection="1"))
        manifest = dict(archive.manifest)
        del manifest["formula_protection"]
        # then only text cells were neutralised: the id column is taken as is
        values = self.read_back(archive, manifest)
        self.assertEqual(values["'" + FORMULA_ID]["function"], "'=x")
        raw = self.open_zip(self.backup(csv_formula_protection=""))
        manifest = dict(raw.manifest)
        del manifest["formula_protection"]
        self.assertEqual(self.read_back(raw, manifest)[FORMULA_ID]["function"], "=x")
        manifest["formula_protection"] = "yes"
        with self.assertRaisesRegex(BackupFileError, "formula protection"):
            self.read_back(raw, manifest)

    def test_xlsx_string_cells_whatever_the_setting(self):
        archive = self.open_zip(
            self.backup(file_format="xlsx", csv_formula_protection="1")
        )
        self.assertIs(archive.manifest["formula_protection"], False)
        raw = archive.zip.read("backup.xlsx")
        with zipfile.ZipFile(io.BytesIO(raw)) as book:
            sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
            self.assertTrue(sheets)
            for name in sheets:
                xml = book.read(name).decode()
                self.assertNotRegex(xml, r"<f[ >]", name)
                for cell in re.findall(r"<c [^>]*>", xml):
                    self.assertRegex(cell, r'\bt="(s|inlineStr)"', name)
        book = load_workbook(io.BytesIO(raw), read_only=True)
        ids = [row[0] for row in book["contacts"].iter_rows(values_only=True)]
        self.assertIn(FORMULA_ID, ids)
        header = next(book["deals"].iter_rows(values_only=True))
        partners = [
            row[header.index("partner_id/id")]
            for row in book["deals"].iter_rows(min_row=2, values_only=True)
        ]
        self.assertIn(FORMULA_ID, partners)
        values = self.read_back(archive)
        self.assertEqual(values[FORMULA_ID]["function"], "'=x")

    def test_setting_for_settings_admins_only(self):
        Settings = self.env["res.config.settings"]
        key = "crm_data_backup.csv_formula_protection"
        for user in (self.backup_admin, self.salesman):
            with self.assertRaises(AccessError):
                Settings.with_user(user).create(
                    {"crm_backup_csv_formula_protection": True}
                ).execute()
            with self.assertRaises(AccessError):
                self.env["ir.config_parameter"].with_user(user).set_param(key, "1")
        Settings.with_user(self.settings_admin).create(
            {"crm_backup_csv_formula_protection": True}
        ).execute()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param(key), "True")
        self.assertIs(self.open_zip(self.backup()).manifest["formula_protection"], True)
        # a parameter spelled off by hand is off
        backup = self.backup(csv_formula_protection="False")
        self.assertIs(self.open_zip(backup).manifest["formula_protection"], False)


def rezip(data, manifest):
    """The backup zip ``data`` with another manifest (it has no checksum)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if name == "manifest.json":
                content = json.dumps(manifest).encode()
            dst.writestr(name, content)
    return out.getvalue()
