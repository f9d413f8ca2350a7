"""Run the pipeline: discover, parse, index, gather facts, apply rules, produce a frozen report."""

from __future__ import annotations

import dataclasses
import gc
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from cilium_lint import __version__, suppress
from cilium_lint.bootstrap import bootstrap_releases
from cilium_lint.budget import WorkBudget
from cilium_lint.cache import ParseCache
from cilium_lint.cilium.hidden import hidden_values
from cilium_lint.config import Config, ConfigError
from cilium_lint.discover import SkippedPath, discover, display_path
from cilium_lint.document import Location
from cilium_lint.facts import Facts, gather, policy_keys
from cilium_lint.flux.graph import Graph, Scope, base_document, build_graph, runs_cilium_lb_ipam
from cilium_lint.globs import GlobTable
from cilium_lint.loader import load_files
from cilium_lint.notices import ConfigKey, Locator, Notice, Silenced, notices
from cilium_lint.references import refused_references
from cilium_lint.registry import Registry
from cilium_lint.rules.api import Hit, Related, Rule, RuleMeta, Severity
from cilium_lint.rules.declarative import rule_paths
from cilium_lint.safepath import RepositoryRoots
from cilium_lint.sourcemap import Path as SPath
from cilium_lint.sourcemap import Span
from cilium_lint.tree import KObject, Tree, TreeBuilder


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    rule_name: str
    severity: Severity
    message: str
    location: Location
    related: tuple[Related, ...]
    fingerprint: str
    identity: str  # what the fingerprint is made of; suppressions by annotation match on it
    # The severity without the configuration's `rules:` setting (None: not known).
    default_severity: Severity | None = None

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
    suppressed: int = 0  # findings hidden by inline suppressions
    baselined: int = 0  # findings hidden because the baseline holds them
    tool_version: str = __version__
    # What the configuration kept from being checked or from failing the run.
    notices: tuple[Notice, ...] = ()

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
    checks: list[tuple[str, tuple[str | int, ...] | None, str]] = [
        *((s, None, "--select") for s in cli.select),
        *((s, None, "--ignore") for s in cli.ignore),
        *((s, ("select", i), "select") for i, s in enumerate(config.select)),
        *((s, ("ignore", i), "ignore") for i, s in enumerate(config.ignore)),
        *((s, ("rules", s), "rules") for s in config.rules),
    ]
    for selector, key, where in checks:
        if not registry.matching([selector]):
            raise ConfigError(
                f"{where}: '{selector}' does not name any rule (see `cilium-lint rules`)", key
            )
    select = list(cli.select or config.select)
    ignore = [*config.ignore, *cli.ignore]
    chosen = registry.matching(select) if select else set(registry.rules)
    chosen -= registry.matching(ignore)
    if not chosen:
        # A run that checks nothing would report "All checks passed": refuse it instead.
        raise ConfigError(f"select {select or ['(all)']} and ignore {ignore} leave no rule to run")
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
        raise ConfigError(
            f"config key 'rules.{rule.meta.id}': {problems}", ("rules", rule.meta.id)
        ) from None


def _fingerprint(rule_id: str, identity: str) -> str:
    # A file name that is not UTF-8 (surrogateescape) hashes as its bytes.
    data = f"{rule_id}\x00{identity}".encode("utf-8", "surrogateescape")
    return hashlib.sha256(data).hexdigest()[:32]


def build_tree(
    paths: Sequence[Path],
    cwd: Path,
    config: Config,
    base: Path | None,
    cache: ParseCache | None = None,
    jobs: int | None = None,
    excluded: list[str] | None = None,
) -> tuple[Tree, list[SkippedPath]]:
    """Discover and parse the tree (through ``cache`` when given; in ``jobs`` processes, this
    one included, when more than one) and index it. ``excluded`` receives the paths the
    configuration's ``exclude`` left out."""
    exclude = _relative_patterns(config.exclude, base, cwd)
    found, skipped = discover(paths, cwd, exclude, excluded)
    builder = TreeBuilder(cwd, config.max_file_size, RepositoryRoots(paths))
    # Loading makes millions of objects that live as long as the run and no cyclic garbage.
    # Left on, the cyclic collector would traverse the growing heap again and again (a quarter
    # of the CPU time on 10,000 files), so it is off while loading and the loaded tree is then
    # frozen (gc.freeze) so that later collections skip it. The tree is still freed by
    # reference counting when dropped. A caller that turned the collector off is left alone.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for item, parsed in zip(
            found, load_files(found, config.max_file_size, cache, jobs), strict=True
        ):
            builder.add(item, parsed)
        tree = builder.build()
        tree.extra_problems.extend(refused_references(tree))
    finally:
        if collecting:
            gc.enable()
    if collecting:
        gc.freeze()
    return tree, skipped


def evaluate(facts: Facts, rules: Iterable[Rule], config: Config) -> list[Finding]:
    findings: dict[tuple[str, Location, str], Finding] = {}
    for rule in rules:
        params = _params(rule, config)
        configured = _configured_severity(rule.meta, config)
        for hit in rule.check(facts, params):
            key = (rule.meta.id, hit.location, hit.message)
            default = hit.severity or rule.meta.severity
            findings.setdefault(key, _finding(rule.meta, configured or default, hit, default))
    return sorted(findings.values(), key=Finding.sort_key)


def scope_facts(
    tree: Tree, graph: Graph, config: Config, claimed: frozenset[SPath] = frozenset()
) -> list[tuple[str | None, Facts, Config]]:
    """Facts for each cluster of the graph on its own (clusters share no Cilium release,
    pools, IPs or variables), with the cluster's own configuration; one unnamed scope when
    the tree has no clusters."""
    scopes: list[Scope | None] = list(graph.scopes) if graph.active else []
    if not scopes:
        scopes = [None]
    result: list[tuple[str | None, Facts, Config]] = []
    bootstrap = bootstrap_releases(tree)
    for scope in scopes:
        name = scope.name if scope is not None else None
        scope_config = config.for_cluster(name)
        facts = gather(graph.restrict(tree, scope), scope_config)
        facts.graph = graph.only(scope) if scope is not None else graph
        facts.claimed_value_keys = claimed
        facts.bootstrap = [
            b for b in bootstrap if graph.nearest_scope(b.release.obj.doc.path) in (None, scope)
        ]
        # The value rules judge the bootstrap copies too, so CL018 names what they cannot see.
        facts.hidden += hidden_values(facts.bootstrap, policy_keys(scope_config))
        result.append((name, facts, scope_config))
    with_cilium = [bool(facts.cilium or facts.bootstrap) for _, facts, _ in result]
    for index, (scope, (_, facts, _)) in enumerate(zip(scopes, result, strict=True)):
        elsewhere = any(has for i, has in enumerate(with_cilium) if i != index)
        if scope is not None and not runs_cilium_lb_ipam(scope, facts, elsewhere):
            facts.requests = []  # MetalLB's, or no Cilium here: not Cilium LB-IPAM's business
    return result


def evaluate_clusters(
    tree: Tree, graph: Graph, rules: Sequence[Rule], config: Config, claimed: frozenset[SPath]
) -> list[Finding]:
    """The rules on each cluster on its own. A finding that only some clusters have names
    them."""
    scopes = scope_facts(tree, graph, config, claimed)
    found: dict[tuple[str, Location, str], tuple[Finding, list[str]]] = {}
    for name, facts, scope_config in scopes:
        results = evaluate(facts, rules, scope_config)
        if facts.bootstrap:
            # The value rules also judge the bootstrap copies, as if each were the release.
            copies = dataclasses.replace(
                facts,
                cilium=facts.bootstrap,
                releases=[b.release for b in facts.bootstrap],
                requests=[],
            )
            value_rules = [r for r in rules if r.meta.id.startswith("CL1") and r.meta.id != "CL100"]
            results += evaluate(copies, value_rules, scope_config)
        for finding in results:
            key = (finding.rule_id, finding.location, finding.message)
            found.setdefault(key, (finding, []))[1].append(name or "")
    out: list[Finding] = []
    for finding, names in found.values():
        if len(scopes) > 1 and len(names) < len(scopes):
            shown = ", ".join(sorted(set(names)))
            finding = dataclasses.replace(finding, message=f"[{shown}] {finding.message}")
        out.append(finding)
    return sorted(out, key=Finding.sort_key)


def _finding(
    meta: RuleMeta, severity: Severity, hit: Hit, default: Severity | None = None
) -> Finding:
    related = hit.related
    via = hit.location.via
    if via is not None and all(r.location != via.location for r in related):
        related = (Related(via.location, via.message), *related)
    return Finding(
        meta.id,
        meta.name,
        severity,
        hit.message,
        hit.location,
        related,
        _fingerprint(meta.id, hit.identity),
        hit.identity,
        default,
    )


def _configured_severity(meta: RuleMeta, config: Config) -> Severity | None:
    settings = config.rules.get(meta.id)
    return settings.severity if settings and settings.severity else None


def _severity(meta: RuleMeta, config: Config) -> Severity:
    return _configured_severity(meta, config) or meta.severity


def _applied_objects(tree: Tree, graph: Graph | None) -> list[KObject] | None:
    """The objects Flux applies, as applied, in every cluster (None: no Flux, all count)."""
    if graph is None or not graph.active:
        return None
    seen: set[tuple[int, str]] = set()
    found: list[KObject] = []
    for scope in graph.scopes:
        for obj in graph.restrict(tree, scope).objects:
            key = (id(base_document(obj.doc)), obj.ref)
            if key not in seen:
                seen.add(key)
                found.append(obj)
    return found


def apply_suppressions(
    findings: list[Finding],
    tree: Tree,
    rules: Sequence[Rule],
    known: set[str],
    config: Config,
    graph: Graph | None = None,
) -> tuple[list[Finding], int]:
    """Drop suppressed findings; add findings for suppressions that are invalid or unused.
    Annotations count on the objects ``graph`` applies only."""
    suppressions, problems = suppress.collect(tree, _applied_objects(tree, graph))
    problems += suppress.validate(suppressions, known)
    kept: list[Finding] = []
    hidden = 0
    active = {r.meta.id: r.meta for r in rules}
    for finding in findings:
        match = next(
            (
                s
                for s in suppressions
                if s.covers(
                    finding.rule_id,
                    finding.location,
                    finding.identity,
                    [r.location for r in finding.related],
                )
            ),
            None,
        )
        if match is None:
            kept.append(finding)
        else:
            match.used.add(finding.rule_id)
            hidden += finding.rule_id in active
    problems += suppress.unused(suppressions, set(active))
    for problem in problems:
        meta = active.get(problem.rule_id)
        if meta is not None:
            hit = Hit(problem.message, problem.location, problem.identity)
            kept.append(_finding(meta, _severity(meta, config), hit))
    return sorted(kept, key=Finding.sort_key), hidden


def _trim(location: Location, lines: dict[str, list[str]], tree: Tree) -> Location:
    """A block collection ends where the next token starts (the start of a later line); end
    the region on the collection's own last line, so an editor does not highlight the next key."""
    span = location.span
    if span.end_line <= span.line:
        return location
    if location.path not in lines:
        parsed = tree.files.get(location.path)
        whole = parsed.full_text() if parsed else None
        lines[location.path] = whole.splitlines() if whole else []
    text = lines[location.path]
    if span.end_line > len(text) + 1:
        return location
    if span.end_line <= len(text) and text[span.end_line - 1][: span.end_column - 1].strip():
        return location  # the region really ends inside that line
    end = span.end_line - 1
    while end > span.line and text[end - 1].strip()[:1] in ("", "#"):
        end -= 1
    width = len(text[end - 1].rstrip()) + 1
    return Location(location.path, Span(span.line, span.column, end, max(width, 1)))


def _trimmed(finding: Finding, lines: dict[str, list[str]], tree: Tree) -> Finding:
    related = tuple(Related(_trim(r.location, lines, tree), r.message) for r in finding.related)
    return dataclasses.replace(
        finding, location=_trim(finding.location, lines, tree), related=related
    )


def _per_file_ignored(finding: Finding, table: GlobTable) -> str | None:
    """The configured pattern of ``per-file-ignores`` that hides ``finding`` (None: none)."""
    for pattern, ids in table.values(finding.location.path):
        if any(finding.rule_id.startswith(prefix) for prefix in ids):
            return str(pattern)
    return None


def _fails(finding: Finding, threshold: Severity, baseline: set[tuple[str, str]] | None) -> bool:
    """Whether ``finding``, at its severity before the configuration's ``rules:`` setting,
    would fail the run (and is not in the baseline)."""
    severity = finding.default_severity or finding.severity
    if severity.rank < threshold.rank:
        return False
    return baseline is None or (finding.rule_id, finding.fingerprint) not in baseline


def _ignores_everything(
    tree: Tree, config: Config, table: GlobTable, active: set[str]
) -> tuple[bool, list[str]]:
    """Whether ``per-file-ignores`` ignores every active rule in every linted file, and the
    patterns that ignore every rule on their own."""
    covers = {
        (pattern, tuple(ids)): {r for r in active if any(r.startswith(p) for p in ids)}
        for pattern, ids in config.per_file_ignores.items()
    }
    whole = [pattern for (pattern, _), rules in covers.items() if rules == active]
    if not covers or not tree.files:
        return False, whole
    for path in tree.files:
        ignored: set[str] = set()
        for value in table.values(path):
            ignored |= covers.get(value, set())
        if ignored != active:
            return False, whole
    return True, whole


def _left_out_by_config(
    registry: Registry, config: Config, cli: Selection, rules: Sequence[Rule]
) -> list[tuple[Rule, ConfigKey]]:
    """The rules the command line alone would run that the configuration's ``select`` or
    ``ignore`` leaves out, with the key that does (rules with bad settings are skipped)."""
    chosen = registry.matching(list(cli.select)) if cli.select else set(registry.rules)
    chosen -= registry.matching(list(cli.ignore))
    active = {r.meta.id for r in rules}
    left_out: list[tuple[Rule, ConfigKey]] = []
    for rule_id in sorted(chosen - active):
        key: ConfigKey = next(
            (
                ("ignore", i)
                for i, s in enumerate(config.ignore)
                if rule_id in registry.matching([s])
            ),
            ("select",),
        )
        rule = registry.rules[rule_id]
        try:
            _params(rule, config)
        except ConfigError:
            continue
        left_out.append((rule, key))
    return left_out


def _relative_patterns(patterns: Iterable[str], base: Path | None, cwd: Path) -> list[str]:
    """Config globs are relative to the config file's folder; findings to the working folder."""
    prefix = display_path(base, cwd) if base is not None else "."
    if prefix in (".", ""):
        return list(patterns)
    return [f"{prefix}/{p}" if "/" in p else p for p in patterns]


def address_facts(
    paths: Sequence[Path],
    cwd: Path,
    config: Config,
    config_base: Path | None = None,
    cache_dir: Path | None = None,
    jobs: int | None = None,
) -> list[tuple[str | None, Facts]]:
    """The facts of each cluster, for the address plan (no rules run)."""
    cache = ParseCache.open(cache_dir, config.max_file_size, paths[0] if paths else cwd)
    tree, _skipped = build_tree(paths, cwd, config, config_base, cache, jobs)
    folder = config_base if config_base is not None else cwd
    graph = build_graph(tree, paths, [(c.name, folder / c.path) for c in config.clusters])
    return [(name, facts) for name, facts, _config in scope_facts(tree, graph, config)]


def lint(
    paths: Sequence[Path],
    cwd: Path,
    config: Config,
    registry: Registry,
    selection: Selection = Selection(),
    config_base: Path | None = None,
    fail_on: Severity | None = None,
    baseline: set[tuple[str, str]] | None = None,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    config_locate: Locator | None = None,
) -> Report:
    """Lint ``paths``. ``cache_dir``: keep parsed files there (None: no cache); ``jobs``: parse
    in that many processes, this one included (None or 1: only in this one);
    ``config_locate``: where a configuration key is written, for the notices."""
    rules = active_rules(registry, config, selection)
    for rule in rules:
        _params(rule, config)  # a bad rule setting is a config error before any work
    left_out = _left_out_by_config(registry, config, selection, rules)
    cache = ParseCache.open(cache_dir, config.max_file_size, paths[0] if paths else cwd)
    excluded: list[str] = []
    tree, skipped = build_tree(paths, cwd, config, config_base, cache, jobs, excluded)
    folder = config_base if config_base is not None else cwd
    # One budget for the whole run: what builds, patches and substitution may produce.
    budget = WorkBudget()
    graph = build_graph(tree, paths, [(c.name, folder / c.path) for c in config.clusters], budget)
    claimed = rule_paths(registry.rules.values())
    # The rules the configuration left out run too, only to be counted in the notices.
    everything = [*rules, *(rule for rule, _ in left_out)]
    findings, suppressed = apply_suppressions(
        evaluate_clusters(tree, graph, everything, config, claimed),
        tree,
        rules,
        set(registry.rules),
        config,
        graph,
    )
    threshold = fail_on or config.fail_on
    hidden: list[tuple[ConfigKey, str]] = []
    active = {r.meta.id for r in rules}
    dropped_by = {rule.meta.id: key for rule, key in left_out}
    hidden += [
        (dropped_by[f.rule_id], f.rule_id)
        for f in findings
        if f.rule_id not in active and _fails(f, threshold, baseline)
    ]
    findings = [f for f in findings if f.rule_id in active]
    ignores = GlobTable(
        [
            (glob, (pattern, tuple(ids)))
            for pattern, ids in config.per_file_ignores.items()
            for glob in _relative_patterns([pattern], config_base, cwd)
        ]
    )
    lines: dict[str, list[str]] = {}
    kept: list[Finding] = []
    for finding in findings:
        pattern = _per_file_ignored(finding, ignores)
        if pattern is None:
            kept.append(_trimmed(finding, lines, tree))
        elif _fails(finding, threshold, baseline):
            hidden.append((("per-file-ignores", pattern), finding.rule_id))
    findings = kept
    baselined = 0
    if baseline is not None:
        before = len(findings)
        findings = [f for f in findings if (f.rule_id, f.fingerprint) not in baseline]
        baselined = before - len(findings)
    hidden += [
        (("rules", f.rule_id, "severity"), f.rule_id)
        for f in findings
        if f.severity.rank < threshold.rank and _fails(f, threshold, None)
    ]
    report = Report(
        findings=tuple(findings),
        rules=tuple(r.meta for r in rules),
        files_checked=len(tree.files),
        skipped=tuple(skipped),
        fail_on=threshold,
        suppressed=suppressed,
        baselined=baselined,
    )
    every_file, patterns = _ignores_everything(tree, config, ignores, active)
    silenced = Silenced(
        files_checked=len(tree.files),
        excluded=excluded,
        hidden=hidden,
        failed=report.failed,
        fail_on=threshold,
        per_file_everything=patterns,
        every_file_ignored=every_file,
        unknown_ids=[
            (("per-file-ignores", pattern), rule_id)
            for pattern, ids in config.per_file_ignores.items()
            for rule_id in ids
            if not registry.matching([rule_id])
        ],
    )
    return dataclasses.replace(report, notices=notices(silenced, config_locate))
