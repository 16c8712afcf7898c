from . import (
    crm_backup_create_wizard,
    crm_backup_offsite_fetch,
    crm_backup_offsite_verify,
    crm_backup_restore_auth,
)
