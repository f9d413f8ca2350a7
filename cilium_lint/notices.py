"""Notices: what the configuration kept from being checked or from failing the run.

The configuration may come with the pull request it lints, so a config that excludes every
file, ignores every rule everywhere, or hides every finding that would fail the run must not
end in a plain "All checks passed": the report says so, naming the file and the key. Findings
of the rules the configuration's ``select``/``ignore`` left out are computed anyway (the facts
are already there) only to be counted here; they are never reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cilium_lint.rules.api import Severity

ConfigKey = tuple[str | int, ...]
# Where a key of the user's configuration is written: (file, line, column); None when the
# configuration is the embedded policy alone. The CLI knows the file; the engine does not.
Locator = Callable[[ConfigKey], tuple[str, int | None, int | None] | None]

_SHOWN = 80  # characters of configuration text quoted in a notice
_SHOWN_IDS = 8


@dataclass(frozen=True, slots=True)
class Notice:
    key: str  # the configuration key, dotted: ``per-file-ignores``, ``rules.CL204.severity``
    message: str
    path: str | None = None  # the configuration file (None: not known)
    line: int | None = None
    column: int | None = None

    @property
    def where(self) -> str:
        if self.path is None:
            return "configuration"
        if self.line is None:
            return self.path
        return f"{self.path}:{self.line}" + (f":{self.column}" if self.column else "")


def quoted(text: str) -> str:
    """Configuration text, from a file the pull request may have written: one line, short."""
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text[:_SHOWN])
    return f"'{shown}'" + ("..." if len(text) > _SHOWN else "")


def _ids(ids: Iterable[str]) -> str:
    ordered = sorted(set(ids))
    shown = ", ".join(ordered[:_SHOWN_IDS])
    return shown + (f" and {len(ordered) - _SHOWN_IDS} more" if len(ordered) > _SHOWN_IDS else "")


def _key_name(key: ConfigKey) -> str:
    """The key as a user looks for it: ``per-file-ignores``, ``ignore``,
    ``rules.CL204.severity`` (no list index, no glob pattern)."""
    if key[0] == "rules":
        return ".".join(str(k) for k in key)
    return str(key[0])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Silenced:
    """What a run's configuration hid, gathered by the engine."""

    files_checked: int
    excluded: Sequence[str]  # paths the configuration's exclude left out
    # Findings at or above the fail threshold that the configuration hid, by how: (key, rule id)
    hidden: Sequence[tuple[ConfigKey, str]]
    failed: bool  # the run fails anyway
    fail_on: Severity
    per_file_everything: Sequence[str]  # per-file-ignores patterns that ignore every rule
    every_file_ignored: bool  # every linted file has every rule ignored by per-file-ignores
    unknown_ids: Sequence[tuple[ConfigKey, str]]  # per-file-ignores ids naming no rule


def notices(silenced: Silenced, locate: Locator | None) -> tuple[Notice, ...]:
    found: list[Notice] = []

    def add(key: ConfigKey, message: str) -> None:
        place = locate(key) if locate is not None else None
        dotted = _key_name(key)
        if place is None:
            found.append(Notice(dotted, message))
        else:
            found.append(Notice(dotted, message, *place))

    if silenced.files_checked == 0 and silenced.excluded:
        found_count = _plural(len(silenced.excluded), "path")
        add(
            ("exclude",),
            f"`exclude` left out every file of the linted paths ({found_count} excluded, "
            f"e.g. {quoted(silenced.excluded[0])}): nothing was checked",
        )
    if silenced.every_file_ignored and silenced.files_checked:
        patterns = ", ".join(quoted(p) for p in silenced.per_file_everything[:3]) or "its patterns"
        add(
            ("per-file-ignores",),
            f"`per-file-ignores` ({patterns}) ignores every rule in every linted file: "
            "no finding can be reported",
        )
    for key, rule_id in silenced.unknown_ids:
        add(key, f"`per-file-ignores` names {quoted(rule_id)}, which is no rule or prefix")
    if silenced.hidden and not silenced.failed:
        by_key: Counter[ConfigKey] = Counter(key for key, _ in silenced.hidden)
        for key, count in by_key.items():
            rules = _ids(rule for k, rule in silenced.hidden if k == key)
            what = f"`{_key_name(key)}`"
            if key[0] == "per-file-ignores":
                what += f" {quoted(str(key[1]))}"
            verb = "lowers" if key[-1] == "severity" else "hides"
            add(
                key,
                f"the run passes only because of the configuration: {what} {verb} "
                f"{_plural(count, 'finding')} ({rules}) that would fail it "
                f"(fail-on {silenced.fail_on.value})",
            )
    return tuple(found)
