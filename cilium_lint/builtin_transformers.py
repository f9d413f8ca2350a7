"""A kustomization's ``transformers:`` entries: kustomize's own patch and namespace transformers
applied through the patch engine, anything else (plugins, label/prefix transformers with their
field specs) recorded as not applied, for CL020.

An entry is a file (or inline YAML) of transformer configurations; they run in order, after
the kustomization's own patches, namespace and replacements.
"""

from __future__ import annotations

import posixpath
from typing import Any

from cilium_lint.budget import WorkBudget
from cilium_lint.document import Document
from cilium_lint.kustomize import (
    Note,
    Patch,
    TreeFiles,
    embedded_documents,
    is_remote,
    patch_file,
    patched,
    patches_from,
    set_namespace,
)
from cilium_lint.quoting import quote
from cilium_lint.unmodelled import Unmodelled

_BUILTIN_API = "builtin"
APPLIED_KINDS = frozenset(
    {
        "PatchTransformer",
        "PatchStrategicMergeTransformer",
        "PatchJson6902Transformer",
        "NamespaceTransformer",
    }
)


class Transformers:
    """Applies the ``transformers:`` of one kustomization to the documents of its build."""

    def __init__(
        self,
        owner: Document,
        files: TreeFiles,
        folder: str,
        notes: list[Note],
        budget: WorkBudget | None = None,
    ) -> None:
        self.owner = owner
        self.budget = budget  # the build's: what the patches make counts against it
        self.files = files
        self.folder = folder
        self.notes = notes
        self.not_applied: list[Unmodelled] = []

    def apply(self, documents: list[Document]) -> list[Document]:
        entries = self.owner.data.get("transformers")
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            configs = self._configs(index, entry)
            if configs is None:
                self._say(index, entry, "is not a file of the tree", documents)
                continue
            for config in configs:
                kind = _builtin_kind(config.data)
                if kind is None:
                    label = config.data.get("kind") if isinstance(config.data, dict) else None
                    self._say(
                        index, entry, f"configures the transformer plugin {quote(label)}", documents
                    )
                    continue
                documents = self._builtin(kind, config, documents)
        return documents

    def _configs(self, index: int, entry: Any) -> list[Document] | None:
        if not isinstance(entry, str) or not entry.strip():
            return None
        text = entry.strip()
        if ("\n" in text or ":" in text) and not is_remote(text):
            return embedded_documents(self.owner, ("transformers", index), entry, self.files)
        if is_remote(text) or not self.files.reachable(text, self.folder):
            return None
        absolute = posixpath.normpath(posixpath.join(self.folder, text))
        if not self.files.is_file(absolute):
            return None  # a folder of transformer configs (a kustomization) is not built here
        return [d for d in self.files.documents(absolute) if d.data is not None]

    def _say(self, index: int, entry: Any, why: str, documents: list[Document]) -> None:
        shown = quote(entry.strip()) if isinstance(entry, str) else "an entry"
        self.not_applied.append(
            Unmodelled(
                self.owner.locate(("transformers", index)),
                f"kustomization transformers entry {shown} {why}, which cilium-lint does not "
                "apply; it may change any object of this build",
                f"{self.owner.path}#/transformers/{index}",
                tuple(documents),
            )
        )

    def _builtin(self, kind: str, config: Document, documents: list[Document]) -> list[Document]:
        data: dict[str, Any] = config.data
        if kind == "NamespaceTransformer":
            metadata = data.get("metadata")
            namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
            if not isinstance(namespace, str) or not namespace:
                return documents
            where = config.locate(("metadata", "namespace"))
            return [set_namespace(d, namespace, where) for d in documents]
        return patched(documents, self._patches(kind, config, data), self.budget)

    def _patches(self, kind: str, config: Document, data: dict[str, Any]) -> list[Patch]:
        target = data.get("target") if isinstance(data.get("target"), dict) else None
        strategic = {"PatchStrategicMergeTransformer": True, "PatchJson6902Transformer": False}
        mode = strategic.get(kind)  # None: PatchTransformer decides by the patch's shape
        inline_key = {
            "PatchStrategicMergeTransformer": "patches",
            "PatchJson6902Transformer": "jsonOp",
        }
        inline = data.get(inline_key.get(kind, "patch"))
        found: list[Patch] = []
        if isinstance(inline, str):
            key = inline_key.get(kind, "patch")
            found.extend(patches_from(config, (key,), inline, target, self.files, mode))
        named = (
            data.get("paths") if kind == "PatchStrategicMergeTransformer" else [data.get("path")]
        )
        for position, name in enumerate(named if isinstance(named, list) else []):
            if isinstance(name, str) and name:
                where = (
                    ("paths", position) if kind == "PatchStrategicMergeTransformer" else ("path",)
                )
                found.extend(
                    patch_file(
                        config, where, name, target, self.files, self.folder, self.notes, mode
                    )
                )
        return found


def _builtin_kind(data: Any) -> str | None:
    if not isinstance(data, dict) or data.get("apiVersion") != _BUILTIN_API:
        return None
    kind = data.get("kind")
    return kind if isinstance(kind, str) and kind in APPLIED_KINDS else None


__all__ = ["APPLIED_KINDS", "Transformers"]
