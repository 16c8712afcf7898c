# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""engine/archive.py: members streamed into the zip, checksums, manifest."""

import hashlib
import json
import os
import tempfile
import zipfile

from odoo.tests.common import BaseCase

from ..engine.archive import BackupArchive
from ..engine.manifest import Manifest, ManifestEntry
from ..engine.writer import CsvWriter


class TestArchive(BaseCase):
    def test_zip_members_checksums_manifest(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "b.zip")
            archive = BackupArchive(
                path, Manifest(database_uuid="u", file_format="csv")
            )
            member = archive.open_file("contacts.csv")
            with member as stream:
                writer = CsvWriter(stream, ["id", "name"])
                writer.write_rows([["a", "'=x"]] * 1000)
                writer.close()
            archive.add_entry(
                ManifestEntry(
                    "res.partner",
                    ["id", "name"],
                    "contacts.csv",
                    writer.rows,
                    member.sha256,
                    object="contacts",
                )
            )
            archive.close()
            with zipfile.ZipFile(path) as zf:
                raw = zf.read("contacts.csv")
                manifest = json.loads(zf.read("manifest.json"))
        self.assertEqual(manifest["format"], "crm_data_backup")
        self.assertEqual(manifest["format_version"], 1)
        self.assertEqual(manifest["database_uuid"], "u")
        self.assertEqual(manifest["files"][0]["rows"], 1000)
        self.assertEqual(
            manifest["files"][0]["sha256"], hashlib.sha256(raw).hexdigest()
        )
        self.assertEqual(member.size, len(raw))
        self.assertTrue(raw.startswith(b"\xef\xbb\xbfid,name\r\na,'=x\r\n"))

    def test_workbook_checksum_given_to_its_sheets(self):
        """The sheets of the XLSX workbook share its checksum, known once the
        workbook is added; other entries keep theirs."""
        with tempfile.TemporaryDirectory() as tmp:
            book = os.path.join(tmp, "book.xlsx")
            with open(book, "wb") as file:
                file.write(b"not really a workbook")
            path = os.path.join(tmp, "b.zip")
            archive = BackupArchive(path, Manifest(file_format="xlsx"))
            for sheet in ("contacts", "deals"):
                archive.add_entry(
                    ManifestEntry(
                        "res.partner",
                        ["id"],
                        "backup.xlsx",
                        1,
                        object=sheet,
                        sheet=sheet,
                    )
                )
            archive.add_entry(ManifestEntry("crm.lead", ["id"], "x.csv", 0, "ab" * 32))
            digest = archive.add_path("backup.xlsx", book)
            archive.close()
            with zipfile.ZipFile(path) as zf:
                self.assertEqual(zf.namelist(), ["backup.xlsx", "manifest.json"])
                manifest = json.loads(zf.read("manifest.json"))
        self.assertEqual(digest, hashlib.sha256(b"not really a workbook").hexdigest())
        self.assertEqual(
            [entry["sha256"] for entry in manifest["files"]],
            [digest, digest, "ab" * 32],
        )

    def test_abort_leaves_no_manifest(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "b.zip")
            archive = BackupArchive(path, Manifest())
            with archive.open_file("contacts.csv") as stream:
                stream.write(b"id\r\n")
            archive.abort()
            with zipfile.ZipFile(path) as zf:
                self.assertEqual(zf.namelist(), ["contacts.csv"])
