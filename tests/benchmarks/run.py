#!/usr/bin/env python3
"""Benchmarks of crm_data_backup against export_data(), load() and PostgreSQL COPY.

    scripts/odoo-dev bench [--sizes 10000,100000[,1000000]] [--quick] [--only ...]

For each size N a database crm_backup_bench_<N> is created once (crm_data_backup and
helpdesk_mgmt, no demo data), filled with N contacts and CRM records in proportion, and
reused by later runs. Each measurement runs in a fresh process so that its peak RSS
is its own. Results: a table on stdout, tests/benchmarks/results/latest.md (committed),
results/scaling.png, results/latest.json (ignored by git).

Needs ODOO_RC (the Odoo configuration file) in the environment; scripts/odoo-dev sets it.
"""

import argparse
import configparser
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = HERE / "results"
ADDON = ROOT / "crm_data_backup"
# Another prefix keeps the databases of several working copies apart.
DB_PREFIX = os.environ.get("CRM_BACKUP_BENCH_PREFIX", "crm_backup_bench_")
TEMPLATE = DB_PREFIX + "template"
MODULES = "crm_data_backup,helpdesk_mgmt"
HASH_KEY = "crm_data_backup_bench.addon_hash"
LOAD_SAMPLE = 10_000
# Short measurements are repeated (fresh process each time) and the fastest kept:
# the machine may be shared, and its noise only ever adds time.
REPEATED = {"copy", "export_data", "engine_export", "engine_export_batches"}
QUICK_LOAD_SAMPLE = 1_000


def say(message):
    print(f"[bench] {message}", flush=True)


class Odoo:
    """The Odoo installation and the PostgreSQL server the benchmarks use."""

    def __init__(self):
        rc = os.environ.get("ODOO_RC")
        if not rc or not Path(rc).is_file():
            sys.exit(
                "ODOO_RC must name the Odoo configuration file; run the benchmarks "
                "with `scripts/odoo-dev bench`, which sets it."
            )
        self.rc = rc
        parser = configparser.ConfigParser()
        parser.read(rc)
        self.options = parser["options"]
        self.src = Path(os.environ.get("ODOO_SRC", "/opt/odoo-18.0"))
        self.data_dir = Path(self.options.get("data_dir"))

    def connect(self, dbname="postgres"):
        cnx = psycopg2.connect(
            dbname=dbname,
            host=self.options.get("db_host") or None,
            port=self.options.get("db_port") or None,
            user=self.options.get("db_user") or None,
            password=self.options.get("db_password") or None,
        )
        cnx.autocommit = True
        return cnx

    def query(self, dbname, sql, params=()):
        cnx = self.connect(dbname)
        try:
            with cnx.cursor() as cr:
                cr.execute(sql, params)
                return cr.fetchall() if cr.description else None
        finally:
            cnx.close()

    def db_exists(self, dbname):
        return bool(
            self.query(
                "postgres", "SELECT 1 FROM pg_database WHERE datname=%s", [dbname]
            )
        )

    def param(self, dbname, key):
        rows = self.query(
            dbname, "SELECT value FROM ir_config_parameter WHERE key=%s", [key]
        )
        return rows[0][0] if rows else None

    def odoo_bin(self, *args):
        cmd = [sys.executable, str(self.src / "odoo-bin"), "-c", self.rc, *args]
        cmd += ["--stop-after-init", "--log-level=warn"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            sys.exit(f"odoo-bin {' '.join(args)} failed:\n{proc.stderr[-3000:]}")

    def drop(self, dbname):
        self.query("postgres", f'DROP DATABASE IF EXISTS "{dbname}"')
        shutil.rmtree(self.data_dir / "filestore" / dbname, ignore_errors=True)


def addon_hash():
    digest = hashlib.sha1()
    for path in sorted(ADDON.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ADDON)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_current(odoo, dbname, wanted):
    """Upgrade crm_data_backup in `dbname` when its code changed since last time."""
    if odoo.param(dbname, HASH_KEY) == wanted:
        return
    say(f"{dbname}: updating crm_data_backup to the current code")
    odoo.odoo_bin("-d", dbname, "-u", "crm_data_backup")
    odoo.query(
        dbname,
        "INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        [HASH_KEY, wanted],
    )


def ensure_template(odoo, wanted):
    installed = odoo.db_exists(TEMPLATE) and odoo.query(
        TEMPLATE,
        "SELECT 1 FROM ir_module_module WHERE name='crm_data_backup' "
        "AND state='installed'",
    )
    if not installed:
        say(f"creating {TEMPLATE} ({MODULES}, no demo data)")
        odoo.drop(TEMPLATE)
        odoo.odoo_bin("-d", TEMPLATE, "-i", MODULES, "--without-demo=all")
    ensure_current(odoo, TEMPLATE, wanted)


def ensure_database(odoo, size, wanted):
    """The benchmark database of `size`, created and filled once."""
    dbname = f"{DB_PREFIX}{size}"
    marker = None
    if odoo.db_exists(dbname):
        marker = odoo.param(dbname, "crm_data_backup_bench.size")
    if marker == str(size):
        ensure_current(odoo, dbname, wanted)
        return dbname
    ensure_template(odoo, wanted)
    say(f"creating {dbname} and generating {size:,} contacts (once)")
    started = time.monotonic()
    odoo.drop(dbname)
    odoo.query("postgres", f'CREATE DATABASE "{dbname}" TEMPLATE "{TEMPLATE}"')
    filestore = odoo.data_dir / "filestore"
    if (filestore / TEMPLATE).is_dir():
        shutil.copytree(filestore / TEMPLATE, filestore / dbname)
    odoo.query(
        dbname,
        "UPDATE ir_config_parameter SET value = gen_random_uuid()::text "
        "WHERE key = 'database.uuid'",
    )
    info = child("generate", dbname, size=size)
    if "error" in info:
        odoo.drop(dbname)
        sys.exit(f"generating the data of {dbname} failed:\n{info['error']}")
    odoo.query(dbname, "VACUUM ANALYZE")
    say(
        f"{dbname}: {info['contacts']:,} contacts, {info['companies']:,} companies, "
        f"{info['deals']:,} deals, {info['activities']:,} activities, "
        f"{info['messages']:,} messages in {time.monotonic() - started:.0f} s"
    )
    return dbname


def child(measure, dbname, **params):
    """Run one measurement in a fresh process; its result dict."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", measure]
    cmd += ["--db", dbname, "--params", json.dumps(params)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT ") :])
    tail = (proc.stderr or proc.stdout)[-4000:]
    return {"error": tail.strip() or f"exit code {proc.returncode}"}


def best_of(results):
    """The fastest of repeated runs, with the highest peak RSS of them all."""
    good = [r for r in results if "seconds" in r]
    if not good:
        return results[0]
    best = dict(min(good, key=lambda r: r["seconds"]))
    best["rss"] = max(r["rss"] for r in good)
    if len(results) > 1:
        best["runs"] = [r.get("seconds") for r in results]
    return best


def machine():
    import psutil

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30),
        "python": platform.python_version(),
    }


def describe(name, result):
    if "error" in result:
        return f"{name}: FAILED\n{result['error']}"
    if "unavailable" in result:
        return f"{name}: n/a ({result['unavailable']})"
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0
    return (
        f"{name}: {result['seconds']:.2f} s, {result['rows']:,} rows "
        f"({rate:,.0f} rows/s), peak RSS +{result['rss'] / 2**20:.0f} MB"
    )


def measure_size(odoo, size, args, wanted, results):
    dbname = ensure_database(odoo, size, wanted)
    sample = min(size, QUICK_LOAD_SAMPLE if args.quick else LOAD_SAMPLE)
    plan = [
        ("copy", "copy", {}),
        ("export_data", "export_data", {}),
        ("engine_export", "engine_export", {}),
        ("engine_export_batches", "engine_export", {"batches": True}),
        ("full_backup", "full_backup", {}),
        ("plan_5", "plan", {"nfields": 5}),
        ("compare", "compare", {}),
        ("compare_engine", "compare_engine", {"size": size}),
        ("restore_1", "restore", {"nfields": 1}),
        ("restore_5", "restore", {"nfields": 5}),
        ("restore_fast_1", "restore", {"nfields": 1, "fast": True}),
        ("restore_fast_5", "restore", {"nfields": 5, "fast": True}),
        ("load_1", "load", {"nfields": 1, "sample": sample}),
        ("load_5", "load", {"nfields": 5, "sample": sample}),
        ("offsite", "offsite", {}),
        ("offsite_age", "offsite", {"encrypted": True}),
    ]
    out = results["sizes"].setdefault(str(size), {})
    for name, measure, params in plan:
        if args.only and name not in args.only:
            continue
        if measure in ("plan", "restore", "compare"):
            backup = out.get("full_backup", {}).get("backup_id")
            if not backup:
                out[name] = {"unavailable": "no backup to restore from"}
                say(f"{size:>9,} " + describe(name, out[name]))
                continue
            params = {**params, "backup_id": backup}
        if measure == "restore":
            params["rows"] = restore_rows(results, size, name, args.restore_budget)
        runs = args.repeat if name in REPEATED and size < 1_000_000 else 1
        out[name] = best_of([child(measure, dbname, **params) for _ in range(runs)])
        say(f"{size:>9,} " + describe(name, out[name]))
        save_json(results)


def restore_rows(results, size, name, budget):
    """How many contacts a restore changes: all of them, unless the rate measured
    at a smaller size says that would take longer than `budget` seconds; then
    as many as fit (at least 10,000) and the report extrapolates."""
    rates = [
        r[name]["rows"] / r[name]["seconds"]
        for s, r in results["sizes"].items()
        if int(s) < size and "seconds" in r.get(name, {})
    ]
    if not rates or size / min(rates) <= budget:
        return None
    rows = max(int(budget * min(rates)), 10_000)
    return rows if rows < size else None


def save_json(results):
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="comma-separated numbers of contacts (default 10000,100000; 1000000 too)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"time load() on {QUICK_LOAD_SAMPLE:,} rows instead of {LOAD_SAMPLE:,} "
        "and run every measurement once",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="runs of the short measurements, the fastest kept (default 3, quick 1)",
    )
    parser.add_argument(
        "--restore-budget",
        type=float,
        default=180,
        help="seconds a restore may take at the bigger sizes before it changes only "
        "a part of the contacts and is extrapolated (default 180)",
    )
    parser.add_argument(
        "--only",
        type=lambda s: s.split(","),
        help="comma-separated measurements to run (copy, export_data, engine_export, "
        "engine_export_batches, "
        "full_backup, plan_5, compare, compare_engine, restore_1, restore_5, restore_fast_1, restore_fast_5, "
        "load_1, load_5, offsite, offsite_age)",
    )
    parser.add_argument(
        "--add",
        action="store_true",
        help="keep the other sizes of the last run in the report (e.g. add 1M later)",
    )
    parser.add_argument("--report-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        import harness

        harness.run_child(args.child, args.db, json.loads(args.params))
        return

    import report

    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.report_only:
        results = json.loads((RESULTS / "latest.json").read_text())
        report.write(results, RESULTS)
        return

    started = time.monotonic()
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    odoo = Odoo()
    wanted = addon_hash()
    results = {"machine": machine(), "sizes": {}, "quick": args.quick}
    if args.only:
        results["only"] = args.only
    if args.add and (RESULTS / "latest.json").is_file():
        previous = json.loads((RESULTS / "latest.json").read_text())
        results["sizes"] = {
            s: r for s, r in previous["sizes"].items() if int(s) not in sizes
        }
        results["previous_runtime_seconds"] = previous.get("runtime_seconds", 0)
    results["machine"]["postgresql"] = odoo.query("postgres", "SHOW server_version")[0][
        0
    ]
    results["started"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    # the machine may be shared: its load says how much to trust the times
    results["load_average"] = os.getloadavg()[0]
    for size in sizes:
        measure_size(odoo, size, args, wanted, results)
    results["runtime_seconds"] = time.monotonic() - started
    save_json(results)
    report.write(results, RESULTS)
    say(f"total run time {results['runtime_seconds'] / 60:.1f} min")


if __name__ == "__main__":
    main()
