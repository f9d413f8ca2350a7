"""Every mapping of annotations that LB-IPAM reads, wherever the tree writes it.

The same places the requests are read from (:mod:`cilium_lint.lbipam.requests`): Service
metadata, Gateway infrastructure, Helm values of any chart and Service templates inside other
objects. Rules about the annotation keys themselves (spelling, conflicts, list syntax) use this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cilium_lint.document import Location
from cilium_lint.flux.helmrelease import Release
from cilium_lint.lbipam.requests import GATEWAY_GROUP
from cilium_lint.sourcemap import Path, PathKey
from cilium_lint.tree import Tree

# New spelling -> deprecated alias (cilium-facts §6 [S7]).
ALIASES = {
    "lbipam.cilium.io/ips": "io.cilium/lb-ipam-ips",
    "lbipam.cilium.io/sharing-key": "io.cilium/lb-ipam-sharing-key",
    "lbipam.cilium.io/sharing-cross-namespace": "io.cilium/lb-ipam-sharing-cross-namespace",
}
LEGACY = {legacy: new for new, legacy in ALIASES.items()}
_ALL_KEYS = frozenset(ALIASES) | frozenset(LEGACY)
_NOT_WALKED = frozenset({"Service", "Gateway", "HelmRelease", "ConfigMap", "Secret"})


@dataclass(frozen=True, slots=True)
class AnnotationSite:
    owner: str  # e.g. Service/media/plex, or HelmRelease/media/plex (values service.app)
    kind: str  # "Service", "Gateway", "values" or the kind of the embedding object
    annotations: dict[str, Any]
    path: Path  # where the annotations mapping is, inside the owner's document or values
    locate: Callable[[Path], Location]

    def where(self, key: str) -> Location:
        return self.locate((*self.path, key))


def _walk(node: Any, here: Path) -> list[tuple[dict[str, Any], Path]]:
    """Annotation mappings with an LB-IPAM key below ``node``, in written order."""
    found: list[tuple[dict[str, Any], Path]] = []
    _visit(node, list(here), found)
    return found


def _visit(node: Any, path: list[PathKey], found: list[tuple[dict[str, Any], Path]]) -> None:
    # Every values tree and object spec is walked: one mutable path, and a tuple only for a hit.
    if isinstance(node, dict):
        annotations = node.get("annotations")
        if isinstance(annotations, dict) and not _ALL_KEYS.isdisjoint(annotations):
            found.append((annotations, (*path, "annotations")))
        for key, value in node.items():
            if key != "annotations" and isinstance(value, dict | list):
                path.append(key)
                _visit(value, path, found)
                path.pop()
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, dict | list):
                path.append(index)
                _visit(item, path, found)
                path.pop()


def _label(path: Path) -> str:
    return ".".join(str(p) for p in path[:-1])


def annotation_sites(tree: Tree, releases: list[Release]) -> Iterator[AnnotationSite]:
    for obj in tree.of_kind("Service", ""):
        found = obj.get("metadata", "annotations")
        if isinstance(found, dict) and _ALL_KEYS & set(found):
            yield AnnotationSite(
                obj.ref, "Service", found, ("metadata", "annotations"), obj.doc.locate
            )
    for obj in tree.of_kind("Gateway", GATEWAY_GROUP):
        found = obj.get("spec", "infrastructure", "annotations")
        if isinstance(found, dict) and _ALL_KEYS & set(found):
            path: Path = ("spec", "infrastructure", "annotations")
            yield AnnotationSite(obj.ref, "Gateway", found, path, obj.doc.locate)
    for release in releases:
        values = release.values
        for found, path in _walk(values.data, ()):
            owner = f"{release.obj.ref} (values {_label(path)})"
            yield AnnotationSite(owner, "values", found, path, values.locate)
    for obj in tree.objects:
        if obj.kind in _NOT_WALKED or obj.doc.encrypted:
            continue
        for found, path in _walk(obj.get("spec"), ("spec",)):
            yield AnnotationSite(obj.ref, obj.kind, found, path, obj.doc.locate)
