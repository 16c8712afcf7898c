# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The manifest of a backup zip: its format constants, what it holds
(:class:`Manifest`, one :class:`ManifestEntry` per file or sheet), its JSON
(``manifest.json``, written by the archive) and its checks (the reader's).

The JSON is the one backups have always had, key for key: backups made
before this module read the same, and new ones are the same bytes.
"""

import json
import posixpath
import re
from dataclasses import dataclass, field

from .errors import BackupFileError, _lt

FORMAT_NAME = "crm_data_backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
FILE_FORMATS = ("csv", "xlsx")

MAX_MANIFEST_SIZE = 5 * 1024 * 1024
MAX_FORMAT_VERSION = 1000  # beyond: not a version (and not a 4,000-digit message)
MAX_ROWS = 10**12  # a manifest's row count, beyond any real backup

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Manifest values, as the application writes them.
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(/id)?")
_MODEL = re.compile(r"[a-z0-9_.]{1,128}")  # Odoo's rule for model names
# Control characters and lone surrogates: never in a name the application writes.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Neither those nor a path separator; Excel forbids []:*? in sheet names too.
_OBJECT_KEY = re.compile(r"[^\x00-\x1f\x7f-\x9f\ud800-\udfff/\\]{1,128}")
_SHEET = re.compile(r"[^\x00-\x1f\x7f-\x9f\ud800-\udfff/\\\[\]:*?]{1,31}")


def safe_name(name):
    """Whether ``name`` is a relative path with no way out of the zip."""
    if not name or "\\" in name or CONTROL.search(name) or name.startswith("/"):
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    parts = name.split("/")
    return ".." not in parts and posixpath.normpath(name) == name


@dataclass
class ManifestEntry:
    """One file of a backup (or one sheet of its XLSX workbook)."""

    model: str
    fields: list  # the header's columns: "id", "name", "partner_id/id"...
    name: str = ""  # the file in the zip
    rows: int = 0
    sha256: str = ""
    object: str = ""  # key of the backup object ("custom" for custom models)
    sheet: str | None = None  # XLSX only

    def to_json(self):
        """The entry as the manifest holds it, keys in the order backups
        always had (CSV: the checksum before the object, XLSX: after)."""
        data = {"model": self.model, "fields": list(self.fields), "name": self.name}
        if self.sheet is None:
            data.update(rows=self.rows, sha256=self.sha256, object=self.object)
        else:
            data.update(
                sheet=self.sheet, rows=self.rows, object=self.object, sha256=self.sha256
            )
        return data

    @classmethod
    def from_json(cls, data):
        """A checked entry (see :func:`check_entry`); other keys are ignored."""
        check_entry(data)
        return cls(
            model=data["model"],
            fields=list(data["fields"]),
            name=data["name"],
            rows=data["rows"],
            sha256=data["sha256"],
            object=data["object"],
            sheet=data.get("sheet"),
        )


@dataclass
class Manifest:
    """What ``manifest.json`` says: where the backup comes from and its files.

    ``formula_protection`` None: made before the flag existed (text cells
    carry a formula quote, see ``BackupReader.quoting``).
    """

    database_uuid: str = ""
    database_name: str = ""
    odoo_version: str = ""
    addon_version: str = ""
    created_at: str = ""
    file_format: str = "csv"
    formula_protection: bool | None = None
    files: list = field(default_factory=list)  # of ManifestEntry
    format_version: int = FORMAT_VERSION

    def to_json(self):
        """``manifest.json``'s bytes."""
        data = {
            "database_uuid": self.database_uuid,
            "database_name": self.database_name,
            "odoo_version": self.odoo_version,
            "addon_version": self.addon_version,
            "created_at": self.created_at,
            "file_format": self.file_format,
        }
        if self.formula_protection is not None:
            data["formula_protection"] = self.formula_protection
        data.update(
            format=FORMAT_NAME,
            format_version=self.format_version,
            files=[entry.to_json() for entry in self.files],
        )
        return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, raw):
        """The checked manifest of ``raw`` bytes; BackupFileError otherwise."""
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError):
            raise _invalid(_lt("The backup manifest is not valid JSON.")) from None
        except RecursionError:
            raise _invalid(
                _lt(
                    "The backup manifest nests its values too deeply: it was not "
                    "made by this application."
                )
            ) from None
        _check_header(data)
        files = [ManifestEntry.from_json(entry) for entry in data["files"]]
        uuid = data.get("database_uuid")
        name = data.get("database_name")
        return cls(
            # kept as found: the reader compares and shows them
            database_uuid=uuid if isinstance(uuid, str) else "",
            database_name=name if isinstance(name, str) else "",
            odoo_version=_text(data.get("odoo_version")),
            addon_version=_text(data.get("addon_version")),
            created_at=_text(data.get("created_at")),
            file_format=data.get("file_format", "csv"),
            formula_protection=_flag(data.get("formula_protection")),
            files=files,
            format_version=data["format_version"],
        )

    def find_entry(self, model, object_key=None):
        """The entry of a model (and object), or None."""
        for entry in self.files:
            if entry.model == model and (
                object_key is None or entry.object in (object_key, "custom")
            ):
                return entry
        return None


def _invalid(message, **params):
    """A manifest not as the application writes them."""
    return BackupFileError(message, "manifest", **params)


def _flag(value):
    # checked: absent, true or false (0 and 1 are equal to them in JSON's Python)
    return None if value is None else bool(value)


def _text(value):
    return value if isinstance(value, str) else ""


def _no_constant(name):
    # json accepts NaN and Infinity, which JSON (and a manifest) never holds.
    raise ValueError(name)


def _check_header(manifest):
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise _invalid(_lt("The manifest does not describe a CRM data backup."))
    version = manifest.get("format_version")
    # type(): a boolean is not a version; a huge number is not one either
    if type(version) is not int or not 1 <= version <= MAX_FORMAT_VERSION:
        raise _invalid(_lt("The manifest has no valid format version."))
    if version > FORMAT_VERSION:
        raise BackupFileError(
            _lt(
                "This backup uses format version %(version)s, made by a newer "
                "version of the application; this one reads up to version "
                "%(supported)s. Update the application to restore it."
            ),
            "newer_format",
            version=version,
            supported=FORMAT_VERSION,
        )
    if manifest.get("formula_protection", False) not in (True, False):
        raise _invalid(_lt("The manifest has an invalid formula protection flag."))
    if manifest.get("file_format", "csv") not in FILE_FORMATS:
        raise _invalid(_lt("The manifest names an unknown file format."))
    if not isinstance(manifest.get("files"), list):
        raise _invalid(_lt("The manifest lists no files."))


def check_entry(entry):
    """A file entry as the application writes them, or BackupFileError."""
    ok = (
        isinstance(entry, dict)
        and isinstance(entry.get("name"), str)
        and isinstance(entry.get("object"), str)
        and isinstance(entry.get("model"), str)
        and type(entry.get("rows")) is int
        and 0 <= entry["rows"] <= MAX_ROWS
        and isinstance(entry.get("fields"), list)
        and entry["fields"]
        and all(isinstance(f, str) for f in entry["fields"])
        and isinstance(entry.get("sha256"), str)
        and _SHA256.match(entry["sha256"])
    )
    if not ok:
        raise _invalid(_lt("The manifest has an incomplete or invalid file entry."))
    name = entry["name"]
    # A backup's files sit side by side at the top of the zip.
    if "/" in name or not safe_name(name):
        raise _invalid(
            _lt(
                "The manifest lists a file with an unsafe name (%(name)r); "
                "it was not made by this application."
            ),
            name=name[:80],
        )
    if not _MODEL.fullmatch(entry["model"]):
        raise _invalid(
            _lt("The manifest gives %(name)r an invalid model name (%(model)r)."),
            name=name,
            model=entry["model"][:80],
        )
    key = entry["object"]
    if not _OBJECT_KEY.fullmatch(key):
        raise _invalid(
            _lt("The manifest gives %(name)r an invalid object key (%(key)r)."),
            name=name,
            key=key[:80],
        )
    sheet = entry.get("sheet")
    if sheet is not None and not (isinstance(sheet, str) and _SHEET.fullmatch(sheet)):
        raise _invalid(
            _lt("The manifest gives %(name)r an invalid sheet name (%(sheet)r)."),
            name=name,
            sheet=str(sheet)[:80],
        )
    columns = entry["fields"]
    for column in columns:
        if not _COLUMN.fullmatch(column):
            raise _invalid(
                _lt("The manifest lists an invalid column for %(name)r (%(column)r)."),
                name=name,
                column=column[:80],
            )
    if len(set(columns)) != len(columns):
        raise _invalid(
            _lt("The manifest lists a column of %(name)r twice."),
            name=name,
        )
    if "id" not in columns:
        raise _invalid(
            _lt("%(name)r has no 'id' column: records cannot be matched."),
            name=name,
        )
