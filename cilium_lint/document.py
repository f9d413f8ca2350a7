"""What parsing a file yields: documents with source maps, and the problems found on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cilium_lint.sourcemap import Path, SourceMap, Span


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a file of the tree, as reported to the user."""

    path: str  # relative to the working directory, with "/"
    span: Span
    # How the text written here reached the place it is used (e.g. the ``${VAR}`` Flux
    # substituted with it); reported as a related location. Not part of the place itself.
    via: Via | None = field(default=None, compare=False)


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
        found = self.source_map.nearest(path)
        return Location(self.path, found[1] if found else self.span)

    def locate_key(self, path: Path) -> Location:
        span = self.source_map.key(path) or self.source_map.value(path)
        return Location(self.path, span) if span else self.locate(path)


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
    text: str | None = None  # decoded text, kept for inline suppression comments
