"""Bootstrap copies of the Cilium release: helmfile releases and kustomize ``helmCharts`` entries.

Clusters are often bootstrapped before Flux runs (Talos, ``helmfile apply``, Argo CD's kustomize
``helmCharts``), from values that are meant to match the HelmRelease Flux takes over with. Each
copy becomes a :class:`~cilium_lint.cilium.release.CiliumRelease` whose values keep their
provenance, so the value rules can check it and a drift from the HelmRelease can be reported.

Read here: ``helmfile.yaml``/``helmfile.yml`` and ``helmfile.d/*.yaml`` (``releases[]``: ``chart``,
``version``, ``namespace``, ``values`` as files or inline mappings, ``set``), and kustomization
files' ``helmCharts[]`` (``valuesFile``, ``additionalValuesFiles``, ``valuesInline``). Go-template
values files (``*.gotmpl``) cannot be read without rendering them; such a copy is marked as having
values that are not known.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from cilium_lint.cilium.chart_facts import facts_for
from cilium_lint.cilium.release import CILIUM_CHART, CiliumRelease
from cilium_lint.document import Document
from cilium_lint.flux.helmrelease import Release, chart_basename
from cilium_lint.flux.values import EffectiveValues, UnknownSource
from cilium_lint.safepath import Refused
from cilium_lint.sourcemap import Path
from cilium_lint.tree import KUSTOMIZATION_NAMES, KObject, Tree

HELMFILE_NAMES = ("helmfile.yaml", "helmfile.yml")


def is_helmfile(display: str) -> bool:
    name = posixpath.basename(display)
    if name in HELMFILE_NAMES:
        return True
    folder = posixpath.basename(posixpath.dirname(display))
    return folder == "helmfile.d" and name.endswith((".yaml", ".yml"))


def bootstrap_releases(tree: Tree) -> list[CiliumRelease]:
    """Every bootstrap copy of the Cilium chart in the tree, in file order."""
    found: list[CiliumRelease] = []
    for display in sorted(tree.files):
        parsed = tree.files[display]
        if is_helmfile(display):
            for doc in parsed.documents:
                found.extend(_helmfile(tree, doc))
        elif posixpath.basename(display) in KUSTOMIZATION_NAMES:
            for doc in parsed.documents:
                found.extend(_helm_charts(tree, doc))
    return found


def _values_file(tree: Tree, folder: str, name: str, values: EffectiveValues) -> None:
    display = posixpath.normpath(posixpath.join(folder, name))
    if display.endswith(".gotmpl") or "{{" in name:
        values.add_unknown(UnknownSource(f"template {name}"))
        return
    if tree.roots is not None:
        real_folder = posixpath.join(str(tree.cwd.absolute()), folder)
        if isinstance(tree.roots.resolve(name, real_folder), Refused):
            values.add_unknown(UnknownSource(f"file {name}"))  # CL008 says why
            return
    parsed = tree.files.get(display)
    if parsed is None or not parsed.documents:
        values.add_unknown(UnknownSource(f"file {name}"))
        return
    document = parsed.documents[0]
    values.merge(document.data, document, ())


def _helmfile(tree: Tree, doc: Document) -> Iterator[CiliumRelease]:
    data = doc.data
    entries = data.get("releases") if isinstance(data, dict) else None
    folder = posixpath.dirname(doc.path)
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("chart"), str):
            continue
        if chart_basename(entry["chart"]) != CILIUM_CHART:
            continue
        at: Path = ("releases", index)
        values = EffectiveValues(doc.locate_key(at))
        listed = entry.get("values")
        for i, item in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(item, str):
                _values_file(tree, folder, item, values)
            elif isinstance(item, dict):
                values.merge(item, doc, (*at, "values", i))
        settings = entry.get("set")
        for i, item in enumerate(settings if isinstance(settings, list) else []):
            if isinstance(item, dict) and isinstance(item.get("name"), str) and "value" in item:
                target = tuple(item["name"].split("."))
                values.merge(item["value"], doc, (*at, "set", i, "value"), target)
        name = str(entry.get("name") or "cilium")
        namespace = entry.get("namespace") if isinstance(entry.get("namespace"), str) else None
        version = entry.get("version")
        yield _copy(doc, at, "HelmfileRelease", name, namespace, version, values)


def _helm_charts(tree: Tree, doc: Document) -> Iterator[CiliumRelease]:
    data = doc.data
    charts = data.get("helmCharts") if isinstance(data, dict) else None
    folder = posixpath.dirname(doc.path)
    for index, chart in enumerate(charts if isinstance(charts, list) else []):
        if not isinstance(chart, dict) or chart.get("name") != CILIUM_CHART:
            continue
        at: Path = ("helmCharts", index)
        values = EffectiveValues(doc.locate_key(at))
        if isinstance(chart.get("valuesFile"), str):
            _values_file(tree, folder, chart["valuesFile"], values)
        extra = chart.get("additionalValuesFiles")
        for item in extra if isinstance(extra, list) else []:
            if isinstance(item, str):
                _values_file(tree, folder, item, values)
        if isinstance(chart.get("valuesInline"), dict):
            values.merge(chart["valuesInline"], doc, (*at, "valuesInline"))
        name = str(chart.get("releaseName") or chart.get("name"))
        namespace = chart.get("namespace") if isinstance(chart.get("namespace"), str) else None
        yield _copy(doc, at, "HelmChart", name, namespace, chart.get("version"), values)


def _copy(
    doc: Document,
    at: Path,
    kind: str,
    name: str,
    namespace: str | None,
    version: Any,
    values: EffectiveValues,
) -> CiliumRelease:
    obj = KObject(doc, kind, "", name, namespace)  # a stand-in, named and located like one
    written = str(version) if isinstance(version, str | int | float) else None
    where = doc.locate((*at, "version")) if written is not None else doc.locate_key(at)
    release = Release(obj, CILIUM_CHART, written, where, values, namespace)
    return CiliumRelease(release, facts_for(written))


__all__ = ["bootstrap_releases", "is_helmfile"]
