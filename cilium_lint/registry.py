"""Load the rules: the built-in pack and plug-ins through entry points, plus users' rule folders.

There is no global registry: a :class:`Registry` is built for a run and passed along.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from cilium_lint.rules.api import Rule
from cilium_lint.rules.declarative import RuleLoadError, load_rule_dir

ENTRY_POINT_GROUP = "cilium_lint.rules"
BUILTIN_PREFIX = "CL"


@dataclass(frozen=True)
class Registry:
    rules: dict[str, Rule]
    packs: dict[str, str]  # rule id -> the pack (entry point name, "rule-dir") it came from

    def get(self, rule_id: str) -> Rule | None:
        return self.rules.get(rule_id.upper())

    def matching(self, selectors: Iterable[str]) -> set[str]:
        wanted = [s.upper() for s in selectors]
        return {rid for rid in self.rules if any(rid.startswith(s) for s in wanted)}


def _entry_point_rules() -> list[tuple[str, Rule]]:
    loaded: list[tuple[str, Rule]] = []
    found_builtin = False
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            factory = entry.load()
            rules = list(factory())
        except Exception as exc:  # a broken plug-in must say so, not crash the run
            raise RuleLoadError(
                f"rule plug-in '{entry.name}' ({entry.value}) failed to load: {exc}"
            ) from exc
        if entry.value.startswith("cilium_lint.rules.builtin:"):
            found_builtin = True
        for rule in rules:
            if not isinstance(rule, Rule):
                raise RuleLoadError(
                    f"rule plug-in '{entry.name}' returned {rule!r}, which is not a rule "
                    "(needs meta, params and check)"
                )
            pack = "builtin" if entry.value.startswith("cilium_lint.rules.builtin:") else entry.name
            loaded.append((pack, rule))
    if not found_builtin:
        # Running from a checkout that is not installed: the same pack, imported directly.
        from cilium_lint.rules.builtin import builtin_rules

        loaded = [("builtin", r) for r in builtin_rules()] + loaded
    return loaded


def load_registry(rule_dirs: Iterable[Path] = ()) -> Registry:
    rules: dict[str, Rule] = {}
    packs: dict[str, str] = {}
    candidates = _entry_point_rules()
    for directory in rule_dirs:
        extra: list[Rule] = list(load_rule_dir(directory, "rule-dir", str(directory)))
        candidates.extend(("rule-dir", r) for r in extra)
    for pack, rule in candidates:
        rule_id = rule.meta.id
        if pack != "builtin" and rule_id.startswith(BUILTIN_PREFIX):
            raise RuleLoadError(
                f"{rule.meta.source or pack}: rule id {rule_id} uses the built-in prefix "
                f"'{BUILTIN_PREFIX}'; third-party rules need their own prefix (e.g. ACME001)"
            )
        if rule_id in rules:
            raise RuleLoadError(
                f"rule id {rule_id} is defined twice: by {packs[rule_id]} "
                f"({rules[rule_id].meta.source}) and by {pack} ({rule.meta.source})"
            )
        rules[rule_id] = rule
        packs[rule_id] = pack
    return Registry(dict(sorted(rules.items())), packs)
