"""Tests for cilium_lint.sourcemap: lookups, alias redirects, nearest() and shifted()."""

from __future__ import annotations

from pathlib import Path

import pytest

from cilium_lint.document import Location, Via
from cilium_lint.sourcemap import SourceMap, Span
from cilium_lint.yamlload import parse_yaml


def span(line: int, column: int = 1, width: int = 1) -> Span:
    return Span(line, column, line, column + width)


def sample() -> SourceMap:
    """metadata: (1)  name: x (2)  annotations: (3)  ip: 10.0.6.1 (4); spec.ports: [80] (6,7)."""
    smap = SourceMap()
    smap.add((), Span(1, 1, 8, 1))
    smap.add(("metadata",), span(2, 3), key=span(1, 1, 8))
    smap.add(("metadata", "name"), span(2, 9), key=span(2, 3, 4))
    smap.add(("metadata", "annotations"), span(4, 5), key=span(3, 3, 11))
    smap.add(("metadata", "annotations", "ip"), span(4, 9, 8), key=span(4, 5, 2))
    smap.add(("spec",), span(6, 3), key=span(5, 1, 4))
    smap.add(("spec", "ports"), span(7, 5), key=span(6, 3, 5))
    smap.add(("spec", "ports", 0), span(7, 7, 2))
    return smap


def test_value_and_key_of_a_written_path() -> None:
    smap = sample()
    assert smap.value(("metadata", "annotations", "ip")) == span(4, 9, 8)
    assert smap.key(("metadata", "annotations", "ip")) == span(4, 5, 2)
    assert smap.key(("spec", "ports", 0)) is None  # sequence items have no key
    assert smap.value(("nowhere",)) is None and smap.key(("nowhere",)) is None


def test_nearest_exact_path_points_at_its_value() -> None:
    smap = sample()
    assert smap.nearest(("metadata", "annotations", "ip")) == (
        ("metadata", "annotations", "ip"),
        span(4, 9, 8),
    )
    assert smap.nearest(("spec", "ports", 0)) == (("spec", "ports", 0), span(7, 7, 2))


def test_nearest_missing_path_points_at_the_key_of_its_nearest_ancestor() -> None:
    smap = sample()
    # Not the annotations' value (line 4) but its key (line 3).
    assert smap.nearest(("metadata", "annotations", "other")) == (
        ("metadata", "annotations"),
        span(3, 3, 11),
    )
    assert smap.nearest(("metadata", "labels", "app", "x")) == (("metadata",), span(1, 1, 8))


def test_nearest_ancestor_without_a_key_uses_its_value() -> None:
    smap = sample()
    assert smap.nearest(("spec", "ports", 0, "name")) == (("spec", "ports", 0), span(7, 7, 2))


def test_nearest_falls_back_to_the_document_root() -> None:
    smap = sample()
    assert smap.nearest(("status", "x")) == ((), Span(1, 1, 8, 1))
    assert SourceMap().nearest(("a", "b")) is None
    assert SourceMap().nearest(()) is None


def test_redirect_resolves_value_and_paths_below_it() -> None:
    smap = sample()
    # copy: *annotations written on line 9
    smap.add_redirect(("copy",), ("metadata", "annotations"), key=span(9, 1, 4))
    assert smap.value(("copy",)) == span(4, 5)
    assert smap.value(("copy", "ip")) == span(4, 9, 8)
    # The key of the aliasing entry itself is where it was written, ...
    assert smap.key(("copy",)) == span(9, 1, 4)
    # ... and keys below it are in the anchored text.
    assert smap.key(("copy", "ip")) == span(4, 5, 2)
    assert smap.nearest(("copy", "ip")) == (("copy", "ip"), span(4, 9, 8))
    # A missing key below an alias: the nearest written key is inside the anchor.
    assert smap.nearest(("copy", "missing")) == (("copy",), span(9, 1, 4))


def test_redirect_chain_is_followed() -> None:
    smap = sample()
    smap.add_redirect(("a",), ("metadata", "annotations"))
    smap.add_redirect(("b",), ("a",))
    smap.add_redirect(("c", "d"), ("b", "ip"))
    assert smap.value(("c", "d")) == span(4, 9, 8)
    assert smap.value(("b", "ip")) == span(4, 9, 8)


def test_longest_redirect_prefix_wins() -> None:
    smap = sample()
    smap.add_redirect(("m",), ("metadata",))
    smap.add_redirect(("m", "name"), ("spec", "ports", 0))  # a merged override
    assert smap.value(("m", "name")) == span(7, 7, 2)
    assert smap.value(("m", "annotations", "ip")) == span(4, 9, 8)


def test_redirect_cycle_terminates() -> None:
    smap = SourceMap()
    smap.add_redirect(("a",), ("b",))
    smap.add_redirect(("b",), ("a",))
    assert smap.value(("a", "x")) is None
    assert smap.key(("a",)) is None
    assert smap.nearest(("a", "x")) is None


def test_shifted_moves_every_span_and_keeps_redirects() -> None:
    smap = sample()
    smap.add_redirect(("copy",), ("metadata", "annotations"), key=span(9, 1, 4))

    def move(s: Span) -> Span:
        return Span(s.line + 10, s.column + 4, s.end_line + 10, s.end_column + 4)

    moved = smap.shifted(move)
    assert moved.value(("metadata", "name")) == span(12, 13)
    assert moved.key(("metadata", "name")) == span(12, 7, 4)
    assert moved.value(("copy", "ip")) == span(14, 13, 8)
    assert moved.key(("copy",)) == span(19, 5, 4)
    assert moved.nearest(("spec", "x")) == (("spec",), span(15, 5, 4))
    # The original is untouched.
    assert smap.value(("metadata", "name")) == span(2, 9)


def test_redirect_costs_one_entry_per_alias() -> None:
    """A parsed alias to a big mapping adds a redirect, not a copy of every child's span."""
    base = "".join(f"  k{i}: {i}\n" for i in range(200))
    text = "base: &b\n" + base + "".join(f"c{i}: *b\n" for i in range(50))
    smap = parse_yaml(text.encode(), "f.yaml").documents[0].source_map
    assert smap.value(("c49", "k199")) == Span(201, 9, 201, 12)
    assert len(smap._read().values) < 300  # 200 children + root + base + 50 aliases' keys only
    assert len(smap.redirects()) == 50


def test_a_parsed_map_stays_packed_until_read() -> None:
    """A document's positions cost one blob until something looks one up."""
    smap = parse_yaml(b"a:\n  b: [1, 2]\nc: &x {d: 1}\ne: *x\n", "f.yaml").documents[0].source_map
    assert smap._tables is None and isinstance(smap.blob(), bytes)
    copy = SourceMap.from_blob(smap.blob() or b"", smap.redirects(), smap.quoted(), smap.preorder())
    assert copy.value(("a", "b", 1)) == Span(2, 10, 2, 11)
    assert copy.key(("e",)) == Span(4, 1, 4, 2)
    assert copy.value(("e", "d")) == Span(3, 11, 3, 12)
    moved = copy.shifted(lambda s: Span(s.line + 10, s.column, s.end_line + 10, s.end_column))
    assert moved.value(("a", "b", 1)) == Span(12, 10, 12, 11)
    assert moved.blob() is None  # a moved map is not what the file says: never cached
    with pytest.raises(ValueError):
        copy.add(("z",), Span(1, 1, 1, 2))


def test_quoted_scalars_with_a_dollar_are_known_without_reading_positions() -> None:
    text = b'a: ${X}\nb: "${Y}"\nc: |\n  ${Z}\nd: "no"\n'
    smap = parse_yaml(text, "f.yaml").documents[0].source_map
    assert [smap.is_plain(p) for p in [("a",), ("b",), ("c",)]] == [True, False, False]
    assert smap._tables is None
    aliased = parse_yaml(b'a: &x "${X}"\nb: *x\nc: &y {d: "${D}"}\ne: *y\n', "f.yaml")
    smap = aliased.documents[0].source_map
    assert [smap.is_plain(p) for p in [("b",), ("e", "d")]] == [False, False]
    assert smap._tables is None


def test_positions_beyond_two_bytes_survive_packing() -> None:
    long_value = "x" * 70_000
    text = f"a: {long_value}\nb: 1\n".encode()
    smap = parse_yaml(text, "f.yaml").documents[0].source_map
    copy = SourceMap.from_blob(smap.blob() or b"", smap.redirects(), smap.quoted(), smap.preorder())
    assert copy.value(("a",)) == Span(1, 4, 1, 70_004)
    assert copy.key(("b",)) == Span(2, 1, 2, 2)


def test_paths_packed_as_depth_and_key_read_back_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every YAML file of the repository (anchors, merges, lists of lists included)."""
    captured: list[tuple[SourceMap, list[tuple[object, ...]]]] = []
    seal = SourceMap.seal

    def spy(self: SourceMap) -> None:
        if self._blob is None:
            captured.append((self, list(self._building[0])))
        seal(self)

    monkeypatch.setattr(SourceMap, "seal", spy)
    root = Path(__file__).resolve().parents[2]
    files = sorted(p for d in ("examples", "tests") for p in (root / d).rglob("*.yaml"))
    for file in files:
        parse_yaml(file.read_bytes(), file.name)
    parse_yaml(b"a: &x {b: [[1, {c: 2}], 3]}\nd:\n  <<: [*x, {e: 4}]\n  <<: {f: 5}\n", "m.yaml")
    assert len(captured) > 100
    for smap, paths in captured:
        assert smap.preorder()
        expected = {path: index for index, path in enumerate(paths)}  # a duplicate key: the last
        assert list(smap._read().values.items()) == list(expected.items())


def test_a_lazy_location_finds_its_span_once_and_equals_an_eager_one() -> None:
    calls: list[int] = []

    def find() -> Span:
        calls.append(1)
        return Span(3, 1, 3, 5)

    lazy = Location.lazy("a.yaml", find)
    assert calls == []
    assert lazy == Location("a.yaml", Span(3, 1, 3, 5)) and lazy.span.line == 3
    assert hash(lazy) == hash(Location("a.yaml", Span(3, 1, 3, 5))) and calls == [1]
    via = Via(Location("b.yaml", Span(1, 1, 1, 2)), "substituted")
    assert lazy.with_via(via).via is via and lazy.via is None
