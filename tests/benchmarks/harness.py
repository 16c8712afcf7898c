"""Child side of the benchmarks: one measurement per fresh process.

A fresh process per measurement keeps the ORM cache and the allocator of one
measurement from flattering or penalising the next, and makes peak RSS meaningful.
"""

import contextlib
import json
import os
import resource
import sys
import threading
import time

import psutil

RESULT_PREFIX = "BENCH_RESULT "


class PeakRss:
    """Peak resident memory of this process during a block, above its start."""

    def __init__(self, interval=0.01):
        self.interval = interval
        self.process = psutil.Process()
        self.baseline = 0
        self.sampled_peak = 0
        self.growth = 0
        self._stop = threading.Event()
        self._thread = None

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.sampled_peak = max(self.sampled_peak, self.process.memory_info().rss)

    def __enter__(self):
        self.baseline = self.process.memory_info().rss
        self.sampled_peak = self.baseline
        self._maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        # ru_maxrss is exact but spans the whole process life: trust it only when the
        # block raised it, else fall back to the sampled peak.
        peak = maxrss if maxrss > self._maxrss_before else self.sampled_peak
        self.growth = max(peak - self.baseline, 0)
        return False


class OdooShare:
    """Seconds a block spends in Odoo's compute methods (SQL they run left out)
    and in PostgreSQL: work that any restore of the same changes must pay,
    whatever drives it. Wraps, never replaces: each call runs the original."""

    def __init__(self):
        self.computes = 0.0
        self.sql = 0.0
        self._sql_in_computes = 0.0
        self._depth = {"compute": 0, "sql": 0}
        self._saved = []

    def _timer(self, kind, func):
        depth = self._depth

        def timed_call(*args, **kwargs):
            if depth[kind]:  # nested: the outer call counts it
                return func(*args, **kwargs)
            depth[kind] += 1
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                depth[kind] -= 1
                spent = time.perf_counter() - started
                if kind == "compute":
                    self.computes += spent
                else:
                    self.sql += spent
                    if depth["compute"]:
                        self._sql_in_computes += spent

        return timed_call

    def _wrap(self, owner, name, kind, func):
        self._saved.append((owner, name, owner.__dict__.get(name)))
        setattr(owner, name, self._timer(kind, func))

    def __enter__(self):
        from odoo import fields, sql_db

        self._wrap(fields.Field, "compute_value", "compute", fields.Field.compute_value)
        self._wrap(sql_db.Cursor, "execute", "sql", sql_db.Cursor.execute)
        # COPY goes to psycopg2's cursor through Cursor.__getattr__
        self._wrap(
            sql_db.Cursor,
            "copy_expert",
            "sql",
            lambda cr, *args, **kwargs: cr._obj.copy_expert(*args, **kwargs),
        )
        return self

    def __exit__(self, *exc):
        for owner, name, original in reversed(self._saved):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        return False

    def result(self):
        return {"computes": self.computes - self._sql_in_computes, "sql": self.sql}


def odoo_env(dbname):
    """A registry and an admin environment on `dbname` (caller closes the cursor)."""
    import odoo
    from odoo import api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(
        ["-c", os.environ["ODOO_RC"], "--log-level=warn", "-d", dbname]
    )
    registry = Registry(dbname)
    cr = registry.cursor()
    admin = api.Environment(cr, odoo.SUPERUSER_ID, {})["res.users"].search(
        [("login", "=", "admin")]
    )
    env = api.Environment(cr, admin.id, {"lang": "en_US", "tz": "UTC"})
    return registry, env


def run_child(measure, dbname, params):
    """Run one measurement and print its result as one JSON line."""
    import engines
    import measures

    _registry, env = odoo_env(dbname)
    func = measures.MEASURES[measure]
    try:
        result = func(env, **params)
    except engines.EngineUnavailable as exc:
        result = {"unavailable": str(exc)}
    finally:
        env.cr.close()
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


def timed(env, func, *args, share=None, **kwargs):
    """Run func, return (value, seconds, peak RSS growth in bytes). `share`: an
    OdooShare that also times the run."""
    env.invalidate_all()
    with PeakRss() as rss, share or contextlib.nullcontext():
        started = time.perf_counter()
        value = func(*args, **kwargs)
        seconds = time.perf_counter() - started
    return value, seconds, rss.growth
