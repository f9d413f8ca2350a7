"""Strings from the linted tree made safe to print: one escape for every output format.

File names, keys and values come from whoever wrote the tree. Printed raw, a newline starts a
line of its own (a GitHub workflow command such as ``::add-mask::``), an ESC sequence drives the
terminal, a bidi override reorders what a reviewer reads, and a byte that is not UTF-8 (a file
name read with ``surrogateescape``) cannot be encoded at all. :func:`printable` replaces each of
these characters by a visible escape; every formatter and every CLI message built from tree data
goes through it.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Controls (C0, DEL, C1), format characters (bidi embeddings, overrides and isolates,
# zero-width and directional marks, BOM, tags), line and paragraph separators, surrogates.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def escape_char(char: str) -> str:
    """One character as it is printed: itself, or a visible escape when it is invisible."""
    named = _NAMED.get(char)
    if named is not None:
        return named
    if unicodedata.category(char) not in _INVISIBLE:
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        # A byte that was not UTF-8, as surrogateescape kept it: show the byte.
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` on one line, valid UTF-8, every control or invisible layout character escaped."""
    if text.isprintable():  # in C: nothing to escape in almost every string
        return text
    return "".join(map(escape_char, text))


def printable_path(path: str) -> str:
    """A path as :func:`printable`, never read as a workflow command at the start of a line.

    The Actions runner takes any log line whose first non-blank characters are ``::`` as a
    command; ``./`` in front names the same file.
    """
    text = printable(path)
    if text.lstrip().startswith("::"):
        return "./" + text
    return text


def uri_path(path: str) -> str:
    """A relative path as a URI path: the file name's bytes percent-encoded, ``/`` kept."""
    return quote(path.encode("utf-8", "surrogateescape"))
