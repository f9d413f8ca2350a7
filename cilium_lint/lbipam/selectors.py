"""Kubernetes label selectors as LB-IPAM and L2 announcements evaluate them against a Service.

A linter rarely knows every label a Service will carry (kustomize ``labels``, Flux
``commonMetadata`` or a controller may add some), so evaluation is three-valued: a selector
matches (True), does not match (False), or depends on labels not known here (None). Rules act
on False only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cilium_lint.quoting import quote

# LB-IPAM and L2 policies add these to the Service's labels before matching (cilium-facts §5.2).
NAMESPACE_LABEL = "io.kubernetes.service.namespace"
NAME_LABEL = "io.kubernetes.service.name"

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str  # one of OPERATORS
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.operator == "=":
            return f"{self.key}={self.values[0]}"
        if self.operator in ("Exists", "DoesNotExist"):
            return f"{self.key} {self.operator}"
        return f"{self.key} {self.operator} [{', '.join(self.values)}]"

    def test(self, labels: Mapping[str, str], unknown: frozenset[str]) -> bool | None:
        if self.key in unknown:
            return None
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator in ("=", "In"):
            return present and value in self.values
        if self.operator == "NotIn":
            return not present or value not in self.values
        if self.operator == "Exists":
            return present
        return not present  # DoesNotExist


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed LabelSelector; ``error`` is set when the API server or Cilium would refuse it."""

    requirements: tuple[Requirement, ...]
    error: str | None = None

    def describe(self) -> str:
        return ", ".join(r.describe() for r in self.requirements) or "{} (everything)"


@dataclass(frozen=True, slots=True)
class Verdict:
    matched: bool | None  # None: depends on labels this tree does not show
    failed: Requirement | None = None  # the first requirement that is certainly not met


def parse_selector(raw: Any) -> Selector | None:
    """A LabelSelector as written; None for an absent (nil) selector, which selects everything."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        return Selector((), "a label selector is a mapping")
    found: list[Requirement] = []
    match_labels = raw.get("matchLabels")
    if match_labels is not None:
        if not isinstance(match_labels, dict):
            return Selector((), "matchLabels is not a mapping")
        for key, value in match_labels.items():
            if not isinstance(value, str):
                return Selector((), f"matchLabels value of {quote(key)} is not a string")
            found.append(Requirement(str(key), "=", (value,)))
    expressions = raw.get("matchExpressions")
    if expressions is not None:
        if not isinstance(expressions, list):
            return Selector((), "matchExpressions is not a list")
        for item in expressions:
            requirement, error = _expression(item)
            if requirement is None:
                return Selector((), error)
            found.append(requirement)
    return Selector(tuple(found))


def _expression(item: Any) -> tuple[Requirement | None, str]:
    if not isinstance(item, dict) or not isinstance(item.get("key"), str):
        return None, "a matchExpressions entry without a key"
    key, operator, values = item["key"], item.get("operator"), item.get("values")
    if operator not in OPERATORS:
        return None, f"matchExpressions operator {operator!r} is not one of {', '.join(OPERATORS)}"
    values = [] if values is None else values
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None, f"matchExpressions values of {quote(key)} are not a list of strings"
    if operator in ("In", "NotIn") and not values:
        return None, f"matchExpressions '{key} {operator}' needs values"
    if operator in ("Exists", "DoesNotExist") and values:
        return None, f"matchExpressions '{key} {operator}' takes no values"
    return Requirement(key, operator, tuple(values)), ""


def evaluate(
    selector: Selector | None, labels: Mapping[str, str], unknown: Iterable[str] = ()
) -> Verdict:
    """Does ``selector`` select an object with ``labels``? Keys in ``unknown`` may hold anything.

    A refused selector (``error`` set) gives None: what Cilium then does is not this rule's
    business, and guessing would only produce a second, confusing finding.
    """
    if selector is None:
        return Verdict(True)
    if selector.error is not None:
        return Verdict(None)
    unsure = frozenset(unknown)
    undecided = False
    for requirement in selector.requirements:
        result = requirement.test(labels, unsure)
        if result is False:
            return Verdict(False, requirement)
        undecided = undecided or result is None
    return Verdict(None if undecided else True)


def service_labels(
    labels: Mapping[str, str], namespace: str | None, name: str | None
) -> tuple[dict[str, str], frozenset[str]]:
    """The labels LB-IPAM matches a Service with, and the keys whose value is not known."""
    full = dict(labels)
    unknown: set[str] = set()
    for key, value in ((NAMESPACE_LABEL, namespace), (NAME_LABEL, name)):
        if value is None:
            unknown.add(key)
        else:
            full[key] = value
    return full, frozenset(unknown)
