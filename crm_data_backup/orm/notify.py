# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outcome messages to whoever asked for a job, the way Odoo's apps send
them: posted by OdooBot, so that the requester is a recipient (Odoo never
notifies the author of a message, nor the user who posts it), delivered by
the requester's preference (Discuss inbox or e-mail), with absolute links,
plus a pop-up for a requester who is still on the page."""

from markupsafe import Markup

from odoo import SUPERUSER_ID


def record_url(record):
    """Absolute address that opens ``record`` (after a login)."""
    record.ensure_one()
    return record._notify_get_action_link("view")


def notify_requester(record, user, title, lines, links, subtype_xmlid, toast):
    """Tell ``user`` the outcome of a job on ``record`` (a mail.thread):
    ``lines`` (plain text paragraphs) and ``links`` ((label, absolute url)
    buttons) in a message, ``toast`` (the pop-up's type and text) on the bus.
    Never put backed-up values or secrets in ``lines``: they may leave the
    database by e-mail."""
    record.ensure_one()
    body = Markup("").join(Markup("<p>%s</p>") % line for line in lines)
    body += Markup("").join(
        Markup("<p><a href='%s' class='btn btn-primary'>%s</a></p>") % (url, label)
        for label, url in links
    )
    # Posted as the system user (inactive): the recipient is not the
    # message's "real author", whom Odoo skips.
    record.with_user(SUPERUSER_ID).with_context(
        lang=user.lang or record.env.lang
    ).message_post(
        author_id=record.env.ref("base.partner_root").id,
        body=body,
        subject=title,
        partner_ids=user.partner_id.ids,
        message_type="notification",
        subtype_xmlid=subtype_xmlid,
        email_layout_xmlid="mail.mail_notification_light",
    )
    if user:
        kind, message = toast
        user._bus_send(
            "simple_notification",
            {
                "type": kind,
                "title": title,
                "message": message,
                "sticky": kind == "danger",
            },
        )
