# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from ..orm.undo_journal import UndoJournal


class Base(models.AbstractModel):
    """Rows a restore or an undo changes, kept for an exact undo (see UndoJournal)."""

    _inherit = "base"

    def _write_multi(self, vals_list):
        # The one place every stored column update of the ORM goes through.
        journal = UndoJournal.active(self.env.cr)
        if journal is not None:
            journal.capture(self)
        return super()._write_multi(vals_list)

    @api.model
    def _create(self, data_list):
        records = super()._create(data_list)
        journal = UndoJournal.active(self.env.cr)
        if journal is not None:
            journal.note_created(records)
        return records
