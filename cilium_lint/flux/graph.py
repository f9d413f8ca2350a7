"""The Flux view of a tree: which Flux ``Kustomization`` applies which files, and what nothing
applies.

Flux applies what its ``Kustomization`` objects build: each one builds ``spec.path`` of its
source (kustomize rules, see :mod:`cilium_lint.kustomize`), and a parent applies the
``Kustomization`` objects of its children that way. The roots are the Kustomizations no other
one applies (the entry points a person or ``flux bootstrap`` applied by hand), except those lying
inside another Kustomization's folder or in an archive folder (someone chose not to apply them).
A plain ``kustomization.yaml`` outside every Flux folder that nothing references is an entry
point too (a partial tree, or a tree applied with ``kubectl apply -k``).

Everything else (archived apps, shelved ``ks.yaml`` files, commented-out resources) is
*unreferenced*: it must not take part in cross-resource checks. A tree without any Flux
Kustomization keeps the simple view: every file counts.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cilium_lint.budget import REFERENCE_BYTES, BudgetExceeded, Overrun, WorkBudget
from cilium_lint.document import Document, Location
from cilium_lint.flux.helmrelease import chart_basename
from cilium_lint.flux.postbuild import Substituter, Use, Variables, variables_of
from cilium_lint.kustomize import (
    DerivedDocument,
    FolderBuild,
    KustomizeBuilder,
    Note,
    TreeFiles,
    patched,
    read_patches,
    set_namespace,
)
from cilium_lint.quoting import quote
from cilium_lint.safepath import RepositoryRoots, repository_root
from cilium_lint.tree import ConfigSource, KObject, Tree, api_group, dig

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

FLUX_KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
FLUX_OPERATOR_GROUP = "fluxcd.controlplane.io"
# Sources whose content may be this repository (or an artifact built from a folder of it).
LOCAL_SOURCE_KINDS = ("GitRepository", "OCIRepository")
# Folder names people keep retired manifests in; never an entry point.
ARCHIVE_FOLDERS = frozenset(
    {"archive", ".archive", "_archive", "archived", ".archived", "_archived", "attic"}
)


def is_flux_kustomization(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("kind") != "Kustomization":
        return False
    api = data.get("apiVersion")
    return isinstance(api, str) and api_group(api) == FLUX_KUSTOMIZE_GROUP


def _is_flux_instance(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("kind") != "FluxInstance":
        return False
    api = data.get("apiVersion")
    return isinstance(api, str) and api_group(api) == FLUX_OPERATOR_GROUP


def _is_entry_object(data: Any) -> bool:
    return is_flux_kustomization(data) or _is_flux_instance(data)


def is_archived(display: str) -> bool:
    return any(part.lower() in ARCHIVE_FOLDERS for part in display.split("/")[:-1])


def _name(data: Any) -> tuple[str, str | None]:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    return (
        name if isinstance(name, str) else "",
        namespace if isinstance(namespace, str) else None,
    )


@dataclass(eq=False)
class FluxKustomization:
    """One Flux Kustomization (or a flux-operator FluxInstance sync) as applied in one scope."""

    document: Document  # the object as its parent applied it
    original: Document  # the document as written in the tree
    parent: FluxKustomization | None = None
    path: str | None = None  # spec.path as Flux reads it
    folder: str | None = None  # display path of the folder it builds; None: not resolved
    note: str | None = None  # why it is not resolved here
    build: FolderBuild | None = None
    components: list[FolderBuild] = field(default_factory=list)  # its spec.components built
    children: list[FluxKustomization] = field(default_factory=list)
    variables: Variables | None = None
    # What it applies: its build after its own patches, targetNamespace and substitution.
    applied: list[Document] = field(default_factory=list)

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.document.data
        return data

    @property
    def name(self) -> str:
        return _name(self.data)[0]

    @property
    def namespace(self) -> str | None:
        return _name(self.data)[1]

    @property
    def label(self) -> str:
        kind = "FluxInstance" if _is_flux_instance(self.data) else "Kustomization"
        namespace = self.namespace
        return f"{kind}/{namespace}/{self.name}" if namespace else f"{kind}/{self.name}"

    @property
    def documents(self) -> list[Document]:
        return self.applied

    @property
    def cluster_entry(self) -> bool:
        """Whether this is where a cluster's Flux starts: a FluxInstance sync, a Kustomization
        that applies other Kustomizations, or one that applies itself (flux bootstrap). An
        app's Kustomization found as a root is only the root of a part of a tree."""
        return (
            _is_flux_instance(self.data)
            or bool(self.children)
            or any(base_document(d) is self.original for d in self.applied)
        )

    def spec(self, *path: str) -> Any:
        node: Any = self.data.get("spec")
        for step in path:
            if not isinstance(node, dict):
                return None
            node = node.get(step)
        return node


@dataclass(eq=False)
class Scope:
    """What one cluster applies: its roots, every Kustomization reached, every document."""

    name: str | None
    folder: str | None = None  # absolute folder of its roots (for placing entry points)
    roots: list[FluxKustomization] = field(default_factory=list)
    kustomizations: list[FluxKustomization] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    entry_builds: list[FolderBuild] = field(default_factory=list)
    files: set[str] = field(default_factory=set)  # display paths of every file read
    resource_files: set[str] = field(default_factory=set)  # files whose documents are applied
    kustomization_files: set[str] = field(default_factory=set)
    # ConfigMaps and Secrets as applied (substituted), keyed by the written source's identity.
    sources: dict[int, ConfigSource] = field(default_factory=dict)
    uses: list[Use] = field(default_factory=list)  # every string Flux substitutes
    _bases: set[int] = field(default_factory=set)

    @property
    def whole(self) -> bool:
        """Whether the linted tree holds where this cluster's Flux starts (a root that is a
        cluster entry), rather than only a part of it (an app folder linted on its own)."""
        return any(root.cluster_entry for root in self.roots)

    def add(self, doc: Document) -> bool:
        """Apply ``doc`` unless the document it derives from is applied already."""
        key = id(base_document(doc))
        if key in self._bases:
            return False
        self._bases.add(key)
        self.documents.append(doc)
        self.resource_files.add(doc.path)
        self.files.add(doc.path)
        return True


@dataclass(eq=False)
class Graph:
    active: bool  # the tree has Flux Kustomizations; otherwise every file counts
    scopes: list[Scope] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    unreferenced: list[Location] = field(default_factory=list)  # one per file nothing applies
    # Builds and Kustomizations that went over the work budget (CL016); the budget's own list,
    # which a substitution read later, when a check asks for it, may still add to.
    overruns: list[Overrun] = field(default_factory=list)

    @property
    def kustomizations(self) -> list[FluxKustomization]:
        return [k for scope in self.scopes for k in scope.kustomizations]

    @property
    def roots(self) -> list[FluxKustomization]:
        return [k for scope in self.scopes for k in scope.roots]

    @property
    def applied_files(self) -> set[str]:
        found: set[str] = set()
        for scope in self.scopes:
            found |= scope.files
        return found

    base: str = ""  # the working folder, absolute: display paths are relative to it
    too_deep: list[Note] = field(default_factory=list)  # builds nested too deep (CL009)

    def only(self, scope: Scope) -> Graph:
        """The same graph seen from one cluster."""
        return dataclasses.replace(self, scopes=[scope])

    def nearest_scope(self, display: str) -> Scope | None:
        """The cluster whose folder shares the most with ``display`` (None: no single one)."""
        named = [s for s in self.scopes if s.folder is not None]
        if len(named) < 2:
            return None
        here = _norm(posixpath.join(self.base, display))
        scored = sorted((_shared(here, s.folder or ""), i) for i, s in enumerate(named))
        if scored[-1][0] == scored[-2][0]:
            return None
        return named[scored[-1][1]]

    def restrict(self, tree: Tree, scope: Scope | None = None) -> Tree:
        """The tree as the cross-resource checks must see it: only what is applied, as Flux
        applies it (patched, substituted). Parse problems of every file are kept (a broken
        file is broken whether applied or not)."""
        if not self.active:
            return tree
        scopes = [scope] if scope is not None else self.scopes
        by_doc = tree.memo("objects-by-document", lambda: {id(o.doc): o for o in tree.objects})
        objects: list[KObject] = []
        seen: set[int] = set()
        sources: dict[int, ConfigSource] = {}
        for current in scopes:
            for doc in current.documents:
                base = base_document(doc)
                original = by_doc.get(id(base))
                if original is None or id(base) in seen:
                    continue
                seen.add(id(base))
                objects.append(original if doc is base else _derived_object(original, doc))
            for key, source in current.sources.items():
                sources.setdefault(key, source)
        return dataclasses.replace(tree, objects=objects, sources=list(sources.values()))


def base_document(doc: Document) -> Document:
    """The document as written in the tree that ``doc`` derives from."""
    return doc.base if isinstance(doc, DerivedDocument) and doc.base is not None else doc


def _derived_object(original: KObject, doc: Document) -> KObject:
    name, namespace = _name(doc.data)
    return KObject(
        doc, original.kind, original.group, name or original.name, namespace or original.namespace
    )


class _Resolver:
    """Finds the folder a Flux Kustomization's ``spec.path`` names."""

    def __init__(self, files: TreeFiles, linted: Sequence[Path]) -> None:
        self.files = files
        # A folder outside the repository is never a candidate, whatever spec.path says.
        self.roots = files.tree.roots or RepositoryRoots(linted)
        bases: list[str] = []
        for path in linted:
            root = repository_root(path)
            if root is not None:
                bases.append(_norm(str(root)))
        for path in linted:
            absolute = path.absolute()
            folder = absolute if absolute.is_dir() else absolute.parent
            bases.append(_norm(str(folder)))
        self.bases = list(dict.fromkeys(bases))
        # (spec.path, folder written in) -> the folder: each is asked for more than once.
        self._folders: dict[tuple[str, str], str | None] = {}

    def folder(self, spec_path: str, written_in: str) -> str | None:
        key = (spec_path, posixpath.dirname(written_in))
        if key not in self._folders:
            self._folders[key] = self._find_folder(spec_path, written_in)
        return self._folders[key]

    def _find_folder(self, spec_path: str, written_in: str) -> str | None:
        relative = spec_path.strip().lstrip("/") or "."
        here = posixpath.dirname(self.files.absolute(written_in))
        candidates = list(self.bases)
        while True:
            candidates.append(here)
            parent = posixpath.dirname(here)
            if parent == here:
                break
            here = parent
        for base in dict.fromkeys(candidates):
            target = _norm(posixpath.join(base, relative))
            if not self.roots.contains(target):
                continue
            if self.files.is_folder(target) or os.path.isdir(target):
                return target
        return None


def _norm(path: str) -> str:
    return posixpath.normpath(path.replace(os.sep, "/"))


def _source_ref(data: Any) -> tuple[str, str, str | None] | None:
    spec = data.get("spec") if isinstance(data, dict) else None
    ref = spec.get("sourceRef") if isinstance(spec, dict) else None
    if not isinstance(ref, dict):
        return None
    kind, name, namespace = ref.get("kind"), ref.get("name"), ref.get("namespace")
    return (
        kind if isinstance(kind, str) else "",
        name if isinstance(name, str) else "",
        namespace if isinstance(namespace, str) else _name(data)[1],
    )


class GraphBuilder:
    def __init__(
        self,
        tree: Tree,
        linted: Sequence[Path],
        clusters: Sequence[tuple[str, Path]] = (),
        budget: WorkBudget | None = None,
    ) -> None:
        self.tree = tree
        self.clusters = [(name, _norm(str(folder.absolute()))) for name, folder in clusters]
        self.files = TreeFiles(tree)
        self.budget = budget if budget is not None else WorkBudget()
        self.kustomize = KustomizeBuilder(self.files, self.budget)
        self.resolver = _Resolver(self.files, linted)
        self.urls = self._source_urls()
        self.notes: list[Note] = []
        self.sources_by_path: dict[str, list[ConfigSource]] = {}
        for source in tree.sources:
            self.sources_by_path.setdefault(source.location.path, []).append(source)
        self.static_files: set[str] = set()  # files some Flux Kustomization builds, statically
        # The static pass (no variables): each entry object resolved, and what candidates reach.
        self._static: dict[int, FluxKustomization] = {}
        self._reach: dict[int, set[int]] = {}
        # Per scope (by identity): its folder and the files its roots apply statically.
        self._claims: dict[int, tuple[str | None, set[str]]] = {}

    def _source_urls(self) -> dict[tuple[str, str], str]:
        urls: dict[tuple[str, str], str] = {}
        for kind in LOCAL_SOURCE_KINDS:
            for obj in self.tree.of_kind(kind):
                url = obj.get("spec", "url")
                if isinstance(url, str):
                    urls[(kind, obj.name)] = url
        return urls

    # --- resolving one Kustomization ------------------------------------------------------

    def resolve(self, node: FluxKustomization) -> None:
        """Find and build the folder ``node`` applies, or say why it cannot be done here."""
        if _is_flux_instance(node.data):
            sync = node.spec("sync")
            path = sync.get("path") if isinstance(sync, dict) else None
            kind = sync.get("kind") if isinstance(sync, dict) else None
            if isinstance(kind, str) and kind not in LOCAL_SOURCE_KINDS:
                node.note = f"sync source kind {kind} is not read from this tree"
                return
        else:
            path = node.spec("path")
            problem = self._foreign_source(node)
            if problem is not None:
                node.note = problem
                return
        node.path = path if isinstance(path, str) else "./"
        if "${" in node.path:
            node.note = f"spec.path {quote(node.path)} has a variable that is not defined here"
            return
        folder = self.resolver.folder(node.path, node.original.path)
        if folder is None:
            node.note = (
                f"spec.path {quote(node.path)} is not a folder of this repository "
                "(another source, or a path that no longer exists)"
            )
            return
        node.folder = self.files.display_of(folder)
        build = self.kustomize.build(folder)
        try:
            # Every Kustomization holds its own list of what the (shared) build emits.
            self.budget.charge(REFERENCE_BYTES * len(build.documents))
        except BudgetExceeded as exc:
            self.budget.stopped(node.document.locate(("spec",)), node.label, exc)
            return
        node.build = build
        node.applied = list(build.documents)

    def _foreign_source(self, node: FluxKustomization) -> str | None:
        ref = _source_ref(node.data)
        if ref is None:
            return None
        kind, name, _ = ref
        if kind not in LOCAL_SOURCE_KINDS:
            return f"sourceRef {kind}/{name} is not read from this tree"
        parent_ref = _source_ref(node.parent.data) if node.parent is not None else None
        if parent_ref is None or parent_ref[:2] == ref[:2]:
            return None
        mine, theirs = self.urls.get((kind, name)), self.urls.get(parent_ref[:2])
        if mine is not None and theirs is not None and mine != theirs:
            return f"sourceRef {kind}/{name} is another repository ({mine})"
        return None

    # --- the whole graph --------------------------------------------------------------------

    def build(self) -> Graph:
        entries = [
            doc
            for path, parsed in self.tree.files.items()
            if path not in self.tree.data_files
            for doc in parsed.documents
            if _is_entry_object(doc.data)
        ]
        if not entries and not self.clusters:
            return Graph(active=False)
        roots = self._roots(entries) if entries else []
        scopes = self._configured(roots) if self.clusters else self._automatic(roots)
        self._entry_points(scopes)
        graph = Graph(
            active=True,
            scopes=scopes,
            notes=list(self.notes),
            base=self.files.base,
            overruns=self.budget.overruns,
        )
        for scope in scopes:
            for k in scope.kustomizations:
                if k.note is not None:
                    graph.notes.append(Note(k.original.locate(("spec", "path")), k.note))
                if k.build is not None:
                    graph.notes.extend(n for n in k.build.notes if n not in graph.notes)
        graph.unreferenced = self._unreferenced(graph)
        graph.too_deep = list(self.kustomize.too_deep)
        return graph

    # --- clusters -----------------------------------------------------------------------------

    def _scopes(self, plans: list[tuple[str | None, str | None, list[Document]]]) -> list[Scope]:
        """One scope per (name, folder, roots). What each cluster holds (its folder, what its
        roots build statically) is known before any is walked, so that a variable source is
        looked up in its own cluster and never taken from another one."""
        scopes = [Scope(name=name, folder=folder) for name, folder, _ in plans]
        for scope, (_, _, roots) in zip(scopes, plans, strict=True):
            self._claims[id(scope)] = (scope.folder, self._static_reach(roots))
        for scope, (_, _, roots) in zip(scopes, plans, strict=True):
            for doc in roots:
                scope.roots.append(FluxKustomization(doc, doc))
                self._add_file(scope, doc.path)
            seen: set[int] = set()
            for node in list(scope.roots):
                self._walk(scope, node, seen)
        return scopes

    def _static_reach(self, roots: list[Document]) -> set[str]:
        """Display paths of the files ``roots`` apply, as built before any substitution."""
        found = {doc.path for doc in roots}
        for doc in roots:
            for key in self._reach.get(id(doc), {id(doc)}):
                node = self._static.get(key)
                if node is not None and node.build is not None:
                    found |= node.build.files
        return found

    def _holds(self, claim: tuple[str | None, set[str]], display: str) -> bool:
        """Whether a file belongs to a cluster: applied by its roots, or below its folder."""
        folder, files = claim
        return display in files or (
            folder is not None and _inside(self.files.absolute(display), folder)
        )

    def _configured(self, roots: list[Document]) -> list[Scope]:
        """One scope per configured cluster: the roots below its folder, or (without any) every
        file below it."""
        plans: list[tuple[str | None, str | None, list[Document]]] = []
        claimed: set[int] = set()
        for name, folder in self.clusters:
            mine = [d for d in roots if _inside(self.files.absolute(d.path), folder)]
            claimed |= {id(d) for d in mine}
            plans.append((name, folder, mine))
        rest = [d for d in roots if id(d) not in claimed]
        if rest:
            plans.append(("other", None, rest))
        scopes = self._scopes(plans)
        for scope, (_, below, mine) in zip(scopes, plans, strict=True):
            if mine or below is None:
                continue
            for display in sorted(self.tree.files):
                absolute = self.files.absolute(display)
                if _inside(absolute, below) and display not in self.tree.data_files:
                    self._add_file(scope, display)
        return scopes

    def _automatic(self, roots: list[Document]) -> list[Scope]:
        """Roots grouped by folder (nested folders are one group); groups are clusters when at
        least two of them run a load-balancer IPAM (Cilium or MetalLB); a group without one
        joins the cluster it shares the longest folder path with."""
        by_folder: dict[str, list[Document]] = {}
        for doc in sorted(roots, key=lambda d: d.path):
            by_folder.setdefault(posixpath.dirname(self.files.absolute(doc.path)), []).append(doc)
        groups: list[tuple[str, list[Document]]] = []
        index: dict[str, int] = {}
        for folder in sorted(by_folder, key=lambda f: (f.count("/"), f)):
            above = folder
            while above not in index and posixpath.dirname(above) != above:
                above = posixpath.dirname(above)
            if above in index:  # nested in a group's folder: the same group
                groups[index[above]][1].extend(by_folder[folder])
            else:
                index[folder] = len(groups)
                groups.append((folder, list(by_folder[folder])))
        if len(groups) <= 1:
            return self._scopes([(None, groups[0][0] if groups else None, roots)])
        runs = [self._runs_ipam(members) for _, members in groups]
        if sum(runs) <= 1:
            return self._scopes([(None, None, roots)])
        clusters = [
            (folder, list(members))
            for (folder, members), run in zip(groups, runs, strict=True)
            if run
        ]
        for (folder, members), run in zip(groups, runs, strict=True):
            if run:
                continue
            best = max(range(len(clusters)), key=lambda i: _shared(folder, clusters[i][0]))
            clusters[best][1].extend(members)
        names = _cluster_names([self.files.display_of(folder) for folder, _ in clusters])
        return self._scopes(
            [
                (name, folder, members)
                for name, (folder, members) in zip(names, clusters, strict=True)
            ]
        )

    def _runs_ipam(self, roots: list[Document]) -> bool:
        """Whether what ``roots`` apply (as built, before substitution) runs an LB IPAM."""
        scope = Scope(name=None)
        for doc in roots:
            for key in self._reach.get(id(doc), {id(doc)}):
                node = self._static.get(key)
                if node is not None:
                    scope.documents.extend(node.documents)
        return bool(providers(scope))

    def _walk(self, scope: Scope, node: FluxKustomization, seen: set[int]) -> None:
        """Resolve ``node`` and everything it applies, depth first."""
        pending = [node]
        while pending:
            current = pending.pop()
            if id(current.original) in seen:
                continue
            seen.add(id(current.original))
            self.resolve(current)
            scope.kustomizations.append(current)
            if current.build is None:
                continue
            try:
                with self.budget.unit():
                    applied = self._apply(scope, current)
            except BudgetExceeded as exc:
                where = current.document.locate(("spec",))
                self.budget.stopped(where, current.label, exc)
                current.applied = []
                continue
            applied()
            children = [
                FluxKustomization(doc, base_document(doc), parent=current)
                for doc in current.applied
                if _is_entry_object(doc.data) and id(base_document(doc)) not in seen
            ]
            current.children.extend(children)
            pending.extend(reversed(children))

    def _apply(self, scope: Scope, node: FluxKustomization) -> Callable[[], None]:
        """What ``node`` applies: its build, patched by its ``spec.patches``, moved to its
        ``targetNamespace`` and substituted with its post-build variables. Returns what adds
        it to ``scope``, so that a Kustomization that goes over its budget adds nothing."""
        build = node.build
        assert build is not None
        docs = list(build.documents)
        builds = [build]
        components = node.spec("components")
        for index, entry in enumerate(components if isinstance(components, list) else []):
            folder = _norm(posixpath.join(build.folder, str(entry)))
            if not self.files.is_folder(folder) or not self.files.reachable(
                str(entry), build.folder
            ):
                where = node.document.locate(("spec", "components", index))
                self.notes.append(
                    Note(where, f"component {quote(entry)} is not a folder of the tree")
                )
                continue
            component = self.kustomize.build(folder)
            builds.append(component)
            node.components.append(component)
            if component.kustomization is not None:
                own = read_patches(component.kustomization, (), self.files, folder, self.notes)
                docs = patched(docs, own, self.budget)
            docs.extend(component.documents)
            scope.files |= component.files
            scope.kustomization_files |= component.kustomization_files
        docs = patched(
            docs,
            read_patches(node.document, ("spec",), self.files, build.folder, self.notes),
            self.budget,
        )
        target = node.spec("targetNamespace")
        namespace = target if isinstance(target, str) and target else None
        if namespace is not None:
            where = node.document.locate(("spec", "targetNamespace"))
            docs = [set_namespace(d, namespace, where) for d in docs]
        node.variables = variables_of(
            node.document,
            node.label,
            lambda kind, name, ns: self._find_source(scope, kind, name, ns),
            _name(node.original.data)[1],
        )
        # Without postBuild the text is applied as written, when nothing outside the tree can
        # give the Kustomization one: it is a child here, a FluxInstance sync, or applies itself
        # (flux bootstrap). A root applied from outside may be patched by its applier.
        literal = None
        applies_itself = any(base_document(d) is node.original for d in docs)
        if node.parent is not None or _is_flux_instance(node.data) or applies_itself:
            literal = f"{node.label} has no spec.postBuild"
        # Uses go to the scope directly: a values source read later, when a check asks, adds
        # its own; those of a Kustomization that goes over its budget are taken back.
        mark = len(scope.uses)
        substituter = Substituter(node.variables, self.tree, scope.uses, literal, self.budget)
        try:
            applied = [substituter.document(d) for d in docs]
            sources = {
                key: substituter.source(source, namespace)
                for key, source in [item for b in builds for item in self._build_sources(b)]
                if key not in scope.sources
            }
        except BudgetExceeded:
            del scope.uses[mark:]
            raise

        def add() -> None:
            node.applied = applied
            for doc in applied:
                scope.add(doc)
            scope.files |= build.files
            scope.kustomization_files |= build.kustomization_files
            for key, source in sources.items():
                scope.sources.setdefault(key, source)

        return add

    def _find_source(
        self, scope: Scope, kind: str, name: str, namespace: str | None
    ) -> ConfigSource | None:
        """A ``substituteFrom`` source of a Kustomization of ``scope``: first one that cluster
        applies, then one in its folder, then one no other cluster holds (a shared or
        unreferenced file); never one of another cluster (each cluster has its own settings
        under the same name).

        Flux reads it from the Kustomization's namespace; when the tree has it only in another
        one, that one is taken rather than calling its values unknown (so the rest is still
        checked), and CL012 reports that Flux would not find it (``Variables.misplaced``)."""
        named = [
            s
            for s in self.tree.sources_named(kind, name)
            if not self._elsewhere(scope, s.location.path)
        ]
        found = [s for s in named if namespace is None or s.namespace in (None, namespace)]
        found = found or named
        folder, applied = self._claims.get(id(scope), (scope.folder, set()))
        for preferred in (
            [s for s in found if s.location.path in applied],
            [s for s in found if self._holds((folder, set()), s.location.path)],
            [s for s in found if s.location.path in self.static_files],
            [s for s in found if not is_archived(s.location.path)],
            found,
        ):
            if preferred:
                return preferred[-1]
        return None

    def _elsewhere(self, scope: Scope, display: str) -> bool:
        """The file belongs to another cluster and not to ``scope``."""
        mine = self._claims.get(id(scope), (scope.folder, set()))
        if self._holds(mine, display):
            return False
        return any(
            self._holds(claim, display) for key, claim in self._claims.items() if key != id(scope)
        )

    def _add_build(self, scope: Scope, build: FolderBuild) -> None:
        for doc in build.documents:
            scope.add(doc)
        scope.files |= build.files
        scope.kustomization_files |= build.kustomization_files
        for key, source in self._build_sources(build):
            scope.sources.setdefault(key, source)

    def _build_sources(self, build: FolderBuild) -> list[tuple[int, ConfigSource]]:
        """The ConfigMaps and Secrets a build makes: generated ones in kustomize's order, an
        overlay's ``behavior: merge|replace`` generator combined with its base's, then the
        written ones. Keyed by the identity of the first source of each."""
        generated: dict[tuple[str, str], tuple[int, ConfigSource]] = {}
        for kfile in build.kustomization_order:
            behaviors = self._behaviors(kfile)
            for source in self.sources_by_path.get(kfile, []):
                name = (source.kind, source.name)
                behavior = behaviors.get(name, "create")
                earlier = generated.get(name)
                if earlier is None or behavior not in ("merge", "replace"):
                    generated[name] = (id(source), source)
                    continue
                key, base = earlier
                combined = ConfigSource(
                    source.kind,
                    source.name,
                    source.namespace or base.namespace,
                    source.location,
                    encrypted=source.encrypted or (behavior == "merge" and base.encrypted),
                )
                combined.entries = (
                    {**base.entries, **source.entries}
                    if behavior == "merge"
                    else dict(source.entries)
                )
                generated[name] = (key, combined)
        found = list(generated.values())
        for path in sorted({d.path for d in build.documents}):
            found.extend((id(s), s) for s in self.sources_by_path.get(path, []))
        return found

    def _behaviors(self, kfile: str) -> dict[tuple[str, str], str]:
        parsed = self.tree.files.get(kfile)
        found: dict[tuple[str, str], str] = {}
        for doc in parsed.documents if parsed is not None else []:
            if not isinstance(doc.data, dict):
                continue
            for field_name, kind in (
                ("configMapGenerator", "ConfigMap"),
                ("secretGenerator", "Secret"),
            ):
                generators = doc.data.get(field_name)
                for generator in generators if isinstance(generators, list) else []:
                    if isinstance(generator, dict) and isinstance(generator.get("name"), str):
                        behavior = generator.get("behavior")
                        found[(kind, generator["name"])] = (
                            behavior if isinstance(behavior, str) else "create"
                        )
        return found

    def _add_file(self, scope: Scope, display: str) -> None:
        parsed = self.tree.files.get(display)
        if parsed is None:
            return
        for doc in parsed.documents:
            scope.add(doc)
        scope.files.add(display)
        for source in self.sources_by_path.get(display, []):
            scope.sources.setdefault(id(source), source)

    def _roots(self, entries: list[Document]) -> list[Document]:
        """Entry objects no other one applies, outside other folders and archives."""
        static: dict[int, FluxKustomization] = {}
        for doc in entries:
            node = FluxKustomization(doc, doc)
            self.resolve(node)
            static[id(doc)] = node
            if node.build is not None:
                self.static_files |= node.build.files
        applied_by: dict[int, set[int]] = {id(doc): set() for doc in entries}
        for key, node in static.items():
            for doc in node.documents:
                if id(doc) in applied_by and id(doc) != key:
                    applied_by[id(doc)].add(key)
        candidates = [
            doc for doc in entries if not applied_by[id(doc)] and not is_archived(doc.path)
        ]
        # What each candidate reaches, to tell a shelved ks.yaml (inside a folder some other
        # candidate builds) from an entry point.
        reach: dict[int, set[int]] = {}
        for doc in candidates:
            reached = {id(doc)}
            stack = [id(doc)]
            while stack:
                for child in static[stack.pop()].documents:
                    if id(child) in static and id(child) not in reached:
                        reached.add(id(child))
                        stack.append(id(child))
            reach[id(doc)] = reached
        self._static, self._reach = static, reach
        # Folders built by Kustomizations some candidate reaches: (candidate, Kustomization).
        builders: dict[str, list[tuple[int, int]]] = {}
        for candidate, reached in reach.items():
            for key in reached:
                build = static[key].build
                if build is not None:
                    builders.setdefault(build.folder, []).append((candidate, key))
        roots = []
        for doc in candidates:
            folder = posixpath.dirname(self.files.absolute(doc.path))
            covered = False
            while not covered:
                owners = builders.get(folder, ())
                covered = any(c != id(doc) and k != id(doc) for c, k in owners)
                parent = posixpath.dirname(folder)
                if parent == folder:
                    break
                folder = parent
            if not covered:
                roots.append(doc)
        return roots

    def _entry_points(self, scopes: list[Scope]) -> None:
        """Plain kustomization files outside every Flux folder that nothing references; each
        joins the scope it shares the longest folder path with."""
        folders = [
            self.files.absolute(k.folder)
            for scope in scopes
            for k in scope.kustomizations
            if k.folder is not None
        ]
        used = {f for scope in scopes for f in scope.kustomization_files}
        chosen: list[str] = []
        for display in sorted(self.tree.files, key=lambda p: (p.count("/"), p)):
            if posixpath.basename(display) not in _KUSTOMIZATION_NAMES:
                continue
            if display in used or is_archived(display):
                continue
            folder = posixpath.dirname(self.files.absolute(display))
            if any(_inside(folder, f) or folder == f for f in [*folders, *chosen]):
                continue
            chosen.append(folder)
            scope = max(scopes, key=lambda s: _shared(folder, s.folder or ""))
            build = self.kustomize.build(folder)
            scope.entry_builds.append(build)
            self._add_build(scope, build)
            seen = {id(k.original) for k in scope.kustomizations}
            for doc in build.documents:
                if _is_entry_object(doc.data) and id(doc) not in seen:
                    node = FluxKustomization(doc, doc)
                    scope.roots.append(node)
                    self._walk(scope, node, seen)

    def _unreferenced(self, graph: Graph) -> list[Location]:
        applied = graph.applied_files
        found: list[Location] = []
        for display, parsed in sorted(self.tree.files.items()):
            if display in applied or display in self.tree.data_files:
                continue
            first = next((d for d in parsed.documents if _is_manifest(d.data)), None)
            if first is not None:
                found.append(first.locate(("kind",)))
        return found


_KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip("/") + "/")


def _is_manifest(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("kind"), str)
        and isinstance(data.get("apiVersion"), str)
    )


def build_graph(
    tree: Tree,
    linted: Iterable[Path],
    clusters: Sequence[tuple[str, Path]] = (),
    budget: WorkBudget | None = None,
) -> Graph:
    """The graph of ``tree``; ``clusters`` (name, folder) fixes the clusters instead of finding
    them from the roots. ``budget``: the run's (a fresh one when None)."""
    return GraphBuilder(tree, list(linted), clusters, budget).build()


def _shared(a: str, b: str) -> int:
    """How many leading folder names two absolute paths share."""
    count = 0
    for left, right in zip(a.split("/"), b.split("/"), strict=False):
        if left != right:
            break
        count += 1
    return count


def _cluster_names(folders: list[str]) -> list[str]:
    """Short names for cluster folders: the first folder name where they differ."""
    parts = [[p for p in f.split("/") if p not in ("", ".")] for f in folders]
    common = 0
    while all(len(p) > common for p in parts) and len({p[common] for p in parts}) == 1:
        common += 1
    names = [p[common] if len(p) > common else (p[-1] if p else ".") for p in parts]
    if len(set(names)) != len(names):
        return folders
    return names


def _chart_of(data: dict[str, Any], charts: dict[str, str]) -> str | None:
    spec_chart = dig(data, ("spec", "chart", "spec", "chart"))
    if isinstance(spec_chart, str):
        return chart_basename(spec_chart)
    ref_name = dig(data, ("spec", "chartRef", "name"))
    return charts.get(ref_name) if isinstance(ref_name, str) else None


def providers(scope: Scope) -> set[str]:
    """The LoadBalancer IPAMs a scope runs: "cilium" (release or pool), "metallb"."""
    charts: dict[str, str] = {}
    for doc in scope.documents:
        data = doc.data
        if isinstance(data, dict) and data.get("kind") in ("OCIRepository", "HelmChart"):
            name = dig(data, ("metadata", "name"))
            source = dig(data, ("spec", "url")) or dig(data, ("spec", "chart"))
            if isinstance(name, str) and isinstance(source, str):
                charts[name] = chart_basename(source)
    found: set[str] = set()
    for doc in scope.documents:
        data = doc.data
        if not isinstance(data, dict):
            continue
        kind = data.get("kind")
        group = api_group(data.get("apiVersion") if isinstance(data.get("apiVersion"), str) else "")
        if kind == "CiliumLoadBalancerIPPool":
            found.add("cilium")
        elif kind == "IPAddressPool" and group == "metallb.io":
            found.add("metallb")
        elif kind == "HelmRelease" and _chart_of(data, charts) in ("cilium", "metallb"):
            found.add(str(_chart_of(data, charts)))
    return found


def applied_objects(tree: Tree, graph: Graph) -> list[KObject]:
    return graph.restrict(tree).objects


__all__ = [
    "FLUX_KUSTOMIZE_GROUP",
    "FluxKustomization",
    "Graph",
    "GraphBuilder",
    "Scope",
    "build_graph",
    "is_archived",
    "is_flux_kustomization",
    "repository_root",
    "runs_cilium_lb_ipam",
]


def runs_cilium_lb_ipam(scope: Scope, facts: Facts, cilium_elsewhere: bool) -> bool:
    """Whether Cilium LB-IPAM serves this cluster's LoadBalancer IPs. A cluster with a Cilium
    release (or bootstrap copy) does. One without does not when it runs MetalLB, or when
    another cluster has the Cilium release (Cilium is that one's CNI, not this one's); when
    no cluster has one, the tree may just not hold the release (a partial tree), so the IPs
    are checked as for a Cilium cluster."""
    if facts.cilium or facts.bootstrap:
        return True
    return "metallb" not in providers(scope) and not cilium_elsewhere
