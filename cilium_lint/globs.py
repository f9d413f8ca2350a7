"""Many ``fnmatch`` globs compiled once into one RE2 matcher.

``exclude`` and ``per-file-ignores`` come from a configuration file the linted repository may
hold: thousands of globs tried one by one against thousands of paths would cost their product.
Here every glob becomes RE2 syntax with exactly ``fnmatch.fnmatchcase``'s meaning (``*`` and
``?`` match ``/`` too; ``[!...]`` negates), and all of them one alternation, so each path is
matched once, in time linear in its length for the usual globs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import Any

import re2

_MAX_PROGRAM_BYTES = 64 << 20  # the alternation of a few thousand globs fits easily
_SLASH = ord("/")


def _literal(char: str) -> str:
    return char if char.isascii() and char.isalnum() else f"\\x{{{ord(char):x}}}"


def _class_items(body: str) -> list[tuple[int, int]] | None:
    """The character ranges of a bracket body as fnmatch reads it (its own algorithm: ranges
    joined by ``-``, reversed ranges dropped, every other character literal); None when the
    body is one this reading does not cover."""
    chunks: list[str] = []
    i, j = 0, len(body)
    k = 2 if body[:1] == "!" else 1
    while True:
        k = body.find("-", k, j)
        if k < 0:
            break
        chunks.append(body[i:k])
        i = k + 1
        k = k + 3
    chunk = body[i:j]
    if chunk:
        chunks.append(chunk)
    else:
        chunks[-1] += "-"
    for k in range(len(chunks) - 1, 0, -1):
        if chunks[k - 1][-1] > chunks[k][0]:
            chunks[k - 1] = chunks[k - 1][:-1] + chunks[k][1:]
            del chunks[k]
    items: list[tuple[int, int]] = []
    for index, part in enumerate(chunks):
        chars = [ord(c) for c in part]
        if index > 0:
            if not items or not chars or items[-1][0] != items[-1][1]:
                return None
            low = items.pop()[0]
            items.append((low, chars.pop(0)))
        items.extend((c, c) for c in chars)
    return items


def _class(body: str, segment: bool) -> str | None:
    negated = body[:1] == "!"
    items = _class_items(body) if body else []
    if items is None:
        return None
    if negated:
        items = items[1:] if items and items[0] == (ord("!"), ord("!")) else items
    if segment:  # a path segment never holds "/"
        if negated:
            items.append((_SLASH, _SLASH))
        else:
            kept = []
            for low, high in items:
                if low < _SLASH:
                    kept.append((low, min(high, _SLASH - 1)))
                if high > _SLASH:
                    kept.append((max(low, _SLASH + 1), high))
            items = kept
    if not items:
        return "[^\\x00-\\x{10ffff}]" if not negated else ("[^/]" if segment else ".")
    ranges = "".join(
        f"\\x{{{low:x}}}" if low == high else f"\\x{{{low:x}}}-\\x{{{high:x}}}"
        for low, high in items
    )
    return f"[{'^' if negated else ''}{ranges}]"


def glob_regex(pattern: str, *, segment: bool = False) -> str | None:
    """RE2 syntax for what ``fnmatch.fnmatchcase(name, pattern)`` matches; ``segment``: the
    name is one part of a path, so nothing matches ``/``. None for a glob this cannot say."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        i += 1
        if char == "*":
            if not out or out[-1] != "*":
                out.append("*")
        elif char == "?":
            out.append("[^/]" if segment else ".")
        elif char == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(_literal("["))
                continue
            translated = _class(pattern[i:j], segment)
            if translated is None:
                return None
            out.append(translated)
            i = j + 1
        else:
            out.append(_literal(char))
    star = "[^/]*" if segment else ".*"
    return "".join(star if part == "*" else part for part in out)


def _options() -> Any:
    options = re2.Options()
    options.max_mem = _MAX_PROGRAM_BYTES
    options.dot_nl = True
    options.log_errors = False
    return options


class GlobMatcher:
    """Whether a name matches any of many regexes made by :func:`glob_regex`, or ``slow``.

    ``slow`` answers for the globs the translation cannot say (checked glob by glob). When RE2
    refuses the whole alternation (more memory than its cap), the regexes are tried one by one.
    """

    def __init__(self, regexes: Sequence[str], slow: Callable[[str], bool] | None = None) -> None:
        self._slow = slow
        self._each: list[Any] = []
        self._regex: Any = None
        if not regexes:
            return
        try:
            self._regex = re2.compile("|".join(f"(?:{r})" for r in regexes), _options())
        except re2.error:
            self._each = [re2.compile(r, _options()) for r in regexes]

    def __call__(self, name: str) -> bool:
        if self._regex is not None and self._regex.fullmatch(name) is not None:
            return True
        if any(r.fullmatch(name) is not None for r in self._each):
            return True
        return self._slow is not None and self._slow(name)


def glob_matcher(globs: Sequence[str]) -> GlobMatcher:
    """One matcher for "``fnmatch.fnmatchcase(name, g)`` for some ``g`` of ``globs``"."""
    regexes: list[str] = []
    untranslated: list[str] = []
    for glob in globs:
        regex = glob_regex(glob)
        if regex is None:
            untranslated.append(glob)
        else:
            regexes.append(regex)

    def slow(name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, g) for g in untranslated)

    return GlobMatcher(regexes, slow if untranslated else None)


class GlobTable:
    """Globs with a value each; the values of every glob a name matches, in one RE2 pass.

    Globs with the same value are one alternation; an ``RE2::Set`` of those answers which
    match. Answers are remembered per name (many findings share a file)."""

    def __init__(self, entries: Sequence[tuple[str, Any]]) -> None:
        grouped: dict[Any, list[str]] = {}
        for glob, value in entries:
            grouped.setdefault(value, []).append(glob)
        self._values = list(grouped)
        self._groups = [glob_matcher(globs) for globs in grouped.values()]
        self._any = glob_matcher([glob for glob, _ in entries])
        self._set: Any = None
        regexes = [[glob_regex(g) for g in globs] for globs in grouped.values()]
        if regexes and all(r is not None for group in regexes for r in group):
            candidate = re2.Set.FullMatchSet(_options())
            try:
                for group in regexes:
                    candidate.Add("|".join(f"(?:{r})" for r in group))
                candidate.Compile()
                self._set = candidate
            except re2.error:
                self._set = None
        self._known: dict[str, list[Any]] = {}

    def values(self, name: str) -> list[Any]:
        known = self._known.get(name)
        if known is None:
            known = self._known[name] = self._lookup(name)
        return known

    def _lookup(self, name: str) -> list[Any]:
        if not self._any(name):
            return []
        indices = self._set.Match(name) if self._set is not None else None
        if indices is None:  # no Set, or it gave up (its DFA ran out of memory)
            indices = [i for i, group in enumerate(self._groups) if group(name)]
        return [self._values[i] for i in sorted(indices)]
