# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Open and check a backup zip before anything is read from it.

Every check raises ``BackupFileError`` with a sentence a user understands;
nothing here touches the database.
"""

import codecs
import contextlib
import csv
import hashlib
import io
import lzma
import shutil
import struct
import tempfile
import zipfile
import zlib

from .cells import column_field, parse_cell, unneutralise, unstorable
from .errors import BackupFileError, CellError, Message, _lt
from .manifest import CONTROL, MANIFEST_NAME, MAX_MANIFEST_SIZE, Manifest, safe_name

MAX_TOTAL_SIZE = 20 * 1024**3  # declared uncompressed size of the whole zip
MAX_RATIO = 200  # uncompressed / compressed, for entries over MIN_RATIO_SIZE
MIN_RATIO_SIZE = 1024 * 1024
MAX_ENTRIES = 10000
CELL_LIMITS = {"html": 5 * 1024**2, "text": 5 * 1024**2, "binary": 25 * 1024**2}
DEFAULT_CELL_LIMIT = 1024**2
CHUNK = 1024 * 1024
# csv builds a whole record in memory: a record (one line, or several for
# quoted newlines) may hold this many characters and separators at most.
MAX_RECORD_SIZE = 128 * 1024**2  # five binary cells at their limit
MAX_RECORD_SEPARATORS = 1000000
# ir_model_data's unique (module, name) index holds about 2,700 bytes at most:
# 512 characters are 2,048 bytes at most.
MAX_EXTERNAL_ID = 512
# What zipfile raises on a damaged, truncated or odd archive or member: also
# UnicodeDecodeError (a ValueError) for a name flagged UTF-8 that is not,
# struct.error for a short header, LZMAError for a damaged LZMA member.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    ValueError,
    OverflowError,
    KeyError,
    RuntimeError,  # NotImplementedError too: an unknown compression method
)

# The reader may meet cells up to the largest limit; csv's own default is 128 kB.
csv.field_size_limit(max(CELL_LIMITS.values()) * 2)


# A size in its unit; the number is formatted here, the unit translated.
_UNITS = (
    _lt("%(size)s bytes"),
    _lt("%(size)s kB"),
    _lt("%(size)s MB"),
    _lt("%(size)s GB"),
)


def _human(size):
    """A Message: a size with its unit, for the messages of errors."""
    for index, unit in enumerate(_UNITS):
        if size < 1024 or index == len(_UNITS) - 1:
            return Message(unit, size=f"{size:.0f}" if not index else f"{size:.1f}")
        size /= 1024


def _unreadable_xlsx(name):
    return BackupFileError(
        _lt("%(name)r is not a readable XLSX workbook."), "xlsx", name=name
    )


class _RecordLines:
    """Lines of a CSV file for csv.reader, which keeps a whole record in
    memory: a record longer than the limits is refused as it grows."""

    def __init__(self, text, name):
        self.text = text
        self.name = name
        self.line = 1  # the record being read; the header is line 1
        self.size = self.separators = 0

    def __iter__(self):
        # never more than the record may still hold: a line can be endless
        while chunk := self.text.readline(MAX_RECORD_SIZE - self.size + 1):
            self.size += len(chunk)
            self.separators += chunk.count(",")
            if self.size > MAX_RECORD_SIZE or self.separators > MAX_RECORD_SEPARATORS:
                raise BackupFileError(
                    _lt(
                        "Line %(line)s of %(name)r is longer than any record "
                        "of a backup (%(size)s or %(count)s values at most): the "
                        "file is damaged or was altered."
                    ),
                    "too_large",
                    line=self.line,
                    name=self.name,
                    size=_human(MAX_RECORD_SIZE),
                    count=f"{MAX_RECORD_SEPARATORS:,}",
                )
            yield chunk

    def next_record(self):
        self.line += 1
        self.size = self.separators = 0


class BackupReader:
    """A checked backup zip: its :class:`~.manifest.Manifest` and a row
    iterator per entry. ``open()`` checks the zip and the manifest,
    ``check_files()`` the files' contents; ``close()`` when done.

    ``source`` is bytes or a binary file object. ``database_uuid`` is the
    live database's; a backup from another database needs
    ``acknowledge_foreign=True``.
    """

    def __init__(
        self,
        source,
        database_uuid=None,
        acknowledge_foreign=False,
        max_total_size=MAX_TOTAL_SIZE,
    ):
        self.database_uuid = database_uuid
        self.acknowledge_foreign = acknowledge_foreign
        self.max_total_size = max_total_size
        self.manifest = None
        self.foreign = False
        if isinstance(source, bytes | bytearray):
            if not source:
                raise BackupFileError(_lt("The backup file is empty."), "empty")
            source = io.BytesIO(source)
        self._file = source
        self._zip = None

    # --- opening and checking ------------------------------------------------

    def open(self):
        """Open the zip and read its manifest, without reading any file."""
        self._open_zip()
        self._check_entries()
        self._read_manifest()
        return self

    def close(self):
        if self._zip is not None:
            self._zip.close()
        self._file.close()

    def _open_zip(self):
        self._file.seek(0, io.SEEK_END)
        if not self._file.tell():
            raise BackupFileError(_lt("The backup file is empty."), "empty")
        self._file.seek(0)
        try:
            self._zip = zipfile.ZipFile(self._file)
        except ZIP_ERRORS:
            raise BackupFileError(
                _lt("This file is not a backup zip, or it is truncated or damaged."),
                "not_zip",
            ) from None

    def _check_entries(self):
        infos = self._zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise BackupFileError(
                _lt("The backup holds %(count)s files, more than a backup ever has."),
                "too_many_files",
                count=len(infos),
            )
        total = 0
        names = set()
        for info in infos:
            if not safe_name(info.filename):
                raise BackupFileError(
                    _lt(
                        "The backup contains a file with an unsafe name "
                        "(%(name)r); it was not made by this application."
                    ),
                    "unsafe_name",
                    name=info.filename[:80],
                )
            if info.filename in names:
                raise BackupFileError(
                    _lt("The backup contains %(name)r twice."),
                    "duplicate",
                    name=info.filename,
                )
            names.add(info.filename)
            if info.flag_bits & 0x1:
                raise BackupFileError(
                    _lt("The backup contains encrypted files."), "encrypted"
                )
            total += info.file_size
            if info.file_size > MIN_RATIO_SIZE and (
                info.compress_size <= 0
                or info.file_size / info.compress_size > MAX_RATIO
            ):
                raise BackupFileError(
                    _lt(
                        "%(name)r would expand %(size)s from %(compressed)s: this "
                        "looks like a zip bomb."
                    ),
                    "zip_bomb",
                    name=info.filename,
                    size=_human(info.file_size),
                    compressed=_human(info.compress_size),
                )
        if total > self.max_total_size:
            raise BackupFileError(
                _lt(
                    "The backup would expand to %(size)s, more than the "
                    "%(limit)s allowed."
                ),
                "zip_bomb",
                size=_human(total),
                limit=_human(self.max_total_size),
            )

    def _read_manifest(self):
        try:
            info = self._zip.getinfo(MANIFEST_NAME)
        except KeyError:
            raise BackupFileError(
                _lt(
                    "The backup has no manifest.json: it was not made by this "
                    "application or it was altered."
                ),
                "no_manifest",
            ) from None
        if info.file_size > MAX_MANIFEST_SIZE:
            raise BackupFileError(_lt("The backup manifest is too large."), "manifest")
        manifest = Manifest.from_json(self._read_member(info))
        self.foreign = (
            bool(self.database_uuid) and manifest.database_uuid != self.database_uuid
        )
        if self.foreign and not self.acknowledge_foreign:
            name = manifest.database_name
            if not name or CONTROL.search(name):
                name = Message(_lt("unknown"))
            else:
                name = name[:80]
            raise BackupFileError(
                _lt(
                    "This backup comes from another database (%(name)s). Tick the "
                    "acknowledgement to restore values from it into this database."
                ),
                "foreign_database",
                name=name,
            )
        self.manifest = manifest

    @contextlib.contextmanager
    def _member(self, name):
        """The zip member ``name``, open; a member that cannot be opened or
        read is a BackupFileError (decoding its text is the caller's part)."""
        try:
            with self._zip.open(name) as member:
                yield member
        except ZIP_ERRORS:
            raise BackupFileError(
                _lt("%(name)r is damaged or truncated in the backup."),
                "damaged",
                name=name,
            ) from None

    def _read_member(self, info):
        with self._member(info.filename) as member:
            return member.read()

    def check_files(self, names=None):
        """Every listed file is there and nothing else is; the contents
        (checksum, UTF-8) of ``names``, or of every file."""
        listed = {MANIFEST_NAME}
        checked = {}
        for entry in self.manifest.files:
            name = entry.name
            listed.add(name)
            if name in checked:
                if checked[name] != entry.sha256:
                    raise BackupFileError(
                        _lt("The manifest gives two checksums for %(name)r."),
                        "manifest",
                        name=name,
                    )
                continue
            try:
                info = self._zip.getinfo(name)
            except KeyError:
                raise BackupFileError(
                    _lt(
                        "The manifest lists %(name)r but the backup does not "
                        "contain it."
                    ),
                    "missing_file",
                    name=name,
                ) from None
            if names is None or name in names:
                self._check_checksum(info, entry, text=not name.endswith(".xlsx"))
            checked[name] = entry.sha256
        extra = sorted(set(self._zip.namelist()) - listed)
        if extra:
            raise BackupFileError(
                _lt("The backup contains files its manifest does not list: %(names)s."),
                "extra_file",
                names=", ".join(repr(n[:60]) for n in extra[:5]),
            )

    def _check_checksum(self, info, entry, text=True):
        digest = hashlib.sha256()
        decoder = codecs.getincrementaldecoder("utf-8")()
        with self._member(info.filename) as member:
            try:
                while chunk := member.read(CHUNK):
                    digest.update(chunk)
                    if text:
                        decoder.decode(chunk)
                if text:
                    decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise BackupFileError(
                    _lt(
                        "%(name)r is not encoded in UTF-8; backups are always "
                        "UTF-8. Was the file edited with another program?"
                    ),
                    "encoding",
                    name=info.filename,
                ) from None
        if digest.hexdigest() != entry.sha256:
            raise BackupFileError(
                _lt(
                    "%(name)r does not match its checksum: the file was altered "
                    "or damaged after the backup."
                ),
                "checksum",
                name=info.filename,
            )

    # --- reading -----------------------------------------------------------

    def find_entry(self, model, object_key=None):
        """The manifest entry of a model (and object), or None."""
        return self.manifest.find_entry(model, object_key)

    @property
    def quoting(self):
        """How the cells of the files were neutralised against formulas:
        ``"all"`` (the ``formula_protection`` flag: every cell, ids included),
        ``"none"`` (flag off: cells are the values, as Import reads them) or
        ``"text"`` (backups made before the flag: text cells only)."""
        flag = self.manifest.formula_protection
        if flag is None:
            return "text"
        return "all" if flag else "none"

    def iter_rows(self, entry, field_types, unique=True):
        """Yield ``(xmlid, {field: parsed value})`` for each row of ``entry``.

        ``field_types`` maps the fields to read to their type; other columns
        are skipped. Raises BackupFileError on any malformed row or cell.
        ``unique=False``: the caller finds an external ID given twice itself
        (the set of those seen would grow with the file).
        """
        quoting = self.quoting
        unquote_all = quoting == "all"
        unquote_text = quoting == "text"
        header = entry.fields
        fields_by_index = []
        wanted = set(field_types)
        for index, column in enumerate(header):
            fname = column_field(column)
            if column != "id" and fname in wanted:
                ftype = field_types[fname]
                expected = (
                    f"{fname}/id" if ftype in ("many2one", "many2many") else fname
                )
                if column != expected:
                    raise BackupFileError(
                        _lt(
                            "Column %(column)r of %(name)r does not match the "
                            "field %(field)r (a %(type)s field)."
                        ),
                        "column",
                        column=column,
                        name=entry.name,
                        field=fname,
                        type=ftype,
                    )
                fields_by_index.append((index, fname, ftype))
        missing = wanted - {f for _i, f, _t in fields_by_index}
        if missing:
            raise BackupFileError(
                _lt("%(name)r has no column for %(fields)s."),
                "column",
                name=entry.name,
                fields=", ".join(sorted(missing)),
            )
        id_index = header.index("id")
        rows = self._raw_rows(entry)
        try:
            file_header = next(rows)
        except StopIteration:
            raise BackupFileError(
                _lt("%(name)r is empty."), "column", name=entry.name
            ) from None
        if file_header != header:
            extra = [c for c in file_header if c not in header]
            absent = [c for c in header if c not in file_header]
            if extra and absent:
                message = _lt(
                    "The columns of %(name)r do not match its manifest: unknown "
                    "columns %(extra)s; missing columns %(absent)s."
                )
            elif extra:
                message = _lt(
                    "The columns of %(name)r do not match its manifest: unknown "
                    "columns %(extra)s."
                )
            elif absent:
                message = _lt(
                    "The columns of %(name)r do not match its manifest: missing "
                    "columns %(absent)s."
                )
            else:
                message = _lt(
                    "The columns of %(name)r do not match its manifest (order differs)."
                )
            raise BackupFileError(
                message,
                "column",
                name=entry.name,
                extra=", ".join(map(repr, extra[:5])),
                absent=", ".join(map(repr, absent[:5])),
            )
        count = 0
        seen = set()
        for line, row in enumerate(rows, start=2):
            if len(row) != len(header):
                raise BackupFileError(
                    _lt(
                        "Line %(line)s of %(name)r has %(count)s values for "
                        "%(columns)s columns."
                    ),
                    "column",
                    line=line,
                    name=entry.name,
                    count=len(row),
                    columns=len(header),
                )
            count += 1
            if unquote_all:
                row = [unneutralise(cell) if cell else cell for cell in row]
            xmlid = row[id_index]
            if not xmlid or "." not in xmlid:
                raise BackupFileError(
                    _lt("Line %(line)s of %(name)r has no valid external ID."),
                    "value",
                    line=line,
                    name=entry.name,
                )
            if reason := unstorable(xmlid):
                raise BackupFileError(
                    _lt(
                        "Line %(line)s of %(name)r: the external ID contains "
                        "%(reason)s, which the database cannot store."
                    ),
                    "value",
                    line=line,
                    name=entry.name,
                    reason=reason,
                )
            if len(xmlid) > MAX_EXTERNAL_ID:
                raise BackupFileError(
                    _lt(
                        "Line %(line)s of %(name)r: the external ID is longer "
                        "than the %(limit)s characters allowed."
                    ),
                    "value",
                    line=line,
                    name=entry.name,
                    limit=MAX_EXTERNAL_ID,
                )
            if unique and xmlid in seen:
                raise BackupFileError(
                    _lt("External ID %(xmlid)r appears twice in %(name)r."),
                    "value",
                    xmlid=xmlid,
                    name=entry.name,
                )
            if unique:
                seen.add(xmlid)
            values = {}
            for index, fname, ftype in fields_by_index:
                cell = row[index]
                limit = CELL_LIMITS.get(ftype, DEFAULT_CELL_LIMIT)
                if cell is not None and len(cell) > limit:
                    raise BackupFileError(
                        _lt(
                            "Line %(line)s of %(name)r: the value of %(field)r is "
                            "%(size)s, more than the %(limit)s allowed."
                        ),
                        "too_large",
                        line=line,
                        name=entry.name,
                        field=fname,
                        size=_human(len(cell)),
                        limit=_human(limit),
                    )
                try:
                    values[fname] = parse_cell(ftype, cell, unquote_text)
                except CellError as exc:
                    raise BackupFileError(
                        _lt("Line %(line)s of %(name)r: %(field)r: %(reason)s."),
                        "value",
                        line=line,
                        name=entry.name,
                        field=fname,
                        reason=exc,
                    ) from None
            yield xmlid, values
        if count != entry.rows:
            raise BackupFileError(
                _lt(
                    "%(name)r holds %(count)s records but its manifest says "
                    "%(rows)s: the file is incomplete or was altered."
                ),
                "rows",
                name=entry.name,
                count=count,
                rows=entry.rows,
            )

    def _raw_rows(self, entry):
        name = entry.name
        if entry.sheet or name.endswith(".xlsx"):
            yield from self._xlsx_rows(entry)
            return
        with self._member(name) as member:
            text = io.TextIOWrapper(member, encoding="utf-8-sig", newline="")
            lines = _RecordLines(text, name)
            try:
                for row in csv.reader(lines, strict=True):
                    lines.next_record()
                    yield row
            except csv.Error as exc:
                raise BackupFileError(
                    _lt("%(name)r is not a valid CSV file (%(error)s)."),
                    "csv",
                    name=name,
                    error=str(exc),
                ) from None
            except UnicodeDecodeError:
                raise BackupFileError(
                    _lt("%(name)r is not encoded in UTF-8."), "encoding", name=name
                ) from None

    def _xlsx_rows(self, entry):
        try:
            import openpyxl
        except ImportError:  # pragma: no cover - openpyxl ships with Odoo
            raise BackupFileError(
                _lt("XLSX backups need the openpyxl library."), "xlsx"
            ) from None
        name = entry.name
        with tempfile.TemporaryFile() as tmp:
            with self._member(name) as member:
                shutil.copyfileobj(member, tmp, CHUNK)
            tmp.seek(0)
            try:
                # The workbook is itself a zip: apply the same bomb checks.
                BackupReader(tmp, max_total_size=self.max_total_size)._check_inner()
                tmp.seek(0)
                book = openpyxl.load_workbook(tmp, read_only=True, data_only=True)
            except BackupFileError:
                raise
            except Exception:  # openpyxl raises many kinds on a bad workbook
                raise _unreadable_xlsx(name) from None
            try:
                sheet_name = entry.sheet or entry.object[:31]
                if sheet_name not in book.sheetnames:
                    raise BackupFileError(
                        _lt("%(name)r has no sheet %(sheet)r."),
                        "xlsx",
                        name=name,
                        sheet=sheet_name,
                    )
                # read only: the sheet is parsed (and found bad) as it is read
                rows = book[sheet_name].iter_rows(values_only=True)
                while True:
                    try:
                        row = next(rows)
                    except StopIteration:
                        return
                    except Exception:  # as when loading
                        raise _unreadable_xlsx(name) from None
                    yield ["" if v is None else str(v) for v in row]
            finally:
                book.close()

    def _check_inner(self):
        try:
            self._zip = zipfile.ZipFile(self._file)
        except ZIP_ERRORS:
            raise BackupFileError(
                _lt("The XLSX workbook in the backup is damaged."), "xlsx"
            ) from None
        try:
            self._check_entries()
        except BackupFileError as exc:
            if exc.code != "unsafe_name":
                raise
