"""Go ``time.ParseDuration``, for Helm values the agent reads as durations ("15s", "1m30s").

The chart renders such values as strings and the agent parses them with Go's rules, so a value
that Python would happily read as a number (``15``) is an error there: every number needs a
unit, except a lone ``0``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

_UNITS: Final = {
    "ns": Decimal("1e-9"),
    "us": Decimal("1e-6"),
    "\u00b5s": Decimal("1e-6"),  # micro sign
    "\u03bcs": Decimal("1e-6"),  # Greek small letter mu
    "ms": Decimal("1e-3"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
}
# One "<number><unit>" element; Go accepts "5.s" and ".5s" but not ".s".
_ELEMENT: Final = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def parse_duration(value: Any) -> Decimal | None:
    """Seconds that Go would parse from the rendered value, or None when Go refuses it.

    Accepts what the chart would render: a string, or the integer 0 (rendered "0"). Booleans,
    other numbers and anything else are refused, like Go refuses "15" (missing unit).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(0) if value == 0 else None
    if not isinstance(value, str):
        return None
    text = value
    sign = Decimal(1)
    if text[:1] in ("+", "-"):
        sign = Decimal(-1) if text[0] == "-" else Decimal(1)
        text = text[1:]
    if text == "0":
        return Decimal(0)
    if not text:
        return None
    total = Decimal(0)
    position = 0
    while position < len(text):
        match = _ELEMENT.match(text, position)
        if match is None:
            return None
        total += Decimal(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    return sign * total


def show_seconds(seconds: Decimal) -> str:
    """A duration as a short Go-style string: 5s, 1.5s, 500ms."""
    if seconds != 0 and abs(seconds) < 1:
        return f"{_trim(seconds * 1000)}ms"
    return f"{_trim(seconds)}s"


def _trim(number: Decimal) -> str:
    text = f"{number.normalize():f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
