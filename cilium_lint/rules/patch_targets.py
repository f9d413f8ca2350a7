"""CL017: the regular expressions of kustomize patch targets are ones Go accepts."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cilium_lint.cilium.expect import show
from cilium_lint.document import Document
from cilium_lint.kustomize import TARGET_PATTERN_KEYS
from cilium_lint.patterns import go_pattern
from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity
from cilium_lint.sourcemap import Path
from cilium_lint.tree import KUSTOMIZATION_NAMES, api_group

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

_FLUX_GROUP = "kustomize.toolkit.fluxcd.io"
_PATCH_TRANSFORMERS = (
    "PatchTransformer",
    "PatchJson6902Transformer",
    "PatchStrategicMergeTransformer",
)
_SHOWN_LENGTH = 80  # a refused pattern may be long; the location points at all of it


def _patch_lists(document: Document, path: str) -> Iterator[tuple[Path, Any]]:
    """The patch lists of a kustomization file or of a Flux Kustomization's ``spec``."""
    data = document.data
    if not isinstance(data, dict):
        return
    group = api_group(data.get("apiVersion") if isinstance(data.get("apiVersion"), str) else "")
    if posixpath.basename(path) in KUSTOMIZATION_NAMES or group == "kustomize.config.k8s.io":
        yield ("patches",), data.get("patches")
        yield ("patchesJson6902",), data.get("patchesJson6902")
    elif group == _FLUX_GROUP and data.get("kind") == "Kustomization":
        spec = data.get("spec")
        yield ("spec", "patches"), spec.get("patches") if isinstance(spec, dict) else None


def _targets(document: Document, path: str) -> Iterator[tuple[Path, Any]]:
    """Every patch target of a document: in patch lists, or a builtin patch transformer's."""
    for at, patches in _patch_lists(document, path):
        for index, patch in enumerate(patches if isinstance(patches, list) else []):
            if isinstance(patch, dict):
                yield (*at, index, "target"), patch.get("target")
    data = document.data
    if (
        isinstance(data, dict)
        and data.get("apiVersion") == "builtin"
        and data.get("kind") in _PATCH_TRANSFORMERS
    ):
        yield ("target",), data.get("target")


def refused_targets(document: Document, path: str) -> Iterator[tuple[Path, str, str]]:
    """(path in the document, pattern, why Go refuses it) for every refused target field."""
    for at, target in _targets(document, path):
        if isinstance(target, dict):
            for key in TARGET_PATTERN_KEYS:
                text = target.get(key)
                if not isinstance(text, str) or not text:
                    continue
                error = go_pattern(text).error
                if error is not None:
                    yield (*at, key), text, error


class PatternInvalid:
    params = NoParams
    meta = RuleMeta(
        id="CL017",
        name="pattern-invalid",
        summary="Every kustomize patch target (name, namespace, kind, ...) is a valid Go regex.",
        rationale=(
            "kustomize reads a patch target's group, version, kind, name and namespace as Go "
            "regular expressions (RE2 syntax, anchored). A pattern Go refuses (lookaround, "
            "backreferences, an unclosed group) fails the whole build, so Flux applies nothing "
            "of that Kustomization; cilium-lint applies the patch to nothing."
        ),
        fix=(
            "Write the target as an exact name, or as a regex Go accepts (alternatives instead "
            "of lookahead: `^(app-a|app-b)$`)."
        ),
        severity=Severity.ERROR,
        example_fail=(
            "patches:\n  - path: patch.yaml\n    target:\n      kind: Deployment\n"
            "      name: ^(?!test-).*\n"
        ),
        example_pass=(
            "patches:\n  - path: patch.yaml\n    target:\n      kind: Deployment\n"
            "      name: ^(app-a|app-b)$\n"
        ),
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        graph = facts.graph
        files = facts.tree.files
        if graph is not None and graph.active:  # what this cluster's Flux reads, not the tree
            paths = sorted({p for scope in graph.scopes for p in scope.files if p in files})
        else:
            paths = list(files)
        for path in paths:
            for document in files[path].documents:
                for where, text, error in refused_targets(document, path):
                    shown = text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH] + "..."
                    yield Hit(
                        f"patch target {where[-1]} {show(shown)} is not a valid Go regular "
                        f"expression ({error}); kustomize refuses the build",
                        document.locate(where),
                        f"{path}#/{'/'.join(str(p) for p in where)}",
                    )


def pattern_rules() -> list[object]:
    return [PatternInvalid()]
