from . import (
    base,
    crm_backup_server_owned,
    crm_backup_live,
    crm_backup,
    crm_backup_audit,
    crm_backup_line,
    crm_backup_object,
    crm_backup_restore,
    crm_backup_restore_line,
    ir_attachment,
    res_config_settings,
    res_users,
)
