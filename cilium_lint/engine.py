"""Run the pipeline: discover, parse, index, gather facts, apply rules, produce a frozen report."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from cilium_lint import __version__
from cilium_lint.config import Config, ConfigError
from cilium_lint.discover import SkippedPath, discover, display_path
from cilium_lint.document import Location
from cilium_lint.facts import Facts, gather
from cilium_lint.readfile import load_file
from cilium_lint.registry import Registry
from cilium_lint.rules.api import Related, Rule, RuleMeta, Severity
from cilium_lint.rules.declarative import rule_paths
from cilium_lint.tree import Tree, TreeBuilder


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    rule_name: str
    severity: Severity
    message: str
    location: Location
    related: tuple[Related, ...]
    fingerprint: str

    def sort_key(self) -> tuple[str, int, int, str, str]:
        span = self.location.span
        return (self.location.path, span.line, span.column, self.rule_id, self.message)


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    rules: tuple[RuleMeta, ...]  # every rule that ran, in id order
    files_checked: int
    skipped: tuple[SkippedPath, ...]
    fail_on: Severity
    tool_version: str = __version__

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def failed(self) -> bool:
        return any(f.severity.rank >= self.fail_on.rank for f in self.findings)


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def active_rules(registry: Registry, config: Config, cli: Selection) -> list[Rule]:
    select = list(cli.select or config.select)
    ignore = [*config.ignore, *cli.ignore]
    for selector in [*select, *ignore, *config.rules]:
        if not registry.matching([selector]):
            raise ConfigError(f"'{selector}' does not name any rule (see `cilium-lint rules`)")
    chosen = registry.matching(select) if select else set(registry.rules)
    chosen -= registry.matching(ignore)
    return [registry.rules[rid] for rid in sorted(chosen)]


def _params(rule: Rule, config: Config) -> BaseModel:
    settings = config.rules.get(rule.meta.id)
    extra = dict(settings.model_extra or {}) if settings else {}
    try:
        return rule.params.model_validate(extra)
    except ValidationError as exc:
        problems = "; ".join(
            f"'{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"config key 'rules.{rule.meta.id}': {problems}") from None


def _fingerprint(rule_id: str, identity: str) -> str:
    return hashlib.sha256(f"{rule_id}\x00{identity}".encode()).hexdigest()[:32]


def build_tree(
    paths: Sequence[Path], cwd: Path, config: Config, base: Path | None
) -> tuple[Tree, list[SkippedPath]]:
    exclude = list(config.exclude)
    if base is not None:
        prefix = display_path(base, cwd)
        if prefix not in (".", ""):
            exclude = [f"{prefix}/{p}" if "/" in p else p for p in exclude]
    found, skipped = discover(paths, cwd, exclude)
    builder = TreeBuilder(cwd, config.max_file_size)
    for item in found:
        builder.add(item, load_file(item, config.max_file_size))
    return builder.build(), skipped


def evaluate(facts: Facts, rules: Iterable[Rule], config: Config) -> list[Finding]:
    findings: dict[tuple[str, Location, str], Finding] = {}
    for rule in rules:
        params = _params(rule, config)
        settings = config.rules.get(rule.meta.id)
        severity = settings.severity if settings and settings.severity else rule.meta.severity
        for hit in rule.check(facts, params):
            key = (rule.meta.id, hit.location, hit.message)
            findings.setdefault(
                key,
                Finding(
                    rule.meta.id,
                    rule.meta.name,
                    severity,
                    hit.message,
                    hit.location,
                    hit.related,
                    _fingerprint(rule.meta.id, hit.identity),
                ),
            )
    return sorted(findings.values(), key=Finding.sort_key)


def lint(
    paths: Sequence[Path],
    cwd: Path,
    config: Config,
    registry: Registry,
    selection: Selection = Selection(),
    config_base: Path | None = None,
    fail_on: Severity | None = None,
) -> Report:
    rules = active_rules(registry, config, selection)
    for rule in rules:
        _params(rule, config)  # a bad rule setting is a config error before any work
    tree, skipped = build_tree(paths, cwd, config, config_base)
    facts = gather(tree, config)
    facts.claimed_value_keys = rule_paths(registry.rules.values())
    findings = evaluate(facts, rules, config)
    return Report(
        findings=tuple(findings),
        rules=tuple(r.meta for r in rules),
        files_checked=len(tree.files),
        skipped=tuple(skipped),
        fail_on=fail_on or config.fail_on,
    )
