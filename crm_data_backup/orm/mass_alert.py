# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mass-change alerts: a finished backup compared with the previous one."""

import logging

from .notify import notify_requester, record_url

_logger = logging.getLogger(__name__)

ALERT_DEFAULTS = {
    "alert_deleted_percent": 5.0,
    "alert_changed_percent": 20.0,
    "alert_min_records": 50,
}
# Finished backups looked at for one of the same companies.
PREVIOUS_LOOKUP = 20


class MassChangeAlert:
    """Compare ``backup`` (just finished) with the previous finished backup
    of the same companies; beyond the thresholds, flag it, log it and tell
    the backup administrators who may read it."""

    def __init__(self, backup):
        backup.ensure_one()
        self.backup = backup.sudo()
        self.env = backup.env

    def thresholds(self):
        params = self.env["ir.config_parameter"].sudo()
        values = {}
        for key, default in ALERT_DEFAULTS.items():
            try:
                value = float(params.get_param(f"crm_data_backup.{key}", default))
                values[key] = type(default)(value)
            except ValueError:
                values[key] = default
        return values

    def previous(self):
        """The last finished backup before this one, of the same companies."""
        backup = self.backup
        candidates = backup.search(
            [
                ("id", "<", backup.id),
                ("state", "=", "done"),
                ("attachment_id", "!=", False),
            ],
            order="id desc",
            limit=PREVIOUS_LOOKUP,
        )
        return candidates.filtered(lambda b: b.company_ids == backup.company_ids)[:1]

    def check(self):
        """Whether an alert was raised. Runs in its own savepoint after the
        backup's outcome: a comparison that fails changes nothing and never
        fails the backup; only the exception's type is logged (its text may
        quote backed-up values)."""
        previous = self.previous()
        if not previous:
            return False
        try:
            with self.env.cr.savepoint():
                compare = (
                    self.env["crm.backup.compare"]
                    .sudo()
                    .create(
                        {
                            "backup_from_id": previous.id,
                            "backup_to_id": self.backup.id,
                            "company_id": self.backup.company_id.id,
                        }
                    )
                )
                compare.action_compare()
                findings = self.findings(compare)
                self.backup.write({"alert_compare_id": compare.id})
                if findings:
                    self.raise_alert(compare, findings)
        except Exception as exc:  # pylint: disable=broad-except
            self.env.invalidate_all()
            _logger.warning(
                "Backup %s: comparison with backup %s failed: %s",
                self.backup.id,
                previous.id,
                type(exc).__name__,
            )
            return False
        return bool(findings)

    def findings(self, compare):
        """``[(line, kind, count, percent)]`` beyond the thresholds."""
        limits = self.thresholds()
        found = []
        for line in compare.line_ids:
            base = line.from_count
            if not base:
                continue
            for kind, count, limit in (
                ("deleted", line.deleted_count, limits["alert_deleted_percent"]),
                ("changed", line.changed_count, limits["alert_changed_percent"]),
            ):
                percent = 100.0 * count / base
                if count >= limits["alert_min_records"] and percent >= limit:
                    found.append((line, kind, count, percent))
        return found

    @staticmethod
    def text(env, findings):
        """One line per finding, in the language of ``env``."""
        _ = env._
        lines = []
        for line, kind, count, percent in findings:
            values = {
                "object": line.object_id.name or line.model_name,
                "count": count,
                "total": line.from_count,
                "percent": f"{percent:.1f}",
            }
            if kind == "deleted":
                text = _(
                    "%(object)s: %(count)s of %(total)s records deleted "
                    "(%(percent)s %%).",
                    **values,
                )
            else:
                text = _(
                    "%(object)s: %(count)s of %(total)s records changed "
                    "(%(percent)s %%).",
                    **values,
                )
            lines.append(text)
        return lines

    def recipients(self):
        """The backup administrators who may read the backup (all its companies)."""
        companies = self.backup.company_ids
        group = self.env.ref("crm_data_backup.group_crm_backup_admin").sudo()
        return group.users.filtered(
            lambda u: u.active and not u.share and companies <= u.company_ids
        )

    def raise_alert(self, compare, findings):
        backup = self.backup
        summary = "\n".join(self.text(self.env, findings))
        backup.write({"alert": True, "alert_summary": summary})
        self.env["crm.backup.audit"]._log(
            "backup_alert",
            backup_id=backup.id,
            user_id=backup.requested_by_id.id or self.env.uid,
            record_count=sum(count for _l, _k, count, _p in findings),
            details=summary,
        )
        for user in self.recipients():
            # in the user's language: the message is theirs
            local = backup.with_context(lang=user.lang or self.env.lang)
            _ = local.env._
            intro = _(
                "Since the previous backup, many records were deleted or changed "
                "(backup %(name)s):",
                name=backup.name,
            )
            notify_requester(
                local,
                user,
                _("Mass change alert"),
                [intro, *self.text(local.env, findings)],
                [
                    (_("Open the comparison"), record_url(compare)),
                    (_("Open the backup"), record_url(backup)),
                ],
                "crm_data_backup.mt_backup_alert",
                ("warning", intro),
            )
