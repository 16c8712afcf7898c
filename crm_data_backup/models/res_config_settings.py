# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..orm.offsite import (
    DEFAULT_KEEP,
    KEEP_PARAM,
    OffsiteError,
    parse_recipients,
    read_keep,
)

RECIPIENTS_PARAM = "crm_data_backup.offsite_age_recipients"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_backup_min_interval = fields.Selection(
        [
            ("0", "No limit"),
            ("1", "Once per hour"),
            ("24", "Once per day"),
            ("168", "Once per week"),
        ],
        string="Backup frequency limit",
        default="24",
        config_parameter="crm_data_backup.min_interval_hours",
        help="How often a backup may be requested, counted from the previous one.",
    )
    crm_backup_retention_days = fields.Integer(
        string="Keep backup files (days)",
        default=14,
        config_parameter="crm_data_backup.retention_days",
        help="Backup files can be downloaded for this many days, then they are deleted.",
    )
    crm_backup_schedule = fields.Selection(
        [("off", "Off"), ("daily", "Daily"), ("weekly", "Weekly")],
        string="Scheduled backups",
        default="off",
        config_parameter="crm_data_backup.schedule",
        help="Make backups automatically, with the same retention as manual ones.",
    )
    crm_backup_file_format = fields.Selection(
        [("csv", "CSV files in a zip"), ("xlsx", "One XLSX workbook in a zip")],
        string="Backup format",
        default="csv",
        config_parameter="crm_data_backup.file_format",
        help="CSV files can be imported back with Odoo's standard Import.",
    )
    crm_backup_csv_formula_protection = fields.Boolean(
        string="Protect CSV files against formulas",
        config_parameter="crm_data_backup.csv_formula_protection",
        help="Put a quote before CSV values (external IDs included) that a "
        "spreadsheet would run as formulas (=, +, -, @...). The CSV files then no "
        "longer re-import exactly through Odoo's Import, which keeps the quote; "
        "this application's restore removes it. XLSX backups never need it.",
    )
    crm_backup_include_binary = fields.Boolean(
        string="Include binary fields",
        config_parameter="crm_data_backup.include_binary",
        help="Also save images and files stored in fields (makes backups much larger).",
    )
    crm_backup_restore_automations = fields.Boolean(
        string="Run automated actions during restores",
        config_parameter="crm_data_backup.restore_run_automations",
        help="When off, automation rules do not fire on values written by a restore.",
    )
    crm_backup_restore_retention_days = fields.Integer(
        string="Keep restore files and undo data (days)",
        default=30,
        config_parameter="crm_data_backup.restore_retention_days",
        help="Uploaded backup files and the values a restore replaced are kept this "
        "many days; after that the restore can no longer be undone.",
    )
    # -- off-site copies (models/crm_backup_offsite.py) --------------------------
    crm_backup_storage_id = fields.Many2one(
        "fs.storage",
        string="Off-site storage",
        config_parameter="crm_data_backup.offsite_storage_id",
        help="Every finished backup is copied there (SFTP, S3, WebDAV, a "
        "directory...). Empty: backups stay on this server only.",
    )
    # a Text field cannot be a config_parameter field: see get/set_values
    crm_backup_age_recipients = fields.Text(
        string="age recipients",
        help="Public keys (age1..., one per line) the off-site copies are "
        "encrypted for. Empty: copies are not encrypted. The private keys are "
        "never entered here.",
    )
    # not config_parameter fields: those store 0 as "no value", which brings
    # the default back; 0 is a valid tier (none of those copies kept)
    crm_backup_keep_daily = fields.Integer(
        string="Daily copies kept",
        default=7,
        help="The newest copy of each of the last N days that have one.",
    )
    crm_backup_keep_weekly = fields.Integer(
        string="Weekly copies kept",
        default=4,
        help="The newest copy of each of the last N weeks that have one.",
    )
    crm_backup_keep_monthly = fields.Integer(
        string="Monthly copies kept",
        default=12,
        help="The newest copy of each of the last N months that have one.",
    )

    @api.model
    def get_values(self):
        # res.config.settings defines it (pylint sees TransientModel only)
        res = super().get_values()  # pylint: disable=no-member
        params = self.env["ir.config_parameter"].sudo()
        res["crm_backup_age_recipients"] = params.get_param(RECIPIENTS_PARAM) or False
        for tier, count in read_keep(params.get_param).items():
            res[f"crm_backup_keep_{tier}"] = count
        return res

    def set_values(self):
        res = super().set_values()  # pylint: disable=no-member
        lines = (self.crm_backup_age_recipients or "").splitlines()
        value = "\n".join(line.strip() for line in lines if line.strip())
        params = self.env["ir.config_parameter"].sudo()
        if (params.get_param(RECIPIENTS_PARAM) or "") != value:
            params.set_param(RECIPIENTS_PARAM, value or False)
        for tier in DEFAULT_KEEP:
            # a string: set_param() would delete the parameter for 0
            params.set_param(KEEP_PARAM % tier, str(self[f"crm_backup_keep_{tier}"]))
        return res

    @api.constrains("crm_backup_age_recipients")
    def _check_crm_backup_age_recipients(self):
        for settings in self:
            try:
                parse_recipients(settings.crm_backup_age_recipients)
            except OffsiteError as exc:
                raise ValidationError(exc.translated(self.env._)) from None

    @api.constrains(
        "crm_backup_keep_daily", "crm_backup_keep_weekly", "crm_backup_keep_monthly"
    )
    def _check_crm_backup_keep(self):
        for settings in self:
            if (
                min(
                    settings.crm_backup_keep_daily,
                    settings.crm_backup_keep_weekly,
                    settings.crm_backup_keep_monthly,
                )
                < 0
            ):
                raise ValidationError(
                    self.env._("The numbers of copies kept cannot be negative.")
                )

    def action_crm_backup_test_storage(self):
        """fs_storage's own connection test, on the chosen storage."""
        self.ensure_one()
        if not self.crm_backup_storage_id:
            raise UserError(self.env._("Choose an off-site storage first."))
        return self.crm_backup_storage_id.action_test_config()

    crm_backup_alert_deleted_percent = fields.Float(
        string="Alert: deleted records (%)",
        default=5.0,
        config_parameter="crm_data_backup.alert_deleted_percent",
        help="A finished backup is compared with the previous one: when this share "
        "of an object's records was deleted, the backup administrators are alerted.",
    )
    crm_backup_alert_changed_percent = fields.Float(
        string="Alert: changed records (%)",
        default=20.0,
        config_parameter="crm_data_backup.alert_changed_percent",
        help="When this share of an object's records had a value changed since the "
        "previous backup, the backup administrators are alerted.",
    )
    crm_backup_alert_min_records = fields.Integer(
        string="Alert: at least (records)",
        default=50,
        config_parameter="crm_data_backup.alert_min_records",
        help="No alert below this many deleted or changed records of an object, "
        "whatever their share.",
    )
