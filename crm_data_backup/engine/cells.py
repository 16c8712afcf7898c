# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The one place mapping Odoo field types to cells of a backup file (and back).

Export side: how each field type is rendered (mostly in SQL, see ``sql_cell``),
and the formula neutralisation of text cells shared by the CSV and XLSX writers.
"""

from odoo.tools.float_utils import float_round

# Field types whose cells are text a spreadsheet could mistake for a formula.
TEXT_TYPES = frozenset({"char", "text", "html", "selection"})
# Field types rendered as Python floats (repr of the stored value).
FLOAT_TYPES = frozenset({"float", "monetary"})
# First characters after which a cell may need neutralising (fast pre-check).
_RISKY_FIRST = frozenset("=@\t\r+-'")
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


def sql_neutralise(expr):
    """SQL twin of :func:`neutralise` for a text expression (tested equal).

    PostgreSQL regular expressions let "." match newlines, like ``in``.
    """
    stripped = f"ltrim({expr}, '''')"
    return (
        f"(CASE WHEN {stripped} ~ E'^[=@\\t\\r]' OR ({stripped} ~ '^[+-]' AND "
        f"{stripped} ~ '[=(|!;]') THEN '''' || {expr} ELSE {expr} END)"
    )


def float_cell(value, digits=None):
    """Cell of a float/monetary value: repr of what the ORM reads (rounded to
    the field's digits like ``Float.convert_to_cache``); NULL reads as 0.0."""
    value = float(value or 0.0)
    if digits is not None:
        value = float_round(value, precision_digits=digits)
    return repr(value)


def sql_cell(ftype, expr, translate=False):
    """SQL expression rendering column ``expr`` of a field of type ``ftype``
    as its text cell, exactly as ``export_data(import_compat=True)`` prints it.

    Returns None for types rendered in Python (floats) or elsewhere (relations).
    """
    if translate:
        expr = f"({expr}->>'en_US')"
    if ftype in ("char", "text", "html", "selection"):
        return f"COALESCE({expr}::text, '')"
    if ftype in ("integer", "many2one_reference"):
        # The ORM reads NULL integers as 0 and exports 0 as "0".
        return f"COALESCE({expr}, 0)::text"
    if ftype == "boolean":
        return f"CASE WHEN {expr} THEN 'True' ELSE 'False' END"
    if ftype == "date":
        return f"COALESCE(to_char({expr}, 'YYYY-MM-DD'), '')"
    if ftype == "datetime":
        # Stored in UTC; the ORM drops fractions of seconds.
        return f"COALESCE(to_char({expr}, 'YYYY-MM-DD HH24:MI:SS'), '')"
    if ftype == "reference":
        return f"COALESCE({expr}::text, '')"
    if ftype == "properties":
        # export_data prints a Python dict nothing can import; JSON of the
        # stored values is its faithful, parseable equivalent.
        return f"COALESCE({expr}::text, '')"
    return None
