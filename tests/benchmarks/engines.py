"""Adapters between the benchmarks and crm_data_backup's engines.

Everything the benchmarks know about the addon's own code is here, so that a change
of the engines' API is a change of this file only. When an engine is not there (yet),
the adapters raise EngineUnavailable and the report shows "n/a" for its rows.
"""

import importlib


class EngineUnavailable(Exception):
    """The addon has no such engine (yet): the measurement is skipped."""


def _engine(module):
    try:
        return importlib.import_module(f"odoo.addons.crm_data_backup.engine.{module}")
    except ImportError as exc:
        raise EngineUnavailable(f"crm_data_backup.engine.{module}: {exc}") from exc


def _require(env, model, method):
    if model not in env or not hasattr(env[model], method):
        raise EngineUnavailable(f"{model}.{method}() does not exist yet")


def export_rows(env, model, domain, fields, path):
    """Export `fields` (import-compatible paths) of the matching records to a CSV."""
    _engine("exporter")
    raise EngineUnavailable("the exporter adapter is not wired yet")


def drop_backups(env):
    """Delete the backups of earlier benchmark runs (their files go too)."""
    if "crm.backup" not in env:
        return
    backups = env["crm.backup"].search([("name", "=like", "benchmark%")])
    attachments = backups.attachment_id
    backups.unlink()
    attachments.unlink()


def full_backup(env):
    """Run a backup of every object now; return rows, files and zip size."""
    _require(env, "crm.backup", "action_run")
    raise EngineUnavailable("the backup adapter is not wired yet")


def new_restore(env, backup_id, object_key, field_names):
    """A draft restore of `field_names` of the object `object_key` from a backup."""
    _require(env, "crm.backup.restore", "action_plan")
    raise EngineUnavailable("the restore adapter is not wired yet")


def plan(restore):
    """Compute the restore plan."""
    return restore.action_plan()


def run_restore(restore):
    """Run the restore past the confirmation checks; return the changed rows."""
    raise EngineUnavailable("the restore adapter is not wired yet")
