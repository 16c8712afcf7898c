from . import crm_backup_create_wizard
