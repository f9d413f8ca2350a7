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
from cilium_lint.unmodelled import Unmodelled

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
    # What Helm or helm-controller changes that is not applied here (CL020).
    unmodelled: list[Unmodelled] = field(default_factory=list)


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
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if re.fullmatch(r"-?[0-9]+", lowered) and not (lowered.startswith("0") and len(lowered) > 1):
        return int(lowered)
    return text


def parse_set(target: str, text: str) -> list[tuple[tuple[str, ...], Any]] | None:
    """``target=text`` as Helm's ``--set`` parser (strvals) reads it, the way helm-controller's
    ``ReplacePathValue`` hands a ``targetPath`` value to it: keys and values separated by
    unescaped ``,``, key steps by unescaped ``.``, a backslash escapes the next character;
    values typed (``ParseInto``) unless the whole value is quoted (``ParseIntoString``, quotes
    trimmed). None: list (``{a,b}``) or index (``a[0]``) syntax, or a key without a value, which
    are not modelled here.
    """
    quoted = len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""
    if quoted:
        text = text.strip("'\"")
    whole = f"{target}={text}"
    found: list[tuple[tuple[str, ...], Any]] = []
    index = 0
    while index < len(whole):
        steps: list[str] = []
        current: list[str] = []
        while True:
            if index >= len(whole):
                return None  # a key without a value: Helm refuses it
            char = whole[index]
            if char == "\\" and index + 1 < len(whole):
                current.append(whole[index + 1])
                index += 2
                continue
            index += 1
            if char == ".":
                steps.append("".join(current))
                current = []
            elif char == "=":
                steps.append("".join(current))
                break
            elif char in "[,":
                return None
            else:
                current.append(char)
        if index < len(whole) and whole[index] == "{":
            return None
        value: list[str] = []
        while index < len(whole) and whole[index] != ",":
            if whole[index] == "\\" and index + 1 < len(whole):
                value.append(whole[index + 1])
                index += 2
                continue
            value.append(whole[index])
            index += 1
        index += 1
        written = "".join(value)
        found.append((tuple(s for s in steps if s), written if quoted else _typed(written)))
    return found


def pinned_document(location: Location, data: Any) -> Document:
    """A document whose every part is located at one place (a literal, a --set style value)."""
    source_map = SourceMap()
    source_map.add((), location.span, location.span)
    return Document(location.path, 0, data, source_map, location.span)


def _values(
    tree: Tree, hr: KObject, release_ns: str | None, unmodelled: list[Unmodelled]
) -> tuple[EffectiveValues, list[MissingSource]]:
    values = EffectiveValues(_fallback(hr))
    missing: list[MissingSource] = []
    _chart_values_files(tree, hr, values, unmodelled)
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
            _merge_target_path(values, hr, index, target, entry.text, entry.location, unmodelled)
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


def _merge_target_path(
    values: EffectiveValues,
    hr: KObject,
    index: int,
    target: str,
    text: str,
    location: Location,
    unmodelled: list[Unmodelled],
) -> None:
    """helm-controller's ``ReplacePathValue``: ``targetPath=value`` goes through Helm's
    ``--set`` parser (strvals), so an unescaped comma in the value starts another key."""
    document = pinned_document(location, text)
    parsed = parse_set(target, text)
    where = hr.locate("spec", "valuesFrom", index, "targetPath")
    identity = f"{hr.ref}#/spec/valuesFrom/{index}/targetPath"
    if parsed is None:
        values.merge(_typed(text), document, (), _split_target_path(target))
        unmodelled.append(
            Unmodelled(
                where,
                f"targetPath {quote(target)}: helm-controller hands this value to Helm's --set "
                "parser, which reads it as a list or an index, or refuses it (a part after a "
                "comma without `=` fails the release); not modelled here, taken as one text "
                "value",
                identity,
            )
        )
        return
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        unmodelled.append(
            Unmodelled(
                where,
                f"targetPath {quote(target)}: the value is quoted; current helm-controller "
                "trims the quotes and sets a string (applied so here), older versions keep "
                "the quotes as part of the value",
                f"{identity}#quoted",
                applied=True,
            )
        )
    for path, value in parsed:
        values.merge(value, document, (), path)
    if len(parsed) > 1:
        keys = ", ".join(quote(".".join(path)) for path, _ in parsed[1:])
        unmodelled.append(
            Unmodelled(
                where,
                f"targetPath {quote(target)}: the value holds unescaped commas, so helm-controller "
                f"(Helm's --set parser) also sets {keys}; applied as such here",
                identity,
                applied=True,
            )
        )


def _chart_values_files(
    tree: Tree, hr: KObject, values: EffectiveValues, unmodelled: list[Unmodelled]
) -> None:
    """Values the chart's source gives that are not in this tree: ``valuesFiles`` (of the
    HelmRelease's chart template or of a ``chartRef``'d HelmChart), merged over the chart's
    defaults before ``valuesFrom`` and ``values``, and the ``values.yaml`` of a chart built from
    a GitRepository or Bucket (not the published chart whose defaults are known here). Any key
    they set is unknown."""
    places: list[tuple[KObject, tuple[str, ...]]] = [(hr, ("spec", "chart", "spec"))]
    ref = hr.get("spec", "chartRef")
    if isinstance(ref, dict) and ref.get("kind") == "HelmChart":
        namespace = ref.get("namespace") if isinstance(ref.get("namespace"), str) else hr.namespace
        chart = _find(tree, "HelmChart", ref.get("name"), namespace)
        if chart is not None:
            places.append((chart, ("spec",)))
    for owner, at in places:
        for name in ("valuesFiles", "valuesFile"):
            entries = owner.get(*at, name)
            listed = entries if isinstance(entries, list) else [entries] if entries else []
            files = [str(e) for e in listed if isinstance(e, str) and e]
            if not files:
                continue
            shown = ", ".join(quote(f) for f in files[:5])
            where = owner.doc.locate_key((*at, name))
            values.add_unknown(UnknownSource(f"chart {name} {shown}", where))
            unmodelled.append(
                Unmodelled(
                    where,
                    f"{'.'.join(at)}.{name} ({shown}) are files of the chart's source, not of "
                    "this tree: every value they set is unknown here (only keys written in "
                    "valuesFrom or values are checked)",
                    f"{owner.ref}#/{'/'.join(at)}/{name}",
                )
            )
        kind = owner.get(*at, "sourceRef", "kind")
        if kind in ("GitRepository", "Bucket"):
            where = owner.locate(*at, "sourceRef", "kind")
            label = f"chart from {kind} {quote(owner.get(*at, 'sourceRef', 'name'))}"
            values.add_unknown(UnknownSource(label, where))
            unmodelled.append(
                Unmodelled(
                    where,
                    f"the chart is built from a {kind}: its own values.yaml gives the defaults, "
                    "not the published chart's that cilium-lint knows; every key not written "
                    "in valuesFrom or values is unknown here",
                    f"{owner.ref}#/{'/'.join(at)}/sourceRef",
                )
            )


def _post_renderers(hr: KObject) -> list[Unmodelled]:
    renderers = hr.get("spec", "postRenderers")
    if not isinstance(renderers, list) or not renderers:
        return []
    return [
        Unmodelled(
            hr.doc.locate_key(("spec", "postRenderers")),
            "spec.postRenderers change the objects Helm renders from this release after the "
            "values are checked (for example a ConfigMap the chart renders from them); the "
            "objects applied may differ from what the values say, and cilium-lint does not "
            "apply post-renderers",
            f"{hr.ref}#/spec/postRenderers",
        )
    ]


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
        unmodelled = _post_renderers(hr)
        values, missing = _values(tree, hr, hr.namespace, unmodelled)
        found.append(
            Release(hr, chart, version, chart_location, values, namespace, missing, unmodelled)
        )
    return found


__all__ = ["MissingSource", "Release", "chart_basename", "dig", "pinned_document", "releases"]
