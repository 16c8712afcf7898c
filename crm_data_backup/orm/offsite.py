# Copyright 2026 crm_data_backup contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Off-site copies of backups in an OCA ``fs.storage`` (SFTP, S3, a directory...):
streamed in chunks, encrypted with age when recipients are set, written under a
temporary name then renamed, kept by daily/weekly/monthly tiers, read back to be
verified.

Layout on the storage: ``crm_data_backup/<database>/`` holds, for each copy,
``backup-<YYYYmmdd-HHMMSS>-<id>.zip[.age]`` and its sidecar ``<that>.json`` (the
copy's size and SHA-256, and for an unencrypted copy the backup's manifest).
The sidecar is written last: a copy without one is incomplete and never listed.
"""

import contextlib
import hashlib
import json
import re
import secrets
import shutil
import tempfile
import zipfile
from datetime import datetime

import fsspec
import pyrage

from ..engine.archive import _HashingStream
from ..engine.errors import TranslatableError, _lt

CHUNK = 1 << 20
ROOT = "crm_data_backup"
_NAME = re.compile(
    r"^backup-(?P<date>\d{8}-\d{6})-(?P<id>\d+)\.zip(?P<age>\.age)?$", re.ASCII
)
# left by an interrupted upload; removed by the retention once this old
STALE_PART_SECONDS = 24 * 3600
DEFAULT_KEEP = {"daily": 7, "weekly": 4, "monthly": 12}
KEEP_PARAM = "crm_data_backup.offsite_keep_%s"


def read_keep(get_param):
    """The tiers set in the parameters (``get_param(key, default)``): {tier:
    count}; 0 keeps none of the tier, a missing or bad value its default."""
    keep = {}
    for tier, default in DEFAULT_KEEP.items():
        try:
            keep[tier] = max(int(get_param(KEEP_PARAM % tier, default)), 0)
        except ValueError:
            keep[tier] = default
    return keep


class OffsiteError(TranslatableError):
    """A failure of the storage, of a copy or of a key, in words a user
    understands (``translated(env._)``)."""


class WrongIdentity(OffsiteError):
    """The age identity given does not decrypt the copy."""


def parse_recipients(text):
    """age recipients (one public key per line; blank lines and ``#`` comments
    allowed) -> pyrage recipients. ``OffsiteError`` on a bad line."""
    recipients = []
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("AGE-SECRET-KEY-"):
            # never keep it: the server must hold no private key
            raise OffsiteError(
                _lt(
                    "Line %(line)s is an age private key (identity). Enter the "
                    "public key (age1...) only; keep the private key off this server."
                ),
                line=number,
            )
        try:
            if line.startswith("age1"):
                recipients.append(pyrage.x25519.Recipient.from_str(line))
            elif line.startswith(("ssh-ed25519 ", "ssh-rsa ")):
                recipients.append(pyrage.ssh.Recipient.from_str(line))
            else:
                raise pyrage.RecipientError(line)
        except pyrage.RecipientError:
            raise OffsiteError(
                _lt(
                    "Line %(line)s is not an age public key (age1..., or an SSH "
                    "ed25519/RSA public key)."
                ),
                line=number,
            ) from None
    return recipients


def parse_identity(text):
    """An age identity (private key) given for one operation, never stored."""
    line = (text or "").strip()
    try:
        return pyrage.x25519.Identity.from_str(line)
    except (pyrage.IdentityError, ValueError):
        raise OffsiteError(
            _lt("This is not an age private key (AGE-SECRET-KEY-1...).")
        ) from None


def keep_by_tiers(copies, daily, weekly, monthly):
    """The copies to keep, as restic's ``forget --keep-daily/weekly/monthly``:
    for each tier, the newest copy of each of the last N days (ISO weeks,
    months) that have one. ``copies``: (datetime, key) pairs. The newest copy is
    always kept."""
    ordered = sorted(copies, reverse=True)
    keep = {ordered[0][1]} if ordered else set()
    tiers = (
        (daily, lambda when: when.date()),
        (weekly, lambda when: when.isocalendar()[:2]),
        (monthly, lambda when: (when.year, when.month)),
    )
    for count, bucket in tiers:
        last = object()
        for when, key in ordered:
            if count <= 0:
                break
            if bucket(when) != last:
                last = bucket(when)
                keep.add(key)
                count -= 1
    return keep


def _pipeline(remote, reading=False):
    """SFTP (paramiko) waits for the server's answer to each 32 kB request
    unless told otherwise: 1 MB/s instead of 40 on a local link."""
    if reading and hasattr(remote, "prefetch"):
        remote.prefetch()
    elif hasattr(remote, "set_pipelined"):
        remote.set_pipelined(True)


class _HashingWriter(_HashingStream):
    """The archive's hashing stream, returning the count from ``write()`` as
    pyrage requires (a storage's file object may return None)."""

    def write(self, data):
        super().write(data)
        return len(data)


class _HashingReader:
    """Binary read stream that hashes and counts what is read from ``source``."""

    def __init__(self, source):
        self.source = source
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size=-1):  # pylint: disable=method-required-super
        data = self.source.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self):
        return True


class OffsiteStore:
    """The configured storage of a database. ``storage``: an ``fs.storage``
    record (sudo); ``recipients``: pyrage recipients (empty: no encryption)."""

    def __init__(self, storage, dbname, recipients=(), keep=None):
        self.storage = storage
        self.folder = f"{ROOT}/{dbname}"
        self.recipients = list(recipients)
        self.keep = dict(DEFAULT_KEEP, **(keep or {}))
        self._fs = None

    @property
    def fs(self):
        if self._fs is None:
            try:
                try:
                    fs = self._connect()
                except Exception:  # pylint: disable=broad-except
                    # fsspec reuses its instances: one whose connection was
                    # cut (server restarted) fails until it is dropped
                    fsspec.get_filesystem_class(
                        self.storage.protocol
                    ).clear_instance_cache()
                    fs = self._connect()
                self._fs = fs
            except Exception as exc:
                raise OffsiteError(
                    _lt("The storage %(name)s cannot be reached: %(error)s"),
                    name=self.storage.name,
                    error=str(exc) or type(exc).__name__,
                ) from exc
        return self._fs

    def _connect(self):
        fs = self.storage._get_filesystem()
        # info(), not exists(): exists() says False on any error, a dead
        # connection included
        with contextlib.suppress(FileNotFoundError):
            fs.info(self.folder)
        return fs

    @staticmethod
    def file_name(backup_id, when, encrypted):
        suffix = ".zip.age" if encrypted else ".zip"
        return f"backup-{when:%Y%m%d-%H%M%S}-{backup_id}{suffix}"

    def _path(self, name):
        return f"{self.folder}/{name}"

    def _rename_into_place(self, tmp, path):
        self.fs.mv(tmp, path)

    def _remove(self, path):
        with contextlib.suppress(FileNotFoundError, OSError):
            self.fs.rm_file(path)

    # -- copying ------------------------------------------------------------
    def upload(self, source_path, backup_id, when, sidecar):
        """Stream ``source_path`` (the backup zip) to the storage, encrypted to
        the recipients if any; returns the sidecar written (path, sha256, size,
        encrypted). Nothing is left under the final name unless it is whole."""
        encrypted = bool(self.recipients)
        name = self.file_name(backup_id, when, encrypted)
        path = self._path(name)
        tmp = self._path(f".{name}.{secrets.token_hex(4)}.part")
        fs = self.fs
        try:
            fs.makedirs(self.folder, exist_ok=True)
            with open(source_path, "rb") as src, fs.open(tmp, "wb") as remote:
                _pipeline(remote)
                out = _HashingWriter(remote)
                if encrypted:
                    pyrage.encrypt_io(src, out, self.recipients)
                else:
                    shutil.copyfileobj(src, out, CHUNK)
            size = fs.size(tmp)
            if size != out.size:
                raise OffsiteError(
                    _lt("The storage holds %(size)s bytes of the %(sent)s sent."),
                    size=size,
                    sent=out.size,
                )
            self._rename_into_place(tmp, path)
            info = dict(
                sidecar,
                file=name,
                size=out.size,
                sha256=out.sha256.hexdigest(),
                encrypted=encrypted,
            )
            self._write_sidecar(path, info)
        except BaseException:
            self._remove(tmp)
            raise
        return dict(info, path=path)

    def _write_sidecar(self, path, info):
        tmp = f"{path}.json.{secrets.token_hex(4)}.part"
        try:
            with self.fs.open(tmp, "wb") as remote:
                remote.write(json.dumps(info, indent=2).encode())
            self._rename_into_place(tmp, f"{path}.json")
        except BaseException:
            self._remove(tmp)
            raise

    # -- listing and retention -------------------------------------------------
    def list_copies(self, folder=None):
        """Complete copies of this database (or of ``folder``): dicts of name,
        path, date, backup id, encrypted, database; newest first."""
        folder = folder or self.folder
        try:
            names = {
                entry.rsplit("/", 1)[-1] for entry in self.fs.ls(folder, detail=False)
            }
        except FileNotFoundError:
            return []
        copies = []
        for name in names:
            match = _NAME.match(name)
            if match and f"{name}.json" in names:
                copies.append(
                    {
                        "name": name,
                        "path": f"{folder}/{name}",
                        "date": datetime.strptime(match["date"], "%Y%m%d-%H%M%S"),
                        "backup_id": int(match["id"]),
                        "encrypted": bool(match["age"]),
                        "database": folder.rsplit("/", 1)[-1],
                    }
                )
        return sorted(copies, key=lambda c: (c["date"], c["name"]), reverse=True)

    def list_all_copies(self):
        """The copies of every database on the storage (a restore may come from
        another database), newest first."""
        try:
            folders = self.fs.ls(ROOT, detail=True)
        except FileNotFoundError:
            return []
        copies = []
        for entry in folders:
            if entry["type"] == "directory":
                name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
                copies += self.list_copies(f"{ROOT}/{name}")
        return sorted(copies, key=lambda c: (c["date"], c["name"]), reverse=True)

    def read_sidecar(self, path):
        with self.fs.open(f"{path}.json", "rb") as f:
            return json.loads(f.read(1 << 20))

    def prune(self):
        """Delete the copies the tiers do not keep; returns the deleted ones.
        Also removes what interrupted uploads left."""
        copies = self.list_copies()
        keep = keep_by_tiers(
            [(c["date"], c["path"]) for c in copies],
            self.keep["daily"],
            self.keep["weekly"],
            self.keep["monthly"],
        )
        purged = []
        for copy in copies:
            if copy["path"] not in keep:
                # the sidecar first: a copy without one is no longer listed
                self.fs.rm_file(f"{copy['path']}.json")
                self.fs.rm_file(copy["path"])
                purged.append(copy)
        self._remove_stale_parts()
        return purged

    def _remove_stale_parts(self):
        try:
            entries = self.fs.ls(self.folder, detail=True)
        except FileNotFoundError:
            return
        now = datetime.now().timestamp()
        for entry in entries:
            name = entry["name"].rsplit("/", 1)[-1]
            if not name.endswith(".part"):
                continue
            mtime = entry.get("mtime") or entry.get("created")
            if hasattr(mtime, "timestamp"):
                mtime = mtime.timestamp()
            if mtime and now - float(mtime) > STALE_PART_SECONDS:
                self._remove(entry["name"])

    def delete(self, path):
        self.fs.rm_file(f"{path}.json")
        self.fs.rm_file(path)

    # -- reading back -----------------------------------------------------------
    def check_copy(self, path, sha256, size, target=None):
        """Read the whole copy back; its SHA-256 and size must be the ones
        written. ``target``: a binary file that receives the bytes read."""
        try:
            with self.fs.open(path, "rb") as remote:
                _pipeline(remote, reading=True)
                reader = _HashingReader(remote)
                while chunk := reader.read(CHUNK):
                    if target is not None:
                        target.write(chunk)
        except FileNotFoundError:
            raise OffsiteError(
                _lt("The copy %(path)s is missing from the storage."), path=path
            ) from None
        if reader.size != size:
            raise OffsiteError(
                _lt(
                    "The copy %(path)s holds %(size)s bytes, %(written)s were written."
                ),
                path=path,
                size=reader.size,
                written=int(size),
            )
        if reader.sha256.hexdigest() != sha256:
            raise OffsiteError(
                _lt(
                    "The copy %(path)s does not match its SHA-256: it was altered "
                    "or damaged on the storage."
                ),
                path=path,
            )

    def fetch_zip(self, path, identity=None, encrypted=False):
        """The backup zip of a copy in a temporary file (deleted on close),
        decrypted with ``identity`` when encrypted."""
        plain = tempfile.TemporaryFile()
        try:
            with self.fs.open(path, "rb") as remote:
                _pipeline(remote, reading=True)
                if encrypted:
                    try:
                        pyrage.decrypt_io(remote, plain, [identity])
                    except pyrage.DecryptError:
                        raise WrongIdentity(
                            _lt(
                                "The copy cannot be decrypted with this private "
                                "key: it was encrypted for another one."
                            )
                        ) from None
                else:
                    shutil.copyfileobj(remote, plain, CHUNK)
            plain.seek(0)
            if not zipfile.is_zipfile(plain):
                raise OffsiteError(
                    _lt("The copy %(path)s is not a backup zip."), path=path
                )
            plain.seek(0)
        except BaseException:
            plain.close()
            raise
        return plain
