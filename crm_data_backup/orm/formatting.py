# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Values and sizes as users read them, in their language and time zone."""

import datetime

from odoo.tools import format_date, format_datetime, formatLang
from odoo.tools.mail import html2plaintext
from odoo.tools.misc import NON_BREAKING_SPACE, get_lang

# Longest text shown in a plan cell.
TEXT_LIMIT = 80
# Decimals shown at most for a float field without digits.
FREE_FLOAT_DIGITS = 6


def shorten(text):
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 3] + "..."


class ValueFormatter:
    """Values of fields as a user reads them (labels, amounts with their
    currency, dates in their language and time zone). The language and the
    labels are looked up once: a plan's workbook formats up to 100,000 rows."""

    def __init__(self, env):
        self.env = env
        self.lang = env["res.lang"].browse(get_lang(env).id)
        self.tz = env.context.get("tz") or env.user.tz or "UTC"
        self.labels = {}  # field -> {key: label}

    def __call__(self, field, value, currency=None):
        """``value`` (as the ORM holds it; ids for relational fields) of
        ``field``; ``currency``: of a monetary value (default: the company's)."""
        env = self.env
        ftype = field.type
        if ftype == "boolean":
            return env._("Yes") if value else env._("No")
        if value in (False, None) or value == frozenset():
            return ""
        if ftype == "many2one":
            return env[field.comodel_name].sudo().browse(value).display_name or ""
        if ftype == "many2many":
            records = env[field.comodel_name].sudo().browse(sorted(value))
            return shorten(", ".join(records.mapped("display_name")))
        if ftype == "selection":
            if field not in self.labels:
                self.labels[field] = dict(field._description_selection(env))
            return self.labels[field].get(value, str(value))
        if ftype == "monetary":
            return self.amount(value, currency or env.company.currency_id)
        if ftype == "float":
            return self.number(value, self.float_digits(field, value))
        if ftype == "integer":
            return self.number(value, 0)
        # a datetime is a date too: test it first
        if ftype == "datetime" and isinstance(value, datetime.datetime):
            return format_datetime(env, value, tz=self.tz, dt_format=False)
        if ftype in ("date", "datetime"):
            return format_date(env, value)
        if ftype == "binary":
            return env._("(file)")
        if ftype == "html":
            value = html2plaintext(value)
        return shorten(str(value))

    def number(self, value, digits):
        return self.lang.format(f"%.{digits}f", value, grouping=True)

    def amount(self, value, currency):
        """As tools.format_amount, the language looked up once."""
        text = self.number(currency.round(value), currency.decimal_places)
        text = text.replace(" ", NON_BREAKING_SPACE)
        symbol = currency.symbol or ""
        if currency.position == "before":
            return f"{symbol}{NON_BREAKING_SPACE}{text}"
        return f"{text}{NON_BREAKING_SPACE}{symbol}"

    def float_digits(self, field, value):
        """Decimals of a float field: its digits, else as few as the value needs."""
        digits = field.get_digits(self.env)
        if digits:
            return digits[1]
        text = f"{value:.{FREE_FLOAT_DIGITS}f}".rstrip("0")
        return len(text.split(".")[1])


def format_value(env, field, value, currency=None):
    """One value, as ValueFormatter formats it."""
    return ValueFormatter(env)(field, value, currency)


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
