# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "CRM Data Backup",
    "summary": "Back up CRM data to CSV/XLSX and restore selected fields, audited",
    "version": "18.0.1.1.0",
    "category": "Sales/CRM",
    "website": "https://github.com/crm-data-backup/crm_data_backup",
    "author": "crm_data_backup contributors",
    "license": "LGPL-3",
    "application": False,
    "installable": True,
    "depends": ["crm", "contacts", "product", "mail", "auth_totp", "base_import"],
    "external_dependencies": {"python": ["pyotp", "xlsxwriter"]},
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "security/ir_rule.xml",
        "views/crm_backup_audit_views.xml",
        "views/crm_backup_object_views.xml",
        "views/crm_backup_views.xml",
        "views/crm_backup_restore_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/crm_backup_create_wizard_views.xml",
        "wizards/crm_backup_restore_auth_views.xml",
        "views/menus.xml",
        "views/crm_backup_compare_views.xml",
        "wizards/crm_backup_history_views.xml",
        "data/crm_backup_object_data.xml",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_message_subtype_data.xml",
        "data/ir_cron_restore_data.xml",
        "data/crm_backup_compare_data.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "crm_data_backup/static/src/views/*",
        ],
        "web.assets_tests": [
            "crm_data_backup/static/tests/tours/*.js",
        ],
    },
}
