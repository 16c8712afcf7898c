from . import test_restore_reader
