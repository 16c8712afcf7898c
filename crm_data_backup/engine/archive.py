# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Zip of a backup: files streamed into a zip on disk, checksums, manifest."""

import hashlib
import zipfile

from .manifest import MANIFEST_NAME


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
    """Write a backup zip at ``path`` file by file, then its ``manifest``
    (a :class:`~.manifest.Manifest`, given its files by ``add_entry``).

    ``with archive.open_file(name) as stream:`` streams one member (never held
    in memory); ``add_path`` copies a finished file (the XLSX workbook).
    """

    def __init__(self, path, manifest):
        self.zip = zipfile.ZipFile(
            path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True
        )
        self.manifest = manifest

    def open_file(self, name):
        return _MemberWriter(self, name)

    def add_path(self, name, path):
        """Add a finished file from disk: the entries of that file (the
        sheets of a workbook) get its checksum, also returned."""
        digest = hashlib.sha256()
        with open(path, "rb") as src, self.zip.open(name, "w", force_zip64=True) as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                dst.write(chunk)
        for entry in self.manifest.files:
            if entry.name == name:
                entry.sha256 = digest.hexdigest()
        return digest.hexdigest()

    def add_entry(self, entry):
        """Record a file (or sheet): a :class:`~.manifest.ManifestEntry`."""
        self.manifest.files.append(entry)

    def close(self):
        self.zip.writestr(MANIFEST_NAME, self.manifest.to_json())
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
