from . import (
    crm_backup_create_wizard,
    crm_backup_offsite_fetch,
    crm_backup_offsite_verify,
    crm_backup_restore_auth,
    crm_backup_history,
    crm_backup_history_line,
)
