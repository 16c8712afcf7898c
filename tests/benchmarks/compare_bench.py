#!/usr/bin/env python3
"""Comparison of two backups of N contacts (10 fields), engine only: the time and
the peak memory growth of reading both files and merging them by external ID
(engine/compare.py), against the restore plan's reading of one file (the planner
itself needs a database: its own benchmark is in run.py).

    $VENV/bin/python tests/benchmarks/compare_bench.py [N]

Two zips are written in a temporary directory, in the backup format (CSV, manifest),
records in id order as the exporter writes them, external IDs not in that order; the
second has 2 % deleted, 1 % added and 10 % changed on one field.
"""

import csv
import hashlib
import json
import os
import random
import resource
import sys
import tempfile
import time
import types
import zipfile
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "crm_data_backup" / "engine"
FIELDS = [
    ("name", "char"),
    ("email", "char"),
    ("phone", "char"),
    ("street", "char"),
    ("city", "char"),
    ("zip", "char"),
    ("ref", "char"),
    ("comment", "text"),
    ("active", "boolean"),
    ("partner_latitude", "float"),
]


def engine():
    # the engine is plain Python: loaded without the addon (and without Odoo's registry)
    package = types.ModuleType("crm_engine")
    package.__path__ = [str(ENGINE)]
    sys.modules["crm_engine"] = package
    from crm_engine import compare, reader

    return compare, reader


def write_zip(path, count, seed, churn):
    rnd = random.Random(seed)
    header = ["id"] + [name for name, _t in FIELDS]
    csv_path = path + ".csv"
    out = open(csv_path, "w", encoding="utf-8", newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    rows = 0
    for i in range(count + (count // 100 if churn else 0)):
        if churn and i < count and rnd.random() < 0.02:
            continue  # deleted
        # external IDs of records made over the years: not in id order
        xmlid = (
            f"__export__.res_partner_{i}_{hashlib.md5(str(i).encode()).hexdigest()[:8]}"
        )
        city = "Paris" if not (churn and rnd.random() < 0.1) else "Lyon"
        writer.writerow(
            [
                xmlid,
                f"Contact {i}",
                f"c{i}@example.com",
                f"+33 1 {i}",
                f"{i} rue",
                city,
                "75001",
                f"R{i}",
                "note",
                "True",
                "48.85",
            ]
        )
        rows += 1
    out.close()
    digest = hashlib.sha256()
    with open(csv_path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    manifest = {
        "format": "crm_data_backup",
        "format_version": 1,
        "formula_protection": False,
        "file_format": "csv",
        "files": [
            {
                "name": "contacts.csv",
                "object": "contacts",
                "model": "res.partner",
                "rows": rows,
                "fields": header,
                "sha256": digest.hexdigest(),
            }
        ],
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.write(csv_path, "contacts.csv")
    os.unlink(csv_path)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(count, tmp):
    """Compare two zips of ``count`` contacts written in ``tmp``: seconds, peak
    memory growth (MB), the reading of one file as the plan does, the counts."""
    old, new = os.path.join(tmp, "old.zip"), os.path.join(tmp, "new.zip")
    write_zip(old, count, 1, churn=False)
    write_zip(new, count, 2, churn=True)
    compare, reader_mod = engine()
    types_ = dict(FIELDS)
    base = rss_mb()
    started = time.monotonic()
    with open(old, "rb") as f1, open(new, "rb") as f2:
        r1, r2 = (
            reader_mod.BackupReader(f1).open(),
            reader_mod.BackupReader(f2).open(),
        )
        e1, e2 = r1.find_entry("res.partner"), r2.find_entry("res.partner")
        diff = compare.compare_rows(
            FIELDS,
            r1.iter_rows(e1, types_, unique=False),
            r2.iter_rows(e2, types_, unique=False),
        )
    elapsed = time.monotonic() - started
    growth = rss_mb() - base
    # the restore plan's reading of one file (duplicates checked as it does)
    started = time.monotonic()
    with open(old, "rb") as f:
        reader = reader_mod.BackupReader(f).open()
        entry = reader.find_entry("res.partner")
        read = sum(1 for _ in reader.iter_rows(entry, types_))
    return {
        "seconds": elapsed,
        "growth_mb": growth,
        "read_seconds": time.monotonic() - started,
        "read": read,
        "added": diff.added,
        "deleted": diff.deleted,
        "changed": diff.changed,
    }


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        r = measure(count, tmp)
    print(
        f"{count:,} contacts, 10 fields: compare {r['seconds']:.1f} s, peak memory "
        f"growth {r['growth_mb']:.0f} MB; reading one file {r['read_seconds']:.1f} s "
        f"({r['read']:,} rows; ratio {r['seconds'] / r['read_seconds']:.1f}); "
        f"added {r['added']:,}, deleted {r['deleted']:,}, changed {r['changed']:,}"
    )


if __name__ == "__main__":
    main()
