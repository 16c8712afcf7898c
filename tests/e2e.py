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
        self.races = Counter()  # kind of race -> rounds run
        self.records_compared = 0
        self.records_lost = 0
        self.attacks = Counter()  # kind of attack by a backup admin -> attempts
        self.escalations = Counter()  # kind of attack -> attempts that changed data

    def input(self, kind, count=1):
        self.inputs[kind] += count

    def fault(self, kind):
        self.faults[kind] += 1

    def race(self, kind):
        self.races[kind] += 1

    def check(self, role, action, level):
        self.checks.add((role, action, level))

    def attack(self, kind, escalated=False):
        """An attack tried by a backup administrator (or a salesman); ``escalated``
        when it changed what it must not (users, settings, external IDs, data)."""
        self.attacks[kind] += 1
        if escalated:
            self.escalations[kind] += 1

    def compare(self, before, after):
        """Count records of ``before`` (a fingerprint) missing from ``after``."""
        for table, (ids, _digest) in before.items():
            self.records_compared += len(ids)
            self.records_lost += len(set(ids) - set(after[table][0]))

    def lines(self):
        escalated = "".join(
            f"; {kind}: {n}" for kind, n in sorted(self.escalations.items())
        )
        roles = {c[0] for c in self.checks}
        actions = {c[1] for c in self.checks}
        levels = {c[2] for c in self.checks}
        return [
            f"inputs tried: {sum(self.inputs.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.inputs.items()))})",
            f"faults injected: {sum(self.faults.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.faults.items()))})",
            f"races run: {sum(self.races.values())} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.races.items()))})",
            f"roles x actions checked: {len(roles)} roles x {len(actions)} actions"
            f" at {len(levels)} levels ({', '.join(sorted(levels))}) ="
            f" {len(self.checks)} checks",
            f"privilege checks by a backup admin: {sum(self.attacks.values())}"
            f" ({len(self.attacks)} attacks), escalations:"
            f" {sum(self.escalations.values())}{escalated}",
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
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND usename = current_user",
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
        with self.cursor() as cr:
            # Only the addon's jobs run by themselves: other modules' start-up jobs
            # (lead scoring, digests...) would change CRM rows while we compare them.
            # Odoo's autovacuum (the filestore GC) stays, run when a test wakes it.
            cr.execute(
                """
                UPDATE ir_cron SET active = false WHERE id NOT IN (
                    SELECT res_id FROM ir_model_data WHERE model = 'ir.cron'
                    AND (module = 'crm_data_backup' OR name = 'autovacuum_job'))
                """
            )
            cr.execute(
                "UPDATE ir_cron SET nextcall = now() + interval '30 days' WHERE id IN"
                " (SELECT res_id FROM ir_model_data WHERE model = 'ir.cron'"
                " AND name = 'autovacuum_job')"
            )

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
        # the same port across restarts, as clients of a real server expect
        self.port = self.port or free_port()
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


def _python():
    venv = os.environ.get("VENV")
    if venv and (Path(venv) / "bin" / "python").exists():
        return str(Path(venv) / "bin" / "python")
    return sys.executable


def odoo_command(config_path):
    src = os.environ.get("ODOO_SRC") or "/opt/odoo-18.0"
    return [_python(), str(Path(src) / "odoo-bin"), "-c", str(config_path)]


def server_command(config_path):
    """odoo-bin, or our launcher without the websocket process where gevent is
    broken (see odoo_server.py); returns (command, whether gevent works)."""
    src = os.environ.get("ODOO_SRC") or "/opt/odoo-18.0"
    probe = subprocess.run(
        [_python(), "-c", "import gevent.monkey; gevent.monkey.patch_all()"],
        capture_output=True,
        check=False,
    )
    if probe.returncode == 0:
        return odoo_command(config_path), True
    launcher = Path(__file__).with_name("odoo_server.py")
    return [_python(), str(launcher), src, "-c", str(config_path)], False


def wait_for(predicate, timeout, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# The table of each kind of job, for job_state and wait_job.
JOB_TABLES = {"backup": "crm_backup", "restore": "crm_backup_restore"}


def job_state(db, kind, job_id):
    """The state of a backup or restore (``kind``), None if there is none."""
    with db.cursor() as cr:
        cr.execute(f"SELECT state FROM {JOB_TABLES[kind]} WHERE id = %s", [job_id])
        row = cr.fetchone()
    return row and row[0]


def wait_job(db, kind, job_id, states, timeout):
    """Wait until the backup or restore reaches one of ``states``; returns the state."""
    return wait_for(
        lambda: job_state(db, kind, job_id) in states and job_state(db, kind, job_id),
        timeout,
        what=f"{kind} {job_id} to reach {states}",
    )


def backup_state(db, backup_id):
    return job_state(db, "backup", backup_id)


def wait_backup(db, backup_id, states=("done", "failed"), timeout=240):
    return wait_job(db, "backup", backup_id, states, timeout)


def audit_entries(db, **where):
    """Audit entries (dicts) matching ``where`` (column = value), oldest first."""
    clauses = " AND ".join(f"{column} = %s" for column in where) or "TRUE"
    with db.cursor() as cr:
        cr.execute(
            f"SELECT id, action, user_id, remote_addr, backup_id, restore_id, details"
            f" FROM crm_backup_audit WHERE {clauses} ORDER BY id",
            list(where.values()),
        )
        columns = [c.name for c in cr.description]
        return [dict(zip(columns, row, strict=True)) for row in cr.fetchall()]


def record_id(result):
    """The id in what an RPC returned for one record: an id, [id], or, for a method
    without ``@api.returns``, the recordset's repr ``"model(id,)"``."""
    if isinstance(result, list):
        (result,) = result
    if isinstance(result, str):
        result = int(result.split("(", 1)[1].split(",", 1)[0])
    return result


def filestore_orphans(db):
    """Files of the filestore that no attachment references (pending GC excluded)."""
    root = db.filestore()
    with db.cursor() as cr:
        cr.execute(
            "SELECT store_fname FROM ir_attachment WHERE store_fname IS NOT NULL"
        )
        referenced = {row[0] for row in cr.fetchall()}
    files = {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[0] != "checklist"
    }
    return sorted(files - referenced)


RESTORE_LOCK_KEY = 0x63726D5F72657374  # the addon's advisory lock key


def restore_lock_held(db):
    """Whether a process holds the restore lock, i.e. a restore is executing."""
    with db.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s",
            [RESTORE_LOCK_KEY >> 32, RESTORE_LOCK_KEY & 0xFFFFFFFF],
        )
        return bool(cr.fetchone()[0])


def restore_state(db, restore_id):
    return job_state(db, "restore", restore_id)


def wait_restore(db, restore_id, states=("done", "failed"), timeout=300):
    return wait_job(db, "restore", restore_id, states, timeout)


class RestoreFlow:
    """The restore screen's steps, as the web client calls them."""

    def __init__(self, client, password):
        self.client = client
        self.password = password

    def create(self, object_key, field_names, backup_id=None, upload=None, **extra):
        (obj,) = self.client.call(
            "crm.backup.object", "search_read", [("key", "=", object_key)], ["id"]
        )
        vals = {"object_id": obj["id"], **extra}
        if upload is not None:
            vals.update(source="upload", upload_file=upload, upload_filename="up.zip")
        else:
            vals.update(source="backup", backup_id=backup_id)
        restore_id = self.client.call("crm.backup.restore", "create", vals)
        model = self.client.call(
            "crm.backup.restore", "read", [restore_id], ["model_name"]
        )[0]["model_name"]
        field_ids = self.client.call(
            "ir.model.fields",
            "search",
            [("model", "=", model), ("name", "in", list(field_names))],
        )
        assert len(field_ids) == len(field_names)
        self.client.call(
            "crm.backup.restore",
            "write",
            [restore_id],
            {"field_ids": [(6, 0, field_ids)]},
        )
        return restore_id

    def plan(self, restore_id):
        return self.client.call("crm.backup.restore", "action_plan", [restore_id])

    def confirm(self, restore_id, job="restore"):
        """Tick the boxes, open the identity check; returns the wizard id."""
        if job == "restore":
            self.client.call(
                "crm.backup.restore",
                "write",
                [restore_id],
                {"confirm_overwrite": True, "confirm_reviewed": True},
            )
        method = "action_restore" if job == "restore" else "action_undo"
        action = self.client.call("crm.backup.restore", method, [restore_id])
        return action["res_id"]

    def answer(self, wizard_id, password=None, totp_code=None):
        """Type the password or a two-factor code: the web client saves the
        wizard (where the server checks it); returns the error shown, if any."""
        vals = (
            {"totp_code": totp_code}
            if totp_code is not None
            else {"password": password or self.password}
        )
        (values,) = self.client.call(
            "crm.backup.restore.auth",
            "web_save",
            [wizard_id],
            vals,
            specification={"error": {}, "password": {}, "totp_code": {}},
        )
        assert not values["password"] and not values["totp_code"], values
        return values["error"]

    def authenticate(self, wizard_id, password=None, totp_code=None):
        """Answer the identity check and click Confirm, as the web client does."""
        self.answer(wizard_id, password, totp_code)
        return self.client.call(
            "crm.backup.restore.auth", "action_confirm", [wizard_id]
        )

    def run(self, restore_id, job="restore"):
        """Confirm and authenticate: the restore is queued for the cron worker."""
        result = self.authenticate(self.confirm(restore_id, job))
        assert result == {"type": "ir.actions.act_window_close"}, result
