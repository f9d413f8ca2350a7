"""What a folder contributes when kustomize (or Flux, for a folder without a kustomization file)
builds it: which files' documents come out, and which other files the build reads.

Only what decides *what is applied* is modelled here: ``resources`` (files and folders, built
recursively), ``bases``, ``components``, and the files a build reads without emitting them
(patches, generator data, ``configurations``). A folder without a kustomization file is built as
Flux builds a Kustomization's ``spec.path``: every YAML file below it, a subfolder that has its
own kustomization file counting as one unit.

Paths are handled as absolute, normalised strings so that folders above the working directory
(a repository root above the linted folder) compare correctly with the tree's files.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cilium_lint.document import Document, Location
from cilium_lint.sourcemap import Path
from cilium_lint.tree import KUSTOMIZATION_NAMES, Tree

YAML_SUFFIXES = (".yaml", ".yml")
# Fields of a kustomization whose entries are files read by the build but not emitted.
_SUPPORT_LISTS = ("configurations", "crds", "transformers", "generators", "validators")
_PATCH_LISTS = ("patches", "patchesJson6902", "replacements")


def _norm(path: str) -> str:
    return posixpath.normpath(path.replace(os.sep, "/"))


@dataclass(frozen=True, slots=True)
class Note:
    """Something the build could not follow (a remote base, a missing file); never fatal."""

    location: Location
    message: str


@dataclass(eq=False)
class FolderBuild:
    """The result of building one folder."""

    folder: str  # absolute, normalised
    kustomization: Document | None  # None: generated the way Flux does
    documents: list[Document] = field(default_factory=list)  # emitted, in kustomize order
    files: set[str] = field(default_factory=set)  # display paths of every file read
    kustomization_files: set[str] = field(default_factory=set)  # display paths
    notes: list[Note] = field(default_factory=list)


class TreeFiles:
    """The tree's files addressed by absolute path, and its folders."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        base = _norm(str(tree.cwd.absolute()))
        self.display: dict[str, str] = {}  # absolute -> display
        self.entries: dict[str, list[str]] = {}  # folder -> files and folders directly in it
        for display in tree.files:
            absolute = _norm(posixpath.join(base, display))
            self.display[absolute] = display
            child = absolute
            parent = posixpath.dirname(child)
            while parent != child:
                listed = self.entries.setdefault(parent, [])
                if child in listed:
                    break
                listed.append(child)
                child, parent = parent, posixpath.dirname(parent)
        for listed in self.entries.values():
            listed.sort()
        self.base = base

    def absolute(self, display: str) -> str:
        return _norm(posixpath.join(self.base, display))

    def display_of(self, absolute: str) -> str:
        known = self.display.get(absolute)
        if known is not None:
            return known
        return _norm(os.path.relpath(absolute, self.base))

    def is_file(self, absolute: str) -> bool:
        return absolute in self.display

    def is_folder(self, absolute: str) -> bool:
        return absolute in self.entries

    def kustomization_file(self, folder: str) -> str | None:
        for name in KUSTOMIZATION_NAMES:
            candidate = posixpath.join(folder, name)
            if candidate in self.display:
                return candidate
        return None

    def documents(self, absolute: str) -> list[Document]:
        parsed = self.tree.files.get(self.display[absolute])
        return list(parsed.documents) if parsed is not None else []

    def below(self, folder: str) -> Iterator[str]:
        """Every file below ``folder``, depth first in name order."""
        for entry in self.entries.get(folder, []):
            if entry in self.entries:
                yield from self.below(entry)
            else:
                yield entry


def is_remote(entry: str) -> bool:
    return (
        "://" in entry
        or entry.startswith(("github.com/", "git@", "gitlab.com/"))
        or ("?ref=" in entry)
    )


class KustomizeBuilder:
    """Builds folders of one tree; each folder is built once and the result shared."""

    def __init__(self, files: TreeFiles) -> None:
        self.files = files
        self._built: dict[str, FolderBuild] = {}
        self._building: set[str] = set()

    def build(self, folder: str) -> FolderBuild:
        """``folder`` (absolute) as kustomize builds it, or as Flux does without a kustomization."""
        folder = _norm(folder)
        done = self._built.get(folder)
        if done is not None:
            return done
        kfile = self.files.kustomization_file(folder)
        kdoc = self._kustomization_document(kfile) if kfile else None
        result = FolderBuild(folder, kdoc)
        if folder in self._building:  # a cycle: kustomize refuses it; contribute nothing more
            return result
        self._building.add(folder)
        try:
            if kfile is not None:
                result.files.add(self.files.display_of(kfile))
                result.kustomization_files.add(self.files.display_of(kfile))
                if kdoc is not None:
                    self._kustomize(result, kdoc)
            else:
                self._generate(result, folder)
        finally:
            self._building.discard(folder)
        self._built[folder] = result
        return result

    def _kustomization_document(self, kfile: str) -> Document | None:
        for doc in self.files.documents(kfile):
            if isinstance(doc.data, dict):
                return doc
        return None

    def _generate(self, result: FolderBuild, folder: str) -> None:
        """Flux's generated kustomization: every YAML file; a folder with its own kustomization
        file is one unit."""
        for entry in self.files.entries.get(folder, []):
            if self.files.is_folder(entry):
                if self.files.kustomization_file(entry) is not None:
                    self._include(result, self.build(entry))
                else:
                    self._generate(result, entry)
            elif entry.lower().endswith(YAML_SUFFIXES):
                self._add_file(result, entry)

    def _add_file(self, result: FolderBuild, absolute: str) -> None:
        result.files.add(self.files.display_of(absolute))
        result.documents.extend(self.files.documents(absolute))

    @staticmethod
    def _include(result: FolderBuild, other: FolderBuild) -> None:
        result.documents.extend(other.documents)
        result.files |= other.files
        result.kustomization_files |= other.kustomization_files
        result.notes.extend(other.notes)

    def _kustomize(self, result: FolderBuild, kdoc: Document) -> None:
        data: dict[str, Any] = kdoc.data
        for list_name in ("resources", "bases", "components"):
            for index, entry in _string_entries(data.get(list_name)):
                self._resource(result, kdoc, (list_name, index), entry)
        self._support_files(result, kdoc)

    def _resource(self, result: FolderBuild, kdoc: Document, path: Path, entry: str) -> None:
        location = kdoc.locate(path)
        if is_remote(entry):
            result.notes.append(
                Note(location, f"remote resource '{entry}' is not read; its objects are unknown")
            )
            return
        target = _norm(posixpath.join(result.folder, entry))
        if self.files.is_file(target):
            self._add_file(result, target)
        elif self.files.is_folder(target):
            if self.files.kustomization_file(target) is None:
                result.notes.append(
                    Note(
                        location,
                        f"folder '{entry}' has no kustomization file; kustomize refuses it "
                        "(read here as every YAML file below it)",
                    )
                )
            self._include(result, self.build(target))
        else:
            result.notes.append(Note(location, f"'{entry}' is not a file or folder of the tree"))

    def _support_files(self, result: FolderBuild, kdoc: Document) -> None:
        """Files the build reads without emitting their documents."""
        data: dict[str, Any] = kdoc.data
        named: list[str] = []
        for list_name in _SUPPORT_LISTS:
            named.extend(entry for _, entry in _string_entries(data.get(list_name)))
        named.extend(
            entry for _, entry in _string_entries(data.get("patchesStrategicMerge")) if _path(entry)
        )
        for list_name in _PATCH_LISTS:
            items = data.get(list_name)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    named.append(item["path"])
        openapi = data.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            named.append(openapi["path"])
        for generator in ("configMapGenerator", "secretGenerator"):
            items = data.get(generator)
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict):
                    continue
                files = _string_entries(item.get("files"))
                named.extend(entry.rpartition("=")[2] for _, entry in files)
                named.extend(entry for _, entry in _string_entries(item.get("envs")))
                if isinstance(item.get("env"), str):
                    named.append(item["env"])
        for chart in _dicts(data.get("helmCharts")):
            if isinstance(chart.get("valuesFile"), str):
                named.append(chart["valuesFile"])
            named.extend(e for _, e in _string_entries(chart.get("additionalValuesFiles")))
        for entry in named:
            if is_remote(entry):
                continue
            target = _norm(posixpath.join(result.folder, entry))
            if self.files.is_file(target):
                result.files.add(self.files.display_of(target))
            elif self.files.is_folder(target):
                result.files.update(self.files.display_of(f) for f in self.files.below(target))


def _path(entry: str) -> bool:
    """A ``patchesStrategicMerge`` entry is a file name unless it is inline YAML."""
    return "\n" not in entry and ":" not in entry


def _string_entries(value: Any) -> Iterable[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, v.strip()) for i, v in enumerate(value) if isinstance(v, str) and v.strip()]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


__all__ = ["FolderBuild", "KustomizeBuilder", "Note", "TreeFiles", "is_remote"]
