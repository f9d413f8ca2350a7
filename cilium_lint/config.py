"""The policy and the linter's settings: the embedded default, a user's file over it, validated.

Precedence: ``--config FILE``; else the nearest ``.cilium-lint.yaml`` (or ``.yml``) or
``pyproject.toml`` with ``[tool.cilium-lint]``, walking up from the linted path to the repository
root (the folder holding ``.git``); else the embedded policy alone. Command-line options override
the file's ``select``, ``ignore`` and ``fail-on``.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError, field_validator

from cilium_lint.document import Document
from cilium_lint.parse_budget import MAX_FILE_SIZE_CEILING
from cilium_lint.rules.api import Severity
from cilium_lint.safepath import repository_root
from cilium_lint.yamlload import parse_yaml

CONFIG_NAMES = (".cilium-lint.yaml", ".cilium-lint.yml")
PYPROJECT_TABLE = "cilium-lint"


class ConfigError(Exception):
    """A configuration problem the user must fix; the message names file, line and key.

    ``key`` is set when the message does not locate itself yet: the caller, which knows the
    loaded file, prefixes the key's position.
    """

    def __init__(self, message: str, key: tuple[str | int, ...] | None = None) -> None:
        super().__init__(message)
        self.key = key


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CiliumPolicy(_Strict):
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Expected Cilium Helm values (a partial values mapping). Each key is enforced.",
    )
    chart_version: str | None = Field(
        default=None,
        alias="chart-version",
        description="Allowed Cilium chart versions, a semver range such as '>=1.19.0 <1.20.0' "
        "(CL015).",
    )


class LbIpamPolicy(_Strict):
    pools: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="The policy pool(s): every requested LoadBalancer IP and every "
        "CiliumLoadBalancerIPPool block must lie inside one of them.",
    )

    @field_validator("pools", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        networks = []
        for item in value:
            try:
                networks.append(ipaddress.ip_network(str(item), strict=True))
            except ValueError as exc:
                raise ValueError(f"'{item}' is not a network such as 10.0.6.0/24 ({exc})") from None
        return networks


class ClusterPolicy(_Strict):
    """One cluster of a repository that holds several."""

    name: str = Field(description="How findings name the cluster, e.g. main.")
    path: str = Field(
        description="The cluster's folder, relative to the configuration file: the Flux "
        "Kustomizations that start the cluster live below it (without any, every manifest "
        "below it belongs to the cluster)."
    )
    cilium: CiliumPolicy | None = Field(
        None, description="Expected Cilium values for this cluster, merged over cilium.values."
    )
    lb_ipam: LbIpamPolicy | None = Field(
        None, alias="lb-ipam", description="This cluster's policy pools (replace lb-ipam.pools)."
    )


class RuleSettings(BaseModel):
    """Per-rule settings: ``severity`` and the rule's own parameters."""

    model_config = ConfigDict(extra="allow")
    severity: Severity | None = None


class Config(_Strict):
    cilium: CiliumPolicy = Field(default_factory=CiliumPolicy)
    lb_ipam: LbIpamPolicy = Field(default_factory=LbIpamPolicy, alias="lb-ipam")
    select: list[str] = Field(default_factory=list, description="Rule ids or prefixes to run.")
    ignore: list[str] = Field(default_factory=list, description="Rule ids or prefixes to skip.")
    rules: dict[str, RuleSettings] = Field(default_factory=dict)
    exclude: list[str] = Field(
        default_factory=list, description="Glob patterns of paths not to lint."
    )
    per_file_ignores: dict[str, list[str]] = Field(
        default_factory=dict,
        alias="per-file-ignores",
        description="Glob pattern -> rule ids or prefixes not reported for matching files.",
    )
    fail_on: Severity = Field(Severity.ERROR, alias="fail-on")
    max_file_size: int = Field(
        8 * 1024 * 1024,
        alias="max-file-size",
        gt=0,
        le=MAX_FILE_SIZE_CEILING,
        description="Largest YAML file read, in bytes (at most 64 MiB).",
    )
    strict_graph: bool = Field(
        False,
        alias="strict-graph",
        description="Report YAML files that no Flux Kustomization applies (CL011).",
    )
    clusters: list[ClusterPolicy] = Field(
        default_factory=list,
        description="The clusters of a repository that holds several; by default each tree of "
        "Flux Kustomizations that runs a load-balancer IPAM is one.",
    )

    def for_cluster(self, name: str | None) -> Config:
        """This configuration with the policy of cluster ``name`` applied."""
        cluster = next((c for c in self.clusters if c.name == name), None)
        if cluster is None:
            return self
        update: dict[str, Any] = {}
        if cluster.cilium is not None:
            values = merge_policy(self.cilium.values, cluster.cilium.values)
            version = cluster.cilium.chart_version or self.cilium.chart_version
            update["cilium"] = self.cilium.model_copy(
                update={"values": values, "chart_version": version}
            )
        if cluster.lb_ipam is not None:
            update["lb_ipam"] = cluster.lb_ipam
        return self.model_copy(update=update) if update else self

    @field_validator("select", "ignore")
    @classmethod
    def _rule_prefixes(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", item):
                raise ValueError(f"'{item}' is not a rule id or prefix (like CL204 or CL2)")
        return [item.upper() for item in value]


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    path: Path | None  # None: the embedded policy alone
    document: Document | None = None  # the user's YAML, for locating keys in messages
    text: str | None = None  # the user's TOML, likewise

    @property
    def base(self) -> Path | None:
        return self.path.parent if self.path else None

    def where(self, key: tuple[str | int, ...], *, at_key: bool = False) -> str:
        """``file:line:col`` of a key of the user's configuration, or the file alone.

        ``at_key`` points at the key itself rather than its value (for unknown keys).
        """
        found = self.locate(key, at_key=at_key)
        if found is None:
            return "embedded policy"
        shown, line, column = found
        if line is None:
            return shown
        return f"{shown}:{line}:{column}" if column is not None else f"{shown}:{line}"

    def locate(
        self, key: tuple[str | int, ...], *, at_key: bool = False
    ) -> tuple[str, int | None, int | None] | None:
        """(file, line, column) of a key of the user's configuration; line and column None
        when not found; None for the embedded policy alone."""
        if self.path is None:
            return None
        shown = _shown(self.path)
        if self.document is not None:
            span = self.document.source_map.key(key) if at_key else None
            found = self.document.source_map.nearest(key)
            if span is None and found is not None:
                span = found[1]
            if span is not None:
                return shown, span.line, span.column
        if self.text is not None and key:
            line = _toml_line(self.text, str(key[-1] if isinstance(key[-1], str) else key[0]))
            if line:
                return shown, line, None
        return shown, None, None


def _shown(path: Path) -> str:
    return os.path.relpath(path) if path.is_absolute() else str(path)


def _toml_line(text: str, key: str) -> int | None:
    """TOML parsing keeps no positions; find the key's line inside our table by text."""
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.strip("[] ").startswith(f"tool.{PYPROJECT_TABLE}")
        elif inside and (stripped.startswith((key, f'"{key}"'))):
            return number
    return None


def default_policy() -> dict[str, Any]:
    text = resources.files("cilium_lint").joinpath("default_policy.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return data


def merge_policy(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else replaces; None drops the key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_policy(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def find_config(start: Path) -> Path | None:
    directory = start if start.is_dir() else start.parent
    directory = directory.resolve()
    top = repository_root(directory)  # the search never leaves the repository
    while True:
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_table(pyproject):
            return pyproject
        if directory == top or directory.parent == directory:
            return None
        directory = directory.parent


def _has_table(pyproject: Path) -> bool:
    try:
        with pyproject.open("rb") as handle:
            return PYPROJECT_TABLE in tomllib.load(handle).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _read_user(path: Path) -> tuple[dict[str, Any], Document | None]:
    shown = _shown(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the configuration: {exc.strerror}") from exc
    if path.name == "pyproject.toml":
        try:
            table = tomllib.loads(raw.decode("utf-8")).get("tool", {}).get(PYPROJECT_TABLE, {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{shown}: invalid TOML: {exc}") from exc
        if not isinstance(table, dict):
            raise ConfigError(f"{shown}: [tool.{PYPROJECT_TABLE}] must be a table")
        return table, None
    parsed = parse_yaml(raw, shown)
    if parsed.problems:
        problem = parsed.problems[0]
        span = problem.location.span
        raise ConfigError(f"{shown}:{span.line}:{span.column}: {problem.message}")
    if not parsed.documents or parsed.documents[0].data is None:
        return {}, None
    document = parsed.documents[0]
    if not isinstance(document.data, dict):
        raise ConfigError(f"{shown}:1:1: the configuration must be a mapping of settings")
    return document.data, document


def _describe(error: dict[str, Any], loaded: LoadedConfig) -> str:
    loc = tuple(error["loc"])
    # pydantic reports union members as extra path steps; keep only the user's keys and indexes.
    path = tuple(p for p in loc if isinstance(p, int) or (isinstance(p, str) and "[" not in p))
    document = loaded.document
    while path and document is not None and document.source_map.value(path) is None:
        if not isinstance(path[-1], str) or path[-1] not in _MODEL_KEYS:
            break
        path = path[:-1]
    key = ".".join(str(p) for p in path) or "(top level)"
    where = loaded.where(path, at_key=error["type"] == "extra_forbidden")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = f"unknown key; expected one of: {', '.join(sorted(_allowed(path)))}"
    return f"{where}: config key '{key}': {message}"


_MODEL_KEYS = frozenset({"function-after", "function-before", "json-or-python", "lax-or-strict"})


def _allowed(path: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for step in path[:-1]:
        field = next((f for name, f in model.model_fields.items() if step in (name, f.alias)), None)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [f.alias or name for name, f in model.model_fields.items()]


def load_config(explicit: Path | None, start: Path) -> LoadedConfig:
    path = explicit if explicit is not None else find_config(start)
    user: dict[str, Any] = {}
    document: Document | None = None
    if path is not None:
        user, document = _read_user(path)
    merged = merge_policy(default_policy(), user)
    text = path.read_text("utf-8") if path is not None and path.suffix == ".toml" else None
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        draft = LoadedConfig(Config.model_validate({}), path, document, text)
        lines = [_describe(dict(e), draft) for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
    loaded = LoadedConfig(config, path, document, text)
    _check_policy_keys(user, loaded)
    return loaded


def _check_policy_keys(user: dict[str, Any], loaded: LoadedConfig) -> None:
    """A misspelt key in the expected values would be enforced as "unset" against the user's
    tree, blaming their values file for a typo in the policy: refuse it here instead.

    Only keys with a near miss among the chart's keys are refused; the chart's schema omits
    keys that values.yaml only documents in comments, and those must stay enforceable.
    """
    from cilium_lint.cilium.chart_facts import facts_for, suggest

    cilium = user.get("cilium")
    values = cilium.get("values") if isinstance(cilium, dict) else None
    if not isinstance(values, dict):
        return
    chart = facts_for(None)
    problems: list[str] = []

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        known = chart.children(prefix)
        for key, value in node.items():
            path = (*prefix, str(key))
            if known is None:
                return  # an open map: any key goes
            if str(key) in known:
                if isinstance(value, dict):
                    walk(value, path)
                continue
            guess = suggest(str(key), known)
            if guess is not None:
                where = loaded.where(("cilium", "values", *path), at_key=True)
                dotted = ".".join(path)
                problems.append(
                    f"{where}: config key 'cilium.values.{dotted}': not a key of the Cilium "
                    f"chart; did you mean {'.'.join((*prefix, guess))}?"
                )

    walk(values, ())
    if problems:
        raise ConfigError("\n".join(problems))
