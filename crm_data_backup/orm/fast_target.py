# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Fast restore target: many records' different values in one ORM pass."""

from collections import defaultdict

from .tracking_log import is_tracked
from .write_logic import write_logic

RELATIONAL = ("many2one", "many2many", "one2many")
X2MANY = ("many2many", "one2many")


class FastOrmTarget:
    """Write ``{id: vals}`` (one field set) the way ``BaseModel.write`` does,
    but once per batch instead of once per distinct value.

    Kept: access checks, protection of computed-writable fields, ``modified``
    (before and after), constraints (``_validate_fields`` and
    ``_check_company``), inverses, tracking and auto-subscription of
    ``mail.thread``, and base_automation's write processing, in the order the
    patched ``write`` runs them. The model's own ``write`` overrides are
    skipped: batches of the fields they give logic to (see write_logic) go
    through the normal write instead.

    Tracking messages, which mail.thread creates one by one at commit, are
    created by ``finish()`` in batches (see tracking_log), with the same values.
    """

    bulk = True

    def __init__(self, orm_target):
        # The normal target: same context, same automation bookkeeping.
        self.base = orm_target
        self.Model = orm_target.Model
        self.env = orm_target.env
        self.automations_done = orm_target.automations_done
        # Fields the model's own write() gives logic to: written by it.
        self.logic = set(write_logic(self.Model))

    def write_values(self, ids, vals):
        self.write_rows(dict.fromkeys(ids, vals))

    def create_record(self, xmlid, vals):
        return self.base.create_record(xmlid, vals)

    def delete_records(self, ids):
        self.base.delete_records(ids)

    def flush(self):
        self.base.flush()

    def write_rows(self, rows):
        """``rows``: {id: {field: value for write()}}, same keys for every id."""
        if not rows:
            return
        if self.logic.intersection(next(iter(rows.values()))):
            self._write_normally(rows)
            return
        if self.automations_done is not None:
            self.automations_done.pending_ids.update(rows)
        # The normal target finalises their tracking (see finish).
        self.base.written_ids.extend(rows)
        records = self.Model.browse(list(rows))
        fnames = list(next(iter(rows.values())))
        if self.base.journal is not None:
            self.base.journal.capture_links(records, fnames)
        automations = self._automations(records)
        if not automations:
            self._write(records, rows, fnames)
            return
        # What base_automation's patched write() does around the write.
        records = records.with_env(automations.env)
        pre = {
            automation: automation._filter_pre(records) for automation in automations
        }
        old_values = {
            record.id: {
                fname: record[fname] for fname in fnames if record._fields[fname].store
            }
            for record in records
        }
        self._write(records, rows, fnames)
        for automation in automations.with_context(old_values=old_values):
            todo, domain_post = automation._filter_post_export_domain(
                pre[automation], feedback=True
            )
            automation._process(todo, domain_post=domain_post)

    def _write_normally(self, rows):
        """Through the model's write(), once per distinct set of values."""
        groups = defaultdict(list)
        for res_id, vals in rows.items():
            groups[repr(sorted(vals.items()))].append(res_id)
        for ids in groups.values():
            self.base.write_values(ids, rows[ids[0]])

    @staticmethod
    def _tracking_candidates(records, fnames):
        # mail.thread.write snapshots every tracked field (some are costly
        # non-stored computes); only the written ones and those computed from
        # them can change here.
        tree = records.pool.get_trigger_tree([records._fields[f] for f in fnames])
        return set(fnames).union(field.name for field in tree.root)

    def finish(self):
        self.base.finish()

    def _automations(self, records):
        if "base.automation" not in self.env:
            return None
        from odoo.addons.base_automation.models.base_automation import (
            WRITE_TRIGGERS,
        )

        return records.env["base.automation"]._get_actions(records, WRITE_TRIGGERS)

    def _write(self, records, rows, fnames):
        env = records.env
        records.check_access("write")
        records.check_field_access_rights("write", fnames)
        tracking = is_tracked(records)
        if tracking and not env.context.get("mail_notrack"):
            records._track_prepare(self._tracking_candidates(records, fnames))

        model_fields = records._fields
        magic = {}
        if records._log_access:
            magic = {"write_uid": env.uid, "write_date": env.cr.now()}
        all_names = fnames + [name for name in magic if name not in fnames]

        determine_inverses = defaultdict(list)
        modifying_relations = []
        protected = set()
        check_company = False
        for fname in fnames:
            field = model_fields[fname]
            if field.inverse:
                if field.type in X2MANY:
                    records.mapped(fname)
                determine_inverses[field.inverse].append(field)
            if records.pool.is_modifying_relations(field):
                modifying_relations.append(fname)
            if (field.inverse or (field.compute and not field.readonly)) and (
                field.store or field.type not in X2MANY
            ):
                protected.update(records.pool.field_computed.get(field, [field]))
            if fname == "company_id" or (field.relational and field.check_company):
                check_company = True

        to_compute = [f.name for f in protected if f.compute and f.name not in fnames]
        if to_compute:
            records._recompute_recordset(to_compute)

        with env.protecting(protected, records):
            records.modified(modifying_relations, before=True)
            writes = [(model_fields[name], None) for name in fnames]
            writes += [(model_fields[name], value) for name, value in magic.items()]
            for field, value in sorted(writes, key=lambda item: item[0].write_sequence):
                if field.name in magic:
                    field.write(records, value)
                elif field.type in X2MANY:
                    field.write_batch(
                        [(records.browse(i), rows[i][field.name]) for i in records._ids]
                    )
                else:
                    self._write_scalar(records, field, rows)
            records.modified(all_names)
            if records._parent_store and records._parent_name in fnames:
                records.flush_model([records._parent_name])
            inverse_names = [f.name for fs in determine_inverses.values() for f in fs]
            records._validate_fields(all_names, inverse_names)
            for fields_ in determine_inverses.values():
                fields_[0].determine_inverse(records)
            records._validate_fields(inverse_names)

        if check_company and records._check_company_auto:
            records._check_company()
        if tracking:
            self._auto_subscribe(records, rows, fnames)

    @staticmethod
    def _write_scalar(records, field, rows):
        # One Field.write per distinct value: cache + dirty, no write() call.
        groups = defaultdict(list)
        name = field.name
        for res_id in records._ids:
            value = rows[res_id][name]
            try:
                key = (type(value), value)
                hash(key)
            except TypeError:  # e.g. a dict: no sharing
                key = (type(value), res_id)
            groups[key].append((res_id, value))
        for members in groups.values():
            ids = [res_id for res_id, _value in members]
            field.write(records.browse(ids), members[0][1])

    @staticmethod
    def _auto_subscribe(records, rows, fnames):
        # mail.thread only looks at relational values (followers, assignees).
        names = [f for f in fnames if records._fields[f].type in RELATIONAL]
        if not names:
            return
        groups = defaultdict(list)
        for res_id in records._ids:
            vals = {name: rows[res_id][name] for name in names}
            groups[repr(sorted(vals.items()))].append((res_id, vals))
        for members in groups.values():
            ids = [res_id for res_id, _vals in members]
            records.browse(ids)._message_auto_subscribe(members[0][1])
