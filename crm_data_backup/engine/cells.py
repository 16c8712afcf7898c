# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The one place that maps backup cells to Odoo field values (and back).

Parse side: ``parse_cell(field_type, cell)`` turns a cell of an import-compatible
backup file into the value the ORM stores; relational cells stay external IDs
(resolving them needs the database, which the planner does in batches).
"""

import base64
import binascii
import datetime
import math

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

TEXT_TYPES = frozenset({"char", "text", "html", "selection"})
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


class CellError(ValueError):
    """A cell that cannot be turned into a value of its field."""


def _danger(value):
    if not value:
        return False
    first = value[0]
    if first in "=@\t\r":
        return True
    return first in "+-" and any(c in value for c in "=(|!;")


def needs_neutralise(value):
    """Whether a text value must get a leading ``'`` in a spreadsheet file."""
    # Iterative form of: danger(v) or (v[:1] == "'" and needs(v[1:]))
    index = 0
    while True:
        rest = value[index:]
        if _danger(rest):
            return True
        if rest[:1] != "'":
            return False
        index += 1


def neutralise(value):
    """Writer side: make a formula-looking text inert for spreadsheets."""
    return "'" + value if needs_neutralise(value) else value


def unneutralise(cell):
    """Reader side: exact inverse of ``neutralise``."""
    if cell[:1] == "'" and needs_neutralise(cell[1:]):
        return cell[1:]
    return cell


def column_field(column):
    """Field name of a header column: ``partner_id/id`` -> ``partner_id``."""
    return column[:-3] if column.endswith("/id") else column


def parse_cell(field_type, cell):
    """Turn one cell into the value the ORM would store for ``field_type``.

    Empty cells are ``False`` (an empty many2many is an empty tuple).
    many2one gives an external ID, many2many a tuple of external IDs.
    """
    if cell is None:
        cell = ""
    if field_type in TEXT_TYPES:
        return unneutralise(cell) if cell != "" else False
    if field_type == "many2many":
        return tuple(x.strip() for x in cell.split(",") if x.strip())
    if cell == "":
        return False
    if field_type == "boolean":
        if cell in ("True", "1"):
            return True
        if cell in ("False", "0"):
            return False
        raise CellError(f"{cell[:30]!r} is not True or False")
    if field_type == "integer":
        try:
            return int(cell)
        except ValueError:
            raise CellError(f"{cell[:30]!r} is not a whole number") from None
    if field_type in ("float", "monetary"):
        try:
            value = float(cell)
        except ValueError:
            raise CellError(f"{cell[:30]!r} is not a number") from None
        if not math.isfinite(value):
            raise CellError(f"{cell[:30]!r} is not a finite number")
        return value
    if field_type == "date":
        try:
            return datetime.datetime.strptime(cell, DATE_FORMAT).date()
        except ValueError:
            raise CellError(f"{cell[:30]!r} is not a date (YYYY-MM-DD)") from None
    if field_type == "datetime":
        try:
            return datetime.datetime.strptime(cell, DATETIME_FORMAT)
        except ValueError:
            raise CellError(
                f"{cell[:30]!r} is not a date and time (YYYY-MM-DD HH:MM:SS)"
            ) from None
    if field_type == "many2one":
        return cell.strip()
    if field_type == "binary":
        try:
            base64.b64decode(cell, validate=True)
        except (binascii.Error, ValueError):
            raise CellError("the file content is not valid base64") from None
        return cell
    raise CellError(f"fields of type {field_type} cannot be restored")
