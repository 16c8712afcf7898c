# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The engine's error messages reach the user in the user's language."""

import functools
import io
import re
import secrets

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools.translate import ReadonlyDict, code_translations

from ..engine import planner
from ..engine.cells import parse_cell
from ..engine.errors import BackupFileError, CellError, Message, TranslatableError
from ..engine.writer import XlsxWriter
from .restore_cases import RestoreCase
from .restore_common import csv_bytes, file_spec, make_zip, open_backup
from .test_engine_reader import HEADER, ROWS, TYPES, contacts
from .test_i18n_fr import MODULE, current_terms

PLACEHOLDER = re.compile(r"(%\(\w+\)[sr])")
NOT_A_ZIP = "This file is not a backup zip, or it is truncated or damaged."
TOO_LARGE = (
    "Line %(line)s of %(name)r: the value of %(field)r is %(size)s, more than "
    "the %(limit)s allowed."
)


HUGE = [["__export__.p_1", secrets.token_hex(5 * 1024 * 1024), "", "", ""]]


@functools.cache
def bad_backups():
    """Backups each refused with another message, some with nested ones."""
    boolean = file_spec("contacts", "res.partner", ["id", "active"], [["x.y", "maybe"]])
    return {
        "empty": b"",
        "not_zip": b"name,email\nA,b\n",
        "unsafe": make_zip([contacts()], extra={"../evil.csv": b"x"}),
        "newer": make_zip([contacts()], manifest_overrides={"format_version": 2}),
        "foreign": make_zip(
            [contacts()],
            database_uuid="other-db",
            manifest_overrides={"database_name": None},
        ),
        "columns": make_zip(
            [contacts(data=csv_bytes(HEADER + ["x_hack"], [r + ["1"] for r in ROWS]))]
        ),
        "values": make_zip([contacts(rows=[ROWS[0] + ["extra"], ROWS[1]])]),
        "huge": make_zip([contacts(rows=HUGE)]),
        "rows": make_zip([contacts(row_count=5)]),
        "checksum": make_zip([contacts(sha256="0" * 64)]),
        "boolean": make_zip([boolean]),
    }


def refusal(data, types=None):
    """The BackupFileError reading ``data`` raises."""
    try:
        with open_backup(data, database_uuid="test-uuid") as reader:
            entry = reader.find_entry("res.partner", "contacts")
            list(reader.iter_rows(entry, types or TYPES))
    except BackupFileError as exc:
        return exc
    raise AssertionError("the backup was read")


def templates(message):
    """The template of ``message`` and of the messages among its values."""
    message = getattr(message, "message", message)
    found = {message.template}
    for value in message.params.values():
        if isinstance(value, Message | TranslatableError):
            found |= templates(value)
    return found


def shout(template, **params):
    """A translate function as env._: translate (upper case but the
    placeholders), then format."""
    parts = PLACEHOLDER.split(template)
    text = "".join(p if i % 2 else p.upper() for i, p in enumerate(parts))
    return text % params if params else text


@tagged("post_install", "-at_install")
class TestEngineMessages(RestoreCase):
    def errors(self):
        errors = [
            refusal(data, {"active": "boolean"} if key == "boolean" else TYPES)
            for key, data in bad_backups().items()
        ]
        with self.assertRaises(BackupFileError) as cm:
            writer = XlsxWriter(io.BytesIO())
            writer.add_sheet("contacts", ["id"])
            writer.write_rows([["x" * 40000]])
        errors.append(cm.exception)
        return errors

    def test_every_message_is_exported_for_translation(self):
        errors = self.errors()
        codes = {exc.code for exc in errors}
        self.assertGreaterEqual(len(codes), 10, codes)
        found = set().union(*map(templates, errors))
        # nested: a size with its unit, the reason a cell is refused
        self.assertIn("%(size)s MB", found)
        self.assertIn("%(cell)r is not True or False", found)
        self.assertIn("unknown", found)
        self.assertFalse(found - current_terms(self.env.cr))

    def test_english_text_unchanged(self):
        for exc in self.errors():
            self.assertEqual(exc.translated(lambda s, **p: s % p if p else s), str(exc))
        huge = refusal(bad_backups()["huge"])
        self.assertIn("more than the 1.0 MB allowed", str(huge))
        self.assertEqual(huge.template, TOO_LARGE)
        self.assertEqual(huge.params["name"], "contacts.csv")

    def test_translation_applies_to_templates_not_values(self):
        exc = refusal(bad_backups()["huge"])
        text = exc.translated(shout)
        # the templates are translated, nested ones too; the values are not
        self.assertTrue(
            text.startswith("LINE 2 OF 'contacts.csv': THE VALUE OF 'name'")
        )
        self.assertIn("MORE THAN THE 1.0 MB ALLOWED", text)
        exc = refusal(bad_backups()["boolean"], {"active": "boolean"})
        self.assertIn(
            ": 'active': 'maybe' IS NOT TRUE OR FALSE.", exc.translated(shout)
        )
        with self.assertRaises(CellError) as cm:
            parse_cell("integer", "12x")
        self.assertEqual(cm.exception.translated(shout), "'12x' IS NOT A WHOLE NUMBER")

    def set_french(self, terms):
        """Load French ``terms`` as if fr.po held them (Odoo keeps a module's
        code translations in memory, read from its po files)."""
        self.env["res.lang"]._activate_lang("fr_FR")
        key = (MODULE, "fr_FR")
        loaded = code_translations.get_python_translations(*key)
        code_translations.python_translations[key] = ReadonlyDict({**loaded, **terms})
        self.addCleanup(code_translations.python_translations.__setitem__, key, loaded)

    def test_french_user_sees_french(self):
        self.set_french(
            {
                NOT_A_ZIP: "Ce fichier n'est pas un zip de sauvegarde.",
                TOO_LARGE: "Ligne %(line)s de %(name)r : %(field)r fait %(size)s, "
                "plus que les %(limit)s permis.",
                "%(size)s MB": "%(size)s Mo",
            }
        )
        restore = self.new_restore("contacts", b"not a zip", ["name"])
        with self.assertRaises(UserError) as cm:
            restore.with_context(lang="fr_FR").action_plan()
        self.assertEqual(
            str(cm.exception), "Ce fichier n'est pas un zip de sauvegarde."
        )
        data = make_zip([contacts(rows=HUGE)], database_uuid=self.uuid)
        restore = self.new_restore("contacts", data, ["name"])
        with self.assertRaises(UserError) as cm:
            restore.with_context(lang="fr_FR").action_plan()
        self.assertEqual(
            str(cm.exception),
            "Ligne 2 de 'contacts.csv' : 'name' fait 10.0 Mo, plus que les 1.0 Mo "
            "permis.",
        )
        # English users still read English
        with self.assertRaisesRegex(UserError, "^Line 2 of 'contacts.csv'"):
            restore.with_context(lang="en_US").action_plan()


class _Live:
    hidden = ("x.hidden",)


@tagged("post_install", "-at_install")
class TestConflictReasons(RestoreCase):
    def test_reasons_are_translatable_messages(self):
        """Conflict reasons reach the plan through the user's translate."""

        def marked(template, **params):
            return f"<{template}>" % params

        missing = planner.Planner._missing
        probe = type("Probe", (), {"live": _Live()})()
        reasons = (
            planner.NO_ACCESS,
            planner.CHANGED_SINCE_REVIEW,
            missing(probe, "x.gone"),
            missing(probe, "x.hidden"),
        )
        terms = current_terms(self.env.cr)
        for reason in reasons:
            self.assertIn(reason.template, terms)
            self.assertEqual(
                reason.translated(marked), f"<{reason.template}>" % reason.params
            )
        self.assertEqual(str(reasons[2]), "related record x.gone no longer exists")
