from . import (
    test_backup_access,
    test_backup_exporter,
    test_backup_flow,
    test_backup_snapshot,
    test_backup_tour,
    test_backup_writer,
)
