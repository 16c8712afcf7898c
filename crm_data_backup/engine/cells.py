# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The one place mapping Odoo field types to cells of a backup file (and back).

Export side: how each field type is rendered (mostly in SQL, see ``sql_cell``),
and the formula neutralisation of cells (a leading quote), which CSV files get
only with the ``csv_formula_protection`` setting: Odoo's Import keeps the
quote, so neutralised files no longer re-import exactly. XLSX cells are string
cells, never formulas: they are never neutralised.

Parse side: ``parse_cell(field_type, cell)`` turns a cell back into the value
the ORM stores (relational cells stay external IDs, resolved by the planner).
"""

import base64
import binascii
import datetime
import math
import re

from odoo.tools import SQL
from odoo.tools.float_utils import float_round

from .errors import CellError, Message, _lt

# Field types whose cells are text a spreadsheet could mistake for a formula.
TEXT_TYPES = frozenset({"char", "text", "html", "selection"})
# Field types whose cells can never look like a formula (digits, dates,
# True/False; floats are repr() of a number): protection leaves them alone.
PLAIN_TYPES = frozenset(
    {
        "integer",
        "many2one_reference",
        "boolean",
        "date",
        "datetime",
        "float",
        "monetary",
    }
)
# Field types rendered as Python floats (repr of the stored value).
FLOAT_TYPES = frozenset({"float", "monetary"})
# First characters after which a cell may need neutralising (fast pre-check).
_RISKY_FIRST = frozenset("=@\t\r+-'")
_RISKY_CODES = ", ".join(str(code) for code in sorted(map(ord, _RISKY_FIRST)))
_FORMULA_CHARS = frozenset("=(|!;")


def danger(value):
    """Whether a spreadsheet would read this text as a formula."""
    if not value:
        return False
    first = value[0]
    if first in "=@\t\r":
        return True
    return first in "+-" and any(c in value for c in _FORMULA_CHARS)


def needs(value):
    """Whether the writer must prefix ``value`` with a quote (see the contract)."""
    # Same as the recursive definition of the contract, without recursion.
    return danger(value.lstrip("'"))


def neutralise(value):
    """Text cell as written to a file: a formula-like value gets one leading quote."""
    if value and value[0] in _RISKY_FIRST and needs(value):
        return "'" + value
    return value


def unneutralise(cell):
    """Exact inverse of :func:`neutralise`."""
    if cell[:1] == "'" and needs(cell[1:]):
        return cell[1:]
    return cell


# cheap first-character test first (its code point: no text built): most
# cells start with anything else
_SQL_NEUTRALISE = (
    f"(CASE WHEN ascii(%(expr)s) IN ({_RISKY_CODES}) "
    "AND (%(stripped)s ~ E'^[=@\\t\\r]' OR (%(stripped)s ~ '^[+-]' AND "
    "%(stripped)s ~ '[=(|!;]')) THEN '''' || %(expr)s ELSE %(expr)s END)"
)


def sql_neutralise(expr):
    """SQL twin of :func:`neutralise` for a text expression (an ``SQL``),
    tested equal.

    PostgreSQL regular expressions let "." match newlines, like ``in``.
    """
    return SQL(_SQL_NEUTRALISE, expr=expr, stripped=SQL("ltrim(%s, '''')", expr))


def float_cell(value, digits=None):
    """Cell of a float/monetary value: repr of what the ORM reads (rounded to
    the field's digits like ``Float.convert_to_cache``); NULL reads as 0.0."""
    value = float(value or 0.0)
    if digits is not None:
        value = float_round(value, precision_digits=digits)
    return repr(value)


def sql_cell(ftype, expr, translate=False):
    """SQL rendering the value ``expr`` (an ``SQL``) of a field of type
    ``ftype`` as its text cell, exactly as ``export_data(import_compat=True)``
    prints it.

    Returns None for types rendered in Python (floats) or elsewhere (relations).
    """
    if translate:
        expr = SQL("(%s->>'en_US')", expr)
    if ftype in ("char", "text", "html", "selection", "reference"):
        return SQL("COALESCE(%s::text, '')", expr)
    if ftype in ("integer", "many2one_reference"):
        # The ORM reads NULL integers as 0 and exports 0 as "0".
        return SQL("COALESCE(%s, 0)::text", expr)
    if ftype == "boolean":
        return SQL("CASE WHEN %s THEN 'True' ELSE 'False' END", expr)
    if ftype == "date":
        return SQL("COALESCE(to_char(%s, 'YYYY-MM-DD'), '')", expr)
    if ftype == "datetime":
        # Stored in UTC; the ORM drops fractions of seconds.
        return SQL("COALESCE(to_char(%s, 'YYYY-MM-DD HH24:MI:SS'), '')", expr)
    if ftype == "properties":
        # export_data prints a Python dict nothing can import; JSON of the
        # stored values is its faithful, parseable equivalent.
        return SQL("COALESCE(%s::text, '')", expr)
    return None


# --- parse side (restore) ---------------------------------------------------

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

RELATIONAL_TYPES = frozenset({"many2one", "many2many"})
# Field types a restore can write back (one2many are not in backups).
PARSABLE_TYPES = frozenset(
    {
        "char",
        "text",
        "html",
        "selection",
        "boolean",
        "integer",
        "float",
        "monetary",
        "date",
        "datetime",
        "many2one",
        "many2many",
        "binary",
    }
)


# Integer fields are PostgreSQL int4 columns.
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def unstorable(text):
    """What in ``text`` the database cannot store (a Message), or None: NUL (refused by
    PostgreSQL text) or a lone surrogate (not UTF-8; an XLSX cell can hold one)."""
    if "\x00" in text:
        return Message(_lt("a NUL character (0x00)"))
    # isascii() is O(1): the search runs on non-ASCII text only
    if not text.isascii() and _SURROGATE.search(text):
        return Message(_lt("a lone surrogate (an invalid character)"))
    return None


def column_field(column):
    """Field name of a header column: ``partner_id/id`` -> ``partner_id``."""
    return column[:-3] if column.endswith("/id") else column


def parse_cell(field_type, cell, unquote=True):
    """Turn one cell into the value the ORM would store for ``field_type``.

    Empty cells are ``False`` (an empty many2many is an empty tuple).
    many2one gives an external ID, many2many a tuple of external IDs.
    ``unquote``: text cells were neutralised (backups made before the
    ``formula_protection`` manifest flag); the reader un-neutralises every
    cell itself for files made with the flag on, and none with it off.
    """
    if cell is None:
        cell = ""
    # inline first test: this runs for every cell of a restore
    if ("\x00" in cell or not cell.isascii()) and (reason := unstorable(cell)):
        raise CellError(
            _lt("the value contains %(reason)s, which the database cannot store"),
            reason=reason,
        )
    if field_type in TEXT_TYPES:
        if cell == "":
            return False
        return unneutralise(cell) if unquote else cell
    if field_type == "many2many":
        return tuple(x.strip() for x in cell.split(",") if x.strip())
    if cell == "":
        return False
    if field_type == "boolean":
        if cell in ("True", "1"):
            return True
        if cell in ("False", "0"):
            return False
        raise CellError(_lt("%(cell)r is not True or False"), cell=cell[:30])
    if field_type == "integer":
        try:
            value = int(cell)
        except ValueError:
            raise CellError(
                _lt("%(cell)r is not a whole number"), cell=cell[:30]
            ) from None
        if not INTEGER_MIN <= value <= INTEGER_MAX:
            raise CellError(
                _lt(
                    "%(cell)r is beyond the whole numbers the database stores "
                    "(%(min)s to %(max)s)"
                ),
                cell=cell[:30],
                min=INTEGER_MIN,
                max=INTEGER_MAX,
            )
        return value
    if field_type in ("float", "monetary"):
        try:
            value = float(cell)
        except ValueError:
            raise CellError(_lt("%(cell)r is not a number"), cell=cell[:30]) from None
        if not math.isfinite(value):
            raise CellError(_lt("%(cell)r is not a finite number"), cell=cell[:30])
        return value
    if field_type == "date":
        try:
            return datetime.datetime.strptime(cell, DATE_FORMAT).date()
        except ValueError:
            raise CellError(
                _lt("%(cell)r is not a date (YYYY-MM-DD)"), cell=cell[:30]
            ) from None
    if field_type == "datetime":
        try:
            return datetime.datetime.strptime(cell, DATETIME_FORMAT)
        except ValueError:
            raise CellError(
                _lt("%(cell)r is not a date and time (YYYY-MM-DD HH:MM:SS)"),
                cell=cell[:30],
            ) from None
    if field_type == "many2one":
        return cell.strip()
    if field_type == "binary":
        try:
            base64.b64decode(cell, validate=True)
        except (binascii.Error, ValueError):
            raise CellError(_lt("the file content is not valid base64")) from None
        return cell
    raise CellError(_lt("fields of type %(type)s cannot be restored"), type=field_type)
