# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Values and sizes as users read them, in their language and time zone."""

import datetime

from odoo.tools import format_amount, format_date, format_datetime, formatLang
from odoo.tools.mail import html2plaintext

# Longest text shown in a plan cell.
TEXT_LIMIT = 80
# Decimals shown at most for a float field without digits.
FREE_FLOAT_DIGITS = 6


def shorten(text):
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 3] + "..."


def user_tz(env):
    return env.context.get("tz") or env.user.tz or "UTC"


def float_digits(field, env, value):
    """Decimals of a float field: its digits, else as few as the value needs."""
    digits = field.get_digits(env)
    if digits:
        return digits[1]
    text = f"{value:.{FREE_FLOAT_DIGITS}f}".rstrip("0")
    return len(text.split(".")[1])


def format_value(env, field, value, currency=None):
    """``value`` (as the ORM holds it; ids for relational fields) of ``field``,
    as a user reads it. ``currency``: of a monetary value (default: the
    company's)."""
    if field.type == "boolean":
        return env._("Yes") if value else env._("No")
    if value in (False, None) or value == frozenset():
        return ""
    ftype = field.type
    if ftype == "many2one":
        return env[field.comodel_name].sudo().browse(value).display_name or ""
    if ftype == "many2many":
        records = env[field.comodel_name].sudo().browse(sorted(value))
        return shorten(", ".join(records.mapped("display_name")))
    if ftype == "selection":
        labels = dict(field._description_selection(env))
        return labels.get(value, str(value))
    if ftype == "monetary":
        return format_amount(env, value, currency or env.company.currency_id)
    if ftype == "float":
        return formatLang(env, value, digits=float_digits(field, env, value))
    if ftype == "integer":
        return formatLang(env, value, digits=0)
    if ftype == "datetime":
        # before date: a datetime is a date too
        if isinstance(value, datetime.datetime):
            return format_datetime(env, value, tz=user_tz(env), dt_format=False)
    if ftype == "date":
        return format_date(env, value)
    if ftype == "binary":
        return env._("(file)")
    if ftype == "html":
        value = html2plaintext(value)
    return shorten(str(value))


def human_size(env, size):
    """A size in bytes with the units the web client shows: 19.7 kB."""
    if size == 1:
        return env._("1 byte")
    if size < 1024:
        return env._("%s bytes", formatLang(env, size, digits=0))
    units = (env._("kB"), env._("MB"), env._("GB"), env._("TB"))
    size /= 1024
    unit = 0
    while size >= 1024 and unit < len(units) - 1:
        size /= 1024
        unit += 1
    return f"{formatLang(env, size, digits=1)} {units[unit]}"
