# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``odoo-bin`` for the end-to-end suite, when gevent cannot start in this virtualenv.

A prefork server (--workers) also spawns a gevent process for websockets. Where gevent
is installed without its dependencies (``zope.interface``) that process dies at import
and the master respawns it every second, burning CPU and flooding the log. The suite
does not use websockets, so this launcher leaves that one process out; everything else
is plain ``odoo-bin``. Usage: ``python odoo_server.py <odoo source> <odoo-bin args>``.
"""

import os
import sys

os.environ["TZ"] = "UTC"  # as odoo-bin does, before anything imports time
sys.path.insert(0, sys.argv.pop(1))

import odoo
from odoo.service import server


def _no_long_polling(self):
    self.long_polling_pid = None


server.PreforkServer.long_polling_spawn = _no_long_polling

if __name__ == "__main__":
    odoo.cli.main()
