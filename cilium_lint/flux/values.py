"""Helm values merged from several sources, each part remembering where it was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cilium_lint.document import Document, Location
from cilium_lint.sourcemap import Path

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Provenance:
    """``path`` inside ``document`` is where a part of the values was written."""

    document: Document
    path: Path


@dataclass(frozen=True, slots=True)
class UnknownSource:
    """A values source whose content cannot be read here, and the entry that names it."""

    label: str  # ``Secret 'cilium-values'``, ``template values.yaml.gotmpl``
    location: Location | None = None  # the ``valuesFrom`` entry (None: no better place)


@dataclass
class EffectiveValues:
    """What Helm receives, plus the provenance of every part that was written somewhere.

    ``origins`` holds the root of each part a source contributed; deeper paths are found by
    extending the nearest recorded prefix, so recording costs one entry per merged key.
    """

    fallback: Location  # where to point when nothing at all is written (the HelmRelease)
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[Path, Provenance] = field(default_factory=dict)
    # Sources whose content cannot be read here (encrypted, outside the tree): any key might be
    # set there, so an unset key is not known to be unset.
    unknown_sources: list[UnknownSource] = field(default_factory=list)
    # Recorded parts written before an unknown source: Helm merges that source over them, so
    # what they hold is not known either, until a later source writes them again.
    overridable: set[Path] = field(default_factory=set)
    # Mappings of ``data`` built here; any other is still a source document's own and is copied
    # before a merge writes into it (copy on write: most values are never merged into). Held
    # here, not only by id, so that no other mapping can take a freed one's id.
    _owned: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)

    def add_unknown(self, source: UnknownSource) -> None:
        """A source merged here whose content cannot be read."""
        self.unknown_sources.append(source)
        self.overridable.update(self.origins)

    def overridden(self, path: Path) -> bool:
        """Whether what ``path`` holds may come from an unknown source merged after it."""
        return any(path[:cut] in self.overridable for cut in range(len(path), 0, -1))

    def merge(self, source: Any, document: Document, doc_path: Path, at: Path = ()) -> None:
        """Helm's coalescing: mappings merge key by key, anything else replaces.

        ``source`` is written at ``doc_path`` in ``document``; ``at`` is where it lands in the
        values (a ``valuesFrom`` ``targetPath``), the top by default.
        """
        if at:
            target = self._container(at)
            self._merge_key(target, str(at[-1]), source, document, doc_path, at)
            return
        if not isinstance(source, dict):
            return  # Helm ignores values that are not a mapping at the top
        for key, value in source.items():
            self._merge_key(self.data, str(key), value, document, (*doc_path, key), (key,))

    def _container(self, at: Path) -> dict[str, Any]:
        node = self.data
        for depth, step in enumerate(at[:-1]):
            child = node.get(str(step))
            if not isinstance(child, dict):
                child = {}
                node[str(step)] = child
                self._owned[id(child)] = child
                self._forget(at[: depth + 1])
            node = self._own(node, str(step), child)
        return node

    def _own(self, parent: dict[str, Any], key: str, mapping: dict[str, Any]) -> dict[str, Any]:
        """``parent[key]``, made a mapping of these values' own before it is written into."""
        if id(mapping) in self._owned:
            return mapping
        mine = dict(mapping)
        parent[key] = mine
        self._owned[id(mine)] = mine
        return mine

    def _merge_key(
        self,
        target: dict[str, Any],
        key: str,
        value: Any,
        document: Document,
        doc_path: Path,
        path: Path,
    ) -> None:
        current = target.get(key, _MISSING)
        if isinstance(current, dict) and isinstance(value, dict):
            current = self._own(target, key, current)
            for child_key, child in value.items():
                self._merge_key(
                    current,
                    str(child_key),
                    child,
                    document,
                    (*doc_path, child_key),
                    (*path, str(child_key)),
                )
            return
        target[key] = value
        if current is not _MISSING:  # nothing can be recorded below a key that was not there
            self._forget(path)
        self.origins[path] = Provenance(document, doc_path)
        self.overridable.discard(path)

    def _forget(self, path: Path) -> None:
        for recorded in [p for p in self.origins if p[: len(path)] == path]:
            del self.origins[recorded]
            self.overridable.discard(recorded)

    def get(self, path: Path) -> tuple[bool, Any]:
        node: Any = self.data
        for step in path:
            if not isinstance(node, dict) or step not in node:
                return False, None
            node = node[step]
        return True, node

    def written_prefix(self, path: Path) -> Path:
        """The longest prefix of ``path`` that the values hold."""
        node: Any = self.data
        for depth, step in enumerate(path):
            if not isinstance(node, dict) or step not in node:
                return path[:depth]
            node = node[step]
        return path

    def provenance(self, path: Path) -> Provenance | None:
        for cut in range(len(path), 0, -1):
            origin = self.origins.get(path[:cut])
            if origin is not None:
                return Provenance(origin.document, (*origin.path, *path[cut:]))
        return None

    def locate(self, path: Path) -> Location:
        """Where ``path`` is written, or (when unset) its nearest written ancestor's key."""
        written = self.written_prefix(path)
        origin = self.provenance(written)
        if origin is None:
            return self.fallback
        if written == path:
            return origin.document.locate(origin.path)
        return origin.document.locate_key(origin.path)
