# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""engine/cells.py: formula neutralisation and the parsing of cells."""

from hypothesis import given
from hypothesis import strategies as st

from odoo.tests.common import BaseCase

from ..engine.cells import danger, needs, neutralise, parse_cell, unneutralise
from ..engine.errors import CellError
from .test_engine_reader import HYPOTHESIS

TRICKY = [
    "plain",
    "Acme, Inc.",
    'He said "hi"',
    "two\nlines",
    "crlf\r\nline",
    "Zoë 中文 🙂",
    "",
    " leading space",
    "=1+1",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
    "+33 1 23 45",
    "-42",
    "-1+2=3",
    "+cmd|' /C calc'!A0",
    "'=already quoted",
    "''=2",
    "'",
    "'plain quote",
    "-",
    "=",
]


class TestCells(BaseCase):
    def test_predicate_matches_contract(self):
        def needs_contract(v):
            def danger_c(v):
                return bool(v) and (
                    v[0] in "=@\t\r" or (v[0] in "+-" and any(c in v for c in "=(|!;"))
                )

            return danger_c(v) or (v[:1] == "'" and needs_contract(v[1:]))

        for value in TRICKY:
            self.assertEqual(needs(value), needs_contract(value), value)
        self.assertTrue(danger("=1"))
        self.assertFalse(danger("+33 1 23"))

    def test_neutralise_round_trip(self):
        for value in TRICKY:
            cell = neutralise(value)
            self.assertEqual(unneutralise(cell), value, value)
            self.assertFalse(danger(cell), cell)
        self.assertEqual(neutralise("=1+1"), "'=1+1")
        self.assertEqual(neutralise("'=x"), "''=x")
        self.assertEqual(neutralise("+33 1 23 45"), "+33 1 23 45")
        self.assertEqual(neutralise("'plain quote"), "'plain quote")

    def test_cells(self):
        for value in ("=1+1", "@SUM(A1)", "+1=2", "-2+3=1", "'=x", "''=x", "\tx"):
            self.assertTrue(needs(value), value)
            self.assertEqual(unneutralise(neutralise(value)), value)
        for value in ("+33 1 23 45", "-5", "'quoted'", "plain", ""):
            self.assertEqual(neutralise(value), value)
            self.assertEqual(unneutralise(value), value)
        self.assertEqual(parse_cell("float", "1.5"), 1.5)
        self.assertEqual(parse_cell("integer", "0"), 0)
        self.assertIs(parse_cell("char", ""), False)
        self.assertEqual(parse_cell("many2many", ""), ())
        self.assertEqual(str(parse_cell("date", "2026-01-31")), "2026-01-31")

    def test_lone_surrogate_in_cell(self):
        """An XLSX cell can hold a lone surrogate, which is not UTF-8."""
        for ftype in ("char", "many2one", "many2many"):
            with self.assertRaisesRegex(CellError, "lone surrogate"):
                parse_cell(ftype, "a\udc80b")

    def test_integer_beyond_the_database(self):
        """Integer fields are int4: a bigger number failed at write time."""
        self.assertEqual(parse_cell("integer", "2147483647"), 2**31 - 1)
        for cell in ("2147483648", "-2147483649", "9" * 100):
            with self.assertRaisesRegex(CellError, "beyond the whole numbers"):
                parse_cell("integer", cell)

    @HYPOTHESIS
    @given(st.text(max_size=30))
    def test_neutralise_round_trip_any_text(self, value):
        self.assertEqual(unneutralise(neutralise(value)), value)
        # What a spreadsheet sees never starts a formula.
        self.assertFalse(danger(neutralise(value)))
