from . import (
    test_restore_auth,
    test_restore_plan,
    test_restore_reader,
    test_restore_run,
)
