"""Rules written as data: one YAML file per rule, checked against an expected Helm value."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cilium_lint.cilium.expect import Compare, matches, show
from cilium_lint.rules import schema_patterns
from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity
from cilium_lint.yamlload import parse_yaml

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

RULE_ID_PATTERN = r"^[A-Z][A-Z0-9]*[0-9]{3}$"
_UNSET = object()


class RuleLoadError(Exception):
    """A rule file or plug-in that cannot be used; the message names file, line and problem."""


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    fail: str = Field("", description="Helm values that break the rule.")
    pass_: str = Field("", alias="pass", description="Helm values that satisfy it.")


class RuleFile(BaseModel):
    """A declarative rule: one Helm value of the Cilium release, compared with an expectation."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=RULE_ID_PATTERN, description="Stable id, e.g. CL103 or ACME001.")
    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", description="Stable kebab-case name.")
    summary: str = Field(min_length=1, description="One line: what the rule wants.")
    rationale: str = Field(min_length=1, description="Why it matters: what breaks otherwise.")
    fix: str = Field(min_length=1, description="How to make a finding go away.")
    severity: Severity = Severity.ERROR
    target: Literal["cilium-values"] = Field(
        "cilium-values", description="What the rule reads: the Cilium release's effective values."
    )
    key: str = Field(
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        description="Dotted Helm value key, e.g. loadBalancer.algorithm.",
    )
    compare: Compare = Field(Compare.EXACT, description="How actual and expected are compared.")
    expect: Any = Field(
        None,
        description="Expected value when the policy's cilium.values does not set this key.",
    )
    assert_: dict[str, Any] | None = Field(
        None, alias="assert", description="A JSON Schema the value must satisfy."
    )
    known_bad: dict[str, str] = Field(
        default_factory=dict,
        alias="known-bad",
        description="Values with a specific explanation (value -> why it is wrong).",
    )
    versions: str = Field("", description="Chart versions the rule applies to.")
    examples: Examples = Field(default_factory=Examples)  # type: ignore[arg-type]


class ValueRule:
    """A rule made from a :class:`RuleFile`."""

    params = NoParams

    def __init__(self, spec: RuleFile, source: str, pack: str) -> None:
        self.spec = spec
        self.path = tuple(spec.key.split("."))
        self.meta = RuleMeta(
            id=spec.id,
            name=spec.name,
            summary=spec.summary,
            rationale=spec.rationale.strip(),
            fix=spec.fix.strip(),
            severity=spec.severity,
            example_fail=spec.examples.fail,
            example_pass=spec.examples.pass_,
            versions=spec.versions,
            pack=pack,
            source=source,
        )

    @cached_property
    def _validator(self) -> Any:
        if self.spec.assert_ is None:
            return None
        return assert_validator(self.spec.assert_, f"{self.meta.source}: rule key 'assert'")

    def _expected(self, facts: Facts) -> Any:
        node: Any = facts.expected_values
        for step in self.path:
            if not isinstance(node, dict) or step not in node:
                return self.spec.expect if "expect" in self.spec.model_fields_set else _UNSET
            node = node[step]
        return node

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        expected = self._expected(facts)
        if expected is _UNSET and self._validator is None:
            return
        for release in facts.cilium:
            setting = release.setting(self.path)
            if setting.hidden:
                continue  # CL018 names the key
            problems: list[str] = []
            if expected is not _UNSET and not matches(setting.value, expected, self.spec.compare):
                problems.append(f"expected {show(expected)}")
            if self._validator is not None:
                problems.extend(e.message for e in self._validator.iter_errors(setting.value))
            if not problems:
                continue
            yield Hit(
                self._message(setting.written, setting.value, release.version_label, problems),
                setting.location,
                identity=f"{release.identity}#/values/{'/'.join(self.path)}",
            )

    def _message(self, written: bool, value: Any, version: str, problems: list[str]) -> str:
        key = self.spec.key
        if not written:
            found = f"{key} is unset, so chart {version} uses {show(value)}"
        else:
            found = f"{key} is {show(value)}"
            reason = self.spec.known_bad.get(str(value)) if isinstance(value, str | bool) else None
            if reason:
                found += f" ({reason})"
        return f"{found}; {'; '.join(problems)}"


_SCHEMA_URI = "urn:cilium-lint:assert"


def _references(schema: Any) -> Iterator[tuple[str, str]]:
    """Every ``$ref``/``$dynamicRef``/``$id`` string in the schema, walked without recursion."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("$ref", "$dynamicRef", "$id") and isinstance(value, str):
                    yield key, value
                elif key not in schema_patterns.DATA_KEYWORDS:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def assert_validator(schema: dict[str, Any], where: str) -> Any:
    """The ``assert`` schema's validator, or RuleLoadError: the schema is self-contained.

    A reference is never looked up on disk or the network: only ``#...`` pointers into the
    schema itself are allowed, each must resolve now, and the registry retrieves nothing, so a
    schema cannot fail (or read anything) later, while the tree is checked.
    """
    import jsonschema  # costly to import; only rules that use it pay
    from referencing import Registry
    from referencing.exceptions import Unresolvable
    from referencing.jsonschema import DRAFT202012

    validator = schema_patterns.validator_class()  # regexes run by RE2, not re
    try:
        validator.check_schema(schema, format_checker=validator.FORMAT_CHECKER)
    except jsonschema.SchemaError as exc:
        raise RuleLoadError(f"{where}: not a valid JSON Schema: {exc.message}") from None
    resource = DRAFT202012.create_resource(schema)
    # A Registry made without `retrieve` looks nothing up: an unknown URI is Unresolvable.
    registry: Registry[Any] = Registry().with_resource(_SCHEMA_URI, resource)
    resolver = registry.resolver(base_uri=_SCHEMA_URI)
    for key, value in _references(schema):
        if key == "$id" or not value.startswith("#"):
            raise RuleLoadError(
                f"{where}: {key} '{value}': the schema must be self-contained (only '#...' "
                "references into itself; nothing is read from files or the network)"
            )
        try:
            resolver.lookup(value)
        except Unresolvable:
            raise RuleLoadError(f"{where}: $ref '{value}' points at nothing in it") from None
    return validator(schema, registry=registry, format_checker=validator.FORMAT_CHECKER)


def load_rule_file(path: Path, pack: str, shown: str | None = None) -> ValueRule:
    shown = shown or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RuleLoadError(f"{shown}: cannot read rule file: {exc.strerror}") from exc
    parsed = parse_yaml(raw, shown)
    if parsed.problems:
        problem = parsed.problems[0]
        span = problem.location.span
        raise RuleLoadError(f"{shown}:{span.line}:{span.column}: {problem.message}")
    if len(parsed.documents) != 1 or not isinstance(parsed.documents[0].data, dict):
        raise RuleLoadError(f"{shown}:1:1: a rule file holds exactly one mapping")
    document = parsed.documents[0]
    try:
        spec = RuleFile.model_validate(document.data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            path_in_file = tuple(error["loc"])
            found = document.source_map.nearest(path_in_file)
            line = f"{found[1].line}:{found[1].column}" if found else "1:1"
            key = ".".join(str(p) for p in path_in_file) or "(top level)"
            lines.append(f"{shown}:{line}: rule key '{key}': {error['msg']}")
        raise RuleLoadError("\n".join(lines)) from None
    refused = list(schema_patterns.schema_problems(spec.assert_, ("assert",)))
    if refused:
        lines = []
        for path_in_file, message in refused:
            found = document.source_map.nearest(path_in_file)
            line = f"{found[1].line}:{found[1].column}" if found else "1:1"
            lines.append(f"{shown}:{line}: rule schema: {message}")
        raise RuleLoadError("\n".join(lines))
    rule = ValueRule(spec, shown, pack)
    if spec.assert_ is not None:
        # Checked now: a bad schema is a load error, never a failure halfway through a run.
        found = document.source_map.nearest(("assert",))
        line = f"{found[1].line}:{found[1].column}" if found else "1:1"
        where = f"{shown}:{line}: rule key 'assert'"
        rule.__dict__["_validator"] = assert_validator(spec.assert_, where)
    return rule


def load_rule_dir(directory: Path, pack: str, shown: str | None = None) -> list[ValueRule]:
    if not directory.is_dir():
        raise RuleLoadError(f"{shown or directory}: rule directory not found")
    rules: list[ValueRule] = []
    for path in sorted(directory.iterdir()):
        if path.suffix in (".yaml", ".yml") and path.is_file():
            rules.append(load_rule_file(path, pack, f"{shown or directory}/{path.name}"))
    return rules


def rule_paths(rules: Iterable[Any]) -> frozenset[tuple[str, ...]]:
    return frozenset(r.path for r in rules if isinstance(r, ValueRule))
