"""Pool rules about ranges meeting: pools overlapping each other or the pod CIDR."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cilium_lint.lbipam import intervals
from cilium_lint.lbipam.pools import IPNetwork, Pool, PoolBlock
from cilium_lint.rules.api import Hit, NoParams, Related, RuleMeta, Severity
from cilium_lint.rules.lbcommon import release_of

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

_POOL_HEAD = "apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: lb\n"


def _cluster_key(facts: Facts, pool: Pool) -> str | None:
    release = release_of(facts, pool.obj.doc.path)
    # Two clusters' releases often share a name: the file tells them apart.
    return f"{release.identity}@{release.release.obj.doc.path}" if release is not None else None


def _span(a: PoolBlock, b: PoolBlock) -> str:
    assert a.first is not None and a.last is not None and b.first is not None
    assert b.last is not None
    low = max(a.first, b.first, key=int)
    high = min(a.last, b.last, key=int)
    return str(low) if low == high else f"{low}-{high}"


def _interval(block: PoolBlock) -> tuple[int, int]:
    """The block's addresses; an empty interval (meeting nothing) when it is not usable."""
    if not block.usable or block.first is None or block.last is None:
        return (1, 0)
    return (intervals.key(block.first), intervals.key(block.last))


class PoolOverlap:
    params = NoParams
    meta = RuleMeta(
        id="CL215",
        name="pool-overlap",
        summary="No two pool blocks overlap, within one pool or across pools.",
        rationale=(
            "LB-IPAM checks ranges pairwise, inside a pool too. On an overlap the newer pool "
            "gets condition `cilium.io/PoolConflict` (reason `cidr_overlap`) and ALL its ranges "
            "are disabled until the overlap is gone, so every Service that pool serves loses "
            "its address source (cilium-facts §5.3 [S6])."
        ),
        fix="Split the range so that each address belongs to exactly one block of one pool.",
        severity=Severity.ERROR,
        example_fail=_POOL_HEAD + "spec:\n  blocks:\n    - cidr: 10.0.6.0/24\n"
        "    - start: 10.0.6.10\n      stop: 10.0.6.20\n",
        example_pass=_POOL_HEAD + "spec:\n  blocks:\n    - cidr: 10.0.6.0/25\n"
        "    - cidr: 10.0.6.128/25\n",
        versions="1.17 - 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        # Pools of different clusters never meet; a pool no single cluster claims meets all.
        keys = [(_cluster_key(facts, p), p) for p in facts.pools]
        placed = [(key, p, block) for key, p in keys for block in p.blocks]
        placed.sort(key=lambda item: (item[2].location.path, item[2].location.span))
        # Each block is reported once, against the first block (in file order) it overlaps.
        spans = [_interval(block) for _, _, block in placed]
        first = intervals.first_overlaps(
            [
                (span[0], span[1], cluster)
                for (cluster, _, _), span in zip(placed, spans, strict=True)
            ]
        )
        for (_, pool, block), earlier in zip(placed, first, strict=True):
            if earlier is None:
                continue
            _, other_pool, other = placed[earlier]
            if other_pool is pool:
                where = f"block {other.text} of the same pool"
                effect = f"LB-IPAM marks pool {pool.obj.name} PoolConflict"
            else:
                where = f"block {other.text} of pool {other_pool.obj.name}"
                effect = "LB-IPAM marks the newer of the two pools PoolConflict"
            yield Hit(
                f"block {block.text} of pool {pool.obj.name} overlaps {where} "
                f"({_span(block, other)}); {effect} and disables all its ranges",
                block.location,
                f"{pool.obj.ref}#/spec/blocks/{block.index}",
                (Related(other.location, f"overlapping block {other.text}"),),
            )


def _networks(value: Any) -> list[IPNetwork]:
    items = value if isinstance(value, list) else str(value or "").replace(",", " ").split()
    found = []
    for item in items:
        try:
            found.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            continue
    return found


class PoolOverlapsPodCidr:
    params = NoParams
    meta = RuleMeta(
        id="CL216",
        name="pool-overlaps-pod-cidr",
        summary="No pool block overlaps the pod CIDR of the tree's Cilium release.",
        rationale=(
            "Cilium treats `ipv4NativeRoutingCIDR` as pod addresses reachable without SNAT and "
            "hands them to the kernel as such, and in cluster-pool IPAM mode the operator hands "
            "`ipam.operator.clusterPoolIPv4PodCIDRList` out to pods. An LB IP inside either "
            "range can also be a pod's address, or is routed as pod traffic instead of reaching "
            "the Service (cilium-facts §1 [S1], issue 5)."
        ),
        fix="Move the pool out of the pod CIDR, or narrow the pod CIDR so they do not meet.",
        severity=Severity.ERROR,
        example_fail="# values: ipv4NativeRoutingCIDR: 10.0.0.0/16\n"
        + _POOL_HEAD
        + "spec:\n  blocks:\n    - cidr: 10.0.6.0/24\n",
        example_pass="# values: ipv4NativeRoutingCIDR: 10.42.0.0/16\n"
        + _POOL_HEAD
        + "spec:\n  blocks:\n    - cidr: 10.0.6.0/24\n",
        versions="1.17 - 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for pool in facts.pools:
            release = release_of(facts, pool.obj.doc.path)
            if release is None:
                continue
            ranges = []
            native = release.setting(("ipv4NativeRoutingCIDR",))
            if native.written:
                ranges += [(n, native) for n in _networks(native.value)]
            mode = release.setting(("ipam", "mode"))
            if mode.value == "cluster-pool" and not mode.unknown:
                # The chart facts carry no default pod CIDR list: only a written one is checked.
                listed = release.setting(("ipam", "operator", "clusterPoolIPv4PodCIDRList"))
                if listed.written:
                    ranges += [(n, listed) for n in _networks(listed.value)]
            for block in pool.blocks:
                for network, setting in ranges:
                    if not block.usable or block.first is None or block.last is None:
                        continue
                    if block.first.version != network.version:
                        continue
                    low, high = int(network.network_address), int(network.broadcast_address)
                    if int(block.last) < low or int(block.first) > high:
                        continue
                    yield Hit(
                        f"block {block.text} of pool {pool.obj.name} overlaps {setting.key} "
                        f"{network} of {release.identity}; expected LB addresses outside the "
                        "pod CIDR",
                        block.location,
                        f"{pool.obj.ref}#/spec/blocks/{block.index}#{setting.key}",
                        (Related(setting.location, f"{setting.key} {network}"),),
                    )
                    break
