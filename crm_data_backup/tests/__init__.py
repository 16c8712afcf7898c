from . import test_access
from . import test_audit
from . import test_menu_tour
