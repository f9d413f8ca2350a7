"""Tests for cilium_lint.yamlload: data, positions and problems of every kind of YAML file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cilium_lint import yamlload
from cilium_lint.document import ParsedFile
from cilium_lint.sourcemap import Span
from cilium_lint.yamlload import MAX_DEPTH, parse_embedded, parse_yaml

HAS_LIBYAML = hasattr(yaml, "CSafeLoader")


@pytest.fixture(
    params=[
        pytest.param(
            "libyaml",
            marks=pytest.mark.skipif(not HAS_LIBYAML, reason="PyYAML built without libyaml"),
        ),
        "python",
    ]
)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with libyaml's parser and with PyYAML's pure-Python one (used without libyaml)."""
    if request.param == "python":
        monkeypatch.setattr(yamlload, "_Loader", yaml.SafeLoader)
    yield request.param


def parse(text: str | bytes) -> ParsedFile:
    return parse_yaml(text.encode("utf-8") if isinstance(text, str) else text, "f.yaml")


def only(parsed: ParsedFile) -> Any:
    assert not parsed.problems, parsed.problems
    assert len(parsed.documents) == 1
    return parsed.documents[0].data


def problem_ids(parsed: ParsedFile) -> list[str]:
    return [p.rule_id for p in parsed.problems]


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the n-th occurrence of ``needle`` in ``text``."""
    start = -1
    for _ in range(occurrence):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, column


def at(span: Span | None) -> tuple[int, int]:
    assert span is not None
    return span.line, span.column


# --- positions -------------------------------------------------------------------------------

MANIFEST = """\
apiVersion: v1
kind: Service
metadata:
  name: echo
  annotations:
    lbipam.cilium.io/ips: 10.0.6.10
spec:
  ports:
    - port: 80
      name: http
    - port: 443
"""


def test_positions_of_keys_and_values_are_one_based() -> None:
    document = parse(MANIFEST).documents[0]
    smap = document.source_map
    ann = ("metadata", "annotations", "lbipam.cilium.io/ips")
    assert at(smap.key(ann)) == position(MANIFEST, "lbipam.cilium.io/ips")
    assert at(smap.value(ann)) == position(MANIFEST, "10.0.6.10")
    value = smap.value(ann)
    assert value is not None
    assert (value.end_line, value.end_column) == (6, position(MANIFEST, "10.0.6.10")[1] + 9)
    assert at(smap.key(("kind",))) == (1 + 1, 1)
    assert at(smap.value(("spec", "ports", 1, "port"))) == position(MANIFEST, "443")
    assert at(smap.value(("spec", "ports", 1))) == position(MANIFEST, "port: 443")
    assert smap.key(("spec", "ports", 1)) is None  # a sequence item has no key
    assert at(document.span) == (1, 1)


def test_locate_points_at_value_or_nearest_written_key() -> None:
    document = parse(MANIFEST).documents[0]
    assert at(document.locate(("metadata", "name")).span) == position(MANIFEST, "echo")
    # A missing key is reported at the key of the mapping that should hold it.
    missing = document.locate(("metadata", "labels", "app"))
    assert at(missing.span) == position(MANIFEST, "metadata")
    assert missing.path == "f.yaml"
    assert at(document.locate_key(("spec", "ports")).span) == position(MANIFEST, "ports")


def test_value_reached_through_alias_points_at_the_anchor() -> None:
    text = "base:\n  ip: &ip 10.0.6.10\nsvc:\n  ip: *ip\n  ports: &p [80, 443]\nother: *p\n"
    document = parse(text).documents[0]
    assert document.data == {
        "base": {"ip": "10.0.6.10"},
        "svc": {"ip": "10.0.6.10", "ports": [80, 443]},
        "other": [80, 443],
    }
    smap = document.source_map
    # The value is where the anchored text is (the node starts at its anchor).
    assert at(smap.value(("svc", "ip"))) == position(text, "&ip 10.0.6.10")
    # The key is the aliasing key itself.
    assert at(smap.key(("svc", "ip"))) == position(text, "ip: *ip")
    # Paths below an alias resolve into the anchored node.
    assert at(smap.value(("other", 1))) == position(text, "443")
    assert at(smap.key(("other",))) == position(text, "other")


def test_alias_to_a_mapping_keeps_positions_of_its_children() -> None:
    text = "defaults: &d\n  mode: native\n  mtu: 1450\nrelease:\n  values: *d\n"
    document = parse(text).documents[0]
    assert document.data["release"]["values"] == {"mode": "native", "mtu": 1450}
    smap = document.source_map
    assert at(smap.value(("release", "values", "mtu"))) == position(text, "1450")
    assert at(smap.key(("release", "values", "mtu"))) == position(text, "mtu")


# --- merge keys ------------------------------------------------------------------------------


def test_merge_key_explicit_keys_win_and_merged_keys_point_into_base() -> None:
    text = (
        "base: &base\n"
        "  ip: 10.0.6.1\n"
        "  mode: native\n"
        "svc:\n"
        "  mode: tunnel\n"  # explicit before the merge
        "  <<: *base\n"
        "  extra: 1\n"
    )
    document = parse(text).documents[0]
    assert not parse(text).problems
    assert document.data["svc"] == {"ip": "10.0.6.1", "mode": "tunnel", "extra": 1}
    assert "<<" not in document.data["svc"]
    smap = document.source_map
    assert at(smap.value(("svc", "ip"))) == position(text, "10.0.6.1")
    assert at(smap.key(("svc", "ip"))) == position(text, "ip:")
    assert at(smap.value(("svc", "mode"))) == position(text, "tunnel")
    assert at(smap.key(("svc", "mode"))) == position(text, "mode", occurrence=2)


def test_merge_explicit_key_after_merge_also_wins() -> None:
    data = only(parse("b: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n"))
    assert data["m"] == {"x": 1, "y": 3}


def test_merge_list_earlier_sources_win() -> None:
    text = "a: &a {x: a, y: a}\nb: &b {y: b, z: b}\nm:\n  <<: [*a, *b]\n"
    document = parse(text).documents[0]
    assert document.data["m"] == {"x": "a", "y": "a", "z": "b"}
    line, column = position(text, "y: a")
    assert at(document.source_map.value(("m", "y"))) == (line, column + 3)
    line, column = position(text, "z: b")
    assert at(document.source_map.value(("m", "z"))) == (line, column + 3)


def test_inline_merge_mapping_is_merged() -> None:
    text = "m:\n  <<: {x: 1}\n  y: 2\n"
    document = parse(text).documents[0]
    assert document.data == {"m": {"x": 1, "y": 2}}
    assert at(document.source_map.value(("m", "x"))) == position(text, "1}")


def test_nested_merges_resolve_through_both_bases() -> None:
    text = "a: &a {x: 1}\nb: &b\n  <<: *a\n  y: 2\nc:\n  <<: *b\n"
    document = parse(text).documents[0]
    assert document.data["c"] == {"x": 1, "y": 2}
    assert at(document.source_map.value(("c", "x"))) == position(text, "1}")
    assert at(document.source_map.value(("c", "y"))) == position(text, "2")


def test_duplicate_key_through_merge_is_not_a_duplicate() -> None:
    parsed = parse("b: &b {ip: 10.0.6.1}\nm:\n  <<: *b\n  ip: 10.0.6.2\n")
    assert parsed.problems == []
    assert parsed.documents[0].data["m"] == {"ip": "10.0.6.2"}


# --- anchors defined again -------------------------------------------------------------------


def test_anchor_redefined_later_wins(loader: str) -> None:
    text = "a: &x one\nb: *x\nc: &x two\nd: *x\n"
    document = parse(text).documents[0]
    assert not parse(text).problems
    assert document.data == {"a": "one", "b": "one", "c": "two", "d": "two"}
    assert at(document.source_map.value(("b",))) == position(text, "&x one")
    assert at(document.source_map.value(("d",))) == position(text, "&x two")


def test_anchor_redefined_across_documents_and_positions_stay_per_document(loader: str) -> None:
    text = "a: &x 1\nb: &x 2\nc: *x\n---\na: &x 3\nc: *x\n"
    parsed = parse(text)
    assert not parsed.problems
    assert [d.data for d in parsed.documents] == [{"a": 1, "b": 2, "c": 2}, {"a": 3, "c": 3}]
    assert at(parsed.documents[1].source_map.value(("c",))) == position(text, "&x 3")


def test_undefined_alias_is_a_syntax_error() -> None:
    parsed = parse("a: 1\nb: *nowhere\n")
    assert problem_ids(parsed) == ["CL001"]
    assert parsed.problems[0].location.span.line == 2


# --- scalars ---------------------------------------------------------------------------------


def test_unknown_tags_load_as_plain_data() -> None:
    data = only(parse("a: !env_var FOO\nb: !Ref {x: 1}\nc: !seq [1, 2]\nd: !!str 5\n"))
    assert data == {"a": "FOO", "b": {"x": 1}, "c": [1, 2], "d": "5"}


def test_value_key_loads_as_the_string_equals() -> None:
    assert only(parse("a:\n  =: 1\n  b: =\n")) == {"a": {"=": 1, "b": "="}}


def test_yaml_1_1_booleans() -> None:
    data = only(parse("a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: 'yes'\ng: y\n"))
    assert data == {"a": True, "b": False, "c": True, "d": False, "e": True, "f": "yes", "g": "y"}
    assert all(type(data[k]) is bool for k in "abcde")


def test_keys_stay_as_written() -> None:
    # A GitHub workflow's `on:` key is the text "on", not True.
    assert only(parse("on: push\nyes: 1\n1: x\n")) == {"on": "push", "yes": 1, "1": "x"}


def test_timestamps_stay_strings() -> None:
    data = only(parse("a: 2024-01-01\nb: 2001-12-14t21:59:43.10-05:00\nc: 2001-12-14 21:59:43\n"))
    assert data == {
        "a": "2024-01-01",
        "b": "2001-12-14t21:59:43.10-05:00",
        "c": "2001-12-14 21:59:43",
    }


def test_integers_octal_hex_binary_and_friends() -> None:
    data = only(
        parse(
            "oct: 017\nhex: 0x1F\nneg: -0x1f\nbin: 0b101\nsep: 1_000\nquoted: '017'\n"
            "zero: 0\nplus: +12\nsexa: 1:30\n"
        )
    )
    assert data == {
        "oct": 15,
        "hex": 31,
        "neg": -31,
        "bin": 5,
        "sep": 1000,
        "quoted": "017",
        "zero": 0,
        "plus": 12,
        "sexa": "1:30",
    }


def test_floats_and_nulls() -> None:
    data = only(parse("a: 1.5\nb: .inf\nc: -.Inf\nd: ~\ne: null\nf:\ng: 6.8523015e+5\n"))
    assert data["a"] == 1.5
    assert data["b"] == float("inf") and data["c"] == float("-inf")
    assert data["d"] is None and data["e"] is None and data["f"] is None
    assert data["g"] == 685230.15


def test_nan() -> None:
    value = only(parse("a: .NaN\n"))["a"]
    assert value != value


# --- documents -------------------------------------------------------------------------------


def test_multi_document_file_with_empty_documents() -> None:
    text = "---\n---\na: 1\n---\n# only a comment\n---\nb: 2\n"
    parsed = parse(text)
    assert parsed.problems == []
    assert [d.data for d in parsed.documents] == [None, {"a": 1}, None, {"b": 2}]
    assert [d.index for d in parsed.documents] == [0, 1, 2, 3]
    assert parsed.documents[3].source_map.value(("b",)) == Span(7, 4, 7, 5)


def test_empty_file_and_comment_only_file_have_no_documents() -> None:
    assert parse("").documents == [] and parse("").problems == []
    assert parse("# nothing\n").documents == []


def test_scalar_and_list_documents() -> None:
    parsed = parse("--- 5\n--- [1, 2]\n--- hello\n---\n- a\n- b\n")
    assert parsed.problems == []
    assert [d.data for d in parsed.documents] == [5, [1, 2], "hello", ["a", "b"]]
    assert all(d.kind is None for d in parsed.documents)


def test_document_kind_and_api_version() -> None:
    document = parse(MANIFEST).documents[0]
    assert (document.kind, document.api_version) == ("Service", "v1")


# --- duplicate keys --------------------------------------------------------------------------


def test_duplicate_key_reported_at_second_key_with_first_line() -> None:
    text = "metadata:\n  name: a\n  labels: {}\n  name: b\n"
    parsed = parse(text)
    assert problem_ids(parsed) == ["CL002"]
    problem = parsed.problems[0]
    assert at(problem.location.span) == (4, 3)
    assert problem.location.path == "f.yaml"
    assert "'name'" in problem.message and "line 2" in problem.message
    # The document is still loaded (with the last value, as most tools do).
    assert parsed.documents[0].data["metadata"]["name"] == "b"


def test_third_copy_of_a_key_names_the_first_line() -> None:
    parsed = parse("a: 1\nb: 2\na: 3\na: 4\n")
    assert [(p.rule_id, p.location.span.line) for p in parsed.problems] == [
        ("CL002", 3),
        ("CL002", 4),
    ]
    assert all("line 1" in p.message for p in parsed.problems)


def test_same_key_in_different_mappings_is_fine() -> None:
    assert parse("a: {name: x}\nb: {name: y}\n").problems == []


# --- syntax errors ---------------------------------------------------------------------------


def test_syntax_error_at_the_right_line() -> None:
    text = "a: 1\nb:\n  c: 2\n d: 3\ne: 4\n"
    parsed = parse(text)
    assert problem_ids(parsed) == ["CL001"]
    assert parsed.problems[0].location.span.line == 4
    assert parsed.problems[0].message.startswith("invalid YAML")


def test_documents_before_a_syntax_error_are_kept() -> None:
    parsed = parse("a: 1\n---\nb: [\n")
    assert [d.data for d in parsed.documents] == [{"a": 1}]
    assert problem_ids(parsed) == ["CL001"]


def test_tabs_in_indentation_are_a_syntax_error() -> None:
    parsed = parse("a:\n\tb: 1\n")
    assert problem_ids(parsed) == ["CL001"]
    assert parsed.problems[0].location.span.line == 2


# --- unsafe tags -----------------------------------------------------------------------------


def test_python_tags_are_never_constructed(tmp_path: Path, loader: str) -> None:
    marker = tmp_path / "pwned"
    text = (
        f'a: !!python/object/apply:os.system ["touch {marker}"]\n'
        f"b: !!python/object/new:os.system [touch {marker}]\n"
        "c: !!python/name:os.system\n"
        "d: !!python/object:os.system {x: 1}\n"
        f'e: !!python/object/apply:builtins.open ["{marker}", "w"]\n'
    )
    parsed = parse(text)
    assert not marker.exists()
    for document in parsed.documents:
        for value in document.data.values():
            assert isinstance(value, str | list | dict), value
    assert set(problem_ids(parsed)) <= {"CL001"}


# --- encodings and line endings --------------------------------------------------------------


def test_crlf_line_endings_keep_line_numbers() -> None:
    text = "a: 1\r\nb:\r\n  c: 10.0.6.1\r\n  d: x\r\n"
    document = parse(text).documents[0]
    assert document.data == {"a": 1, "b": {"c": "10.0.6.1", "d": "x"}}
    assert at(document.source_map.value(("b", "d"))) == (4, 6)
    assert at(document.source_map.key(("b", "c"))) == (3, 3)


def test_crlf_syntax_error_line() -> None:
    parsed = parse("a: 1\r\nb: 2\r\n c: 3\r\nd: 4\r\n")
    assert problem_ids(parsed) == ["CL001"]
    assert parsed.problems[0].location.span.line == 3


def test_duplicate_key_line_with_crlf() -> None:
    parsed = parse("a: 1\r\nb: 2\r\na: 3\r\n")
    assert [(p.rule_id, p.location.span.line) for p in parsed.problems] == [("CL002", 3)]
    assert "line 1" in parsed.problems[0].message


def test_utf8_bom() -> None:
    parsed = parse(b"\xef\xbb\xbfa: 1\nb: \xc3\xa9\n")
    assert only(parsed) == {"a": 1, "b": "\u00e9"}
    assert at(parsed.documents[0].source_map.value(("b",))) == (2, 4)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(encoding: str, loader: str) -> None:
    raw = ("\ufeff" + "a: 1\nb:\n  c: caf\u00e9\n").encode(encoding)
    parsed = parse(raw)
    assert only(parsed) == {"a": 1, "b": {"c": "caf\u00e9"}}
    assert at(parsed.documents[0].source_map.value(("b", "c"))) == (3, 6)


def test_invalid_utf8_is_cl003_not_a_traceback(loader: str) -> None:
    parsed = parse(b"a: 1\nb: caf\xe9\n")
    assert problem_ids(parsed) == ["CL003"]
    assert parsed.problems[0].location.path == "f.yaml"


def test_nul_bytes_are_cl003(loader: str) -> None:
    parsed = parse(b"a: 1\nb: x\x00y\n")
    assert problem_ids(parsed) == ["CL003"]


def test_binary_garbage_never_raises(loader: str) -> None:
    raw = bytes(range(256)) * 4
    parsed = parse(raw)
    assert parsed.problems and set(problem_ids(parsed)) <= {"CL001", "CL003"}


# --- size and shape limits -------------------------------------------------------------------


def test_one_megabyte_single_line() -> None:
    value = "x" * (1 << 20)
    data = only(parse(f"a: {value}\nb: 2\n"))
    assert data["a"] == value and data["b"] == 2


def test_ten_thousand_documents() -> None:
    text = "".join(f"---\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\n" for i in range(10_000))
    parsed = parse(text)
    assert parsed.problems == []
    assert len(parsed.documents) == 10_000
    last = parsed.documents[-1]
    assert last.data["metadata"]["name"] == "cm-9999"
    assert last.index == 9999
    assert last.source_map.value(("kind",)) == Span(29_999, 7, 29_999, 16)


DEEP = 10_000
DEEP_DOCUMENTS: dict[str, Callable[[], str]] = {
    "flow-sequences": lambda: "[" * DEEP + "]" * DEEP,
    "flow-mappings": lambda: "{a: " * DEEP + "x" + "}" * DEEP,
    "block-sequences": lambda: "- " * DEEP + "x\n",
    # Indentation makes this one quadratic in size (2,000 levels are 2 MB), and past libyaml's
    # own limit of 1,000 levels as well as ours.
    "block-mappings": lambda: "".join(" " * i + "a:\n" for i in range(2000)) + " " * 2000 + "x\n",
    "redefined-anchor": lambda: "x: &a 1\ny: &a 2\nz: " + "{a: " * DEEP + "x" + "}" * DEEP,
}


@pytest.mark.parametrize("name", DEEP_DOCUMENTS)
def test_ten_thousand_levels_of_nesting_is_cl005(name: str) -> None:
    parsed = parse(DEEP_DOCUMENTS[name]())
    assert problem_ids(parsed) == ["CL005"]
    assert parsed.documents == []


@pytest.mark.parametrize(
    "name",
    # PyYAML's pure-Python scanner is quadratic in open flow sequences: not used here.
    ["flow-mappings", "block-sequences", "redefined-anchor"],
)
def test_ten_thousand_levels_of_nesting_without_libyaml(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlload, "_Loader", yaml.SafeLoader)
    parsed = parse(DEEP_DOCUMENTS[name]())
    assert problem_ids(parsed) == ["CL005"]
    assert parsed.documents == []


def test_nesting_just_past_the_limit_is_cl005_and_within_it_loads() -> None:
    deep = parse("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5))
    assert problem_ids(deep) == ["CL005"]
    assert "nesting" in deep.problems[0].message
    fine = parse("[" * 100 + "1" + "]" * 100)
    assert not fine.problems
    value = fine.documents[0].data
    for _ in range(99):
        value = value[0]
    assert value == [1]


def test_nesting_multiplied_through_aliases_is_cl005() -> None:
    # Each anchor is written only 50 deep, but each holds the previous one: 50 * 12 levels.
    lines = []
    for i in range(12):
        inner = f"*a{i - 1}" if i else "leaf"
        lines.append(f"k{i}: &a{i} " + "[" * 50 + inner + "]" * 50)
    parsed = parse("\n".join(lines) + "\n")
    assert problem_ids(parsed) == ["CL005"]
    assert "nesting" in parsed.problems[0].message
    # The same chain, short enough, loads.
    assert not parse("\n".join(lines[:4]) + "\n").problems


def billion_laughs(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_cl005(loader: str) -> None:
    parsed = parse("kind: ConfigMap\n---\n" + billion_laughs() + "---\nkind: Secret\n")
    assert problem_ids(parsed) == ["CL005"]
    assert "alias" in parsed.problems[0].message
    assert parsed.problems[0].message.startswith("document 2")
    # The documents around the bomb are still read.
    assert [d.data for d in parsed.documents] == [{"kind": "ConfigMap"}, {"kind": "Secret"}]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a: &a [*a]\n", id="sequence"),
        pytest.param("a: &a\n  b: *a\n", id="mapping"),
        pytest.param("a: &a\n  <<: *a\n", id="merge"),
        pytest.param("a: &a [b, &c [*a]]\n", id="indirect"),
    ],
)
def test_recursive_alias_is_cl005(text: str, loader: str) -> None:
    parsed = parse(text)
    assert problem_ids(parsed) == ["CL005"]
    assert parsed.documents == []


def test_many_aliases_of_a_small_anchor_load() -> None:
    text = "base: &b {ip: 10.0.6.1, port: 80}\nall: [" + ", ".join(["*b"] * 100) + "]\n"
    text += "".join(f"k{i}: *b\n" for i in range(100))
    parsed = parse(text)
    assert parsed.problems == []
    data = parsed.documents[0].data
    assert len(data["all"]) == 100
    assert all(item == {"ip": "10.0.6.1", "port": 80} for item in data["all"])
    assert data["k99"]["port"] == 80
    assert at(parsed.documents[0].source_map.value(("all", 57, "ip"))) == position(text, "10.0.6.1")


def test_moderate_bomb_below_the_limit_loads() -> None:
    parsed = parse(billion_laughs(levels=4))  # 9**5 leaves: large but allowed
    assert parsed.problems == []
    assert len(parsed.documents[0].data["a4"]) == 9


# --- YAML embedded in a block scalar ---------------------------------------------------------

OUTER = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cilium-values
data:
  values.yaml: |
    ipam:
      mode: kubernetes
    l2:
      pool: 10.0.6.0/24
"""


def embedded_of(outer: str, key: str) -> tuple[str, int, int]:
    """The block scalar text under data.<key>, its first content line and its indent."""
    document = parse(outer).documents[0]
    text = document.data["data"][key]
    key_line = at(document.source_map.key(("data", key)))[0]
    first_line = key_line + 1
    content = outer.splitlines()[first_line - 1]
    return text, first_line, len(content) - len(content.lstrip(" "))


def test_parse_embedded_positions_are_in_the_enclosing_file() -> None:
    text, first, indent = embedded_of(OUTER, "values.yaml")
    assert (first, indent) == (7, 4)
    parsed = parse_embedded(text, "cm.yaml", first, indent)
    assert parsed.problems == []
    document = parsed.documents[0]
    assert document.path == "cm.yaml"
    assert document.data == {"ipam": {"mode": "kubernetes"}, "l2": {"pool": "10.0.6.0/24"}}
    assert at(document.source_map.value(("l2", "pool"))) == position(OUTER, "10.0.6.0/24")
    assert at(document.source_map.key(("ipam", "mode"))) == position(OUTER, "mode")
    assert at(document.locate(("l2", "missing")).span) == position(OUTER, "l2:")
    assert at(document.span) == (first, indent + 1)


def test_parse_embedded_problems_are_in_the_enclosing_file() -> None:
    outer = OUTER + "  broken.yaml: |\n    a: 1\n    a: 2\n    b: [\n"
    text, first, indent = embedded_of(outer, "broken.yaml")
    parsed = parse_embedded(text, "cm.yaml", first, indent)
    # A syntax error stops the composer before the duplicate key is seen.
    assert [(p.rule_id, p.location.path) for p in parsed.problems] == [("CL001", "cm.yaml")]
    # The unclosed "[" is reported at the end of the block, below its last line.
    assert parsed.problems[0].location.span.line == len(outer.splitlines()) + 1
    duplicate = parse_embedded("a: 1\na: 2\n", "cm.yaml", first, indent).problems[0]
    assert duplicate.rule_id == "CL002"
    assert at(duplicate.location.span) == (first + 1, indent + 1)
    # The message names the line of the first key in the enclosing file too.
    assert f"line {first}" in duplicate.message
