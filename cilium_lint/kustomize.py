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

import copy
import os
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from cilium_lint.budget import TARGET_CHECK_BYTES, BudgetExceeded, WorkBudget, weight
from cilium_lint.document import Document, Location
from cilium_lint.patterns import go_pattern
from cilium_lint.quoting import quote
from cilium_lint.safepath import Refused
from cilium_lint.sourcemap import Path, Span
from cilium_lint.tree import KUSTOMIZATION_NAMES, Tree
from cilium_lint.unmodelled import Unmodelled
from cilium_lint.yamlload import parse_embedded, parse_yaml

YAML_SUFFIXES = (".yaml", ".yml")
# Fields of a kustomization whose entries are files read by the build but not emitted.
_SUPPORT_LISTS = ("configurations", "crds", "transformers", "generators", "validators")
_PATCH_LISTS = ("patches", "patchesJson6902", "replacements")
# Kustomizations nested deeper than this are not built (CL009): every level is a few Python
# frames, and a real tree nests a handful, while a hostile one could nest thousands.
MAX_BUILD_DEPTH = 100


def _norm(path: str) -> str:
    return posixpath.normpath(path.replace(os.sep, "/"))


Origin: TypeAlias = "Location | tuple[Document, Path]"


@dataclass(slots=True, eq=False)
class DerivedDocument(Document):
    """A document as a build changed it (patched, namespaced, substituted): new data, the
    written document's source map, and ``origins`` for the parts written elsewhere.

    An origin is either a fixed :class:`Location` (a substituted variable's definition) or a
    place in another document (a patch); the longest recorded prefix of a path decides.
    """

    origins: dict[Path, Origin] = field(default_factory=dict)
    base: Document | None = None  # the document as written in the tree

    @classmethod
    def of(cls, doc: Document, data: Any) -> DerivedDocument:
        origins = dict(doc.origins) if isinstance(doc, DerivedDocument) else {}
        base = doc.base if isinstance(doc, DerivedDocument) and doc.base is not None else doc
        return cls(
            doc.path, doc.index, data, doc.source_map, doc.span, doc.encrypted, origins, base
        )

    def _origin(self, path: Path) -> tuple[Origin, Path] | None:
        if not self.origins:
            return None
        for cut in range(len(path), -1, -1):
            origin = self.origins.get(path[:cut])
            if origin is not None:
                return origin, path[cut:]
        return None

    def locate(self, path: Path) -> Location:
        found = self._origin(path)
        if found is None:
            return Document.locate(self, path)
        origin, rest = found
        if isinstance(origin, Location):
            return origin
        return origin[0].locate((*origin[1], *rest))

    def locate_key(self, path: Path) -> Location:
        found = self._origin(path)
        if found is None or isinstance(found[0], Location):
            return Document.locate_key(self, path)
        origin, rest = found
        assert not isinstance(origin, Location)
        return origin[0].locate_key((*origin[1], *rest))

    def record(self, path: Path, origin: Origin) -> None:
        """``path`` (and everything below it) now comes from ``origin``."""
        for recorded in [p for p in self.origins if p[: len(path)] == path]:
            del self.origins[recorded]
        self.origins[path] = origin


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
    # The kustomization files in the order kustomize reads their generators: bases first.
    kustomization_order: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # Steps that transform objects and were not applied, or that kustomize refuses (CL020).
    unmodelled: list[Unmodelled] = field(default_factory=list)


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
        # Remembered: the graph asks for the same few folders once per Kustomization.
        self._absolute: dict[str, str] = {}
        self._folder_display: dict[str, str] = {}

    def absolute(self, display: str) -> str:
        known = self._absolute.get(display)
        if known is None:
            known = self._absolute[display] = _norm(posixpath.join(self.base, display))
        return known

    def display_of(self, absolute: str) -> str:
        known = self.display.get(absolute) or self._folder_display.get(absolute)
        if known is None:
            known = self._folder_display[absolute] = _norm(os.path.relpath(absolute, self.base))
        return known

    def reachable(self, reference: str, folder: str) -> bool:
        """Whether ``reference`` written in ``folder`` stays inside the repository (the
        references rule, CL008, reports those that do not)."""
        roots = self.tree.roots
        return roots is None or not isinstance(roots.resolve(reference, folder), Refused)

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
        """Every file below ``folder``, depth first in name order (no recursion: any depth)."""
        stack = [iter(self.entries.get(folder, []))]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
            elif entry in self.entries:
                stack.append(iter(self.entries[entry]))
            else:
                yield entry


def is_remote(entry: str) -> bool:
    return (
        "://" in entry
        or entry.startswith(("github.com/", "git@", "gitlab.com/"))
        or ("?ref=" in entry)
    )


class KustomizeBuilder:
    """Builds folders of one tree; each folder is built once and the result shared.

    Each build is a unit of ``budget``: one that would produce too much (a diamond of folders,
    a patch that copies data again and again) contributes nothing, and the overrun is kept.
    """

    def __init__(self, files: TreeFiles, budget: WorkBudget | None = None) -> None:
        self.files = files
        self.budget = budget if budget is not None else WorkBudget()
        self._built: dict[str, FolderBuild] = {}
        self._building: set[str] = set()
        # References not followed because they nest deeper than MAX_BUILD_DEPTH (CL009).
        self.too_deep: list[Note] = []

    def build(self, folder: str, reference: Location | None = None) -> FolderBuild:
        """``folder`` (absolute) as kustomize builds it, or as Flux does without a kustomization.

        ``reference``: where the build being made refers to it (for CL009).
        """
        folder = _norm(folder)
        done = self._built.get(folder)
        if done is not None:
            return done
        kfile = self.files.kustomization_file(folder)
        kdoc = self._kustomization_document(kfile) if kfile else None
        result = FolderBuild(folder, kdoc)
        if folder in self._building:  # a cycle: kustomize refuses it; contribute nothing more
            return result
        if len(self._building) >= MAX_BUILD_DEPTH:
            # Not kept in _built: reached from a shallower place, the folder is built in full.
            where = reference or (kdoc.locate(()) if kdoc is not None else None)
            if where is not None:
                self.too_deep.append(
                    Note(
                        where,
                        f"'{self.files.display_of(folder)}' is nested more than "
                        f"{MAX_BUILD_DEPTH} kustomizations deep; it was not built and its "
                        "objects were not checked",
                    )
                )
            return result
        self._building.add(folder)
        try:
            with self.budget.unit():
                if kfile is not None:
                    result.files.add(self.files.display_of(kfile))
                    result.kustomization_files.add(self.files.display_of(kfile))
                    if kdoc is not None:
                        self._kustomize(result, kdoc)
                    result.kustomization_order.append(self.files.display_of(kfile))
                else:
                    self._generate(result, folder)
        except BudgetExceeded as exc:
            result.documents = []  # all or nothing: a part of a build is no build
            self.budget.stopped(self._unit_location(folder, kfile, kdoc), self._unit(folder), exc)
        finally:
            self._building.discard(folder)
        self._built[folder] = result
        return result

    def _unit(self, folder: str) -> str:
        return f"the build of {self.files.display_of(folder)}/"

    def _unit_location(self, folder: str, kfile: str | None, kdoc: Document | None) -> Location:
        if kdoc is not None:
            return kdoc.locate(())
        first = kfile or next(self.files.below(folder), None)
        if first is not None:
            return Location(self.files.display_of(first), Span(1, 1, 1, 1))
        return Location(self.files.display_of(folder), Span(1, 1, 1, 1))

    def _kustomization_document(self, kfile: str) -> Document | None:
        for doc in self.files.documents(kfile):
            if isinstance(doc.data, dict):
                return doc
        return None

    def _generate(self, result: FolderBuild, folder: str) -> None:
        """Flux's generated kustomization: every YAML file; a folder with its own kustomization
        file is one unit. Plain folders are walked without recursion, so any depth is fine."""
        stack = [iter(self.files.entries.get(folder, []))]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
            elif self.files.is_folder(entry):
                if self.files.kustomization_file(entry) is not None:
                    self._include(result, self.build(entry))
                else:
                    stack.append(iter(self.files.entries.get(entry, [])))
            elif entry.lower().endswith(YAML_SUFFIXES):
                self._add_file(result, entry)

    def _add_file(self, result: FolderBuild, absolute: str) -> None:
        result.files.add(self.files.display_of(absolute))
        self._take(result, self.files.documents(absolute))

    def _take(self, result: FolderBuild, documents: list[Document]) -> None:
        for doc in documents:
            self.budget.document(doc)
        result.documents.extend(documents)

    def _include(self, result: FolderBuild, other: FolderBuild) -> None:
        self._take(result, other.documents)
        result.files |= other.files
        result.kustomization_files |= other.kustomization_files
        result.kustomization_order.extend(
            k for k in other.kustomization_order if k not in result.kustomization_order
        )
        result.notes.extend(other.notes)
        known = {u.identity for u in result.unmodelled}
        result.unmodelled.extend(u for u in other.unmodelled if u.identity not in known)

    def _kustomize(self, result: FolderBuild, kdoc: Document) -> None:
        data: dict[str, Any] = kdoc.data
        for list_name in ("resources", "bases"):
            for index, entry in _string_entries(data.get(list_name)):
                self._resource(result, kdoc, (list_name, index), entry)
        for index, entry in _string_entries(data.get("components")):
            # A component's patches apply to everything accumulated before it.
            before = list(result.documents)
            component = self._resource(result, kdoc, ("components", index), entry)
            if component is not None and component.kustomization is not None:
                patches = self._patches(component.kustomization, component.folder, result)
                result.documents[: len(before)] = patched(before, patches, self.budget)
        self._support_files(result, kdoc)
        patches = self._patches(kdoc, result.folder, result)
        result.documents = patched(
            result.documents, [p for p in patches if p.strategic], self.budget
        )
        namespace = data.get("namespace")
        if isinstance(namespace, str) and namespace:
            where = kdoc.locate(("namespace",))
            result.documents = [set_namespace(d, namespace, where) for d in result.documents]
        result.documents = patched(
            result.documents, [p for p in patches if not p.strategic], self.budget
        )
        # Replacements run last among kustomize's builtin transformers; the fields it does not
        # apply (transformer plugins, vars, ...) run after them and are said, not guessed.
        if "replacements" in data:
            result.documents = self._replaced(result, kdoc)
        if "transformers" in data:
            result.documents = self._transformed(result, kdoc)
        result.unmodelled.extend(unmodelled_fields(kdoc, result.documents))

    def _transformed(self, result: FolderBuild, kdoc: Document) -> list[Document]:
        from cilium_lint.builtin_transformers import Transformers  # built on this module

        transformers = Transformers(kdoc, self.files, result.folder, result.notes, self.budget)
        documents = transformers.apply(result.documents)
        result.unmodelled.extend(transformers.not_applied)
        return documents

    def _replaced(self, result: FolderBuild, kdoc: Document) -> list[Document]:
        from cilium_lint.replacements import Replacer  # it builds on this module's documents

        here = {*result.kustomization_order, kdoc.path}
        generated = [s for s in self.files.tree.sources if s.location.path in here]
        replacer = Replacer(
            kdoc, self.files, result.folder, generated, result.unmodelled, self.budget
        )
        return replacer.apply(result.documents)

    def _patches(self, kdoc: Document, folder: str, result: FolderBuild) -> list[Patch]:
        return read_patches(kdoc, (), self.files, folder, result.notes)

    def _resource(
        self, result: FolderBuild, kdoc: Document, path: Path, entry: str
    ) -> FolderBuild | None:
        """Add one ``resources`` entry; the folder's build when it is a folder."""
        if is_remote(entry):
            result.notes.append(
                Note(
                    kdoc.locate(path),
                    f"remote resource {quote(entry)} is not read; its objects are unknown",
                )
            )
            return None
        if not self.files.reachable(entry, result.folder):
            return None
        target = _norm(posixpath.join(result.folder, entry))
        if self.files.is_file(target):
            self._add_file(result, target)
            return None
        if self.files.is_folder(target):
            if self.files.kustomization_file(target) is None:
                result.notes.append(
                    Note(
                        kdoc.locate(path),
                        f"folder {quote(entry)} has no kustomization file; kustomize refuses it "
                        "(read here as every YAML file below it)",
                    )
                )
            built = self.build(target, kdoc.locate(path))
            self._include(result, built)
            return built
        result.notes.append(
            Note(kdoc.locate(path), f"{quote(entry)} is not a file or folder of the tree")
        )
        return None

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
            if is_remote(entry) or not self.files.reachable(entry, result.folder):
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


__all__ = [
    "DerivedDocument",
    "FolderBuild",
    "KustomizeBuilder",
    "Note",
    "Patch",
    "TreeFiles",
    "apply_patch",
    "is_remote",
    "patched",
    "read_patches",
    "set_namespace",
    "targets",
]


# --- patches and namespaces ---------------------------------------------------------------------

# Kinds kustomize's namespace transformer leaves alone (cluster-scoped), among those that matter
# here or are common in GitOps trees.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "GatewayClass",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "CiliumLoadBalancerIPPool",
        "CiliumL2AnnouncementPolicy",
        "CiliumClusterwideNetworkPolicy",
        "CiliumClusterwideEnvoyConfig",
        "CiliumBGPClusterConfig",
        "CiliumBGPPeerConfig",
        "CiliumBGPAdvertisement",
        "CiliumBGPNodeConfigOverride",
        "CiliumBGPPeeringPolicy",
        "CiliumNode",
        "CiliumNodeConfig",
        "CiliumPodIPPool",
        "CiliumCIDRGroup",
        "ClusterIssuer",
        "ClusterSecretStore",
    }
)


@dataclass(frozen=True, slots=True)
class Patch:
    """One patch of a kustomization or of a Flux Kustomization's ``spec.patches``."""

    strategic: bool  # False: a JSON 6902 list of operations
    content: Any
    document: Document  # where the content is written, for provenance
    path: Path  # the content's place in ``document``
    target: dict[str, Any] | None
    location: Location  # the patch entry, for notes


def _kind_group_version(data: dict[str, Any]) -> tuple[str, str, str]:
    api = data.get("apiVersion")
    api = api if isinstance(api, str) else ""
    group, _, version = api.rpartition("/")
    kind = data.get("kind")
    return (kind if isinstance(kind, str) else "", group, version)


def _meta(data: dict[str, Any], key: str) -> Any:
    metadata = data.get("metadata")
    return metadata.get(key) if isinstance(metadata, dict) else None


# Target fields kustomize reads as regular expressions (Go, anchored: ``^(?:pattern)$``).
TARGET_PATTERN_KEYS = ("group", "version", "kind", "name", "namespace")
_LITERAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _full_match(pattern: Any, value: str) -> bool:
    """A target field selects ``value``; an invalid pattern selects nothing (kustomize fails the
    build, CL017 says so)."""
    if not isinstance(pattern, str) or not pattern:
        return True
    if _LITERAL_CHARS.issuperset(pattern):
        return pattern == value  # most targets name one object: no regex needed
    return go_pattern(pattern).fullmatch(value)


def selector_matches(selector: Any, marks: Any) -> bool:
    """Equality-based label/annotation selectors (``a=b,c!=d,e``); others never match."""
    if not isinstance(selector, str) or not selector.strip():
        return True
    marks = marks if isinstance(marks, dict) else {}
    for term in selector.split(","):
        term = term.strip()
        if not term:
            continue
        if "!=" in term:
            key, _, value = term.partition("!=")
            if str(marks.get(key.strip())) == value.strip():
                return False
        elif "=" in term:
            key, _, value = term.partition("=")
            value = value.lstrip("=").strip()
            if marks.get(key.strip()) != value:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in marks:
                return False
        elif " " in term or "(" in term:
            return False  # set-based selectors are not read here
        elif term not in marks:
            return False
    return True


def targets(patch: Patch, data: Any) -> bool:
    """Whether ``patch`` applies to the object ``data``."""
    if not isinstance(data, dict):
        return False
    kind, group, version = _kind_group_version(data)
    name = _meta(data, "name")
    name = name if isinstance(name, str) else ""
    namespace = _meta(data, "namespace")
    namespace = namespace if isinstance(namespace, str) else ""
    target = patch.target
    if target is None:
        if not patch.strategic or not isinstance(patch.content, dict):
            return False
        p_kind, p_group, _ = _kind_group_version(patch.content)
        p_name = _meta(patch.content, "name")
        p_namespace = _meta(patch.content, "namespace")
        return (
            p_kind == kind
            and p_group == group
            and p_name == name
            and (not isinstance(p_namespace, str) or not namespace or p_namespace == namespace)
        )
    return (
        _full_match(target.get("kind"), kind)
        and _full_match(target.get("group"), group)
        and _full_match(target.get("version"), version)
        and _full_match(target.get("name"), name)
        and _full_match(target.get("namespace"), namespace)
        and selector_matches(target.get("labelSelector"), _meta(data, "labels"))
        and selector_matches(target.get("annotationSelector"), _meta(data, "annotations"))
    )


def patched(
    documents: list[Document], patches: list[Patch], budget: WorkBudget | None = None
) -> list[Document]:
    """``documents`` with each patch applied to its targets; what the patches produce is
    charged to ``budget`` (None: not counted)."""
    for patch in patches:
        if budget is not None:
            budget.charge(TARGET_CHECK_BYTES * len(documents), patch.location)
        documents = [
            apply_patch(d, patch, budget) if targets(patch, d.data) else d for d in documents
        ]
    return documents


def apply_patch(doc: Document, patch: Patch, budget: WorkBudget | None = None) -> DerivedDocument:
    if budget is not None:
        # The copy of the document, and the patch's own data merged or added into it.
        budget.copy(doc, patch.location)
        budget.charge(budget.size(patch.content), patch.location)
    data = copy.deepcopy(doc.data)
    derived = DerivedDocument.of(doc, data)
    if patch.strategic:
        derived.data = _merge(data, patch.content, derived, (), patch.path, patch.document)
    else:
        _json6902(derived, patch, budget)
    return derived


def _merge(
    target: Any, patch: Any, derived: DerivedDocument, here: Path, at: Path, source: Document
) -> Any:
    """A strategic merge as it works on custom resources: maps merge, anything else replaces,
    ``null`` deletes."""
    if isinstance(target, dict) and isinstance(patch, dict):
        for key, value in patch.items():
            if key == "$patch" or (not here and key in ("apiVersion", "kind")):
                continue
            if here == ("metadata",) and key in ("name", "namespace"):
                continue  # the patch names its target; kustomize keeps the target's own name
            if value is None:
                if key in target:
                    del target[key]
                    derived.record((*here, key), source.locate((*at, key)))
                continue
            target[key] = _merge(target.get(key), value, derived, (*here, key), (*at, key), source)
        return target
    if target == patch:
        return target  # unchanged: it stays where it was written
    derived.record(here, (source, at))
    return copy.deepcopy(patch)


def _pointer(text: str) -> list[str]:
    if text in ("", "/"):
        return [] if text == "" else [""]
    return [p.replace("~1", "/").replace("~0", "~") for p in text.lstrip("/").split("/")]


def _json6902(derived: DerivedDocument, patch: Patch, budget: WorkBudget | None) -> None:
    operations = patch.content if isinstance(patch.content, list) else []
    for index, op in enumerate(operations):
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            continue
        kind = op.get("op")
        steps = _pointer(op["path"])
        value_at = (*patch.path, index, "value")
        if kind in ("add", "replace"):
            if "value" not in op:
                continue
            value: Any = copy.deepcopy(op["value"])
        elif kind in ("copy", "move") and isinstance(op.get("from"), str):
            found, value = _get(derived.data, _pointer(op["from"]))
            if not found:
                continue
            if budget is not None and kind == "copy":
                # Each copy may double the document (copy /a to /a/-): charged before it is made.
                budget.charge(weight(repr(value)), patch.document.locate((*patch.path, index)))
            value = copy.deepcopy(value)
            value_at = (*patch.path, index, "from")
            if kind == "move":
                _remove(derived.data, _pointer(op["from"]))
        elif kind == "remove":
            path = _remove(derived.data, steps)
            if path is not None:
                derived.record(path, patch.document.locate((*patch.path, index)))
            continue
        else:
            continue  # test, or not an operation
        path = _put(derived.data, steps, value, kind == "replace")
        if path is not None:
            derived.record(path, (patch.document, value_at))


def _get(data: Any, steps: list[str]) -> tuple[bool, Any]:
    node = data
    for step in steps:
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return False, None
    return True, node


def _parent(data: Any, steps: list[str]) -> tuple[Any, Path, str] | None:
    """The container a JSON-pointer operation acts on, its path, and the last step."""
    if not steps:
        return None
    found, parent = _get(data, steps[:-1])
    if not found:
        return None
    prefix = tuple(int(s) if isinstance(p, list) else s for s, p in _walk(data, steps[:-1]))
    return parent, prefix, steps[-1]


def _put(data: Any, steps: list[str], value: Any, replace: bool) -> Path | None:
    target = _parent(data, steps)
    if target is None:
        return None
    parent, prefix, last = target
    if isinstance(parent, dict):
        if replace and last not in parent:
            return None
        parent[last] = value
        return (*prefix, last)
    if isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
            return (*prefix, len(parent) - 1)
        if not last.isdigit() or int(last) > len(parent) or (replace and int(last) == len(parent)):
            return None
        if replace:
            parent[int(last)] = value
        else:
            parent.insert(int(last), value)
        return (*prefix, int(last))
    return None


def _remove(data: Any, steps: list[str]) -> Path | None:
    target = _parent(data, steps)
    if target is None:
        return None
    parent, prefix, last = target
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return (*prefix, last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
        return (*prefix, int(last))
    return None


def _walk(data: Any, steps: list[str]) -> list[tuple[str, Any]]:
    """Each step with the container it indexes."""
    out: list[tuple[str, Any]] = []
    node = data
    for step in steps:
        out.append((step, node))
        node = node[int(step)] if isinstance(node, list) else node[step]
    return out


def set_namespace(doc: Document, namespace: str, origin: Location) -> Document:
    """kustomize's namespace transformer (and Flux's ``targetNamespace``) on one object."""
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return doc
    if data["kind"] in CLUSTER_SCOPED_KINDS or _meta(data, "namespace") == namespace:
        return doc
    new = dict(data)
    metadata = new.get("metadata")
    new["metadata"] = {**(metadata if isinstance(metadata, dict) else {}), "namespace": namespace}
    derived = DerivedDocument.of(doc, new)
    derived.record(("metadata", "namespace"), origin)
    return derived


def read_patches(
    owner: Document, spec: Path, files: TreeFiles, folder: str, notes: list[Note]
) -> list[Patch]:
    """The patches ``owner`` declares under ``spec`` (``()`` for a kustomization file,
    ``("spec",)`` for a Flux Kustomization), in kustomize's order."""
    data: Any = owner.data
    for step in spec:
        data = data.get(step) if isinstance(data, dict) else None
    if not isinstance(data, dict):
        return []
    found: list[Patch] = []
    merges = data.get("patchesStrategicMerge")
    for index, entry in enumerate(merges if isinstance(merges, list) else []):
        where = (*spec, "patchesStrategicMerge", index)
        if isinstance(entry, str) and _path(entry.strip()):
            found.extend(patch_file(owner, where, entry.strip(), None, files, folder, notes, True))
        elif isinstance(entry, str | dict):
            found.extend(patches_from(owner, where, entry, None, files, True))
    for list_name in ("patches", "patchesJson6902"):
        for index, item in _dict_entries(data.get(list_name)):
            where = (*spec, list_name, index)
            target = item.get("target") if isinstance(item.get("target"), dict) else None
            strategic = None if list_name == "patches" else False
            if isinstance(item.get("path"), str) and item.get("patch") is None:
                found.extend(
                    patch_file(
                        owner,
                        (*where, "path"),
                        item["path"],
                        target,
                        files,
                        folder,
                        notes,
                        strategic,
                    )
                )
            elif item.get("patch") is not None:
                found.extend(
                    patches_from(owner, (*where, "patch"), item["patch"], target, files, strategic)
                )
    return found


def patch_file(
    owner: Document,
    where: Path,
    name: str,
    target: dict[str, Any] | None,
    files: TreeFiles,
    folder: str,
    notes: list[Note],
    strategic: bool | None,
) -> list[Patch]:
    location = owner.locate(where)
    if not files.reachable(name, folder):
        return []
    absolute = _norm(posixpath.join(folder, name))
    if not files.is_file(absolute):
        notes.append(Note(location, f"patch file {quote(name)} is not in the tree"))
        return []
    return [
        patch
        for document in files.documents(absolute)
        for patch in _patch(document, (), document.data, target, strategic, location)
    ]


def patches_from(
    owner: Document,
    where: Path,
    content: Any,
    target: dict[str, Any] | None,
    files: TreeFiles,
    strategic: bool | None,
) -> list[Patch]:
    """The patches of one inline entry: YAML text (positioned in ``owner``) or data."""
    location = owner.locate(where)
    if isinstance(content, str):
        return [
            patch
            for document in embedded_documents(owner, where, content, files)
            for patch in _patch(document, (), document.data, target, strategic, location)
        ]
    return _patch(owner, where, content, target, strategic, location)


def _patch(
    document: Document,
    at: Path,
    data: Any,
    target: dict[str, Any] | None,
    strategic: bool | None,
    location: Location,
) -> list[Patch]:
    is_strategic = isinstance(data, dict) if strategic is None else strategic
    if (is_strategic and not isinstance(data, dict)) or (
        not is_strategic and not isinstance(data, list)
    ):
        return []
    return [Patch(is_strategic, data, document, at, target, location)]


def embedded_documents(owner: Document, where: Path, text: str, files: TreeFiles) -> list[Document]:
    """YAML written in a string of ``owner`` at ``where``, positioned in the enclosing file when
    it is a block scalar, else pinned to the string."""
    location = owner.locate(where)
    parsed_file = files.tree.files.get(owner.path)
    whole = parsed_file.full_text() if parsed_file else None
    lines = whole.splitlines() if whole else []
    span = location.span
    header = lines[span.line - 1][span.column - 1 :] if 0 < span.line <= len(lines) else ""
    if header.startswith(("|", ">")):
        first = span.line + 1
        while first <= len(lines) and not lines[first - 1].strip():
            first += 1
        indent = (
            len(lines[first - 1]) - len(lines[first - 1].lstrip(" ")) if first <= len(lines) else 0
        )
        parsed = parse_embedded(text, owner.path, first, indent)
    else:
        parsed = parse_yaml(text.encode("utf-8"), owner.path)
        for document in parsed.documents:
            document.span = span
            document.source_map = document.source_map.shifted(lambda _s: span)
    return [d for d in parsed.documents if d.data is not None]


def _dict_entries(value: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]


# --- what a kustomization transforms that is not applied here ------------------------------------

# Fields of a kustomization that change objects and that this build does not apply, with what
# they may change. Each is reported once (CL020) where it is declared.
_UNMODELLED_FIELDS = {
    "generators": "runs generator plugins that cilium-lint does not run; the objects they add "
    "(or merge into objects of this build) are unknown",
    "validators": "runs validator plugins that cilium-lint does not run; they may fail the build",
    "vars": "substitutes `$(VAR)` references (deprecated `vars`) that cilium-lint does not "
    "substitute; such text in objects of this build is checked as written",
    "openapi": "changes how strategic-merge patches merge lists; the patches here were merged "
    "as for custom resources",
    "namePrefix": "renames the objects of this build; references to them (valuesFrom, "
    "substituteFrom) were looked up by their written names",
    "nameSuffix": "renames the objects of this build; references to them (valuesFrom, "
    "substituteFrom) were looked up by their written names",
}


def unmodelled_fields(kdoc: Document, documents: list[Document]) -> list[Unmodelled]:
    """The fields of ``kdoc`` that transform ``documents`` and that this build does not apply."""
    data = kdoc.data
    found: list[Unmodelled] = []
    for name, what in _UNMODELLED_FIELDS.items():
        value = data.get(name) if isinstance(data, dict) else None
        if value in (None, "", [], {}):
            continue
        entries = [e for _, e in _string_entries(value)] if isinstance(value, list) else []
        shown = f" ({', '.join(quote(e) for e in entries[:5])})" if entries else ""
        found.append(
            Unmodelled(
                kdoc.locate_key((name,)),
                f"kustomization field {name}{shown} {what}",
                f"{kdoc.path}#/{name}",
                tuple(documents),
            )
        )
    return found
