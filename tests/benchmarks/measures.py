"""The measurements: each runs in its own process (see harness.run_child).

Every function takes an admin environment plus plain parameters and returns a dict
of plain values (seconds, rows, peak RSS growth in bytes, notes).
"""

import csv
import os
import shutil
import tempfile

import datagen
import engines
from harness import OdooShare, timed

# The 10 contact fields of issue 5, as import-compatible export paths.
FIELDS = [
    "id",
    "name",
    "email",
    "phone",
    "street",
    "city",
    "country_id/id",
    "parent_id/id",
    "category_id/id",
    "is_company",
]
# Archived contacts included, as in a backup.
CONTACTS_DOMAIN = [("is_company", "=", False)]
RESTORE_FIELDS = {
    1: ["phone"],
    5: ["name", "email", "phone", "street", "city"],
}

# PostgreSQL's own export of the same rows and cells: external IDs resolved with
# the same hash joins a careful exporter would use, booleans as True/False.
XID = (
    "(SELECT DISTINCT ON (res_id) res_id, module || '.' || name AS xid "
    "FROM ir_model_data WHERE model = '{model}' ORDER BY res_id, id DESC)"
)
COPY_SQL = f"""
COPY (
    SELECT x.xid AS id, p.name, p.email, p.phone, p.street, p.city,
           cx.xid AS "country_id/id", px.xid AS "parent_id/id", tags.cell AS
           "category_id/id", CASE WHEN p.is_company THEN 'True' ELSE 'False' END
      FROM res_partner p
      LEFT JOIN {XID.format(model="res.partner")} x ON x.res_id = p.id
      LEFT JOIN {XID.format(model="res.country")} cx ON cx.res_id = p.country_id
      LEFT JOIN {XID.format(model="res.partner")} px ON px.res_id = p.parent_id
      LEFT JOIN (
          SELECT r.partner_id, string_agg(tx.xid, ',' ORDER BY c.name->>'en_US')
                 AS cell
            FROM res_partner_res_partner_category_rel r
            JOIN res_partner_category c ON c.id = r.category_id
            JOIN {XID.format(model="res.partner.category")} tx
                 ON tx.res_id = r.category_id
           GROUP BY r.partner_id
      ) tags ON tags.partner_id = p.id
     WHERE NOT coalesce(p.is_company, false)
     ORDER BY p.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def _tmpfile(suffix):
    fd, path = tempfile.mkstemp(prefix="crm_backup_bench_", suffix=suffix)
    os.close(fd)
    return path


def _timed_csv(env, write):
    """Time ``write(path)`` into a scratch CSV file, then forget its effects."""
    path = _tmpfile(".csv")
    try:
        rows, seconds, rss = timed(env, write, path)
    finally:
        os.unlink(path)
    env.cr.rollback()
    return _result(seconds, rows, rss)


def _result(seconds, rows, rss, **extra):
    return {"seconds": seconds, "rows": rows, "rss": rss, **extra}


def generate(env, size):
    result = datagen.generate(env, size)
    env.cr.commit()
    return result


def export_data(env):
    """What a user runs by hand: the import-compatible export, written as CSV."""

    def run(path):
        partners = (
            env["res.partner"]
            .with_context(active_test=False)
            .search(CONTACTS_DOMAIN, order="id")
        )
        datas = partners.with_context(import_compat=True).export_data(FIELDS)["datas"]
        with open(path, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(FIELDS)
            writer.writerows(datas)
        return len(datas)

    return _timed_csv(env, run)


def copy(env):
    """PostgreSQL COPY of the same rows and cells: the floor of any exporter."""

    def run(path):
        with open(path, "w", encoding="utf-8") as out:
            env.cr.copy_expert(COPY_SQL, out)
        return env.cr.rowcount

    return _timed_csv(env, run)


def engine_export(env, batches=False):
    """Our exporter class on the same rows and fields (`batches`: its row-batch
    path, which files with float or Python-rendered fields take)."""
    return _timed_csv(
        env,
        lambda path: engines.export_rows(
            env, "res.partner", CONTACTS_DOMAIN, FIELDS, path, batches=batches
        ),
    )


def full_backup(env):
    """A whole backup (every object, every stored field), as the cron runs it."""
    engines.drop_backups(env)
    env.cr.commit()
    info, seconds, rss = timed(env, engines.full_backup, env)
    env.cr.commit()
    return _result(seconds, info.pop("rows"), rss, **info)


def _contact_ids(env, limit=None):
    partners = env["res.partner"].with_context(active_test=False)
    return partners.search(CONTACTS_DOMAIN, order="id", limit=limit).ids


def _mutate(env, ids, fields, commit=True):
    """Change the live values so that restoring them writes every row."""
    changes = {
        "name": "name = name || ' (changed)'",
        "email": "email = 'changed.' || coalesce(email, '')",
        "phone": "phone = coalesce(phone, '') || '99'",
        "street": "street = coalesce(street, '') || ' bis'",
        "city": "city = upper(coalesce(city, ''))",
    }
    env.cr.execute(
        "UPDATE res_partner SET %s WHERE id = ANY(%%s)"
        % ", ".join(changes[f] for f in fields),
        (ids,),
    )
    if commit:
        env.cr.commit()
    env.invalidate_all()


def _last_message(env):
    env.cr.execute("SELECT coalesce(max(id), 0) FROM mail_message")
    return env.cr.fetchone()[0]


def _drop_tracking(env, after):
    """Delete the tracking messages a measurement left, so that every run
    starts from the same database."""
    env.cr.execute(
        "DELETE FROM mail_message WHERE id > %s AND message_type = 'notification' "
        "AND model IN ('res.partner', 'crm.lead')",
        [after],
    )
    env.cr.commit()


def load(env, nfields, sample):
    """Odoo's load() (the standard Import) writing the same values back."""
    fields = ["id", *RESTORE_FIELDS[nfields]]
    ids = _contact_ids(env, limit=sample)
    partners = env["res.partner"].browse(ids).with_context(import_compat=True)
    rows = partners.export_data(fields)["datas"]
    _mutate(env, ids, RESTORE_FIELDS[nfields])
    after = _last_message(env)
    model = env["res.partner"].with_context(import_file=True)
    share = OdooShare()
    result, seconds, rss = timed(env, model.load, fields, rows, share=share)
    errors = [m for m in result["messages"] if m.get("type") == "error"]
    if errors or len(result["ids"] or []) != len(rows):
        raise RuntimeError(f"load() failed: {errors[:3]}")
    env.cr.commit()
    _drop_tracking(env, after)
    return _result(seconds, len(rows), rss, **share.result())


def plan(env, nfields, backup_id):
    """The restore plan of N fields when every contact changed (rolled back)."""
    fields = RESTORE_FIELDS[nfields]
    ids = _contact_ids(env)
    _mutate(env, ids, fields, commit=False)
    restore = engines.new_restore(env, backup_id, "contacts", fields)
    _plan, seconds, rss = timed(env, engines.plan, restore)
    env.cr.rollback()
    return _result(seconds, len(ids), rss)


def restore(env, nfields, backup_id, rows=None, fast=False):
    """Our restore of N fields over every contact, `rows` of them changed
    (default all): plan, then the job, timed as the job. `fast`: fast mode."""
    fields = RESTORE_FIELDS[nfields]
    ids = _contact_ids(env)
    changed = ids[:rows] if rows else ids
    _mutate(env, changed, fields)
    after = _last_message(env)
    restore = engines.new_restore(env, backup_id, "contacts", fields, fast=fast)
    engines.plan(restore)
    env.cr.commit()
    share = OdooShare()
    written, seconds, rss = timed(env, engines.run_restore, restore, share=share)
    env.cr.commit()
    _drop_tracking(env, after)
    return _result(
        seconds,
        len(changed),
        rss,
        written=written,
        records=len(ids),
        **share.result(),
    )


def offsite(env, encrypted=False):
    """A full backup, then its off-site copy to a directory storage, in the same
    process: what the copy adds to the backup (time, and peak RSS above what
    the process held after the backup)."""
    engines.drop_backups(env)
    env.cr.commit()
    info, backup_seconds, backup_rss = timed(env, engines.full_backup, env)
    env.cr.commit()
    directory = tempfile.mkdtemp(prefix="crm_backup_bench_offsite_")
    try:
        store = engines.offsite_store(env, directory, encrypted)
        size, seconds, rss = timed(env, engines.offsite_copy, store, info["backup_id"])
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        env.cr.rollback()
    return _result(
        seconds,
        info["rows"],
        rss,
        backup_seconds=backup_seconds,
        backup_rss=backup_rss,
        zip_bytes=info["zip_bytes"],
        copy_bytes=size,
    )


def compare(env, backup_id):
    """Two backups of every contact compared through the model (contacts, every
    stored field the backup holds), the second made after a tenth of the
    contacts changed city; the change and the second backup are undone after."""
    ids = _contact_ids(env)[::10]
    env.cr.execute(
        "CREATE TABLE bench_compare_saved AS "
        "SELECT id, city FROM res_partner WHERE id = ANY(%s)",
        (ids,),
    )
    env.cr.execute(
        "UPDATE res_partner SET city = 'Bench ' || id WHERE id = ANY(%s)", (ids,)
    )
    env.cr.commit()
    env.invalidate_all()
    second = None
    try:
        second = engines.full_backup(env)["backup_id"]
        env.cr.commit()
        cmp = engines.new_compare(env, backup_id, second, "contacts")
        counts, seconds, rss = timed(env, engines.run_compare, cmp)
        env.cr.commit()
    finally:
        env.cr.rollback()
        env.cr.execute(
            "UPDATE res_partner p SET city = s.city "
            "FROM bench_compare_saved s WHERE s.id = p.id"
        )
        env.cr.execute("DROP TABLE bench_compare_saved")
        if second:
            env["crm.backup"].browse(second).unlink()
        env.cr.commit()
    return _result(seconds, counts["from_count"], rss, **counts)


def compare_engine(env, size):
    """The comparison engine alone on two generated zips of ``size`` contacts,
    10 fields (compare_bench.py): 2 % deleted, 1 % added, 10 % changed."""
    import compare_bench

    with tempfile.TemporaryDirectory(prefix="crm_backup_bench_") as tmp:
        r = compare_bench.measure(size, tmp)
    return _result(
        r["seconds"],
        size,
        int(r["growth_mb"] * 2**20),
        added=r["added"],
        deleted=r["deleted"],
        changed=r["changed"],
    )


MEASURES = {
    "compare": compare,
    "compare_engine": compare_engine,
    "generate": generate,
    "export_data": export_data,
    "copy": copy,
    "engine_export": engine_export,
    "full_backup": full_backup,
    "load": load,
    "plan": plan,
    "restore": restore,
    "offsite": offsite,
}
