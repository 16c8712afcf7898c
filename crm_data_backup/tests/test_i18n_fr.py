# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""French: every term of the addon translated, and a French user sees it."""

import json
import re

from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import PoFileReader, TranslationModuleReader

from .common import set_backup_params

MODULE = "crm_data_backup"
# what must survive translation: Python placeholders, str.format fields, HTML tags
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]|%[sdrf]|\{\w*\}|</?[a-z][a-z0-9]*\b[^>]*>")


def read_po(lang="fr"):
    """{msgid: msgstr} of the addon's po file, read by Odoo's own reader."""
    path = file_path(f"{MODULE}/i18n/{lang}.po")
    return {row["src"]: row["value"] for row in PoFileReader(path)}


def current_terms(cr):
    """The terms Odoo exports for the addon now (what `make i18n` puts in the pot)."""
    return {
        source
        for module, _type, _name, _res_id, source, _value, _comments in (
            TranslationModuleReader(cr, [MODULE])
        )
        if module == MODULE
    }


def untranslated(terms, translations):
    return sorted(term for term in terms if not translations.get(term, "").strip())


def placeholder_mismatches(translations):
    return sorted(
        (src, value)
        for src, value in translations.items()
        if value
        and sorted(PLACEHOLDER.findall(src)) != sorted(PLACEHOLDER.findall(value))
    )


def load_french(env):
    env["res.lang"]._activate_lang("fr_FR")
    env["ir.module.module"]._load_module_terms([MODULE], ["fr_FR"], overwrite=True)


@tagged("post_install", "-at_install")
class TestFrenchTerms(TransactionCase):
    def test_every_term_has_a_french_translation(self):
        terms = current_terms(self.env.cr)
        # the export sees views, fields, menus, Python _() and the QWeb of static/src
        for term in (
            "Backup",
            "Create backup",
            "Choose at least one field to restore.",
        ):
            self.assertIn(term, terms)
        self.assertTrue(
            any(term.startswith("Backups contain every value") for term in terms)
        )
        missing = untranslated(terms, read_po())
        self.assertFalse(
            missing,
            f"{len(missing)} terms have no French translation; run `make i18n` and "
            f"translate them in {MODULE}/i18n/fr.po: {missing}",
        )

    def test_check_reports_a_new_term(self):
        translations = {src: value for src, value in read_po().items() if value}
        terms = set(translations) | {"A term added after the translation"}
        self.assertEqual(
            untranslated(terms, translations), ["A term added after the translation"]
        )
        self.assertEqual(
            untranslated(terms, dict(translations, **{"Backup": " "})),
            ["A term added after the translation", "Backup"],
        )

    def test_placeholders_and_tags_kept(self):
        translations = read_po()
        self.assertFalse(placeholder_mismatches(translations))
        broken = {
            "%(name)s can be downloaded.": "%(nom)s peut être téléchargée.",
            "<strong>Sensitive data.</strong>": "Données sensibles.",
        }
        self.assertEqual(len(placeholder_mismatches(broken)), 2)

    def test_french_typography(self):
        """As Odoo's French: a space before : ; ? ! (here a non-breaking one)."""
        for src, value in read_po().items():
            text = re.sub(r"<[^>]+>|&\w+;|%\(\w+\)[sdr]|https?://\S+", "", value)
            self.assertFalse(
                re.search(r"[^\s\u00a0][:;?!](\s|$)|[ ][:;?!]", text),
                f"typography of the French of {src!r}: {value!r}",
            )


@tagged("post_install", "-at_install")
class TestFrenchUser(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_french(cls.env)
        set_backup_params(cls.env, min_interval_hours="0", file_format="csv")
        cls.user = cls.env.ref("base.user_admin")
        cls.user.lang = "fr_FR"
        # the environment the web client gives the user: their own language
        user = cls.user.with_user(cls.user)
        cls.fr_env = user.with_context(**user.context_get()).env

    def test_menus(self):
        self.assertEqual(self.fr_env.lang, "fr_FR")
        menus = self.fr_env["ir.ui.menu"].load_menus(False)
        names = {
            menu["xmlid"]: menu["name"] for menu in menus.values() if menu.get("xmlid")
        }
        self.assertEqual(
            names["crm_data_backup.menu_data_management"], "Gestion des données"
        )
        self.assertEqual(names["crm_data_backup.menu_crm_backup"], "Sauvegarde")
        self.assertEqual(
            names["crm_data_backup.menu_crm_backup_restore"], "Restaurer des données"
        )
        self.assertEqual(
            names["crm_data_backup.menu_crm_backup_audit"], "Journal d'audit"
        )

    def test_views(self):
        views = self.fr_env["crm.backup"].get_views([(False, "list"), (False, "form")])
        arch = etree.fromstring(views["views"]["list"]["arch"])
        [button] = arch.xpath("//button[@name='action_open_create_wizard']")
        self.assertEqual(button.get("string"), "Créer une sauvegarde")
        fields_ = views["models"]["crm.backup"]["fields"]
        self.assertEqual(
            dict(fields_["state"]["selection"])["queued"], "En file d'attente"
        )
        restore = self.fr_env["crm.backup.restore"].get_views([(False, "form")])
        arch = etree.fromstring(restore["views"]["form"]["arch"])
        self.assertTrue(arch.xpath("//button[@string='Annuler la restauration']"))

    def test_restore_error(self):
        restore = self.fr_env["crm.backup.restore"].create(
            {
                "source": "upload",
                "object_id": self.env.ref("crm_data_backup.backup_object_deals").id,
            }
        )
        self.assertTrue(restore.name.startswith("Restauration de données - "))
        with self.assertRaises(UserError) as caught:
            restore.action_plan()
        self.assertEqual(
            str(caught.exception), "Choisissez au moins un champ à restaurer."
        )

    def test_backup_notifications(self):
        self.env["res.partner"].create({"name": "Client français"})
        last_bus = self.env["bus.bus"].sudo().search([], order="id desc", limit=1)
        wizard = self.fr_env["crm.backup.create.wizard"].create({})
        wizard.action_confirm()
        backup = self.fr_env["crm.backup"].search([("state", "=", "queued")])
        self.assertEqual(len(backup), 1)
        backup.action_run()
        self.assertEqual(backup.state, "done")
        body = backup.message_ids.filtered(
            lambda message: message.subtype_id
            == self.env.ref("crm_data_backup.mt_backup_done")
        ).body
        self.assertIn(f"Votre sauvegarde {backup.name} est prête", body)
        self.assertIn(">Télécharger</a>", body)
        # the web client's pop-ups: bus messages (written at the flush of the test cursor)
        self.env.cr.flush()
        pending = [
            json.loads(bus.message)
            for bus in self.env["bus.bus"].sudo().search([("id", ">", last_bus.id)])
        ]
        toasts = {
            note["payload"]["title"]: note["payload"]["message"]
            for note in pending
            if note["type"] == "simple_notification"
        }
        self.assertEqual(
            toasts["Sauvegarde en file d'attente"],
            f"{backup.name} est en cours de création en arrière-plan. Vous serez averti "
            "lorsqu'elle sera prête.",
        )
        self.assertEqual(
            toasts["Sauvegarde prête"], f"{backup.name} peut être téléchargée."
        )


@tagged("post_install", "-at_install")
class TestFrenchTour(HttpCase):
    def test_french_backup_screen(self):
        load_french(self.env)
        set_backup_params(self.env, min_interval_hours="0", file_format="csv")
        self.env["crm.backup"].search([]).unlink()
        self.env.ref("base.user_admin").lang = "fr_FR"
        self.start_tour("/odoo/settings", "crm_data_backup_fr_tour", login="admin")
        backup = self.env["crm.backup"].search([])
        self.assertEqual(backup.state, "queued")
        self.assertTrue(backup.name.startswith("Sauvegarde "))
