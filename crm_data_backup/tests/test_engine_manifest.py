# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""engine/manifest.py: the manifest's JSON, the same bytes as ever, and its
checks (through the reader: test_engine_reader)."""

import json

from odoo.tests.common import BaseCase

from ..engine.errors import BackupFileError
from ..engine.manifest import FORMAT_VERSION, Manifest, ManifestEntry

SHA = "ab" * 32
HEADER = {
    "database_uuid": "u-1",
    "database_name": "prod",
    "odoo_version": "18.0",
    "addon_version": "18.0.1.0.0",
    "created_at": "2026-11-25T22:00:00Z",
}


def old_manifest(file_format, formula_protection=None):
    """manifest.json as the archive wrote it before the Manifest class:
    a dict of the header, then format, version and files, each file entry
    built key by key by the backup (XLSX: the checksum set last)."""
    header = dict(HEADER, file_format=file_format)
    if formula_protection is not None:
        header["formula_protection"] = formula_protection
    files = []
    for key, model, rows in (("contacts", "res.partner", 2), ("deals", "crm.lead", 0)):
        entry = {"model": model, "fields": ["id", "name", "partner_id/id"]}
        if file_format == "xlsx":
            entry.update(name="backup.xlsx", sheet=key, rows=rows)
            entry["object"] = key
            entry["sha256"] = SHA
        else:
            entry.update(name=f"{key}.csv", rows=rows, sha256=SHA)
            entry["object"] = key
        files.append(entry)
    manifest = dict(header, format="crm_data_backup", format_version=1)
    manifest["files"] = files
    return json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")


class TestManifest(BaseCase):
    def test_same_bytes_as_before(self):
        for file_format in ("csv", "xlsx"):
            for flag in (True, False, None):
                raw = old_manifest(file_format, flag)
                manifest = Manifest.from_json(raw)
                self.assertEqual(manifest.to_json(), raw, (file_format, flag))
                self.assertEqual(manifest.formula_protection, flag)
                self.assertEqual(manifest.file_format, file_format)

    def test_written_as_read(self):
        manifest = Manifest(
            **HEADER,
            file_format="csv",
            formula_protection=True,
            files=[
                ManifestEntry("res.partner", ["id", "name"], "contacts.csv", 3, SHA),
                ManifestEntry("x_thing", ["id"], "x_thing.csv", 0, SHA, "custom"),
            ],
        )
        manifest.files[0].object = "contacts"
        self.assertEqual(Manifest.from_json(manifest.to_json()), manifest)
        data = json.loads(manifest.to_json())
        self.assertEqual(
            (data["format"], data["format_version"]), ("crm_data_backup", 1)
        )
        self.assertEqual(data["database_name"], "prod")
        self.assertEqual(data["files"][1]["object"], "custom")
        self.assertNotIn("sheet", data["files"][0])

    def test_first_backups(self):
        """Backups made before the file format and the formula flag existed;
        values of other kinds where texts are expected; keys added later
        (by a newer version) are ignored."""
        data = json.loads(old_manifest("csv"))
        del data["file_format"]
        data["files"][0]["added_later"] = 1
        data.update(database_name=["x"], database_uuid=None, odoo_version=18)
        manifest = Manifest.from_json(json.dumps(data).encode())
        self.assertEqual(manifest.file_format, "csv")
        self.assertIsNone(manifest.formula_protection)
        self.assertEqual(
            (manifest.database_name, manifest.database_uuid, manifest.odoo_version),
            ("", "", ""),
        )
        self.assertEqual(manifest.files[0].rows, 2)
        self.assertEqual(manifest.format_version, FORMAT_VERSION)

    def test_find_entry(self):
        manifest = Manifest.from_json(old_manifest("xlsx"))
        self.assertEqual(manifest.find_entry("crm.lead").sheet, "deals")
        self.assertEqual(manifest.find_entry("crm.lead", "deals").object, "deals")
        self.assertIsNone(manifest.find_entry("crm.lead", "contacts"))
        self.assertIsNone(manifest.find_entry("res.users"))
        custom = ManifestEntry("x_thing", ["id"], "x_thing.csv", 0, SHA, "custom")
        manifest.files.append(custom)
        self.assertIs(manifest.find_entry("x_thing", "anything"), custom)

    def test_refused(self):
        """What the checks refuse, with the reason for the user."""
        good = json.loads(old_manifest("csv"))
        for change, code, words in (
            ({"format": "other"}, "manifest", "does not describe"),
            ({"format_version": True}, "manifest", "no valid format version"),
            ({"format_version": 2}, "newer_format", "newer version"),
            ({"formula_protection": "yes"}, "manifest", "formula protection"),
            ({"file_format": "ods"}, "manifest", "unknown file format"),
            ({"files": {}}, "manifest", "lists no files"),
            ({"files": [{"name": "x.csv"}]}, "manifest", "invalid file entry"),
        ):
            with self.assertRaises(BackupFileError) as cm:
                Manifest.from_json(json.dumps(dict(good, **change)).encode())
            self.assertEqual(cm.exception.code, code, change)
            self.assertIn(words, str(cm.exception))
        for raw in (b"\xff", b"[1", b'{"format": NaN}'):
            with self.assertRaisesRegex(BackupFileError, "not valid JSON"):
                Manifest.from_json(raw)
