"""CL020: say what kustomize, Flux or Helm would change that this run does not apply."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cilium_lint.kustomize import DerivedDocument, KustomizeBuilder, TreeFiles
from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity
from cilium_lint.tree import KUSTOMIZATION_NAMES
from cilium_lint.unmodelled import Unmodelled

if TYPE_CHECKING:
    from cilium_lint.document import Document
    from cilium_lint.facts import Facts


def _base(doc: Document) -> Document:
    return doc.base if isinstance(doc, DerivedDocument) and doc.base is not None else doc


def _builds_unmodelled(facts: Facts) -> Iterator[Unmodelled]:
    """Every unmodelled step of the kustomize builds of this scope."""
    graph = facts.graph
    if graph is not None and graph.active:
        for kustomization in graph.kustomizations:
            for build in (kustomization.build, *kustomization.components):
                if build is not None:
                    yield from build.unmodelled
        return
    # No Flux: objects are checked as written. Every kustomization file is built on its own to
    # say what it does that is not applied, its own patches and replacements included.
    files = TreeFiles(facts.tree)
    builder = KustomizeBuilder(files)
    for path in sorted(facts.tree.files):
        if posixpath.basename(path) in KUSTOMIZATION_NAMES:
            build = builder.build(posixpath.dirname(files.absolute(path)))
            yield from build.unmodelled
            if build.kustomization is not None:
                yield from _patches_not_applied(build.kustomization, build.documents)


_PATCH_FIELDS = ("patches", "patchesStrategicMerge", "patchesJson6902", "replacements")


def _patches_not_applied(kdoc: Document, documents: list[Document]) -> Iterator[Unmodelled]:
    """A kustomization's patches and replacements, in a tree no Flux Kustomization builds: the
    objects they change, reported only when one is the Cilium release or its values."""
    data = kdoc.data
    declared = [name for name in _PATCH_FIELDS if isinstance(data, dict) and data.get(name)]
    if not declared:
        return
    changed = tuple(d for d in documents if _changed(d))
    if changed:
        yield Unmodelled(
            kdoc.locate_key((declared[0],)),
            f"kustomization {'/'.join(declared)} change objects, but no Flux Kustomization "
            "builds this tree, so objects are checked as written, without them",
            f"{kdoc.path}#/{declared[0]}#not-built",
            changed,
            only_cilium=True,
        )


def _changed(doc: Document) -> bool:
    """Whether a build step other than ``namespace`` (which the simple view applies) changed
    ``doc``."""
    base = _base(doc)
    if base is doc:
        return False
    return bool(_without_namespace(doc.data) != _without_namespace(base.data))


def _without_namespace(data: Any) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
        return data
    metadata = {k: v for k, v in data["metadata"].items() if k != "namespace"}
    return {**data, "metadata": metadata}


class _CiliumParts:
    """What of the Cilium release a transformation may touch: the HelmRelease and the
    ConfigMaps/Secrets its ``valuesFrom`` reads."""

    def __init__(self, facts: Facts) -> None:
        self.releases = {id(_base(c.release.obj.doc)): c for c in facts.cilium}
        self.sources: dict[tuple[str, str], str] = {}
        for cilium in facts.cilium:
            refs = cilium.release.obj.get("spec", "valuesFrom")
            for ref in refs if isinstance(refs, list) else []:
                if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                    self.sources[(str(ref.get("kind")), ref["name"])] = cilium.identity

    def touched(self, documents: Iterable[Document]) -> list[str]:
        found: list[str] = []
        for doc in documents:
            release = self.releases.get(id(_base(doc)))
            if release is not None:
                found.append(f"the Cilium release {release.identity}")
                continue
            data: Any = doc.data
            if not isinstance(data, dict):
                continue
            metadata = data.get("metadata")
            metadata = metadata if isinstance(metadata, dict) else {}
            key = (str(data.get("kind")), str(metadata.get("name")))
            if key in self.sources:
                found.append(f"{key[0]} {metadata.get('name')}, values of {self.sources[key]}")
        return list(dict.fromkeys(found))


class TransformationNotModelled:
    params = NoParams
    meta = RuleMeta(
        id="CL020",
        name="transformation-not-modelled",
        summary=(
            "Every step that changes the applied objects is one cilium-lint applies; any other "
            "(transformer and generator plugins, vars, name prefixes, HelmRelease "
            "postRenderers, chart valuesFiles, a replacement kustomize refuses) is said."
        ),
        rationale=(
            "cilium-lint applies what kustomize and Flux do to objects (resources, patches, "
            "namespaces, replacements, post-build substitution) and checks the result. A step "
            "it does not apply (a `transformers:` plugin (kustomize's own Patch, "
            "PatchStrategicMerge, PatchJson6902 and Namespace transformers are applied), "
            "`generators`, `validators`, `vars`, "
            "`namePrefix`/`nameSuffix`, `openapi`, a HelmRelease's `spec.postRenderers`, the "
            "chart's own `valuesFiles`) may change the very values the policy rules judge, "
            "after they were judged: a pull request could add one that sets "
            "`routingMode: tunnel` and the run would still pass. So each is reported where it "
            "is declared, naming what it may change. It is an error when it can reach the "
            "Cilium HelmRelease or a ConfigMap/Secret its `valuesFrom` reads (the checks of "
            "that release cannot be trusted; adding the step must not turn a failing run into "
            "a passing one), and a warning elsewhere. A replacement kustomize refuses (its "
            "source selects nothing or several objects, a field it needs is missing) fails "
            "the build, so Flux applies nothing of it: an error too. In a tree without any Flux "
            "Kustomization objects are checked as written, so a kustomization's patches and "
            "replacements that change the Cilium release are reported the same way. A "
            "`targetPath` value "
            "with unescaped commas sets several keys (helm-controller hands `path=value` to "
            "Helm's `--set` parser); those keys are applied and checked, and a warning says so."
        ),
        fix=(
            "Write the change where cilium-lint reads it: a patch (`patches:`), a replacement, "
            "or the release's inline `values`; move post-renderer changes of Cilium settings "
            "into the values; escape commas in a `targetPath` value (`\\,`). Or, when the step "
            "is reviewed and cannot touch what the policy checks, ignore this finding inline."
        ),
        severity=Severity.WARNING,
        example_fail=(
            "# kustomization.yaml next to the Cilium HelmRelease\nresources: [helmrelease.yaml]\n"
            "transformers: [./defaults.yaml]   # a PatchTransformer setting routingMode\n"
        ),
        example_pass=(
            "resources: [helmrelease.yaml]\npatches:\n  - path: routing.yaml   # applied and "
            "checked\n"
        ),
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        cilium = _CiliumParts(facts)
        seen: set[str] = set()
        for step in _builds_unmodelled(facts):
            if step.identity in seen:
                continue
            seen.add(step.identity)
            touched = cilium.touched(step.documents)
            if step.only_cilium and not touched:
                continue
            message = step.message
            if touched:
                reach = ", ".join(touched[:3])
                message += f"; it can reach {reach}, whose checks cannot be trusted"
            severity = Severity.ERROR if step.failed or touched else None
            yield Hit(message, step.location, step.identity, severity=severity)
        cilium_releases = {id(c.release) for c in facts.cilium}
        for release in facts.releases:
            for step in release.unmodelled:
                if step.identity in seen:
                    continue
                seen.add(step.identity)
                on_cilium = id(release) in cilium_releases
                severity = Severity.ERROR if on_cilium and not step.applied else None
                yield Hit(step.message, step.location, step.identity, severity=severity)


def unmodelled_rules() -> list[object]:
    return [TransformationNotModelled()]
