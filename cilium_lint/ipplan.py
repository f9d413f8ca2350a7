"""The LoadBalancer address plan: per pool, who asks for which IP, what is used and what is free.

Pure: :func:`build_plan` reads the facts and returns a frozen :class:`AddressPlan`;
:func:`format_text` and :func:`to_json` render it. The CLI (``cilium-lint ips``) prints it.

Pools are the tree's CiliumLoadBalancerIPPools and the policy pools (``lb-ipam.pools``). An IP
is listed under every pool whose ranges hold it, with marks for what LB-IPAM would make of it;
IPs that no pool holds (and entries that are not IPs at all) are listed apart.
"""

from __future__ import annotations

import ipaddress
import json
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from cilium_lint.cilium.cluster import release_for
from cilium_lint.escape import printable
from cilium_lint.lbipam import intervals as lines
from cilium_lint.lbipam import sharing
from cilium_lint.lbipam.pools import IPAddress, IPNetwork, Pool
from cilium_lint.lbipam.requests import LoadBalancerRequest

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

NEXT_FREE = 5  # how many free addresses a pool lists

# Marks on an entry.
SHARED = "shared"  # several objects, one sharing key: LB-IPAM may share it (CL204 has the details)
DUPLICATE = "duplicate"  # several objects LB-IPAM will not share it between: one stays pending
RESERVED = "reserved"  # first/last address of a cidr block with allowFirstLastIPs: "No"
DISABLED = "disabled-pool"  # only in a disabled pool
NOT_IN_TREE_POOL = "not-in-tree-pool"  # in the policy pool, but no enabled tree pool serves it
OUTSIDE_POLICY = "outside-policy-pool"  # in a tree pool, but outside the policy pool(s)
INVALID = "invalid"  # not one IP address
UNRESOLVED = "unresolved"  # a Flux ${substitution}


@dataclass(frozen=True, slots=True)
class PlanEntry:
    ip: str  # as written
    owner: str  # the asking object, e.g. Service/network/dns or HelmRelease/x/y (values a.b)
    source: str  # how it asks: Service, Gateway, HelmRelease values, EnvoyProxy, ...
    path: str
    line: int
    marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanPool:
    name: str
    kind: str  # "CiliumLoadBalancerIPPool" or "policy"
    path: str | None  # where the pool is written (None: the policy pool of the configuration)
    line: int | None
    cluster: str | None  # the Cilium release the pool belongs to, when the tree says
    ranges: tuple[str, ...]
    disabled: bool
    allow_first_last: bool
    used: int  # distinct requested IPs LB-IPAM can serve from this pool
    usable: int  # addresses it can hand out
    next_free: tuple[str, ...]
    entries: tuple[PlanEntry, ...]


@dataclass(frozen=True, slots=True)
class AddressPlan:
    pools: tuple[PlanPool, ...]
    unpooled: tuple[PlanEntry, ...]  # requests no pool holds, and entries that are not IPs


# --------------------------------------------------------------------------------------------
# Address ranges as sorted, merged (first, last) integer intervals of one IP family.

Interval = tuple[int, int]


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Both merged (sorted, disjoint): a walk through the two lists."""
    found = []
    i = j = 0
    while i < len(a) and j < len(b):
        low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if low <= high:
            found.append((low, high))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return _merge(found)


def _holds(intervals: list[Interval], value: int) -> bool:
    """``value`` lies in one of the merged ``intervals``."""
    index = bisect_right(intervals, (value, _AFTER)) - 1
    return index >= 0 and value <= intervals[index][1]


# Sorts after every interval starting at the same value (addresses are below 2**128).
_AFTER = 1 << 200


def _size(intervals: list[Interval]) -> int:
    return sum(high - low + 1 for low, high in intervals)


def _free(
    intervals: list[Interval], taken: set[int], version: int, count: int = NEXT_FREE
) -> tuple[str, ...]:
    found: list[str] = []
    for low, high in intervals:
        value = low
        while value <= high and len(found) < count:
            if value not in taken:
                address = ipaddress.IPv4Address(value) if version == 4 else _v6(value)
                found.append(str(address))
            value += 1
        if len(found) >= count:
            break
    return tuple(found)


def _v6(value: int) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(value)


# --------------------------------------------------------------------------------------------
# Building the plan


@dataclass(frozen=True, slots=True)
class _PoolShape:
    """A tree pool's ranges per family, and the addresses LB-IPAM can hand out from it."""

    pool: Pool
    cluster: str | None
    spans: dict[int, list[Interval]]  # every address of its blocks
    servable: dict[int, list[Interval]]  # minus reserved addresses; empty when disabled
    reserved: frozenset[IPAddress]
    unknown: bool = False  # serving, with a block whose range is not known here

    def holds(self, ip: IPAddress) -> bool:
        return _holds(self.spans.get(ip.version, []), int(ip))

    def serves(self, ip: IPAddress) -> bool:
        return _holds(self.servable.get(ip.version, []), int(ip))


def _shape(pool: Pool, cluster: str | None) -> _PoolShape:
    spans: dict[int, list[Interval]] = defaultdict(list)
    for block in pool.blocks:
        if block.usable and block.first is not None and block.last is not None:
            spans[block.first.version].append((int(block.first), int(block.last)))
    merged = {version: _merge(found) for version, found in spans.items()}
    # An address is reserved only when no block of the pool serves it (overlapping blocks).
    contained = lines.Union(block.contained() for block in pool.blocks)
    reserved = frozenset(
        r for block in pool.blocks for r in block.reserved if lines.key(r) not in contained
    )
    servable: dict[int, list[Interval]] = {}
    if pool.serving:
        for version, intervals in merged.items():
            holes = sorted(int(r) for r in reserved if r.version == version)
            servable[version] = _punch(intervals, holes)
    return _PoolShape(pool, cluster, merged, servable, reserved, pool.serving and pool.unknown)


def _punch(spans: list[Interval], holes: Sequence[int]) -> list[Interval]:
    """``spans`` (merged) without the single addresses in ``holes`` (sorted): one walk."""
    result: list[Interval] = []
    next_hole = 0
    for low, high in spans:
        while next_hole < len(holes) and holes[next_hole] < low:
            next_hole += 1
        while next_hole < len(holes) and holes[next_hole] <= high:
            hole = holes[next_hole]
            if low < hole:
                result.append((low, hole - 1))
            low = hole + 1
            next_hole += 1
        if low <= high:
            result.append((low, high))
    return result


def _cluster(facts: Facts, path: str) -> str | None:
    release = release_for(facts.cilium, path)
    # Two clusters' releases often share a name: the file tells them apart.
    return f"{release.identity}@{release.release.obj.doc.path}" if release is not None else None


def _label(cluster: str | None) -> str | None:
    return cluster.partition("@")[0] if cluster is not None else None


def _same_cluster(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def _sharing_marks(
    requests: list[tuple[LoadBalancerRequest, str | None]], protocols: bool
) -> dict[int, str]:
    """``id(request)`` -> SHARED or DUPLICATE, for IPs several objects ask for."""
    groups: dict[tuple[str | None, IPAddress], list[LoadBalancerRequest]] = defaultdict(list)
    for request, cluster in requests:
        if request.ip is not None:
            groups[(cluster, request.ip)].append(request)
    marks: dict[int, str] = {}
    for group in groups.values():
        if len({r.owner for r in group}) < 2:
            continue
        # Any pair LB-IPAM will not share, found through the index CL204 uses.
        clash = next(sharing.first_conflicts(group, protocols=protocols), None) is not None
        marks.update((id(r), DUPLICATE if clash else SHARED) for r in group)
    return marks


def _entry(request: LoadBalancerRequest, marks: Iterable[str]) -> PlanEntry:
    return PlanEntry(
        ip=str(request.ip) if request.ip is not None else request.text,
        owner=request.label,
        source=request.source,
        path=request.location.path,
        line=request.location.span.line,
        marks=tuple(dict.fromkeys(marks)),
    )


def _order(entry: PlanEntry) -> tuple[int, int, str, int, str]:
    try:
        ip = ipaddress.ip_address(entry.ip)
        return (ip.version, int(ip), entry.path, entry.line, entry.owner)
    except ValueError:
        return (9, 0, entry.path, entry.line, entry.owner)


def _network_intervals(network: IPNetwork) -> list[Interval]:
    low, high = int(network.network_address), int(network.broadcast_address)
    if network.version == 4 and network.prefixlen < 31:
        low, high = low + 1, high - 1  # a bare network plan: skip network and broadcast
    return [(low, high)]


def build_plan(facts: Facts) -> AddressPlan:
    requests = [(r, _cluster(facts, r.location.path)) for r in facts.requests]
    shared = _sharing_marks(requests, sharing.protocol_aware(facts.cilium))
    shapes = [_shape(pool, _cluster(facts, pool.obj.doc.path)) for pool in facts.pools]
    policy = list(facts.policy_pools)
    index = _RequestIndex(requests)
    policy_union = lines.Union(lines.network_span(n) for n in policy)

    def in_policy(ip: IPAddress) -> bool:
        return lines.key(ip) in policy_union

    served = _Served(shapes)
    pools: list[PlanPool] = []
    placed: set[int] = set()
    for shape in shapes:
        pools.append(_tree_pool(shape, index, shared, placed, in_policy if policy else None))
    for network in policy:
        pools.append(_policy_pool(network, shapes, index, shared, placed, served.served))
    unpooled = []
    for request, _ in requests:
        if id(request) in placed:
            continue
        marks = [shared.get(id(request), "")]
        if request.ip is None:
            marks.append(UNRESOLVED if request.unresolved else INVALID)
        unpooled.append(_entry(request, (m for m in marks if m)))
    return AddressPlan(tuple(pools), tuple(sorted(unpooled, key=_order)))


class _RequestIndex:
    """The requests sorted by address, to find those inside a range without a scan."""

    def __init__(self, requests: list[tuple[LoadBalancerRequest, str | None]]) -> None:
        self.requests = requests
        keyed = sorted(
            (lines.key(r.ip), n) for n, (r, _) in enumerate(requests) if r.ip is not None
        )
        self._keys = [k for k, _ in keyed]
        self._numbers = [n for _, n in keyed]

    def within(
        self, spans: dict[int, list[Interval]]
    ) -> list[tuple[LoadBalancerRequest, str | None]]:
        """The requests whose IP lies in ``spans`` (per IP version), in their own order."""
        numbers: list[int] = []
        for version, low, high in ((v, lo, hi) for v, found in spans.items() for lo, hi in found):
            shift = lines.key(_address(version, 0))
            start = bisect_left(self._keys, shift + low)
            stop = bisect_right(self._keys, shift + high)
            numbers.extend(self._numbers[start:stop])
        return [self.requests[n] for n in sorted(set(numbers))]


def _address(version: int, value: int) -> IPAddress:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


class _Served:
    """Whether an enabled tree pool of a cluster serves an IP, or may (a block whose range is
    not known here); pools of no known cluster count for every cluster."""

    def __init__(self, shapes: list[_PoolShape]) -> None:
        spans: dict[str | None, list[Interval]] = defaultdict(list)
        self._unknown: set[str | None] = set()
        for shape in shapes:
            for version, found in shape.servable.items():
                shift = lines.key(_address(version, 0))
                spans[shape.cluster].extend((shift + low, shift + high) for low, high in found)
            if shape.unknown:
                self._unknown.add(shape.cluster)
        self._own = {cluster: lines.Union(found) for cluster, found in spans.items()}
        self._any = lines.Union(i for found in spans.values() for i in found)

    def served(self, ip: IPAddress, cluster: str | None) -> bool:
        point = lines.key(ip)
        if cluster is None:
            return bool(self._unknown) or point in self._any
        if cluster in self._unknown or None in self._unknown:
            return True
        return any(point in self._own[c] for c in (cluster, None) if c in self._own)


def _tree_pool(
    shape: _PoolShape,
    index: _RequestIndex,
    sharing: dict[int, str],
    placed: set[int],
    in_policy: Callable[[IPAddress], bool] | None,
) -> PlanPool:
    pool = shape.pool
    entries: list[PlanEntry] = []
    used: dict[int, set[int]] = defaultdict(set)
    for request, cluster in index.within(shape.spans):
        ip = request.ip
        if ip is None or not shape.holds(ip) or not _same_cluster(shape.cluster, cluster):
            continue
        placed.add(id(request))
        marks = [sharing.get(id(request), "")]
        if ip in shape.reserved:
            marks.append(RESERVED)
        if pool.disabled:
            marks.append(DISABLED)
        if in_policy is not None and not in_policy(ip):
            marks.append(OUTSIDE_POLICY)
        if shape.serves(ip):
            used[ip.version].add(int(ip))
        entries.append(_entry(request, (m for m in marks if m)))
    free: list[str] = []
    for version, intervals in sorted(shape.servable.items()):
        free.extend(_free(intervals, used[version], version, NEXT_FREE - len(free)))
    location = pool.obj.locate("metadata", "name")
    return PlanPool(
        name=pool.obj.name,
        kind=pool.obj.kind,
        path=location.path,
        line=location.span.line,
        cluster=_label(shape.cluster),
        ranges=tuple(b.text for b in pool.blocks),
        disabled=pool.disabled,
        allow_first_last=not any(b.reserved for b in pool.blocks),
        used=sum(len(v) for v in used.values()),
        usable=sum(_size(v) for v in shape.servable.values()),
        next_free=tuple(free),
        entries=tuple(sorted(entries, key=_order)),
    )


def _policy_pool(
    network: IPNetwork,
    shapes: list[_PoolShape],
    index: _RequestIndex,
    sharing: dict[int, str],
    placed: set[int],
    served: Callable[[IPAddress, str | None], bool],
) -> PlanPool:
    # What a Service can really get here: the policy range where an enabled tree pool serves.
    own = [(int(network.network_address), int(network.broadcast_address))]
    tree = _merge(i for s in shapes for i in s.servable.get(network.version, []))
    has_tree_pools = any(s.spans for s in shapes)
    candidates = _intersect(own, tree) if has_tree_pools else _network_intervals(network)
    entries = []
    used: set[int] = set()
    for request, cluster in index.within({network.version: own}):
        ip = request.ip
        if ip is None or ip.version != network.version or ip not in network:
            continue
        placed.add(id(request))
        marks = [sharing.get(id(request), "")]
        if not served(ip, cluster):
            marks.append(NOT_IN_TREE_POOL)
        if any(low <= int(ip) <= high for low, high in candidates):
            used.add(int(ip))
        entries.append(_entry(request, (m for m in marks if m)))
    return PlanPool(
        name=str(network),
        kind="policy",
        path=None,
        line=None,
        cluster=None,
        ranges=(str(network),),
        disabled=False,
        allow_first_last=True,
        used=len(used),
        usable=_size(candidates),
        next_free=_free(candidates, used, network.version),
        entries=tuple(sorted(entries, key=_order)),
    )


# --------------------------------------------------------------------------------------------
# Rendering


def to_json(plan: AddressPlan) -> str:
    return json.dumps(asdict(plan), indent=2) + "\n"


def _shown_ip(text: str) -> str:
    """An IP as written, escaped; text that is not an IP is quoted, so that a line never starts
    with a workflow command (``::add-mask::``) once the runner strips its indentation."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return f"'{printable(text)}'"
    return text


def _rows(entries: Sequence[PlanEntry]) -> Iterator[str]:
    if not entries:
        yield "  (no requested IPs)"
        return
    rows = [
        (_shown_ip(e.ip), printable(e.owner), printable(e.path), e.line, e.marks) for e in entries
    ]
    ip_width = max(len(row[0]) for row in rows)
    owner_width = max(len(row[1]) for row in rows)
    for ip, owner, path, line_no, marks in rows:
        marked = f"  [{', '.join(marks)}]" if marks else ""
        line = f"  {ip:<{ip_width}}  {owner:<{owner_width}}  {path}:{line_no}{marked}"
        yield line.rstrip()


def _heading(pool: PlanPool, show_cluster: bool) -> list[str]:
    if pool.kind == "policy":
        head = f"policy pool {pool.name} (lb-ipam.pools)"
    else:
        head = f"{pool.kind} {printable(pool.name)} ({printable(pool.path or '')}:{pool.line})"
        if show_cluster and pool.cluster:
            head += f", cluster {printable(pool.cluster)}"
    details = [f"ranges {printable(', '.join(pool.ranges)) or '(none)'}"]
    if pool.kind != "policy":
        details.append('allowFirstLastIPs: "No"' if not pool.allow_first_last else "")
        details.append("disabled: hands out no new addresses" if pool.disabled else "")
    return [head, "  " + "; ".join(d for d in details if d)]


def format_text(plan: AddressPlan) -> str:
    show_cluster = len({p.cluster for p in plan.pools if p.kind != "policy"}) > 1
    lines: list[str] = []
    for pool in plan.pools:
        if lines:
            lines.append("")
        lines += _heading(pool, show_cluster)
        lines += _rows(pool.entries)
        free = ", ".join(pool.next_free) if pool.next_free else "none"
        lines.append(f"  used {pool.used} of {pool.usable} usable; next free: {free}")
    if plan.unpooled:
        if lines:
            lines.append("")
        lines.append("requests in no pool")
        lines += _rows(plan.unpooled)
    if not lines:
        lines.append("no pools and no requested LoadBalancer IPs")
    return "\n".join(lines) + "\n"
