"""A folder of files that only this user's cilium-lint on this machine can have written.

Whatever a cache holds is read back by a later run, so a cache the linted tree could reach would
let a pull request decide what the tool sees. This store trusts nothing by where it lies:

- Its root and every folder in it are made by the tool (mode 0700) and used only while they are
  real folders (not symlinks) owned by the current user and writable by nobody else; otherwise
  the store is not opened, and nothing is written or deleted.
- The root holds a random 32-byte key, made once (exclusive create, mode 0600, never following
  a symlink) and read back only from a regular file of exactly that size, owned by the user and
  readable by nobody else: a key committed to a repository, copied from another machine or
  planted through a symlink is refused.
- Every file is sealed: a magic, HMAC-SHA256 with that key over a context (what the file is
  for, e.g. its name) and the payload, then the payload. A file not sealed with this key, or
  sealed for another context, reads as missing.
- Files are opened without following symlinks and without blocking, must be regular files, and
  are read only up to a size cap given by the caller.
- ``prune`` removes only folders inside the store that match the caller's name pattern, are
  real folders and are owned by the user.

On systems without ``geteuid`` (Windows) ownership and mode cannot be checked this way; the
key and the seals still hold.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import shutil
import stat
from pathlib import Path

KEY_NAME = "key"
KEY_BYTES = 32
MAGIC = b"CLS1"
_SEAL = hashlib.sha256().digest_size
# Backup tools skip a folder with a CACHEDIR.TAG; git ignores one that ignores itself (for a
# store given a folder inside a repository).
_MARKERS = {
    "CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by cilium-lint.\n",
    ".gitignore": "# Written by cilium-lint.\n*\n",
}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY


class StoreRefused(Exception):
    """The store cannot be used safely; the message says why."""


def _uid() -> int | None:
    geteuid = getattr(os, "geteuid", None)
    return None if geteuid is None else int(geteuid())


def _check_folder(path: Path) -> None:
    """``path`` is a real folder of this user that nobody else may write to."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise StoreRefused(f"{path} is a symlink")
    if not stat.S_ISDIR(info.st_mode):
        raise StoreRefused(f"{path} is not a folder")
    uid = _uid()
    if uid is not None:
        if info.st_uid != uid:
            raise StoreRefused(f"{path} is not owned by the current user")
        if info.st_mode & 0o022:
            raise StoreRefused(f"{path} is writable by other users")


def _make_folder(path: Path) -> None:
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    _check_folder(path)


def read_bounded(path: Path, cap: int) -> bytes | None:
    """The bytes of the regular file ``path`` (never through a symlink), or None when it is
    missing, not a regular file, or over ``cap`` bytes."""
    if not _NOFOLLOW and os.path.islink(path):
        return None  # no O_NOFOLLOW here: the check before opening is the best there is
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
            return None
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, min(1 << 20, cap + 1 - total)):
            total += len(chunk)
            if total > cap:
                return None  # grew while being read
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path``, which must not exist yet (never through a symlink)."""
    fd = os.open(path, _CREATE_FLAGS, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _load_key(root: Path) -> bytes:
    """The store's key: made on first use, afterwards read back only if it is safe to trust."""
    path = root / KEY_NAME
    if not _NOFOLLOW and os.path.lexists(path) and os.path.islink(path):
        raise StoreRefused(f"{path} is a symlink")
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        return _make_key(root)
    except OSError as exc:
        raise StoreRefused(f"{path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != KEY_BYTES:
            raise StoreRefused(f"{path} is not a key file")
        uid = _uid()
        if uid is not None and (info.st_uid != uid or info.st_mode & 0o077):
            raise StoreRefused(f"{path} is not private to the current user")
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise StoreRefused(f"{path} is not a key file")
    return key


def _make_key(root: Path) -> bytes:
    # Written whole under a private name, then linked into place: a concurrent run either
    # wins the link or reads the complete key of the run that did, never half of one.
    key = secrets.token_bytes(KEY_BYTES)
    path = root / KEY_NAME
    temporary = root / f".{KEY_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        _write_new(temporary, key, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _load_key(root)
        except OSError:  # no hard links on this file system: create the key in place
            _write_new(path, key, 0o600)
    except FileExistsError:
        return _load_key(root)
    except OSError as exc:
        raise StoreRefused(f"cannot create {path}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return key


class SealedStore:
    """Sealed files under ``root``; see the module documentation for what is checked."""

    def __init__(self, root: Path, key: bytes) -> None:
        self.root = root
        self._key = key

    @classmethod
    def open(cls, root: Path) -> SealedStore:
        """The store at ``root``, made if needed; raises :class:`StoreRefused` (never another
        error) when it cannot be used safely."""
        try:
            parent = root.parent
            if not parent.is_dir():
                parent.mkdir(parents=True, exist_ok=True)
            _make_folder(root)
            key = _load_key(root)  # first: a folder with a key not ours gets nothing written
            for name, text in _MARKERS.items():
                if not os.path.lexists(root / name):
                    with contextlib.suppress(FileExistsError):
                        _write_new(root / name, text.encode(), 0o644)
            return cls(root, key)
        except OSError as exc:
            raise StoreRefused(f"{root}: {exc.strerror or exc}") from None

    def folder(self, *names: str) -> Path:
        """The folder ``root/names...``, each part made if needed and checked; raises
        :class:`StoreRefused`."""
        path = self.root
        try:
            for name in names:
                if not name or name in (".", "..") or "/" in name or os.sep in name:
                    raise StoreRefused(f"not a folder name: {name!r}")
                path = path / name
                _make_folder(path)
        except OSError as exc:
            raise StoreRefused(f"{path}: {exc.strerror or exc}") from None
        return path

    def seal(self, context: bytes, payload: bytes) -> bytes:
        return MAGIC + self._mac(context, payload) + payload

    def unseal(self, context: bytes, blob: bytes) -> bytes | None:
        """The payload of ``blob`` if this store sealed it for ``context``, else None."""
        header = len(MAGIC) + _SEAL
        if len(blob) < header or blob[: len(MAGIC)] != MAGIC:
            return None
        payload = blob[header:]
        if not hmac.compare_digest(blob[len(MAGIC) : header], self._mac(context, payload)):
            return None
        return payload

    def _mac(self, context: bytes, payload: bytes) -> bytes:
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        # The context's length first, so that no context/payload split collides with another.
        mac.update(len(context).to_bytes(8, "big"))
        mac.update(context)
        mac.update(payload)
        return mac.digest()

    def read(self, path: Path, context: bytes, cap: int) -> bytes | None:
        """The payload sealed for ``context`` in ``path``, or None (missing, foreign, too big)."""
        blob = read_bounded(path, cap + len(MAGIC) + _SEAL)
        return None if blob is None else self.unseal(context, blob)

    def write(self, path: Path, context: bytes, payload: bytes) -> None:
        """Seal ``payload`` into ``path`` atomically; raises ``OSError``."""
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            _write_new(temporary, self.seal(context, payload), 0o600)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def prune(self, folder: Path, keep: str, pattern: re.Pattern[str]) -> None:
        """Remove the folders in ``folder`` (a folder of this store) whose whole name matches
        ``pattern``, except ``keep``: never a symlink, a file or another user's folder."""
        try:
            _check_folder(folder)
            entries = list(os.scandir(folder))
        except (OSError, StoreRefused):
            return
        for entry in entries:
            if entry.name == keep or not pattern.fullmatch(entry.name):
                continue
            try:
                _check_folder(Path(entry.path))
            except (OSError, StoreRefused):
                continue
            # rmtree does not follow symlinks inside (and on Linux works through file
            # descriptors, so a folder swapped for a symlink midway is not followed either).
            shutil.rmtree(entry.path, ignore_errors=True)


__all__ = ["KEY_NAME", "SealedStore", "StoreRefused", "read_bounded"]
