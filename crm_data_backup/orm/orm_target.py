# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Where a restore (or its undo) writes through the ORM: the normal target
(see fast_target for the fast one), and the context that keeps automation
rules quiet."""

from odoo.tools import SQL

from .tracking_log import finalize_tracking, pending_tracking


class AutomationsDone(dict):
    """base_automation's record of processed rules (context ``__action_done``)
    claiming the records a restore writes were processed already, so that no
    automation rule fires on restored values.

    ``pending_ids`` are the records written since the last flush (the target
    flushes every batch, so recomputations only concern those)."""

    def __init__(self, cr, model, table, watermark):
        super().__init__()
        self.cr = cr
        self.model = model
        self.table = table
        self.watermark = watermark
        self.pending_ids = set()

    def get(self, key, default=None):
        if (
            getattr(key, "_name", None) == "base.automation"
            and default is not None
            and default._name == self.model
        ):
            # Records created by the restore (recreated ones) have new ids.
            self.cr.execute(
                SQL(
                    "SELECT id FROM %s WHERE id > %s",
                    SQL.identifier(self.table),
                    self.watermark,
                )
            )
            ids = self.pending_ids | {r[0] for r in self.cr.fetchall()}
            return default.browse(ids) + super().get(key, default)
        return super().get(key, default)


class OrmTarget:
    """Where an applier writes: the ORM, so constraints, computed fields and
    tracking behave."""

    def __init__(self, env, model, automations_done=None, journal=None):
        # Restored values are tracked like any edit, whatever the caller says.
        context = {
            "active_test": False,
            "lang": "en_US",
            "tracking_disable": False,
            "mail_notrack": False,
        }
        if automations_done is not None:
            context["__action_done"] = automations_done
        self.automations_done = automations_done
        # Keeps what the writes change, for an exact undo.
        self.journal = journal
        # Writes run with the rights of the user who confirmed the restore.
        self.Model = env[model].with_context(**context)
        self.env = env
        self.written_ids = []
        # Left to Odoo's own finalisation at commit (see finish).
        self.tracking_kept = {
            name: set(ids) for name, ids in pending_tracking(env).items()
        }

    def write_values(self, ids, vals):
        if self.automations_done is not None:
            self.automations_done.pending_ids.update(ids)
        self.written_ids.extend(ids)
        records = self.Model.browse(ids)
        if self.journal is not None:
            self.journal.capture_links(records, vals)
        records.write(vals)

    def create_record(self, xmlid, vals):
        """A deleted record again, under its external ID when that is free or
        still names a vanished record of this model; None when the ID now
        belongs to something else (never re-pointed)."""
        module, _dot, name = xmlid.partition(".")
        Data = self.env["ir.model.data"].sudo()
        existing = Data.search([("module", "=", module), ("name", "=", name)])
        if existing and (
            existing.model != self.Model._name
            or self.Model.sudo().browse(existing.res_id).exists()
        ):
            return None
        record = self.Model.create(vals)
        if existing:
            existing.write({"res_id": record.id})
        else:
            Data.create(
                {
                    "module": module,
                    "name": name,
                    "model": self.Model._name,
                    "res_id": record.id,
                    "noupdate": True,
                }
            )
        return record.id

    def delete_records(self, ids):
        self.Model.browse(ids).exists().unlink()

    def flush(self):
        # Recomputations run in the flushing environment: it must carry the
        # automation context too.
        self.Model.env.flush_all()
        if self.automations_done is not None:
            self.automations_done.pending_ids.clear()

    def finish(self):
        """Tracking messages of the written records, created together rather
        than one by one at commit."""
        self.flush()
        finalize_tracking(self.Model, self.written_ids, keep=self.tracking_kept)
        self.written_ids = []
        # The next records are others: what the cache holds is dead weight.
        self.env.invalidate_all()
