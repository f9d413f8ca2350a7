"""Regular expressions written in the linted tree, compiled the way Go compiles them.

Kubernetes tools read these patterns with Go's ``regexp`` (kustomize patch targets, Cilium's L2
policy ``interfaces``), whose syntax is RE2's. Python's ``re`` would accept more (lookaround,
backreferences) and backtrack: ``(a+)+b`` against a long ``aaaa...`` never ends. RE2 runs in
time linear in the text, refuses what Go refuses, and bounds the memory of a compiled program,
so a pattern from an untrusted tree costs a bounded amount whatever it says.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN_LENGTH = 1000  # characters; real patterns are a few dozen
_MAX_PROGRAM_BYTES = 1 << 20  # RE2's budget for one compiled program and its DFA cache

# What RE2 says about a construct Go refuses, and the name a person knows it by.
_REFUSED = (
    ("invalid perl operator: (?=", "lookahead"),
    ("invalid perl operator: (?!", "lookahead"),
    ("invalid perl operator: (?<=", "lookbehind"),
    ("invalid perl operator: (?<!", "lookbehind"),
    ("invalid perl operator: (?P", "backreference"),
    ("invalid perl operator: (?(", "conditional group"),
    ("invalid perl operator: (?>", "atomic group"),
    ("bad repetition operator: ++", "possessive quantifier"),
    ("bad repetition operator: *+", "possessive quantifier"),
    ("bad repetition operator: ?+", "possessive quantifier"),
    ("bad repetition operator: }+", "possessive quantifier"),
)


@dataclass(frozen=True, slots=True)
class GoPattern:
    """A compiled pattern, or why Go would refuse it (``error``; it then matches nothing)."""

    text: str
    error: str | None
    _regex: Any = None

    @property
    def valid(self) -> bool:
        return self.error is None

    def search(self, value: str) -> bool:
        """Go's ``MatchString``: a match anywhere in ``value``."""
        return self._regex is not None and self._regex.search(value) is not None

    def fullmatch(self, value: str) -> bool:
        """The whole of ``value`` matches (kustomize anchors its selectors: ``^(?:p)$``)."""
        return self._regex is not None and self._regex.fullmatch(value) is not None


def _options() -> Any:
    options = re2.Options()
    options.max_mem = _MAX_PROGRAM_BYTES
    options.log_errors = False  # RE2 would write each refusal to stderr
    return options


def _reason(message: str) -> str:
    if message.startswith("invalid escape sequence: \\") and message[-1:].isdigit():
        return "backreference is not supported by Go regular expressions"
    for start, name in _REFUSED:
        if message.startswith(start):
            return f"{name} is not supported by Go regular expressions"
    if "pattern too large" in message:
        return "pattern too large for a regular expression"
    return message


def _go_only_refusals(text: str) -> str | None:
    """What RE2 accepts and Go does not: ``\\C`` (any byte) breaks UTF-8 in Go."""
    escaped = False
    for char in text:
        if escaped and char == "C":
            return "\\C is not supported by Go regular expressions"
        escaped = not escaped and char == "\\"
    return None


@lru_cache(maxsize=1024)
def go_pattern(text: str) -> GoPattern:
    """``text`` compiled as Go's ``regexp.Compile`` would, within fixed bounds.

    Cached: a tree repeats the same few patterns across many objects.
    """
    if len(text) > MAX_PATTERN_LENGTH:
        return GoPattern(text, f"longer than {MAX_PATTERN_LENGTH} characters")
    refused = _go_only_refusals(text)
    if refused is not None:
        return GoPattern(text, refused)
    try:
        return GoPattern(text, None, re2.compile(text, _options()))
    except re2.error as exc:
        raw = exc.args[0] if exc.args else ""
        message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return GoPattern(text, _reason(message))
