# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Tools of the end-to-end suite: a real Odoo server process, its database, figures.

Nothing here is a mock: the server is ``odoo-bin`` in its own process group (prefork,
two HTTP workers and a cron worker), on its own database and data directory, so it can
be killed with SIGKILL like a crashed machine and started again.
"""

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
ADDON = ROOT / "crm_data_backup"
E2E_MODULES = "crm_data_backup,helpdesk_mgmt"

# Tables of CRM data compared before and after anything that must change nothing.
# mail_message is restricted to messages on CRM records: a failure may notify the
# user's inbox, which is not CRM data.
CRM_TABLES = {
    "res_partner": "",
    "crm_lead": "",
    "crm_tag": "",
    "product_template": "",
    "product_product": "",
    "mail_activity": "",
    "helpdesk_ticket": "",
    "mail_message": "WHERE model IN ('res.partner', 'crm.lead', 'product.template',"
    " 'mail.activity', 'helpdesk.ticket', 'project.task')",
}


class Figures:
    """What the suite actually did, printed at the end of the session."""

    def __init__(self):
        self.inputs = Counter()  # kind of bad input -> how many were fed
        self.faults = Counter()  # kind of fault -> how many were injected
        self.checks = set()  # (role, action, level) access checks that ran
        self.records_compared = 0
        self.records_lost = 0

    def input(self, kind, count=1):
        self.inputs[kind] += count

    def fault(self, kind):
        self.faults[kind] += 1

    def check(self, role, action, level):
        self.checks.add((role, action, level))

    def compare(self, before, after):
        """Count records of ``before`` (a fingerprint) missing from ``after``."""
        for table, (ids, _digest) in before.items():
            self.records_compared += len(ids)
            self.records_lost += len(set(ids) - set(after[table][0]))

    def lines(self):
        roles = {c[0] for c in self.checks}
        actions = {c[1] for c in self.checks}
        levels = {c[2] for c in self.checks}
        return [
            f"inputs tried: {sum(self.inputs.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.inputs.items()))})",
            f"faults injected: {sum(self.faults.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.faults.items()))})",
            f"roles x actions checked: {len(roles)} roles x {len(actions)} actions"
            f" at {len(levels)} levels ({', '.join(sorted(levels))}) ="
            f" {len(self.checks)} checks",
            f"records compared after faults and bad input: {self.records_compared}",
            f"records lost: {self.records_lost}",
        ]


FIGURES = Figures()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_connect(config, dbname):
    conn = psycopg2.connect(
        dbname=dbname,
        host=config["db_host"] or None,
        port=config["db_port"] or None,
        user=config["db_user"] or None,
        password=config["db_password"] or None,
    )
    conn.autocommit = True
    return conn


def addon_digest():
    """Digest of the addon's source: a cached template is rebuilt when it changes."""
    digest = hashlib.sha1(E2E_MODULES.encode())
    for path in sorted(ADDON.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ADDON)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class Database:
    """The end-to-end database, made from a cached template database.

    Installing the addon takes ~20 s, copying a template ~1 s: the template is rebuilt
    only when the addon's source changed (its digest is the database comment).
    """

    def __init__(self, config, odoo_cmd, name, data_dir):
        self.config = config
        self.odoo_cmd = odoo_cmd
        self.name = name
        self.template = f"{name}_tmpl"
        self.data_dir = Path(data_dir)

    def filestore(self, db=None):
        return self.data_dir / "filestore" / (db or self.name)

    def _admin(self):
        return pg_connect(self.config, "postgres")

    def _drop(self, cr, db):
        cr.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            [db],
        )
        cr.execute(f'DROP DATABASE IF EXISTS "{db}"')
        shutil.rmtree(self.filestore(db), ignore_errors=True)

    def ensure_template(self):
        digest = addon_digest()
        with contextlib.closing(self._admin()) as conn, conn.cursor() as cr:
            cr.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                " WHERE datname = %s",
                [self.template],
            )
            row = cr.fetchone()
            if row and row[0] == digest and self.filestore(self.template).is_dir():
                return False
            self._drop(cr, self.template)
            subprocess.run(
                [
                    *self.odoo_cmd,
                    "-d",
                    self.template,
                    "-i",
                    E2E_MODULES,
                    "--without-demo=all",
                    "--stop-after-init",
                    "--log-level=warn",
                    f"--data-dir={self.data_dir}",
                ],
                check=True,
                capture_output=True,
                timeout=600,
            )
            cr.execute(f"COMMENT ON DATABASE \"{self.template}\" IS '{digest}'")
            return True

    def create(self):
        self.ensure_template()
        with contextlib.closing(self._admin()) as conn, conn.cursor() as cr:
            self._drop(cr, self.name)
            cr.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}"')
        shutil.copytree(self.filestore(self.template), self.filestore())

    def drop(self):
        with contextlib.closing(self._admin()) as conn, conn.cursor() as cr:
            self._drop(cr, self.name)

    @contextlib.contextmanager
    def cursor(self):
        """A plain PostgreSQL cursor on the database (autocommit)."""
        with contextlib.closing(pg_connect(self.config, self.name)) as conn:
            with conn.cursor() as cr:
                yield cr

    def fingerprint(self):
        """Ids and digest of every row of the CRM tables."""
        result = {}
        with self.cursor() as cr:
            for table, where in CRM_TABLES.items():
                cr.execute(
                    f"SELECT coalesce(array_agg(t.id ORDER BY t.id), '{{}}'),"
                    f" md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), ''))"
                    f" FROM {table} t {where}"
                )
                ids, digest = cr.fetchone()
                result[table] = (tuple(ids), digest)
        return result


class OdooServer:
    """``odoo-bin`` in its own process group, on 127.0.0.1 and a free port."""

    def __init__(self, odoo_cmd, db, data_dir, log_path, workers=2, tmp_dir=None):
        self.odoo_cmd = odoo_cmd
        self.db = db
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.workers = workers
        self.tmp_dir = Path(tmp_dir) if tmp_dir else None
        self.port = None
        self.proc = None
        self.starts = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=120):
        self.port = free_port()
        args = [
            *self.odoo_cmd,
            "-d",
            self.db,
            f"--db-filter=^{self.db}$",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={free_port()}",
            f"--data-dir={self.data_dir}",
            f"--workers={self.workers}",
            "--max-cron-threads=1",
            "--limit-time-real=900",
            "--limit-time-cpu=900",
            "--limit-time-real-cron=900",
            "--log-level=info",
            "--log-handler=odoo.addons.crm_data_backup:DEBUG",
        ]
        env = dict(os.environ)
        if self.tmp_dir:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            env["TMPDIR"] = str(self.tmp_dir)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"odoo-bin exited with {self.proc.returncode}, see {self.log_path}"
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/web/login", timeout=5).status_code == 200:
                    return self
            time.sleep(0.3)
        self.kill()
        raise RuntimeError(
            f"odoo-bin did not answer in {timeout}s, see {self.log_path}"
        )

    def _signal_group(self, sig):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def kill(self):
        """SIGKILL the whole server (master, HTTP and cron workers) like a crash."""
        if self.proc and self.proc.poll() is None:
            self._signal_group(signal.SIGKILL)
            self.proc.wait(30)
        elif self.proc:
            self._signal_group(signal.SIGKILL)
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def restart(self):
        self.stop()
        return self.start()

    def log_text(self):
        return self.log_path.read_text(errors="replace")


def odoo_command(config_path):
    src = os.environ.get("ODOO_SRC") or "/opt/odoo-18.0"
    python = sys.executable
    venv = os.environ.get("VENV")
    if venv and (Path(venv) / "bin" / "python").exists():
        python = str(Path(venv) / "bin" / "python")
    return [python, str(Path(src) / "odoo-bin"), "-c", str(config_path)]


def wait_for(predicate, timeout, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
