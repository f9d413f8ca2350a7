"""Everything rules look at, computed once from the tree and the policy."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cilium_lint.cilium.hidden import HiddenValues, hidden_values
from cilium_lint.cilium.release import CiliumRelease, cilium_releases
from cilium_lint.config import Config
from cilium_lint.flux.helmrelease import Release, releases
from cilium_lint.lbipam.annotations import AnnotationSite, annotation_sites
from cilium_lint.lbipam.pools import Pool, pools
from cilium_lint.lbipam.requests import LoadBalancerRequest, requests
from cilium_lint.sourcemap import Path
from cilium_lint.tree import Tree

if TYPE_CHECKING:
    from cilium_lint.flux.graph import Graph


@dataclass(eq=False)
class Facts:
    tree: Tree
    config: Config
    releases: list[Release]
    cilium: list[CiliumRelease]
    pools: list[Pool]
    requests: list[LoadBalancerRequest]
    # Keys of the expected values that a dedicated rule checks; the generic value rule skips them.
    claimed_value_keys: frozenset[Path] = field(default_factory=frozenset)
    # What Flux applies (None: not computed); the tree above is already limited to it.
    graph: Graph | None = None
    # Bootstrap copies of the Cilium release (helmfile, kustomize helmCharts) of this cluster.
    bootstrap: list[CiliumRelease] = field(default_factory=list)
    # Policy keys of each Cilium release whose value cannot be seen here (CL018).
    hidden: list[HiddenValues] = field(default_factory=list)

    @cached_property
    def annotation_sites(self) -> list[AnnotationSite]:
        """Every LB-IPAM annotation mapping of the tree (several rules read them)."""
        return list(annotation_sites(self.tree, self.releases))

    @property
    def expected_values(self) -> dict[str, Any]:
        return self.config.cilium.values

    @property
    def policy_pools(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return self.config.lb_ipam.pools


def expected_leaves(values: dict[str, Any], prefix: Path = ()) -> list[tuple[Path, Any]]:
    """Every enforced key of a partial values mapping, depth first, in written order."""
    leaves: list[tuple[Path, Any]] = []
    for key, value in values.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            leaves.extend(expected_leaves(value, path))
        else:
            leaves.append((path, value))
    return leaves


def policy_keys(config: Config) -> list[Path]:
    """The keys of the Cilium values the policy enforces."""
    return [path for path, _ in expected_leaves(config.cilium.values)]


def gather(tree: Tree, config: Config) -> Facts:
    found = releases(tree)
    cilium = cilium_releases(found)
    return Facts(
        tree=tree,
        config=config,
        releases=found,
        cilium=cilium,
        pools=pools(tree),
        requests=requests(tree, found),
        hidden=hidden_values(cilium, policy_keys(config)),
    )
