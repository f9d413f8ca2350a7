"""Strings from the linted tree made safe to print: one escape for every output format.

File names, keys and values come from whoever wrote the tree. Printed raw, a newline starts a
line of its own (a GitHub workflow command such as ``::add-mask::``), an ESC sequence drives the
terminal, a bidi override reorders what a reviewer reads, and a byte that is not UTF-8 (a file
name read with ``surrogateescape``) cannot be encoded at all. :func:`printable` replaces each of
these characters by a visible escape; every formatter and every CLI message built from tree data
goes through it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# C0 and C1 controls, DEL; Unicode format characters that change how text is laid out or hide
# it (soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and directional
# marks, line and paragraph separators, bidi embeddings, overrides and isolates, word joiner and
# invisible operators, BOM, interlinear annotations, tags); lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    named = _NAMED.get(char)
    if named is not None:
        return named
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
    return _UNSAFE.sub(_escape, text)


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
