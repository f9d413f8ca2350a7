"""A content-addressed cache of parsed files, and the compact form parsed files travel in.

An entry is keyed by the file's display path and the sha256 of its bytes (and their length), so
a changed file misses exactly its own entry. Entries live in a namespace named after everything
else that decides what parsing yields: the cilium-lint version, the source of the modules that
read and parse files, Python, PyYAML and libyaml, and ``max-file-size``. A new version, a changed
parser or another size limit therefore starts an empty namespace (and older namespaces are
removed).

The compact form (``pack``/``unpack``) is ``marshal`` of plain tuples: the documents' data as is
and each source map as the blob it is packed in anyway (see :class:`SourceMap`), unpacked only
if a position in it is ever looked up. Rebuilding a ``ParsedFile`` from it costs little more than
``marshal.loads``, where ``pickle`` of the same objects costs about as much as parsing. Worker
processes of the parallel parse send their results back in the same form.

Every entry carries its own checksum; an entry that is truncated, corrupt or not ours is ignored
(and rewritten), never trusted. The cache never fails a run: any error reading or writing it
turns it off for the rest of the run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import marshal
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

import cilium_lint.readfile
import cilium_lint.yamlload  # noqa: F401  (loaded before their source is fingerprinted)
from cilium_lint import __version__
from cilium_lint.document import Document, Location, ParsedFile, ParseProblem
from cilium_lint.sourcemap import SourceMap, Span

CACHE_DIR_NAME = ".cilium-lint-cache"
FORMAT = 2
_MAGIC = b"CLC1"
_DIGEST = 32  # bytes of a sha256 digest
_NAMESPACE_PREFIX = "v"
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


def unpack(blob: bytes, path: str) -> ParsedFile | None:
    """The ``ParsedFile`` packed in ``blob`` for ``path``, or None if ``blob`` is not one."""
    try:
        fmt, packed_path, docs, problems, text = marshal.loads(blob)
        if fmt != FORMAT or packed_path != path:
            return None
        parsed = ParsedFile(path)
        for index, data, span, encrypted, source_map, redirects, quoted, preorder in docs:
            if not isinstance(source_map, bytes):
                return None
            positions = SourceMap.from_blob(source_map, dict(redirects), list(quoted), preorder)
            parsed.documents.append(Document(path, index, data, positions, Span(*span), encrypted))
        for rule_id, message, location_path, span in problems:
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


def default_directory(start: Path, environ: Mapping[str, str]) -> Path | None:
    """Where to cache by default: ``.cilium-lint-cache`` at the root of the git repository
    holding ``start`` (the linted path); outside a repository ``$XDG_CACHE_HOME/cilium-lint``
    when that is set; else nowhere (no cache), so a run never litters a folder it was pointed at.
    """
    try:
        directory = start.resolve()
    except (OSError, RuntimeError):
        return None
    if not directory.is_dir():
        directory = directory.parent
    while True:
        if (directory / ".git").exists():
            return directory / CACHE_DIR_NAME
        if directory.parent == directory:
            break
        directory = directory.parent
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "cilium-lint"
    return None


class ParseCache:
    """Parsed files by content, in ``directory/<namespace>/``."""

    def __init__(self, directory: Path, space: str) -> None:
        self.directory = directory
        self.root = directory / space
        self.enabled = True
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._shards: set[str] = set()

    @classmethod
    def open(cls, directory: Path, max_file_size: int) -> ParseCache | None:
        """The cache in ``directory``, created if needed; None if it cannot be used."""
        space = namespace(max_file_size)
        if space is None or not SUPPORTED:
            return None
        cache = cls(directory, space)
        try:
            fresh = not cache.root.is_dir()
            directory.mkdir(parents=True, exist_ok=True)
            _write_marker(directory / ".gitignore", "# Written by cilium-lint.\n*\n")
            _write_marker(
                directory / "CACHEDIR.TAG",
                "Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by cilium-lint.\n",
            )
            cache.root.mkdir(exist_ok=True)
        except OSError:
            return None
        if fresh:
            cache._remove_other_namespaces()
        return cache

    def _remove_other_namespaces(self) -> None:
        """Namespaces of other versions or settings are never read again by this one."""
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        for entry in entries:
            if (
                entry.name != self.root.name
                and entry.name.startswith(_NAMESPACE_PREFIX)
                and len(entry.name) == len(self.root.name)
                and entry.is_dir(follow_symlinks=False)
            ):
                shutil.rmtree(entry.path, ignore_errors=True)

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
        try:
            with open(self._entry(key), "rb") as handle:
                blob = handle.read()
        except FileNotFoundError:
            self.misses += 1
            return None
        except OSError:
            self.misses += 1
            return None
        header = len(_MAGIC) + 2 * _DIGEST
        if (
            blob[: len(_MAGIC)] != _MAGIC
            or blob[len(_MAGIC) : len(_MAGIC) + _DIGEST] != key
            or hashlib.sha256(blob[header:]).digest() != blob[len(_MAGIC) + _DIGEST : header]
        ):
            self.misses += 1
            return None
        parsed = unpack(blob[header:], display)
        if parsed is None:
            self.misses += 1
        else:
            self.hits += 1
        return parsed

    def put(self, key: bytes, parsed: ParsedFile) -> None:
        if not self.enabled:
            return
        payload = pack(parsed)
        if payload is None:
            return
        blob = _MAGIC + key + hashlib.sha256(payload).digest() + payload
        target = self._entry(key)
        temporary = target.parent / f".{target.name}.{os.getpid()}.tmp"
        try:
            shard = target.parent.name
            if shard not in self._shards:
                target.parent.mkdir(exist_ok=True)
                self._shards.add(shard)
            with open(temporary, "wb") as handle:
                handle.write(blob)
            os.replace(temporary, target)
            self.writes += 1
        except OSError:
            self.enabled = False  # read-only checkout, full disk: lint without the cache
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


def _write_marker(path: Path, text: str) -> None:
    if not path.exists():
        path.write_text(text, encoding="utf-8")


__all__ = ["CACHE_DIR_NAME", "ParseCache", "default_directory", "pack", "unpack"]
