# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Compare backup values with the live database: what a restore would do."""

import math
from dataclasses import dataclass, field

from .errors import Message, _lt

SAMPLE_SIZE = 20
CONFLICT_LIST_SIZE = 200
# Conflict reasons: Messages, which the models show in the user's language.
NO_ACCESS = Message(_lt("you may not access this record"))
CHANGED_SINCE_REVIEW = Message(_lt("changed after the plan was reviewed"))


@dataclass(frozen=True)
class RestoreField:
    """What the planner needs to know about one restored field."""

    name: str
    type: str
    label: str = ""
    relation: str = ""
    selection: frozenset | None = None  # valid keys of a selection field
    required: bool = False


@dataclass
class FieldPlan:
    change: int = 0
    clear: int = 0
    unchanged: int = 0
    conflict: int = 0


@dataclass
class Plan:
    """Result of a plan: counts, samples and the records to recreate (the
    changes go to the planner's ``on_batch``, batch by batch)."""

    fields: dict = field(default_factory=dict)  # name -> FieldPlan
    backup_count: int = 0
    deleted: dict = field(default_factory=dict)  # xmlid -> {field: target value}
    deleted_names: dict = field(default_factory=dict)  # xmlid -> name in the backup
    created_since_count: int = 0
    conflicts: list = field(default_factory=list)  # first conflicts, for display
    conflict_count: int = 0
    samples: list = field(default_factory=list)  # (xmlid, id, field, before, after)
    change_count: int = 0  # records with a change


def is_blank(ftype, value):
    """A blank backup value clears the live one (booleans are never blank)."""
    if ftype == "boolean":
        return False
    return value is False or value is None or value == () or value == frozenset()


def normalize(ftype, value):
    """One comparable form per field type, for live and backup values alike."""
    if ftype == "boolean":
        return bool(value)
    if ftype == "integer":
        return int(value or 0)
    if ftype in ("float", "monetary"):
        return float(value or 0.0)
    if ftype == "many2many":
        return frozenset(value or ())
    if ftype == "binary":
        if isinstance(value, bytes | memoryview):
            value = bytes(value).decode("ascii")
        return value or False
    if value in (None, "", False):
        return False
    return value


def same(ftype, left, right):
    if ftype in ("float", "monetary"):
        return math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-12)
    return left == right


class Planner:
    """Compute a restore plan from backup rows and a live source.

    ``live`` gives the database side, in batches:
    ``resolve(model, xmlids) -> {xmlid: id}`` (existing records only),
    ``fetch(ids, field_names) -> {id: {field: value}}`` and
    ``mark_matched(ids)`` (records of the backup found live) and
    ``count_unmatched() -> int`` (live records of the object not marked).
    """

    def __init__(
        self,
        model,
        fields,
        live,
        batch_size=5000,
        recreate_fields=None,
        changed_after=None,
        name_field=None,
    ):
        self.model = model
        # The backup's column naming a record: deleted records are listed by it.
        self.name_field = name_field
        # When the plan was reviewed: records written since are conflicts
        # (``live.changed_after(ids, when) -> ids``), never overwritten.
        self.changed_after = changed_after
        self.fields = list(fields)
        self.live = live
        self.batch_size = batch_size
        # Fields given to records recreated (all the backup holds), if asked.
        self.recreate_fields = list(recreate_fields or [])
        self.planned = {f.name for f in self.fields}

    def plan(self, rows, on_batch):
        """``rows`` yields ``(xmlid, {field: parsed value})``.

        The changes are not kept in the plan: each batch's ``(changes,
        before)`` (``{id: {field: target value}}``, ``{id: {field: live
        value}}``) goes to ``on_batch``, so memory stays bounded.
        """
        plan = Plan(fields={f.name: FieldPlan() for f in self.fields})
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self.batch_size:
                self._plan_batch(plan, batch, on_batch)
                batch = []
        if batch:
            self._plan_batch(plan, batch, on_batch)
        plan.created_since_count = self.live.count_unmatched()
        return plan

    def _resolve_references(self, batch):
        wanted = {}
        for spec in self.fields + self.recreate_fields:
            if spec.type not in ("many2one", "many2many"):
                continue
            refs = wanted.setdefault(spec.relation, set())
            for _xmlid, values in batch:
                value = values.get(spec.name)
                if spec.type == "many2one" and value:
                    refs.add(value)
                elif spec.type == "many2many":
                    refs.update(value or ())
        return {
            model: self.live.resolve(model, sorted(xmlids)) if xmlids else {}
            for model, xmlids in wanted.items()
        }

    def _target(self, spec, value, refs):
        """Backup value -> (value to write, conflict reason or None)."""
        if spec.type == "many2one":
            if not value:
                return False, None
            res_id = refs[spec.relation].get(value)
            if not res_id:
                return None, self._missing(value)
            return res_id, None
        if spec.type == "many2many":
            ids = []
            for xmlid in value or ():
                res_id = refs[spec.relation].get(xmlid)
                if not res_id:
                    return None, self._missing(xmlid)
                ids.append(res_id)
            return frozenset(ids), None
        if spec.type == "selection" and value and spec.selection is not None:
            if value not in spec.selection:
                return None, Message(
                    _lt("option %(value)r no longer exists"), value=value
                )
        if spec.required and is_blank(spec.type, value):
            return None, Message(
                _lt("the field is now required but the backup has no value")
            )
        return value, None

    def _missing(self, xmlid):
        if xmlid in getattr(self.live, "hidden", ()):
            return Message(
                _lt("you may not access the related record %(xmlid)s"), xmlid=xmlid
            )
        return Message(_lt("related record %(xmlid)s no longer exists"), xmlid=xmlid)

    def _conflict(self, plan, xmlid, spec, reason):
        plan.conflict_count += 1
        plan.fields[spec.name].conflict += 1
        if len(plan.conflicts) < CONFLICT_LIST_SIZE:
            plan.conflicts.append((xmlid, spec.name, reason))

    def _plan_batch(self, plan, batch, on_batch):
        changes, before = self._compare_batch(plan, batch)
        plan.change_count += len(changes)
        on_batch(changes, before)

    def _compare_batch(self, plan, batch):
        """Count ``batch`` into ``plan``; returns its ``(changes, before)``."""
        changes, befores = {}, {}
        plan.backup_count += len(batch)
        found = self.live.resolve(self.model, [xmlid for xmlid, _v in batch])
        self.live.mark_matched(found.values())
        refs = self._resolve_references(batch)
        names = [f.name for f in self.fields]
        live_values = self.live.fetch(sorted(set(found.values())), names)
        stale = (
            self.live.changed_after(list(found.values()), self.changed_after)
            if self.changed_after
            else set()
        )
        for xmlid, values in batch:
            res_id = found.get(xmlid)
            if not res_id and xmlid in getattr(self.live, "hidden", ()):
                for spec in self.fields:
                    self._conflict(plan, xmlid, spec, NO_ACCESS)
                continue
            if res_id in stale:
                for spec in self.fields:
                    self._conflict(plan, xmlid, spec, CHANGED_SINCE_REVIEW)
                continue
            if not res_id:
                targets = {}
                for spec in self.recreate_fields or self.fields:
                    target, reason = self._target(spec, values.get(spec.name), refs)
                    if reason and spec.name in self.planned:
                        self._conflict(plan, xmlid, spec, reason)
                    elif not reason:
                        targets[spec.name] = target
                plan.deleted[xmlid] = targets
                if self.name_field:
                    plan.deleted_names[xmlid] = values.get(self.name_field) or ""
                continue
            current = live_values.get(res_id, {})
            for spec in self.fields:
                value = values.get(spec.name)
                target, reason = self._target(spec, value, refs)
                if reason:
                    self._conflict(plan, xmlid, spec, reason)
                    continue
                before = normalize(spec.type, current.get(spec.name))
                after = normalize(spec.type, target)
                stats = plan.fields[spec.name]
                if same(spec.type, before, after):
                    stats.unchanged += 1
                    continue
                if is_blank(spec.type, value):
                    stats.clear += 1
                else:
                    stats.change += 1
                changes.setdefault(res_id, {})[spec.name] = after
                befores.setdefault(res_id, {})[spec.name] = before
                if len(plan.samples) < SAMPLE_SIZE:
                    plan.samples.append((xmlid, res_id, spec.name, before, after))
        return changes, befores
