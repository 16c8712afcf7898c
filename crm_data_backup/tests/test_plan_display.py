# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What users read in a plan: labels, amounts, dates, names, sizes."""

import base64
import datetime
import io

import openpyxl

from odoo import Command
from odoo.tests import tagged

from ..orm.formatting import human_size
from .restore_cases import RestoreCase

NBSP = "\N{NO-BREAK SPACE}"


class TestValueDisplay(RestoreCase):
    """One value of each field type, as the plan shows it."""

    def show(self, key, name, value, record=None, **context):
        restore = self.Restore.new({"object_id": self.obj(key).id})
        if context:
            restore = restore.with_context(**context)
        (spec,) = restore._field_specs([name])
        return restore._display(spec, value, record)

    def test_selection_label(self):
        self.assertEqual(self.show("deals", "priority", "2"), "High")
        self.assertEqual(self.show("deals", "priority", "3"), "Very High")
        self.assertEqual(self.show("deals", "priority", False), "")

    def test_monetary_in_record_currency(self):
        usd = self.env.company.currency_id
        self.assertEqual(usd.name, "USD")
        self.assertEqual(
            self.show("deals", "expected_revenue", 99999.0), f"${NBSP}99,999.00"
        )
        company = self.env["res.company"].create(
            {"name": "Euro Company", "currency_id": self.env.ref("base.EUR").id}
        )
        self.env.user.company_ids |= company
        lead = self.env["crm.lead"].create(
            {"name": "Euro deal", "company_id": company.id}
        )
        self.assertEqual(
            self.show("deals", "expected_revenue", 1234.5, lead),
            f"1,234.50{NBSP}€",
        )

    def test_float_digits(self):
        # digits of the field (10, 7); none: as many as the value needs
        self.assertEqual(self.show("contacts", "partner_latitude", 50.85), "50.8500000")
        self.assertEqual(self.show("deals", "probability", 12.5), "12.5")
        self.assertEqual(self.show("deals", "probability", 1000.0), "1,000")
        self.assertEqual(self.show("deals", "color", 12345), "12,345")

    def test_date_in_lang_format(self):
        self.assertEqual(
            self.show("deals", "date_deadline", datetime.date(2026, 12, 1)),
            "12/01/2026",
        )

    def test_datetime_in_user_tz(self):
        value = datetime.datetime(2026, 7, 1, 10, 0)
        brussels = self.show("deals", "date_closed", value, tz="Europe/Brussels")
        self.assertEqual(brussels, "07/01/2026 12:00:00")
        winter = datetime.datetime(2026, 12, 1, 23, 30)
        self.assertEqual(
            self.show("deals", "date_closed", winter, tz="Europe/Brussels"),
            "12/02/2026 00:30:00",
        )
        self.assertEqual(
            self.show("deals", "date_closed", value, tz="UTC"), "07/01/2026 10:00:00"
        )

    def test_user_lang_formats(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.assertEqual(
            self.show(
                "deals", "date_deadline", datetime.date(2026, 12, 1), lang="fr_FR"
            ),
            "01/12/2026",
        )
        sep = self.env["res.lang"]._lang_get("fr_FR").thousands_sep
        self.assertEqual(
            self.show("deals", "probability", 1234.5, lang="fr_FR"), f"1{sep}234,5"
        )

    def test_boolean_yes_no(self):
        self.assertEqual(self.show("contacts", "is_company", True), "Yes")
        self.assertEqual(self.show("contacts", "is_company", False), "No")

    def test_relations_by_name(self):
        user = self.env["res.users"].create({"name": "Sally Seller", "login": "ss"})
        self.assertEqual(self.show("deals", "user_id", user.id), "Sally Seller")
        tags = self.env["crm.tag"].create([{"name": "Hot"}, {"name": "Big"}])
        self.assertEqual(self.show("deals", "tag_ids", frozenset(tags.ids)), "Hot, Big")
        self.assertEqual(self.show("deals", "tag_ids", frozenset()), "")

    def test_text_and_html(self):
        self.assertEqual(
            self.show("deals", "description", "<p>Call <b>back</b></p>"), "Call *back*"
        )
        long = self.show("contacts", "comment", "<p>" + "x" * 200 + "</p>")
        self.assertEqual(len(long), 80)
        self.assertTrue(long.endswith("..."))

    def test_sizes(self):
        self.assertEqual(human_size(self.env, 1), "1 byte")
        self.assertEqual(human_size(self.env, 512), "512 bytes")
        self.assertEqual(human_size(self.env, 20173), "19.7 kB")
        self.assertEqual(human_size(self.env, 3 * 1024**2 + 1024**2 // 2), "3.5 MB")
        self.assertEqual(human_size(self.env, 5 * 1024**3), "5.0 GB")
        self.assertEqual(human_size(self.env, 2500 * 1024**4), "2,500.0 TB")

    def test_audit_display_name_is_label(self):
        entry = self.env["crm.backup.audit"]._log("restore_executed")
        self.assertEqual(entry.display_name, "Restore executed")
        self.assertEqual(
            self.env["crm.backup.audit"]._log("identity_failed").display_name,
            "Identity check failed",
        )


class TestPlanOfDeals(RestoreCase):
    """A plan of deals: labels and amounts, deleted deals by name."""

    def setUp(self):
        super().setUp()
        Lead = self.env["crm.lead"]
        self.deals = Lead.create(
            [
                {
                    "name": name,
                    "type": "opportunity",
                    "priority": "3",
                    "expected_revenue": 99999.0,
                }
                for name in ("Kept Deal Alpha", "Deleted Deal Zeta", "Same Deal")
            ]
        )
        columns = ["id", "name", "priority", "expected_revenue"]
        self.data = self.backup_zip("deals", self.deals, columns)
        self.deals[0].write({"priority": "0", "expected_revenue": 5.0})
        self.gone_xmlid = self.deals[1].get_external_id()[self.deals[1].id]
        self.deals[1].unlink()
        self.restore = self.new_restore(
            "deals", self.data, ["priority", "expected_revenue"]
        )
        self.restore.action_plan()

    def test_plan_html(self):
        html = self.restore.plan_html
        self.assertIn("<td>Low</td><td>Very High</td>", html)
        # the html field stores the no-break space as an entity
        self.assertIn("<td>$&nbsp;5.00</td><td>$&nbsp;99,999.00</td>", html)
        self.assertNotIn("99999.0", html)
        self.assertIn(f'<span title="{self.gone_xmlid}">Deleted Deal Zeta</span>', html)

    def test_plan_summary_in_audit(self):
        audit = self.env["crm.backup.audit"].search(
            [("restore_id", "=", self.restore.id)]
        )
        self.assertIn("Records in the backup: 3", audit.details)
        self.assertIn("Deleted since the backup: 1", audit.details)
        self.assertIn(
            "Priority: change 1, clear 0, unchanged 1, conflicts 0", audit.details
        )
        self.assertEqual(audit.display_name, "Restore planned")

    def test_plan_xlsx(self):
        action = self.restore.action_download_plan()
        attachment_id = int(action["url"].split("/")[-1].split("?")[0])
        raw = base64.b64decode(self.env["ir.attachment"].browse(attachment_id).datas)
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
        deleted = list(book["Deleted since the backup"].values)
        self.assertEqual(
            deleted,
            [("Record", "External ID"), ("Deleted Deal Zeta", self.gone_xmlid)],
        )
        changes = {row[1]: row for row in list(book["Changes"].values)[1:]}
        self.assertEqual(
            changes["Priority"], ("Kept Deal Alpha", "Priority", "Low", "Very High")
        )
        self.assertEqual(
            changes["Expected Revenue"][2:], (f"${NBSP}5.00", f"${NBSP}99,999.00")
        )

    def test_deleted_without_name_column(self):
        """A backup without the name column lists deleted deals by external ID."""
        data = self.backup_zip("deals", self.deals[0], ["id", "priority"])
        xmlid = self.deals[0].get_external_id()[self.deals[0].id]
        self.deals[0].unlink()
        restore = self.new_restore("deals", data, ["priority"])
        restore.action_plan()
        self.assertEqual(restore.deleted_count, 1)
        self.assertIn(f'<span title="{xmlid}">{xmlid}</span>', restore.plan_html)


class TestRelatedNames(RestoreCase):
    def test_many2many_by_name(self):
        tags = self.env["crm.tag"].create([{"name": "Warm"}, {"name": "Cold"}])
        deal = self.env["crm.lead"].create(
            {
                "name": "Tagged",
                "type": "opportunity",
                "tag_ids": [Command.set(tags.ids)],
            }
        )
        data = self.backup_zip("deals", deal, ["id", "tag_ids/id"])
        deal.tag_ids = [Command.unlink(tags[1].id)]
        restore = self.new_restore("deals", data, ["tag_ids"])
        restore.action_plan()
        self.assertIn("<td>Warm</td><td>Warm, Cold</td>", restore.plan_html)

    def test_deleted_name_escaped(self):
        """A deleted record's name comes from the backup file: shown as text."""
        deal = self.env["crm.lead"].create(
            {"name": '<img src=x onerror="alert(1)">', "type": "opportunity"}
        )
        data = self.backup_zip("deals", deal, ["id", "name", "priority"])
        deal.unlink()
        restore = self.new_restore("deals", data, ["priority"])
        restore.action_plan()
        self.assertIn("&lt;img src=x", restore.plan_html)
        self.assertNotIn("<img", restore.plan_html)


@tagged("post_install", "-at_install")
class TestFieldChoice(RestoreCase):
    def test_search_more_shows_labels_not_technical_names(self):
        """The fields' "Search More" dialog lists labels, not names and types."""
        arch = self.env["crm.backup.restore"].get_views([(False, "form")])["views"][
            "form"
        ]["arch"]
        self.assertIn("crm_backup_restore_field_choice_list", arch)
        views = self.env["ir.model.fields"].get_views(
            [
                (
                    self.env.ref(
                        "crm_data_backup.crm_backup_restore_field_choice_list"
                    ).id,
                    "list",
                ),
                (
                    self.env.ref(
                        "crm_data_backup.crm_backup_restore_field_choice_search"
                    ).id,
                    "search",
                ),
            ]
        )["views"]
        for arch in (views["list"]["arch"], views["search"]["arch"]):
            self.assertIn('name="field_description"', arch)
            self.assertNotIn('name="name"', arch)
            self.assertNotIn('name="ttype"', arch)
