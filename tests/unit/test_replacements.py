"""kustomize replacements: field paths, delimiters, indexes and create, as kustomize reads them;
and helm-controller's targetPath, read by Helm's --set parser."""

from __future__ import annotations

from typing import Any

import pytest

from cilium_lint.document import Location
from cilium_lint.flux.helmrelease import parse_set
from cilium_lint.replacements import (
    ReplacementError,
    _combined,
    _refined,
    _Value,
    lookup,
    lookup_create,
    split_field_path,
)
from cilium_lint.sourcemap import Span

HERE = Location("k.yaml", Span(1, 1, 1, 2))


def test_field_path_splits_outside_brackets_and_keeps_escaped_dots() -> None:
    assert split_field_path("spec.values.routingMode") == ["spec", "values", "routingMode"]
    assert split_field_path("spec.containers.[name=a.b].image") == [
        "spec",
        "containers",
        "[name=a.b]",
        "image",
    ]
    assert split_field_path(r"metadata.annotations.lbipam\.cilium\.io/ips") == [
        "metadata",
        "annotations",
        "lbipam.cilium.io/ips",
    ]


def test_too_long_field_path_is_refused() -> None:
    with pytest.raises(ReplacementError):
        split_field_path(".".join(["a"] * 1000))


def test_lookup_list_selectors_and_wildcards() -> None:
    data: dict[str, Any] = {
        "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}
    }
    assert list(lookup(data, split_field_path("spec.containers.[name=b].image"))) == [
        (("spec", "containers", 1, "image"), "y")
    ]
    assert [p for p, _ in lookup(data, split_field_path("spec.containers.*.image"))] == [
        ("spec", "containers", 0, "image"),
        ("spec", "containers", 1, "image"),
    ]
    assert list(lookup(data, split_field_path("spec.missing.field"))) == []
    assert list(lookup({"l": ["p", "q"]}, ["l", "[=q]"])) == [(("l", 1), "q")]


def test_create_makes_mappings_and_list_elements() -> None:
    data: dict[str, Any] = {"spec": {}}
    path = lookup_create(data, split_field_path("spec.values.routingMode"), "tunnel")
    assert path == ("spec", "values", "routingMode")
    assert data == {"spec": {"values": {"routingMode": "tunnel"}}}
    data = {"spec": {}}
    path = lookup_create(data, split_field_path("spec.ports.[name=http].port"), 80)
    assert path == ("spec", "ports", 0, "port")
    assert data == {"spec": {"ports": [{"name": "http", "port": 80}]}}


def test_create_refuses_a_wildcard() -> None:
    with pytest.raises(ReplacementError):
        lookup_create({}, ["spec", "*"], "x")


def test_source_delimiter_picks_one_part_or_fails_out_of_bounds() -> None:
    value = _Value("kpr;tunnel;maglev", HERE)
    assert _refined(value, {"delimiter": ";", "index": 1}).data == "tunnel"
    assert _refined(value, {"delimiter": ";"}).data == "kpr"
    with pytest.raises(ReplacementError, match="out of bounds"):
        _refined(value, {"delimiter": ";", "index": 3})
    with pytest.raises(ReplacementError, match="scalar"):
        _refined(_Value({"a": 1}, HERE), {"delimiter": ";"})


def test_target_delimiter_replaces_prepends_and_appends() -> None:
    assert _combined("a.b.c", "X", {"delimiter": ".", "index": 1}) == "a.X.c"
    assert _combined("a.b", "X", {"delimiter": ".", "index": -1}) == "X.a.b"
    assert _combined("a.b", "X", {"delimiter": ".", "index": 5}) == "a.b.X"


def test_scalar_target_keeps_its_type() -> None:
    assert _combined(True, "false", {}) is False
    assert _combined(7445, "6443", {}) == 6443
    assert _combined("native", "tunnel", {}) == "tunnel"
    assert _combined("6443", 7445, {}) == "7445"
    assert _combined({"a": 1}, {"b": 2}, {}) == {"b": 2}


def test_target_path_value_is_split_as_helm_set_does() -> None:
    assert parse_set("cluster.name", "home,routingMode=tunnel,kubeProxyReplacement=false") == [
        (("cluster", "name"), "home"),
        (("routingMode",), "tunnel"),
        (("kubeProxyReplacement",), False),
    ]
    assert parse_set("cluster.name", r"home\,lab") == [(("cluster", "name"), "home,lab")]
    assert parse_set(r"a\.b", "1") == [(("a.b",), 1)]
    # A quoted value is read as a string (ParseIntoString), quotes trimmed.
    assert parse_set("a", '"true"') == [(("a",), "true")]
    assert parse_set("a", "TRUE") == [(("a",), True)]


@pytest.mark.parametrize("value", ["{a,b}", "x,b[0]=1", "x,novalue"])
def test_target_path_syntax_not_modelled(value: str) -> None:
    assert parse_set("a", value) is None
