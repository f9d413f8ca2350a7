"""Flux HelmReleases: which chart each one installs, at which version, with which values."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from cilium_lint.document import Document, Location, ParseProblem
from cilium_lint.flux.values import EffectiveValues, UnknownSource
from cilium_lint.quoting import quote
from cilium_lint.sourcemap import SourceMap
from cilium_lint.tree import KObject, Tree, dig

HELM_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
DEFAULT_VALUES_KEY = "values.yaml"


@dataclass(frozen=True, slots=True)
class MissingSource:
    """A ``valuesFrom`` entry Flux would fail on, or whose content cannot be read here."""

    location: Location
    message: str


@dataclass(eq=False)
class Release:
    obj: KObject
    chart: str | None
    chart_version: str | None
    chart_location: Location
    values: EffectiveValues
    namespace: str | None  # where the chart's objects land (targetNamespace or the release's own)
    missing_sources: list[MissingSource] = field(default_factory=list)


def chart_basename(reference: str) -> str:
    """``oci://ghcr.io/home-operations/charts-mirror/cilium`` and ``./charts/cilium`` -> cilium."""
    return posixpath.basename(reference.rstrip("/").split("@", 1)[0].split(":")[-1] or reference)


def _find(tree: Tree, kind: str, name: Any, namespace: str | None) -> KObject | None:
    if not isinstance(name, str):
        return None
    for obj in tree.named(kind, SOURCE_GROUP, name):
        if namespace is None or obj.namespace in (None, namespace):
            return obj
    return None


def _chart(tree: Tree, hr: KObject) -> tuple[str | None, str | None, Location]:
    spec_chart = hr.get("spec", "chart", "spec")
    if isinstance(spec_chart, dict) and isinstance(spec_chart.get("chart"), str):
        version = spec_chart.get("version")
        return (
            chart_basename(spec_chart["chart"]),
            str(version) if version is not None else None,
            hr.locate("spec", "chart", "spec", "chart"),
        )
    ref = hr.get("spec", "chartRef")
    if isinstance(ref, dict):
        namespace = ref.get("namespace") if isinstance(ref.get("namespace"), str) else hr.namespace
        if ref.get("kind") == "OCIRepository":
            source = _find(tree, "OCIRepository", ref.get("name"), namespace)
            if source is not None and isinstance(source.get("spec", "url"), str):
                oci_ref = source.get("spec", "ref")
                version = None
                if isinstance(oci_ref, dict):
                    version = oci_ref.get("tag") or oci_ref.get("semver")
                return (
                    chart_basename(source.get("spec", "url")),
                    str(version) if version is not None else None,
                    source.locate("spec", "url"),
                )
        if ref.get("kind") == "HelmChart":
            source = _find(tree, "HelmChart", ref.get("name"), namespace)
            if source is not None and isinstance(source.get("spec", "chart"), str):
                version = source.get("spec", "version")
                return (
                    chart_basename(source.get("spec", "chart")),
                    str(version) if version is not None else None,
                    source.locate("spec", "chart"),
                )
    return None, None, hr.locate("spec")


def _fallback(hr: KObject) -> Location:
    spec = hr.get("spec")
    if isinstance(spec, dict):
        for key in ("values", "valuesFrom"):
            if key in spec:
                return hr.doc.locate_key(("spec", key))
        return hr.doc.locate_key(("spec",))
    return hr.locate("metadata", "name")


def _split_target_path(target: str) -> tuple[str, ...]:
    """Helm's dot notation with ``\\.`` escaping a literal dot."""
    return tuple(part.replace("\\.", ".") for part in re.split(r"(?<!\\)\.", target))


def _typed(text: str) -> Any:
    """A ``targetPath`` value is parsed like ``helm --set``: booleans, integers, null, text."""
    lowered = text.strip()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if re.fullmatch(r"-?[0-9]+", lowered) and not (lowered.startswith("0") and len(lowered) > 1):
        return int(lowered)
    return text


def pinned_document(location: Location, data: Any) -> Document:
    """A document whose every part is located at one place (a literal, a --set style value)."""
    source_map = SourceMap()
    source_map.add((), location.span, location.span)
    return Document(location.path, 0, data, source_map, location.span)


def _values(
    tree: Tree, hr: KObject, release_ns: str | None
) -> tuple[EffectiveValues, list[MissingSource]]:
    values = EffectiveValues(_fallback(hr))
    missing: list[MissingSource] = []
    refs = hr.get("spec", "valuesFrom")
    for index, ref in enumerate(refs if isinstance(refs, list) else []):
        if not isinstance(ref, dict):
            continue
        here = hr.locate("spec", "valuesFrom", index)
        kind, name = ref.get("kind"), ref.get("name")
        key = ref.get("valuesKey") or DEFAULT_VALUES_KEY
        optional = ref.get("optional") is True
        label = f"{kind} {quote(name)}"
        source = tree.find_source(str(kind), str(name), release_ns)
        if source is None:
            if not optional:
                missing.append(
                    MissingSource(
                        here,
                        f"valuesFrom {label} is not in the linted tree; "
                        "the values it carries are unknown",
                    )
                )
                values.add_unknown(UnknownSource(label, here))
            continue
        if source.encrypted:
            values.add_unknown(UnknownSource(label, here))
            continue
        entry = source.entries.get(str(key))
        if entry is None or entry.text is None:
            if entry is None and not optional:
                missing.append(
                    MissingSource(
                        here, f"valuesFrom {label} has no key {quote(key)}; Flux fails the release"
                    )
                )
            values.add_unknown(UnknownSource(label, here))
            continue
        target = ref.get("targetPath")
        if isinstance(target, str) and target:
            document = pinned_document(entry.location, entry.text)
            values.merge(_typed(entry.text), document, (), _split_target_path(target))
            continue
        parsed = entry.parse()
        if parsed is None:
            continue
        if parsed.problems:
            _keep_problems(tree, parsed.path, parsed.problems)
        if parsed.documents:
            document = parsed.documents[0]
            values.merge(document.data, document, ())
    inline = hr.get("spec", "values")
    if isinstance(inline, dict):
        values.merge(inline, hr.doc, ("spec", "values"))
    return values, missing


def _keep_problems(tree: Tree, path: str, problems: list[ParseProblem]) -> None:
    """Values Helm must parse: a syntax error in them breaks the release, so it is reported."""
    if path in tree.data_files:
        tree.used_data_files.add(path)
        return
    known = {(p.rule_id, p.location) for p in tree.extra_problems}
    tree.extra_problems.extend(p for p in problems if (p.rule_id, p.location) not in known)


def releases(tree: Tree) -> list[Release]:
    found: list[Release] = []
    for hr in tree.of_kind("HelmRelease", HELM_GROUP):
        chart, version, chart_location = _chart(tree, hr)
        target = hr.get("spec", "targetNamespace")
        namespace = target if isinstance(target, str) else hr.namespace
        values, missing = _values(tree, hr, hr.namespace)
        found.append(Release(hr, chart, version, chart_location, values, namespace, missing))
    return found


__all__ = ["MissingSource", "Release", "chart_basename", "dig", "pinned_document", "releases"]
