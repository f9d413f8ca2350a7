"""What parsing a file yields: documents with source maps, and the problems found on the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cilium_lint.sourcemap import Path, SourceMap, Span


class Location:
    """A place in a file of the tree, as reported to the user.

    ``span`` may be given later, as a function that finds it: most places a run notes down are
    never reported, and finding one reads its document's packed source map (see
    :class:`~cilium_lint.sourcemap.SourceMap`). Equality and hashing use the span, so they find
    it.
    """

    __slots__ = ("_find", "_span", "path", "via")

    path: str  # relative to the working directory, with "/"
    # How the text written here reached the place it is used (e.g. the ``${VAR}`` Flux
    # substituted with it); reported as a related location. Not part of the place itself.
    via: Via | None

    def __init__(self, path: str, span: Span, via: Via | None = None) -> None:
        self.path = path
        self._span: Span | None = span
        self._find: Callable[[], Span] | None = None
        self.via = via

    @classmethod
    def lazy(cls, path: str, find: Callable[[], Span]) -> Location:
        made = cls.__new__(cls)
        made.path, made._span, made._find, made.via = path, None, find, None
        return made

    @property
    def span(self) -> Span:
        span = self._span
        if span is None:
            assert self._find is not None
            span = self._span = self._find()
            self._find = None
        return span

    def with_via(self, via: Via | None) -> Location:
        """The same place, reached through ``via``."""
        if self._span is None:
            made = Location.lazy(self.path, lambda: self.span)
            made.via = via
            return made
        return Location(self.path, self._span, via)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Location):
            return NotImplemented
        return self.path == other.path and self.span == other.span

    def __hash__(self) -> int:
        return hash((self.path, self.span))

    def __repr__(self) -> str:
        return f"Location(path={self.path!r}, span={self.span!r}, via={self.via!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Location, (self.path, self.span, self.via))


@dataclass(frozen=True, slots=True)
class Via:
    location: Location
    message: str


@dataclass(slots=True, eq=False)
class Document:
    """One YAML document of a file: plain data plus where each part was written."""

    path: str
    index: int
    data: Any
    source_map: SourceMap
    span: Span
    # The file this document was read from is a data file (e.g. pulled in by a configMapGenerator)
    # rather than a set of manifests; set by the tree index.
    encrypted: bool = False

    @property
    def kind(self) -> str | None:
        if isinstance(self.data, dict):
            kind = self.data.get("kind")
            return kind if isinstance(kind, str) else None
        return None

    @property
    def api_version(self) -> str | None:
        if isinstance(self.data, dict):
            api = self.data.get("apiVersion")
            return api if isinstance(api, str) else None
        return None

    def locate(self, path: Path) -> Location:
        """The location of ``path``, or of its nearest written ancestor, or of the document."""
        return Location.lazy(self.path, _Pending(self, path, False))

    def locate_key(self, path: Path) -> Location:
        return Location.lazy(self.path, _Pending(self, path, True))

    def _nearest_span(self, path: Path) -> Span:
        found = self.source_map.nearest(path)
        return found[1] if found else self.span

    def _key_span(self, path: Path) -> Span:
        span = self.source_map.key(path) or self.source_map.value(path)
        return span or self._nearest_span(path)


class _Pending:
    """The span of a place in a document, found when called: one small object, where a partial
    of a bound method takes three (a run notes down tens of thousands of these)."""

    __slots__ = ("at", "document", "key")

    def __init__(self, document: Document, at: Path, key: bool) -> None:
        self.document, self.at, self.key = document, at, key

    def __call__(self) -> Span:
        if self.key:
            return self.document._key_span(self.at)
        return self.document._nearest_span(self.at)


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A file that Flux or kustomize would refuse, or that cannot be read at all."""

    rule_id: str
    message: str
    location: Location


@dataclass(slots=True)
class ParsedFile:
    path: str
    documents: list[Document] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    # The decoded text. Kept when it holds an inline suppression comment ("cilium-lint:"); else
    # let go after loading (see ``release_text``), as only a few files are ever read again.
    text: str | None = None
    _reread: Callable[[], str | None] | None = None

    def release_text(self, reread: Callable[[], str | None]) -> None:
        """Let the text go unless it holds a suppression comment; ``reread`` gets it back."""
        if self.text is not None and MARKER not in self.text:
            self.text, self._reread = None, reread

    def full_text(self) -> str | None:
        """The text, read again if it was let go (None if the file is gone or changed since)."""
        if self.text is None and self._reread is not None:
            self.text, self._reread = self._reread(), None
        return self.text


# What every inline suppression comment holds: a text without it has none to read.
MARKER = "cilium-lint:"
