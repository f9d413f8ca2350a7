"""Rules about the Flux graph: what Flux applies, and what it does not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity

if TYPE_CHECKING:
    from cilium_lint.facts import Facts


class UnreferencedFile:
    params = NoParams
    meta = RuleMeta(
        id="CL011",
        name="unreferenced-file",
        summary=(
            "Every manifest in the tree is applied by some Flux Kustomization "
            "(reported only with --strict-graph or `strict-graph: true`)."
        ),
        rationale=(
            "Flux applies what its Kustomizations build: a kustomization.yaml lists what a "
            "folder contributes, and a folder without one contributes every manifest below it. "
            "A file nothing applies (an archive folder, a commented-out resource, a ks.yaml "
            "left out of its parent) never reaches the cluster; cilium-lint leaves it out of "
            "the cross-resource checks, so a stale IP there is neither a duplicate nor served. "
            "Such files tend to mislead the next person who reads the tree."
        ),
        fix=(
            "Add the file to the kustomization.yaml that should apply it, or delete it (git "
            "keeps the history), or exclude the folder (`exclude:` in the configuration)."
        ),
        severity=Severity.WARNING,
        example_fail=(
            "# apps/kustomization.yaml\nresources:\n  - ./echo\n  # - ./plex   <- plex/ is "
            "applied by nothing\n"
        ),
        example_pass="# apps/kustomization.yaml\nresources:\n  - ./echo\n  - ./plex\n",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        graph = facts.graph
        if graph is None or not graph.active or not facts.config.strict_graph:
            return
        for location in graph.unreferenced:
            yield Hit(
                "no Flux Kustomization applies this file: its objects never reach the cluster "
                "and are left out of the cross-resource checks",
                location,
                location.path,
            )


def graph_rules() -> list[object]:
    return [UnreferencedFile()]
