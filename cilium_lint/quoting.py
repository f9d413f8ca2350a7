"""Values from the tree rendered for a finding message: bounded and free of control characters.

A value written in a hostile tree may be megabytes long or hold an escape sequence, a newline
followed by a GitHub workflow command, or a bidirectional override that makes a message read
differently from what it says. Messages quote such values through here, at the source, so every
output format gets the same short, visible text.
"""

from __future__ import annotations

from typing import Any

# The same escape as every output format (cilium_lint.escape), one character at a time here.
from cilium_lint.escape import escape_char as _escaped

LIMIT = 120
ELLIPSIS = "…"


def clean(value: Any, limit: int = LIMIT) -> str:
    """``value`` as text with control characters escaped, at most ``limit`` characters long
    (cut with an ellipsis); an escape sequence is never cut in half."""
    text = value if isinstance(value, str) else str(value)
    pieces: list[str] = []
    length = 0
    for index, char in enumerate(text):
        piece = _escaped(char)
        # The last character may take the ellipsis' place; any earlier one must leave room.
        room = limit if index == len(text) - 1 else limit - len(ELLIPSIS)
        if length + len(piece) > room:
            pieces.append(ELLIPSIS)
            break
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


def quote(value: Any, limit: int = LIMIT) -> str:
    """``value`` cleaned (see :func:`clean`) between single quotes, as messages name things."""
    return f"'{clean(value, limit)}'"


__all__ = ["ELLIPSIS", "LIMIT", "clean", "quote"]
