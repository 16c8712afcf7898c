# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Zip of a backup: files streamed into a zip on disk, checksums, manifest."""

import hashlib
import json
import zipfile

FORMAT = "crm_data_backup"
FORMAT_VERSION = 1


class _HashingStream:
    """Binary write stream that hashes and counts what goes through it."""

    def __init__(self, target):
        self.target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data):  # pylint: disable=method-required-super
        self.sha256.update(data)
        self.size += len(data)
        return self.target.write(data)

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    def flush(self):
        self.target.flush()

    @property
    def closed(self):
        return False


class BackupArchive:
    """Write a backup zip at ``path`` file by file, then its manifest.

    ``with archive.open_file(name) as stream:`` streams one member (never held
    in memory); ``add_path`` copies a finished file (the XLSX workbook).
    """

    def __init__(self, path, header):
        self.zip = zipfile.ZipFile(
            path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True
        )
        self.header = dict(header)
        self.files = []

    def open_file(self, name):
        return _MemberWriter(self, name)

    def add_path(self, name, path):
        """Add a finished file from disk; returns its sha256 hex digest."""
        digest = hashlib.sha256()
        with open(path, "rb") as src, self.zip.open(name, "w", force_zip64=True) as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                dst.write(chunk)
        return digest.hexdigest()

    def add_entry(self, entry):
        """Record a file (or sheet) entry of the manifest."""
        self.files.append(entry)

    def close(self):
        manifest = dict(self.header, format=FORMAT, format_version=FORMAT_VERSION)
        manifest["files"] = self.files
        self.zip.writestr(
            "manifest.json",
            json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"),
        )
        self.zip.close()

    def abort(self):
        self.zip.close()


class _MemberWriter:
    def __init__(self, archive, name):
        self.archive = archive
        self.name = name
        self.stream = None
        self.sha256 = None
        self.size = 0

    def __enter__(self):
        self._member = self.archive.zip.open(self.name, "w", force_zip64=True)
        self.stream = _HashingStream(self._member)
        return self.stream

    def __exit__(self, exc_type, exc, tb):
        self._member.close()
        self.sha256 = self.stream.sha256.hexdigest()
        self.size = self.stream.size
        return False
