# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Which fields a model's own ``write()`` gives logic to.

Fast mode writes values the way ``BaseModel.write`` does, without the model's
``write()`` overrides: fine for a field no override looks at, wrong for the
others (a lead's stage sets its closing date, a company's VAT goes to its
contacts). The overrides and the methods they call are read, and every string
in them that names a field of the model counts: an over-approximation, so that
fast mode never skips logic that Odoo would run.
"""

import ast
import functools
import inspect
import textwrap

# write()s that fast mode reproduces (see FastOrmTarget), or that have none.
REPRODUCED = (
    "odoo.models",
    "odoo.addons.mail.models.mail_thread",
    "odoo.addons.base_automation.",
)
DEPTH = 3


def _overrides(cls, name):
    """The functions named ``name`` in ``cls``'s classes, but the reproduced."""
    for klass in cls.__mro__:
        func = klass.__dict__.get(name)
        if callable(func) and not func.__module__.startswith(REPRODUCED):
            yield func


def _strings_and_calls(func):
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return set(), set()
    strings, calls = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.add(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            calls.add(node.func.attr)
    return strings, calls


@functools.lru_cache(maxsize=256)
def _logic(cls):
    fields_ = cls._fields
    found = {}
    seen = set()
    todo = [("write", 0)]
    while todo:
        name, depth = todo.pop()
        for func in _overrides(cls, name):
            if func in seen:
                continue
            seen.add(func)
            strings, calls = _strings_and_calls(func)
            where = f"{func.__module__.split('.')[2]}: {func.__qualname__}"
            for string in strings & set(fields_):
                found.setdefault(string, where)
            if depth < DEPTH:
                todo.extend((call, depth + 1) for call in calls if call != name)
    return found


def write_logic(Model):
    """``{field name: where its logic is}`` of ``Model``'s own write()."""
    return _logic(type(Model))
