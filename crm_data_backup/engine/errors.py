# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The engine's errors and their translatable messages (plain Python).

One hierarchy: ``TranslatableError`` (any error whose text is a Message),
``BackupFileError`` (a backup file cannot be read or written; ``code`` says
why) and ``CellError`` (one cell is not a value of its field).

A message keeps its English template (``%``-style named placeholders) and its
values apart: ``str()`` gives the English text (logs, tests), ``translated``
the text in the user's language, with a translate function such as Odoo's
``env._``. Only templates are translated, never the values put into them.
"""


def _lt(message):
    """Mark a term for Odoo's translation export; the model translates it."""
    return message


class Message:
    """An English template marked with ``_lt`` and its named values; a value
    may itself be a Message (or an error holding one), translated in turn."""

    __slots__ = ("params", "template")

    def __init__(self, template, **params):
        self.template = template
        self.params = params

    def _format(self, text, params):
        # no values, no formatting: as Odoo's translate does
        return text % params if params else text

    def __str__(self):
        params = {
            k: str(v) if hasattr(v, "translated") else v for k, v in self.params.items()
        }
        return self._format(self.template, params)

    def translated(self, translate):
        """The message through ``translate(template, **params)``, which
        translates the template and then formats it (as ``env._`` does)."""
        params = {
            k: v.translated(translate) if hasattr(v, "translated") else v
            for k, v in self.params.items()
        }
        return translate(self.template, **params)


class TranslatableError(Exception):
    """An error whose text is a Message: ``template`` and ``params`` are
    the Message's; ``str()`` stays the English text."""

    def __init__(self, message, **params):
        self.message = Message(message, **params)
        super().__init__(str(self.message))

    @property
    def template(self):
        return self.message.template

    @property
    def params(self):
        return self.message.params

    def translated(self, translate):
        """The text in the language of ``translate`` (see Message)."""
        return self.message.translated(translate)


class BackupFileError(TranslatableError):
    """The backup file cannot be used, or a value or size cannot be written
    into one; ``code`` says why for the UI."""

    def __init__(self, message, code="invalid", **params):
        super().__init__(message, **params)
        self.code = code


class CellError(BackupFileError, ValueError):
    """A cell that cannot be turned into a value of its field; the reader
    says which line and column it is in."""

    def __init__(self, message, **params):
        super().__init__(message, "value", **params)
