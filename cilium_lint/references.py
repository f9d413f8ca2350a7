"""Every file reference the tree writes, checked against the repository root.

A reference that is absolute, leaves the repository or goes through a symlink out of it is
never read (the readers ask :class:`~cilium_lint.safepath.RepositoryRoots` too); here each one
becomes a CL008 problem at the line that writes it, naming the reference and the reason, never
anything about what it points at.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from cilium_lint.bootstrap import is_helmfile
from cilium_lint.document import Document, ParseProblem
from cilium_lint.flux.graph import FLUX_OPERATOR_GROUP, is_flux_kustomization
from cilium_lint.kustomize import is_remote
from cilium_lint.quoting import quote
from cilium_lint.safepath import ABSOLUTE, Refused, RepositoryRoots, is_absolute
from cilium_lint.sourcemap import Path
from cilium_lint.tree import KUSTOMIZATION_NAMES, Tree, api_group

RULE_ID = "CL008"
# Lists of a kustomization whose entries name files or folders.
_FILE_LISTS = (
    "resources",
    "bases",
    "components",
    "configurations",
    "crds",
    "transformers",
    "generators",
    "validators",
)
_PATCH_LISTS = ("patches", "patchesJson6902", "replacements")


def _strings(value: Any) -> Iterator[tuple[int, str]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                yield index, item.strip()


def _dicts(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _is_file_name(entry: str) -> bool:
    """Inline YAML (a patch written in place) is not a file name."""
    return "\n" not in entry and ": " not in entry and not entry.startswith(("{", "["))


def kustomization_references(data: dict[str, Any]) -> Iterator[tuple[Path, str, str]]:
    """(where, reference, what it is) for every local file a kustomization names."""
    for list_name in _FILE_LISTS:
        for index, entry in _strings(data.get(list_name)):
            if _is_file_name(entry):
                yield (list_name, index), entry, f"{list_name} entry"
    for index, entry in _strings(data.get("patchesStrategicMerge")):
        if _is_file_name(entry):
            yield ("patchesStrategicMerge", index), entry, "patchesStrategicMerge entry"
    for list_name in _PATCH_LISTS:
        for index, item in _dicts(data.get(list_name)):
            if isinstance(item.get("path"), str):
                yield (list_name, index, "path"), item["path"], f"{list_name} path"
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield ("openapi", "path"), openapi["path"], "openapi path"
    for generator in ("configMapGenerator", "secretGenerator"):
        for index, item in _dicts(data.get(generator)):
            name = item.get("name")
            what = f"{generator} {quote(name)}" if isinstance(name, str) else generator
            for i, entry in _strings(item.get("files")):
                yield (generator, index, "files", i), entry.rpartition("=")[2], f"{what} file"
            for i, entry in _strings(item.get("envs")):
                yield (generator, index, "envs", i), entry, f"{what} env file"
            if isinstance(item.get("env"), str):
                yield (generator, index, "env"), item["env"], f"{what} env file"
    for index, chart in _dicts(data.get("helmCharts")):
        if isinstance(chart.get("valuesFile"), str):
            yield ("helmCharts", index, "valuesFile"), chart["valuesFile"], "helmCharts valuesFile"
        for i, entry in _strings(chart.get("additionalValuesFiles")):
            where: Path = ("helmCharts", index, "additionalValuesFiles", i)
            yield where, entry, "helmCharts additionalValuesFiles entry"


def helmfile_references(data: dict[str, Any]) -> Iterator[tuple[Path, str, str]]:
    for index, release in _dicts(data.get("releases")):
        for i, entry in _strings(release.get("values")):
            if "{{" not in entry:  # a Go template is not read at all
                yield ("releases", index, "values", i), entry, "helmfile values file"


def _flux_path(data: dict[str, Any]) -> tuple[Path, Any] | None:
    spec = data.get("spec")
    if not isinstance(spec, dict):
        return None
    if is_flux_kustomization(data):
        return ("spec", "path"), spec.get("path")
    sync = spec.get("sync")
    flux_instance = data.get("kind") == "FluxInstance"
    if flux_instance and api_group(data.get("apiVersion")) == FLUX_OPERATOR_GROUP:
        return ("spec", "sync", "path"), sync.get("path") if isinstance(sync, dict) else None
    return None


def _problem(
    doc: Document, where: Path, reference: str, what: str, refused: Refused
) -> ParseProblem:
    return ParseProblem(
        RULE_ID,
        f"{what} {quote(reference)} is not read: {refused.reason}",
        doc.locate(where),
    )


def refused_references(tree: Tree) -> list[ParseProblem]:
    """A CL008 problem for each reference of the tree that may not be followed."""
    roots = tree.roots if tree.roots is not None else RepositoryRoots([tree.cwd])
    base = posixpath.normpath(str(tree.cwd.absolute()).replace("\\", "/"))
    found: list[ParseProblem] = []
    for display, parsed in tree.files.items():
        folder = posixpath.normpath(posixpath.join(base, posixpath.dirname(display)))
        kustomization = posixpath.basename(display) in KUSTOMIZATION_NAMES
        helmfile = is_helmfile(display)
        for doc in parsed.documents:
            data = doc.data
            if not isinstance(data, dict):
                continue
            listed: Iterator[tuple[Path, str, str]] | None = None
            if kustomization or api_group(data.get("apiVersion")) == "kustomize.config.k8s.io":
                listed = kustomization_references(data)
            elif helmfile:
                listed = helmfile_references(data)
            for where, reference, what in listed or ():
                if is_remote(reference):
                    continue
                refused = roots.resolve(reference, folder)
                if isinstance(refused, Refused):
                    found.append(_problem(doc, where, reference, what, refused))
            flux = _flux_path(data)
            if flux is not None and isinstance(flux[1], str) and "${" not in flux[1]:
                leaves = roots.leaves_root(flux[1])
                if leaves is not None:
                    found.append(_problem(doc, flux[0], flux[1], "spec.path", leaves))
            if is_flux_kustomization(data):
                found.extend(_flux_components(doc, data))
    return found


def _flux_components(doc: Document, data: dict[str, Any]) -> Iterator[ParseProblem]:
    """``spec.components`` are relative to ``spec.path``'s folder, which only the graph knows
    (it skips those leaving the repository); an absolute one is refused here."""
    spec = data.get("spec")
    components = spec.get("components") if isinstance(spec, dict) else None
    for index, entry in _strings(components):
        if is_absolute(entry):
            where: Path = ("spec", "components", index)
            yield _problem(doc, where, entry, "spec.components entry", ABSOLUTE)


__all__ = ["RULE_ID", "helmfile_references", "kustomization_references", "refused_references"]
