# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tracking messages of many restored records, created together."""

import datetime
import io
from collections import defaultdict

from markupsafe import escape

from odoo.exceptions import MissingError
from odoo.tools import SQL, clean_context, split_every
from odoo.tools.mail import generate_tracking_message_id
from odoo.tools.sql import table_columns

from odoo.addons.mail.models.mail_tracking_value import MailTracking
from odoo.addons.mail.models.models import BaseModel as MailBaseModel

# Records whose tracking is finalised together.
TRACKING_BATCH = 2000
# Columns a copied log message does not take from its template.
OWN_COLUMNS = ("id", "res_id", "body", "message_id")
# Rounds of finalisation of records made pending by the previous round.
FINALIZE_ROUNDS = 5
# Field types whose tracking values are the old and new values themselves.
PLAIN_TYPES = ("integer", "float", "char", "text", "datetime")


def is_tracked(records):
    env = records.env
    return (
        "mail.thread" in env
        and isinstance(records, env.registry["mail.thread"])
        and not env.context.get("tracking_disable")
    )


def pending_tracking(env):
    """``{model: ids}`` of the records whose tracking waits for the commit."""
    prefix = "mail.tracking."
    result = {}
    for key, initial in env.cr.precommit.data.items():
        model = key[len(prefix) :] if key.startswith(prefix) else None
        if model in env.registry and initial:
            ids = [res_id for res_id, values in initial.items() if values]
            if ids:
                result[model] = ids
    return result


def finalize_tracking(Model, written_ids, keep=None):
    """What ``mail.thread._track_finalize`` does at commit for ``written_ids``,
    with one message creation per batch instead of one per record; then the
    same for the records the writes made pending too (a contact's leads,
    recomputed from its e-mail), except ``keep`` (``{model: ids}``, pending
    before the restore): done now, they do not pile up until the commit.

    The first log message of a batch goes through ``mail.message.create``
    (every override included); the others are SQL copies of it that differ
    only by record, body and Message-Id, their tracking values inserted in
    one statement. Messages with a subtype (those that notify followers) go
    through ``message_post`` as usual.
    """
    _finalize(Model, written_ids)
    keep = keep or {}
    # A finalisation may recompute, and so make other records pending.
    for _round in range(FINALIZE_ROUNDS):
        others = {
            model: [i for i in ids if i not in keep.get(model, ())]
            for model, ids in pending_tracking(Model.env).items()
        }
        others = {model: ids for model, ids in others.items() if ids}
        if not others:
            break
        for model, ids in others.items():
            _finalize(Model.env[model], ids)


def _finalize(Model, written_ids):
    Model.env.flush_all()
    if not is_tracked(Model):
        return
    data = Model.env.cr.precommit.data
    pending = data.get(f"mail.tracking.{Model._name}") or {}
    ids = list(dict.fromkeys(i for i in written_ids if pending.get(i)))
    if not ids:
        return
    # Taken out of Odoo's own finalisation, which handles any other record.
    initial = {res_id: pending.pop(res_id) for res_id in ids}
    bodies = data.get(f"mail.tracking.message.{Model._name}", {})
    authors = data.get(f"mail.tracking.author.{Model._name}", {})
    bodies = {i: bodies.pop(i) for i in ids if i in bodies}
    authors = {i: authors.pop(i) for i in ids if i in authors}
    Model = Model.sudo()
    tracked_fields = Model.fields_get(
        Model._track_get_fields(),
        attributes=("string", "type", "selection", "currency_field"),
    )
    for chunk in split_every(TRACKING_BATCH, ids):
        _track_batch(Model.browse(chunk), tracked_fields, initial, bodies, authors)
        Model.env.flush_all()


def _track_batch(records, tracked_fields, initial, bodies, authors):
    # mail.thread._message_track, the log messages being created together.
    logs = defaultdict(list)  # author: [(record, body, tracking values)]
    cleaned = records.with_context(clean_context(records.env.context))
    tracking = _mail_track(cleaned, tracked_fields, initial)
    for record in cleaned:
        changes, values = tracking.get(record.id, (None, None))
        if not changes:
            continue
        subtype = record._track_subtype(
            {name: initial[record.id][name] for name in changes}
        )
        author_id = authors[record.id].id if record.id in authors else None
        if record.id in bodies:
            body = bodies[record.id]
        else:
            body = record._track_get_default_log_message(changes)
        if subtype:
            if subtype.exists():
                record.message_post(
                    body=body,
                    author_id=author_id,
                    subtype_id=subtype.id,
                    tracking_value_ids=values,
                )
        elif values:
            logs[author_id].append((record, body, values))
    for author_id, entries in logs.items():
        _log_tracking(cleaned, author_id, entries)
    for record in records:
        changes, _values = tracking.get(record.id, (None, None))
        record._message_track_post_template(changes)


def _mail_track(records, tracked_fields, initial):
    """``{id: record._mail_track(tracked_fields, initial[id])}``, deleted
    records left out. Unless a model overrides them, the fields are ordered
    and looked up once for all records rather than once per record."""
    Tracking = records.env["mail.tracking.value"]
    if (
        type(records)._mail_track is not MailBaseModel._mail_track
        or type(Tracking)._create_tracking_values
        is not MailTracking._create_tracking_values
    ):
        result = {}
        for record in records:
            try:
                result[record.id] = record._mail_track(
                    tracked_fields, initial[record.id]
                )
            except MissingError:
                continue
        return result
    order = [name for name, _seq in records._mail_track_order_fields(tracked_fields)]
    field_ids = {}
    result = {}
    for record in records:
        init = initial[record.id]
        updated = set()
        values = []
        try:
            for name in order:
                if name not in init:
                    continue
                old, new = init[name], record[name]
                if new == old or (not new and not old):
                    continue
                updated.add(name)
                info = tracked_fields[name]
                if info["type"] not in PLAIN_TYPES:
                    vals = Tracking._create_tracking_values(
                        old, new, name, info, record
                    )
                else:
                    if name not in field_ids:
                        field_ids[name] = _field_id(Tracking, record._name, name)
                    vals = {
                        "field_id": field_ids[name],
                        f"old_value_{info['type']}": old,
                        f"new_value_{info['type']}": new,
                    }
                values.append([0, 0, vals])
        except MissingError:
            continue
        result[record.id] = (updated, values)
    return result


def _field_id(Tracking, model, name):
    field = Tracking.env["ir.model.fields"]._get(model, name)
    if not field:
        raise ValueError(f"Unknown field {name} on model {model}")
    return field.id


def _log_tracking(records, author_id, entries):
    # The values mail.thread._message_log gives each record.
    author_id, email_from = records._message_compute_author(
        author_id, None, raise_on_email=False
    )
    base = {
        "author_id": author_id,
        "email_from": email_from,
        "model": records._name,
        "record_alias_domain_id": False,
        "record_company_id": False,
        "record_name": False,
        "attachment_ids": False,
        "message_type": "notification",
        "is_internal": True,
        "subject": False,
        "subtype_id": records.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
        "email_add_signature": False,
        "partner_ids": False,
        "reply_to": records.env["mail.thread"]._notify_get_reply_to(default=email_from)[
            False
        ],
    }
    vals_list = [
        dict(
            base,
            res_id=record.id,
            body=escape(body or ""),
            message_id=generate_tracking_message_id("message-notify"),
        )
        for record, body, _values in entries
    ]
    template = records.sudo()._message_create(vals_list[:1])
    messages = [template.id]
    if len(vals_list) > 1:
        messages += _copy_message(template, vals_list[1:])
    _insert_tracking_values(
        records.env["mail.tracking.value"].sudo(),
        [
            dict(command[2], mail_message_id=message_id)
            for message_id, (_record, _body, values) in zip(
                messages, entries, strict=True
            )
            for command in values
        ],
    )
    # The ORM keeps the template's (empty) tracking values in cache, and
    # mail.message.create refreshes each document's messages.
    template.invalidate_recordset(["tracking_value_ids"])
    records.browse(
        [record.id for record, _body, _values in entries]
    ).invalidate_recordset(
        ["message_ids", "message_needaction", "message_needaction_counter"]
    )


def _copy_message(template, vals_list):
    """Insert one message per ``vals_list`` entry, a copy of ``template``
    but for its record, body and Message-Id; their ids, in order."""
    Message = template.browse()
    template.flush_recordset()
    cr = template.env.cr
    columns = [c for c in table_columns(cr, Message._table) if c not in OWN_COLUMNS]
    body = Message._fields["body"]
    bodies = {}
    for vals in vals_list:
        if vals["body"] not in bodies:
            bodies[vals["body"]] = body.convert_to_column_insert(vals["body"], Message)
    cr.execute(
        SQL(
            "INSERT INTO mail_message (%(columns)s, res_id, body, message_id) "
            "SELECT %(copied)s, new.res_id, new.body, new.message_id "
            "FROM mail_message template, "
            "unnest(%(res_ids)s::int[], %(bodies)s::text[], %(message_ids)s::text[]) "
            "AS new(res_id, body, message_id) "
            "WHERE template.id = %(template)s RETURNING id, res_id",
            columns=SQL(", ").join(map(SQL.identifier, columns)),
            copied=SQL(", ").join(SQL.identifier("template", c) for c in columns),
            res_ids=[vals["res_id"] for vals in vals_list],
            bodies=[bodies[vals["body"]] for vals in vals_list],
            message_ids=[vals["message_id"] for vals in vals_list],
            template=template.id,
        )
    )
    # One message per record in a batch: the record tells which is which.
    by_res_id = {res_id: id_ for id_, res_id in cr.fetchall()}
    ids = [by_res_id[vals["res_id"]] for vals in vals_list]
    Message.browse(ids).modified(columns + list(OWN_COLUMNS[1:]), create=True)
    return ids


def _insert_tracking_values(Tracking, vals_list):
    """``mail.tracking.value`` rows, inserted as ``_create`` would insert them."""
    env = Tracking.env
    magic = {
        "create_uid": env.uid,
        "create_date": env.cr.now(),
        "write_uid": env.uid,
        "write_date": env.cr.now(),
    }
    groups = defaultdict(list)
    for vals in vals_list:
        groups[tuple(sorted(vals))].append(vals)
    stored = [name for name, field in Tracking._fields.items() if field.column_type]
    for keys, group in groups.items():
        missing = [name for name in stored if name not in keys and name not in magic]
        defaults = {
            name: value
            for name, value in Tracking.default_get(missing).items()
            if name in missing
        }
        fixed = {**defaults, **magic}
        columns = [*keys, *fixed]
        fields_ = [Tracking._fields[name] for name in keys]
        # the same for every row of the group: converted once
        tail = "".join(
            "\t"
            + _copy_text(
                Tracking._fields[name].convert_to_column_insert(value, Tracking, fixed)
            )
            for name, value in fixed.items()
        )
        rows = []
        for vals in group:
            rows.append(
                "\t".join(
                    _copy_text(
                        field.convert_to_column_insert(vals[field.name], Tracking, vals)
                    )
                    for field in fields_
                )
                + tail
            )
        env.cr.execute(
            "SELECT nextval('mail_tracking_value_id_seq') FROM generate_series(1, %s)",
            [len(rows)],
        )
        ids = [id_ for (id_,) in env.cr.fetchall()]
        # COPY: one stream for thousands of rows, no statement to parse
        text = "".join(f"{id_}\t{row}\n" for id_, row in zip(ids, rows, strict=True))
        env.cr.copy_expert(
            SQL(
                "COPY mail_tracking_value (id, %s) FROM STDIN",
                SQL(", ").join(map(SQL.identifier, columns)),
            ).code,
            io.StringIO(text),
        )
        Tracking.browse(ids).modified(columns, create=True)


# PostgreSQL's COPY text format: backslash escapes, \N for NULL.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value):
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(COPY_ESCAPES)
    if isinstance(value, bool | int | float | datetime.date):
        return str(value)
    raise TypeError(f"no COPY text for {type(value).__name__}")
