"""Positions of keys and values inside one YAML document, addressed by path.

A path is a tuple of mapping keys (str) and sequence indexes (int), like a JSON pointer.
Aliases are stored as redirects to the anchored node's own path, so a value reached through
``*anchor`` is located where it was written, and an alias costs one entry however large the
anchored node is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

PathKey: TypeAlias = str | int
Path: TypeAlias = tuple[PathKey, ...]

# A chain of redirects longer than this can only be a cycle.
_MAX_REDIRECTS = 64


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """1-based line and column of the first character; end is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


class SourceMap:
    __slots__ = ("_keys", "_redirects", "_values")

    def __init__(self) -> None:
        self._values: dict[Path, Span] = {}
        self._keys: dict[Path, Span] = {}
        self._redirects: dict[Path, Path] = {}

    def add(self, path: Path, value: Span, key: Span | None = None) -> None:
        self._values[path] = value
        if key is not None:
            self._keys[path] = key

    def add_redirect(self, path: Path, target: Path, key: Span | None = None) -> None:
        self._redirects[path] = target
        if key is not None:
            self._keys[path] = key

    def shifted(self, move: Callable[[Span], Span]) -> SourceMap:
        """A copy with every span moved, for YAML embedded in another file's block scalar."""
        copy = SourceMap()
        copy._values = {path: move(span) for path, span in self._values.items()}
        copy._keys = {path: move(span) for path, span in self._keys.items()}
        copy._redirects = dict(self._redirects)
        return copy

    def _canonical(self, path: Path) -> Path:
        """Follow alias redirects so that ``path`` names the place the text was written."""
        for _ in range(_MAX_REDIRECTS):
            for cut in range(len(path), -1, -1):
                target = self._redirects.get(path[:cut])
                if target is not None:
                    path = target + path[cut:]
                    break
            else:
                return path
        return path

    def value(self, path: Path) -> Span | None:
        """Where the value at ``path`` is written (through aliases)."""
        return self._values.get(self._canonical(path))

    def key(self, path: Path) -> Span | None:
        """Where the key of ``path`` is written: the key itself, not the anchor it aliases."""
        span = self._keys.get(path)
        if span is not None:
            return span
        return self._keys.get(self._canonical(path))

    def nearest(self, path: Path) -> tuple[Path, Span] | None:
        """The longest written prefix of ``path`` and the span to point at for it.

        The exact path points at its value; an ancestor points at its key (so a missing key is
        reported on the line of the mapping that should hold it).
        """
        exact = self.value(path)
        if exact is not None:
            return path, exact
        for cut in range(len(path) - 1, -1, -1):
            prefix = path[:cut]
            span = self.key(prefix) or self.value(prefix)
            if span is not None:
                return prefix, span
        return None
