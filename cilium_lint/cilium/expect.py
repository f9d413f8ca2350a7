"""How an expected Helm value is compared with what the chart will see."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

from cilium_lint.quoting import clean


class Compare(StrEnum):
    EXACT = "exact"  # same value and same YAML type: "true" is not true
    HELM_STRING = "helm-string"  # compared as the chart's toString does: true == "true"
    DEVICES = "devices"  # every expected device entry is selected by the actual `devices`


def helm_string(value: Any) -> str:
    """Go template ``toString`` of a YAML value, for the cases that matter here."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "<nil>"
    return str(value)


def device_entries(value: Any) -> list[str] | None:
    """The agent's reading of ``devices``: a list, or a string split on commas, else on spaces.

    The chart joins a list with spaces; the agent splits on commas first, and only a single
    resulting element is split again on whitespace, so ``"eth0,eth1 bond0"`` is two entries,
    the second one ``"eth1 bond0"`` (which matches nothing).
    """
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if not isinstance(value, str):
        return None
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) == 1:
        parts = parts[0].split()
    return parts


def matches(actual: Any, expected: Any, mode: Compare) -> bool:
    if mode is Compare.HELM_STRING:
        return helm_string(actual) == helm_string(expected)
    if mode is Compare.DEVICES:
        have = device_entries(actual)
        want = device_entries(expected)
        return have is not None and want is not None and set(want) <= set(have)
    return type(actual) is type(expected) and actual == expected


def show(value: Any) -> str:
    """A value as a user would write it in YAML, with the quotes that change its type; cut and
    escaped for a message (``quoting.clean``), since the value comes from the tree."""
    if isinstance(value, str):
        if value == "" or _needs_quotes(value):
            return clean(json.dumps(value))
        return clean(value)
    return clean(json.dumps(value, default=str))


_PLAIN_SCALAR = re.compile(
    r"^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?[0-9][0-9_.:eE+-]*|\.inf|\.nan)$", re.I
)


def _needs_quotes(text: str) -> bool:
    return bool(_PLAIN_SCALAR.match(text)) or text != text.strip() or ": " in text or "#" in text
