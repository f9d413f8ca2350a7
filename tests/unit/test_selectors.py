"""Label selectors as LB-IPAM evaluates them, with labels the tree may not show."""

from __future__ import annotations

import pytest

from cilium_lint.lbipam.selectors import (
    NAME_LABEL,
    NAMESPACE_LABEL,
    evaluate,
    parse_selector,
    service_labels,
)


def test_absent_and_empty_selectors_select_everything() -> None:
    assert evaluate(parse_selector(None), {}).matched is True
    assert evaluate(parse_selector({}), {"a": "b"}).matched is True


@pytest.mark.parametrize(
    ("selector", "labels", "matched"),
    [
        ({"matchLabels": {"pool": "a"}}, {"pool": "a"}, True),
        ({"matchLabels": {"pool": "a"}}, {"pool": "b"}, False),
        ({"matchLabels": {"pool": "a"}}, {}, False),
        (
            {"matchExpressions": [{"key": "t", "operator": "In", "values": ["x", "y"]}]},
            {"t": "y"},
            True,
        ),
        ({"matchExpressions": [{"key": "t", "operator": "In", "values": ["x"]}]}, {}, False),
        ({"matchExpressions": [{"key": "t", "operator": "NotIn", "values": ["x"]}]}, {}, True),
        (
            {"matchExpressions": [{"key": "t", "operator": "NotIn", "values": ["x"]}]},
            {"t": "x"},
            False,
        ),
        ({"matchExpressions": [{"key": "t", "operator": "Exists"}]}, {"t": ""}, True),
        ({"matchExpressions": [{"key": "t", "operator": "Exists"}]}, {}, False),
        ({"matchExpressions": [{"key": "t", "operator": "DoesNotExist"}]}, {}, True),
        ({"matchExpressions": [{"key": "t", "operator": "DoesNotExist"}]}, {"t": "1"}, False),
        # matchLabels and matchExpressions must all hold
        (
            {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]},
            {"a": "1"},
            False,
        ),
    ],
)
def test_operators(selector: dict[str, object], labels: dict[str, str], matched: bool) -> None:
    assert evaluate(parse_selector(selector), labels).matched is matched


def test_the_failing_requirement_is_named() -> None:
    selector = parse_selector(
        {
            "matchLabels": {"a": "1"},
            "matchExpressions": [{"key": "b", "operator": "In", "values": ["x"]}],
        }
    )
    verdict = evaluate(selector, {"a": "1", "b": "y"})
    assert verdict.matched is False
    assert verdict.failed is not None and verdict.failed.describe() == "b In [x]"


def test_unknown_keys_make_a_requirement_undecided_but_never_hide_a_certain_miss() -> None:
    selector = parse_selector({"matchLabels": {"team": "a", "pool": "b"}})
    assert evaluate(selector, {"pool": "b"}, unknown={"team"}).matched is None
    assert evaluate(selector, {"pool": "c"}, unknown={"team"}).matched is False


@pytest.mark.parametrize(
    "raw",
    [
        "pool=a",
        {"matchLabels": ["pool"]},
        {"matchLabels": {"enabled": True}},
        {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]},
        {"matchExpressions": [{"key": "a", "operator": "In"}]},
        {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]},
        {"matchExpressions": [{"operator": "Exists"}]},
        {"matchExpressions": "a"},
    ],
)
def test_refused_selectors_are_undecided_not_errors(raw: object) -> None:
    selector = parse_selector(raw)
    assert selector is not None and selector.error
    assert evaluate(selector, {"pool": "a"}).matched is None


def test_pseudo_labels_of_a_service() -> None:
    labels, unknown = service_labels({"app": "dns"}, "network", "dns")
    assert labels == {"app": "dns", NAMESPACE_LABEL: "network", NAME_LABEL: "dns"}
    assert not unknown
    selector = parse_selector({"matchLabels": {NAMESPACE_LABEL: "home"}})
    assert evaluate(selector, labels, unknown).matched is False
    labels, unknown = service_labels({}, None, None)
    assert unknown == {NAMESPACE_LABEL, NAME_LABEL}
    assert evaluate(selector, labels, unknown).matched is None
