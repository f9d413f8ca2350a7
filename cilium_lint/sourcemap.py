"""Positions of keys and values inside one YAML document, addressed by path.

A path is a tuple of mapping keys (str) and sequence indexes (int), like a JSON pointer.
Aliases are stored as redirects to the anchored node's own path, so a value reached through
``*anchor`` is located where it was written, and an alias costs one entry however large the
anchored node is.
"""

from __future__ import annotations

import marshal
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

PathKey: TypeAlias = str | int
Path: TypeAlias = tuple[PathKey, ...]

# line, column, end line, end column
Numbers: TypeAlias = tuple[int, int, int, int]

# What a map holds while it is built, in the order things were added: value paths, their
# numbers (4 a span), for each key the index of the value it belongs to, key numbers, and the
# keys of aliases (which have no value of their own) with their numbers.
_Building: TypeAlias = tuple[list[Path], list[int], list[int], list[int], list[Path], list[int]]

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
    """Spans of one document's keys and values, packed until the first look-up.

    A tree holds hundreds of thousands of positions and a run looks up a few of them, in a
    small share of its documents. So a finished map is one ``marshal`` blob (paths and a flat
    run of numbers; no ``Span`` objects), unpacked into dictionaries the first time a span is
    read. The blob is also what the parse cache and worker processes carry, as it is.

    Kept unpacked, as they are few and needed without any span: the alias redirects, and the
    paths of scalars holding a "$" that were quoted or block scalars (Flux's substitution reads
    those differently from plain ones).
    """

    __slots__ = ("_blob", "_building", "_move", "_preorder", "_quoted", "_redirects", "_tables")

    def __init__(self) -> None:
        self._blob: bytes | None = None
        # While a document is built (the builder appends to these; ``seal`` packs them).
        self._building: _Building = ([], [], [], [], [], [])
        self._tables: _Tables | None = None
        self._move: Callable[[Span], Span] | None = None
        self._redirects: dict[Path, Path] = {}
        self._quoted: list[Path] = []
        # Value paths were added parent first, each after its parent's other descendants only
        # (as a parser walks a document): then a path is packed as its depth and last key.
        self._preorder = False

    @classmethod
    def from_blob(
        cls, blob: bytes, redirects: dict[Path, Path], quoted: list[Path], preorder: bool
    ) -> SourceMap:
        """A map packed by :meth:`blob` (in this or another process), with the same
        :meth:`redirects` and :meth:`quoted`."""
        made = cls()
        made._blob, made._redirects, made._quoted = blob, redirects, quoted
        made._preorder = preorder
        made._building = _EMPTY_BUILDING
        return made

    def add(self, path: Path, value: Span, key: Span | None = None) -> None:
        self.add_numbers(path, _numbers(value), None if key is None else _numbers(key))

    def add_redirect(self, path: Path, target: Path, key: Span | None = None) -> None:
        self.add_redirect_numbers(path, target, None if key is None else _numbers(key))

    # The parser's forms: a span as its four numbers, as it has no ``Span`` to give.

    def add_numbers(self, path: Path, value: Numbers, key: Numbers | None) -> None:
        vpaths, vnums, owners, knums, _, _ = self._open()
        vpaths.append(path)
        vnums.extend(value)
        if key is not None:
            owners.append(len(vpaths) - 1)
            knums.extend(key)

    def add_redirect_numbers(self, path: Path, target: Path, key: Numbers | None) -> None:
        _, _, _, _, alias_keys, alias_knums = self._open()
        self._redirects[path] = target
        if key is not None:
            alias_keys.append(path)
            alias_knums.extend(key)

    def lists(self) -> tuple[list[Path], list[int], list[int], list[int]]:
        """What ``add_numbers`` appends to, for the parser to append to directly and in step:
        value paths, their numbers, the value each key belongs to (by index), key numbers.

        The parser promises to add value paths in preorder (a node before its children)."""
        vpaths, vnums, owners, knums, _, _ = self._open()
        self._preorder = True
        return vpaths, vnums, owners, knums

    def note_quoted(self, path: Path) -> None:
        """The scalar at ``path`` holds a "$" and is not written plain."""
        self._open()
        self._quoted.append(path)

    def _open(self) -> _Building:
        if self._blob is not None or self._tables is not None:
            raise ValueError("a source map is not added to once it is packed or read")
        return self._building

    def seal(self) -> None:
        """Pack what was added into one blob (the builder calls this when a document ends)."""
        if self._blob is None and self._tables is None:
            vpaths, vnums, owners, knums, alias_keys, alias_knums = self._building
            paths: tuple[Any, ...] = (
                (tuple(p[-1] if p else None for p in vpaths), _packed([len(p) for p in vpaths]))
                if self._preorder
                else tuple(vpaths)
            )
            packed = (
                paths,
                _packed(vnums),
                _packed(owners),
                _packed(knums),
                tuple(alias_keys),
                _packed(alias_knums),
            )
            self._blob = marshal.dumps(packed, 4)
            self._building = _EMPTY_BUILDING

    def blob(self) -> bytes | None:
        """The packed form, or None for a map that is moved (see :meth:`shifted`)."""
        if self._move is not None:
            return None
        self.seal()
        return self._blob

    def redirects(self) -> dict[Path, Path]:
        return self._redirects

    def preorder(self) -> bool:
        """Whether the blob holds paths as depths and last keys (see :meth:`lists`)."""
        return self._preorder

    def quoted(self) -> list[Path]:
        return self._quoted

    def is_plain(self, path: Path) -> bool:
        """Whether the scalar at ``path`` (through aliases) was written plain, for a scalar
        holding a "$"."""
        return self._canonical(path) not in self._quoted

    def shifted(self, move: Callable[[Span], Span]) -> SourceMap:
        """A copy with every span moved, for YAML embedded in another file's block scalar."""
        self.seal()
        copy = SourceMap()
        copy._blob, copy._tables, copy._building = self._blob, self._tables, _EMPTY_BUILDING
        copy._redirects, copy._quoted = self._redirects, self._quoted
        copy._preorder = self._preorder
        inner = self._move
        copy._move = move if inner is None else (lambda span: move(inner(span)))
        return copy

    def _read(self) -> _Tables:
        tables = self._tables
        if tables is None:
            if self._blob is not None:
                vpaths, vnums, owners, knums, alias_keys, alias_knums = marshal.loads(self._blob)
                if self._preorder:
                    vpaths = _preorder_paths(vpaths[0], _unpacked(vpaths[1]))
                vnums, owners = _unpacked(vnums), _unpacked(owners)
                knums, alias_knums = _unpacked(knums), _unpacked(alias_knums)
            else:
                vpaths, vnums, owners, knums, alias_keys, alias_knums = self._building
            # Keys of written values come first in the key numbers, then the aliases' own keys.
            keys = {vpaths[owner]: i for i, owner in enumerate(owners)}
            keys.update((path, len(owners) + i) for i, path in enumerate(alias_keys))
            tables = _Tables(
                {path: i for i, path in enumerate(vpaths)},
                vnums,
                keys,
                [*knums, *alias_knums],
            )
            self._tables = tables
            self._building = _EMPTY_BUILDING
        return tables

    def _span(self, numbers: Sequence[int], index: int | None) -> Span | None:
        if index is None:
            return None
        at = 4 * index
        span = Span(numbers[at], numbers[at + 1], numbers[at + 2], numbers[at + 3])
        return span if self._move is None else self._move(span)

    def _canonical(self, path: Path) -> Path:
        """Follow alias redirects so that ``path`` names the place the text was written."""
        redirects = self._redirects
        if not redirects:
            return path
        for _ in range(_MAX_REDIRECTS):
            for cut in range(len(path), -1, -1):
                target = redirects.get(path[:cut])
                if target is not None:
                    path = target + path[cut:]
                    break
            else:
                return path
        return path

    def value(self, path: Path) -> Span | None:
        """Where the value at ``path`` is written (through aliases)."""
        tables = self._read()
        return self._span(tables.value_numbers, tables.values.get(self._canonical(path)))

    def key(self, path: Path) -> Span | None:
        """Where the key of ``path`` is written: the key itself, not the anchor it aliases."""
        tables = self._read()
        index = tables.keys.get(path)
        if index is None:
            index = tables.keys.get(self._canonical(path))
        return self._span(tables.key_numbers, index)

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


def _numbers(span: Span) -> Numbers:
    return (span.line, span.column, span.end_line, span.end_column)


def _packed(numbers: list[int]) -> tuple[str, bytes]:
    """Numbers as machine integers: 2 bytes each in most documents (marshal takes 5)."""
    code = "H" if not numbers or max(numbers) < 65536 else "Q"
    return code, array(code, numbers).tobytes()


def _preorder_paths(keys: tuple[PathKey, ...], depths: Sequence[int]) -> list[Path]:
    """Paths from each one's last key and depth, given in preorder."""
    paths: list[Path] = []
    trail: list[PathKey] = []
    for key, depth in zip(keys, depths, strict=True):
        del trail[max(depth - 1, 0) :]
        if depth:
            trail.append(key)
        paths.append(tuple(trail))
    return paths


def _unpacked(packed: tuple[str, bytes]) -> array[int]:
    numbers = array(packed[0])
    numbers.frombytes(packed[1])
    return numbers


class _Tables(NamedTuple):
    values: dict[Path, int]  # path -> index of its span in value_numbers (4 numbers each)
    value_numbers: Sequence[int]
    keys: dict[Path, int]
    key_numbers: Sequence[int]


_EMPTY_BUILDING: _Building = ([], [], [], [], [], [])
