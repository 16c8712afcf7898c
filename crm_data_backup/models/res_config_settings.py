# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


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
