"""A content-addressed cache of parsed files, and the compact form parsed files travel in.

The cache lives outside the linted tree (the user's cache folder by default, see
:func:`default_directory`), with a folder per repository so that repositories never evict each
other. An entry is keyed by the file's display path and the sha256 of its bytes (and their
length), so a changed file misses exactly its own entry. Entries live in a namespace named
after everything else that decides what parsing yields: the cilium-lint version, the source of
the modules that read and parse files, Python, PyYAML and libyaml, and ``max-file-size``. A new
version, a changed parser or another size limit therefore starts an empty namespace (and older
namespaces of the repository are removed).

The compact form (``pack``/``unpack``) is ``marshal`` of plain tuples: the documents' data as is
and each source map as the blob it is packed in anyway (see :class:`SourceMap`), unpacked only
if a position in it is ever looked up. Rebuilding a ``ParsedFile`` from it costs little more than
``marshal.loads``, where ``pickle`` of the same objects costs about as much as parsing. Worker
processes of the parallel parse send their results back in the same form.

Entries are kept in a :class:`SealedStore`: sealed with a key local to this machine and user,
for their own namespace and key, opened without following symlinks and under a size cap
(:func:`entry_cap`). An entry that is truncated, corrupt, forged or copied from elsewhere is
ignored (and rewritten), never trusted; a cache folder that is a symlink or not the user's own
is not used at all. The cache never fails a run: any error reading or writing it turns it off
for the rest of the run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import marshal
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

import cilium_lint.readfile
import cilium_lint.yamlload  # noqa: F401  (loaded before their source is fingerprinted)
from cilium_lint import __version__
from cilium_lint.authstore import SealedStore, StoreRefused
from cilium_lint.document import Document, Location, ParsedFile, ParseProblem
from cilium_lint.sourcemap import SourceMap, Span

ENV_CACHE_DIR = "CILIUM_LINT_CACHE_DIR"
TOOL_FOLDER = "cilium-lint"
FORMAT = 2
_NAMESPACE_PREFIX = "v"
_NAMESPACE = re.compile(r"v[0-9a-f]{20}")
_log = logging.getLogger(__name__)
# The modules whose code decides what parsing a file yields: a change to any of them (even
# without a new version, as in a development checkout) starts a new namespace.
_PARSER_MODULES = ("cache", "document", "readfile", "sourcemap", "yamlload")

# The compact form relies on these shapes; if they change, packing is refused rather than wrong.
_EXPECTED_FIELDS = {
    ParsedFile: ("path", "documents", "problems", "text", "_reread"),
    Document: ("path", "index", "data", "source_map", "span", "encrypted"),
    ParseProblem: ("rule_id", "message", "location"),
    Span: ("line", "column", "end_line", "end_column"),
}


def _shapes_supported() -> bool:
    for cls, names in _EXPECTED_FIELDS.items():
        found = tuple(f.name for f in dataclasses.fields(cls))
        if found != names:
            return False
    return True


SUPPORTED = _shapes_supported()


def _flat(span: Span) -> tuple[int, int, int, int]:
    return (span.line, span.column, span.end_line, span.end_column)


def pack(parsed: ParsedFile, with_text: bool = False) -> bytes | None:
    """The compact form of ``parsed``, or None when it holds something the form cannot carry."""
    if not SUPPORTED:
        return None
    path = parsed.path
    docs: list[tuple[Any, ...]] = []
    for doc in parsed.documents:
        source_map = doc.source_map.blob()
        if doc.path != path or source_map is None:
            return None
        docs.append(
            (
                doc.index,
                doc.data,
                _flat(doc.span),
                doc.encrypted,
                source_map,
                tuple(doc.source_map.redirects().items()),
                tuple(doc.source_map.quoted()),
                doc.source_map.preorder(),
            )
        )
    problems: list[tuple[Any, ...]] = []
    for problem in parsed.problems:
        location = problem.location
        if getattr(location, "via", None) is not None:
            return None
        problems.append((problem.rule_id, problem.message, location.path, _flat(location.span)))
    text = parsed.text if with_text else None
    try:
        return marshal.dumps((FORMAT, path, tuple(docs), tuple(problems), text), 4)
    except ValueError:  # a value marshal cannot write: not cacheable, parse it each time
        return None


def _is_span(value: object) -> bool:
    return type(value) is tuple and len(value) == 4 and all(type(n) is int for n in value)


def unpack(blob: bytes, path: str) -> ParsedFile | None:
    """The ``ParsedFile`` packed in ``blob`` for ``path``, or None if ``blob`` is not one.

    Every part is checked to have the shape ``pack`` gives it, so a blob that is not an entry
    (damaged, or of another version) never yields objects of the wrong types.
    """
    try:
        fmt, packed_path, docs, problems, text = marshal.loads(blob)
        if fmt != FORMAT or packed_path != path or type(docs) is not tuple:
            return None
        if type(problems) is not tuple or not (text is None or type(text) is str):
            return None
        parsed = ParsedFile(path)
        for index, data, span, encrypted, source_map, redirects, quoted, preorder in docs:
            if (
                type(index) is not int
                or not _is_span(span)
                or type(encrypted) is not bool
                or type(source_map) is not bytes
                or type(redirects) is not tuple
                or type(quoted) is not tuple
                or type(preorder) is not bool
            ):
                return None
            positions = SourceMap.from_blob(source_map, dict(redirects), list(quoted), preorder)
            parsed.documents.append(Document(path, index, data, positions, Span(*span), encrypted))
        for rule_id, message, location_path, span in problems:
            if not (type(rule_id) is type(message) is type(location_path) is str) or not (
                _is_span(span)
            ):
                return None
            location = Location(location_path, Span(*span))
            parsed.problems.append(ParseProblem(rule_id, message, location))
        parsed.text = text
        return parsed
    except Exception:  # anything malformed is simply not an entry
        return None


def _parser_fingerprint() -> str | None:
    digest = hashlib.sha256()
    for name in _PARSER_MODULES:
        module = sys.modules.get(f"cilium_lint.{name}")
        source = getattr(module, "__file__", None)
        if source is None:
            return None
        try:
            digest.update(Path(source).read_bytes())
        except OSError:
            return None
    return digest.hexdigest()


# Taken once, when the parser modules are imported: the source a long-lived process runs is
# the source it imported, whatever is edited on disk later.
_PARSER_FINGERPRINT = _parser_fingerprint()


def namespace(max_file_size: int) -> str | None:
    """The name of the namespace for this version, parser and settings; None: do not cache."""
    if _PARSER_FINGERPRINT is None:
        return None
    yaml_id = f"{yaml.__version__}/{getattr(yaml, '__with_libyaml__', False)}"
    parts = (
        f"format={FORMAT}",
        f"cilium-lint={__version__}",
        f"parser={_PARSER_FINGERPRINT}",
        f"python={sys.implementation.cache_tag}/{sys.version}",
        f"pyyaml={yaml_id}",
        f"max-file-size={max_file_size}",
    )
    return _NAMESPACE_PREFIX + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def user_cache_home(environ: Mapping[str, str], platform: str = sys.platform) -> Path | None:
    """The user's folder for caches, as other tools use it: ``%LOCALAPPDATA%`` on Windows,
    ``~/Library/Caches`` on macOS, ``$XDG_CACHE_HOME`` (when absolute) or ``~/.cache``
    elsewhere; None when there is none."""
    if platform == "win32":
        local = environ.get("LOCALAPPDATA", "")
        return Path(local) if local and os.path.isabs(local) else None
    home = environ.get("HOME", "")
    if not (home and os.path.isabs(home)):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
    if platform == "darwin":
        return Path(home) / "Library" / "Caches"
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    return Path(home) / ".cache"


def default_directory(environ: Mapping[str, str], platform: str = sys.platform) -> Path | None:
    """Where to cache when no folder is given: ``$CILIUM_LINT_CACHE_DIR``, else ``cilium-lint``
    in the user's cache folder; never inside the linted tree, whose author could forge what a
    cache there holds."""
    override = environ.get(ENV_CACHE_DIR, "")
    if override:
        return Path(override)
    home = user_cache_home(environ, platform)
    return None if home is None else home / TOOL_FOLDER


def repository_root(linted: Path) -> Path:
    """The root of the git repository holding ``linted``, or its own folder outside one."""
    try:
        start = linted.resolve()
    except (OSError, RuntimeError):
        start = Path(os.path.abspath(linted))
    if not os.path.isdir(start):  # os.path's tests never raise (a folder we may not read)
        start = start.parent
    directory = start
    while True:
        if os.path.exists(directory / ".git"):
            return directory
        if directory.parent == directory:
            return start
        directory = directory.parent


def tree_folder(linted: Path) -> str:
    """The name of the folder of the repository holding ``linted``: each repository has its
    own, so that linting one never removes another's entries."""
    root = os.fsencode(str(repository_root(linted)))
    return "tree-" + hashlib.sha256(root).hexdigest()[:16]


def entry_cap(max_file_size: int) -> int:
    """The largest entry written or read: a parsed file packs to a few times its size (dense
    flow lists to about 20), so an entry over this is a file parsed each time instead."""
    return 16 * max_file_size + (1 << 20)


class ParseCache:
    """Parsed files by content, sealed in ``<store>/tree-<repository>/<namespace>/``."""

    def __init__(self, store: SealedStore, root: Path, max_file_size: int) -> None:
        self.store = store
        self.root = root
        self.cap = entry_cap(max_file_size)
        self.enabled = True
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._context = root.name.encode() + b"\x00"
        self._shards: set[str] = set()

    @classmethod
    def open(cls, directory: Path | None, max_file_size: int, linted: Path) -> ParseCache | None:
        """The cache in ``directory`` for the repository holding ``linted``, made if needed;
        None if there is none (``directory`` None) or it cannot be used (safely)."""
        space = namespace(max_file_size)
        if directory is None or space is None or not SUPPORTED:
            return None
        try:
            store = SealedStore.open(directory)
            tree = store.folder(tree_folder(linted))
            fresh = not os.path.lexists(tree / space)
            root = store.folder(tree.name, space)
        except (StoreRefused, OSError) as exc:  # OSError: e.g. a folder above not readable
            _log.debug("parse cache off: %s", exc)
            return None
        if fresh:
            # Namespaces of other versions or settings are never read again by this one.
            store.prune(tree, space, _NAMESPACE)
        return cls(store, root, max_file_size)

    @staticmethod
    def key(display: str, raw: bytes) -> bytes:
        digest = hashlib.sha256()
        digest.update(f"{display}\x00{len(raw)}\x00".encode("utf-8", "surrogateescape"))
        digest.update(raw)
        return digest.digest()

    def _entry(self, key: bytes) -> Path:
        name = key.hex()
        return self.root / name[:2] / name[2:]

    def get(self, key: bytes, display: str) -> ParsedFile | None:
        if not self.enabled:
            return None
        # Sealed for this namespace and key: an entry is valid only under its own name.
        payload = self.store.read(self._entry(key), self._context + key, self.cap)
        parsed = None if payload is None else unpack(payload, display)
        if parsed is None:
            self.misses += 1
        else:
            self.hits += 1
        return parsed

    def put(self, key: bytes, parsed: ParsedFile) -> None:
        if not self.enabled:
            return
        payload = pack(parsed)
        if payload is None or len(payload) > self.cap:
            return
        target = self._entry(key)
        try:
            shard = target.parent.name
            if shard not in self._shards:
                self.store.folder(self.root.parent.name, self.root.name, shard)
                self._shards.add(shard)
            self.store.write(target, self._context + key, payload)
            self.writes += 1
        except (OSError, StoreRefused):
            self.enabled = False  # full disk, a folder that is no longer ours: lint without


__all__ = [
    "ENV_CACHE_DIR",
    "ParseCache",
    "default_directory",
    "pack",
    "repository_root",
    "unpack",
    "user_cache_home",
]
