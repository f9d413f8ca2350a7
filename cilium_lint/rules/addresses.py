"""LoadBalancer IP rules: each requested IP valid, inside the pools, and not taken twice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cilium_lint.lbipam import intervals, sharing
from cilium_lint.lbipam.pools import IPAddress, Pool, PoolBlock
from cilium_lint.lbipam.requests import LoadBalancerRequest
from cilium_lint.quoting import quote
from cilium_lint.rules.api import Hit, NoParams, Related, RuleMeta, Severity

if TYPE_CHECKING:
    from cilium_lint.facts import Facts


def _checked(facts: Facts) -> list[LoadBalancerRequest]:
    """Requests with a literal IP, in file order (the first occurrence of an IP comes first)."""
    found = [r for r in facts.requests if r.ip is not None]
    return sorted(found, key=lambda r: (r.location.path, r.location.span, r.owner))


def _identity(request: LoadBalancerRequest) -> str:
    return f"{request.owner}#{request.pointer}#{request.text}"


def _describe(request: LoadBalancerRequest) -> str:
    """``Service/media/plex`` or ``HelmRelease/media/plex (values service.app)``."""
    owner, _, inner = request.owner.partition("#")
    if not inner:
        return owner
    where = ".".join(p.replace("~1", "/").replace("~0", "~") for p in inner.strip("/").split("/"))
    label = "values" if request.source == "HelmRelease values" else request.source
    return f"{owner} ({label} {where})" if where else owner


class InvalidAddress:
    params = NoParams
    meta = RuleMeta(
        id="CL201",
        name="lb-ip-invalid",
        summary="Each requested LoadBalancer IP is one bare IP address.",
        rationale=(
            "LB-IPAM splits `lbipam.cilium.io/ips` on commas and parses every entry as a single "
            "address. A CIDR suffix (`10.0.6.10/32`), a range or a typo is skipped with only an "
            "operator log line: the Service gets another IP or none, and the DNS record you "
            "published points nowhere. A Flux `${VAR}` that Flux never substitutes (escaped "
            "as `$${VAR}`, a resource marked `kustomize.toolkit.fluxcd.io/substitute: "
            "disabled`, a Kustomization "
            "without `postBuild`) reaches LB-IPAM as that text and is reported too; one whose "
            "value is only unknown here (CL013) is skipped."
        ),
        fix="Write bare addresses, comma-separated: `lbipam.cilium.io/ips: 10.0.6.10,10.0.6.11`.",
        severity=Severity.ERROR,
        example_fail="metadata:\n  annotations:\n    lbipam.cilium.io/ips: 10.0.6.10/32\n",
        example_pass="metadata:\n  annotations:\n    lbipam.cilium.io/ips: 10.0.6.10\n",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for request in facts.requests:
            if request.ip is not None or request.unresolved:
                continue
            if request.literal is not None:
                why = f"never substituted by Flux: {request.literal}; LB-IPAM skips the entry"
            elif "/" in request.text:
                why = "a CIDR, not an address; LB-IPAM skips the entry"
            elif " " in request.text:
                why = "not one address (entries are separated by commas); LB-IPAM skips it"
            else:
                why = "not an IP address; LB-IPAM skips the entry"
            yield Hit(
                f"{quote(request.text)} requested by {_describe(request)} is {why}",
                request.location,
                _identity(request),
            )


class OutsidePolicyPool:
    params = NoParams
    meta = RuleMeta(
        id="CL202",
        name="lb-ip-outside-policy-pool",
        summary="Each requested LoadBalancer IP lies inside the policy pool (lb-ipam.pools).",
        rationale=(
            "The policy pool is the address range the network reserves for LoadBalancer "
            "services (10.0.6.0/24 by default). An IP outside it collides with hosts, DHCP "
            "leases or another cluster, or is not routed to the cluster at all."
        ),
        fix=(
            "Pick a free address inside the policy pool (`cilium-lint ips` lists them), or "
            "change `lb-ipam.pools` in the configuration if the plan changed."
        ),
        severity=Severity.ERROR,
        example_fail="metadata:\n  annotations:\n    lbipam.cilium.io/ips: 192.168.1.50\n",
        example_pass="metadata:\n  annotations:\n    lbipam.cilium.io/ips: 10.0.6.50\n",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        pools = facts.policy_pools
        if not pools:
            return
        shown = ", ".join(str(p) for p in pools)
        inside = intervals.Union(intervals.network_span(pool) for pool in pools)
        for request in _checked(facts):
            assert request.ip is not None
            if intervals.key(request.ip) in inside:
                continue
            yield Hit(
                f"{request.ip} requested by {_describe(request)} is outside the policy pool "
                f"{shown}",
                request.location,
                _identity(request),
            )


class OutsideTreePools:
    params = NoParams
    meta = RuleMeta(
        id="CL203",
        name="lb-ip-outside-tree-pools",
        summary="Each requested LoadBalancer IP lies inside an enabled CiliumLoadBalancerIPPool.",
        rationale=(
            "LB-IPAM only hands out a specific IP from an enabled pool block that contains it "
            '(and, with `allowFirstLastIPs: "No"`, not the first or last address of a cidr '
            "block). Otherwise the Service stays `<pending>` with condition "
            "`IPAMRequestSatisfied=False, reason no_pool`. A pool block set by a Flux variable "
            "whose value is not known here (CL013) may serve any IP, so then no IP is reported; "
            "and when the linted tree holds no pool at all (a subfolder linted on its own), the "
            "pools are elsewhere and no IP is reported (CL202 still checks the policy pool)."
        ),
        fix=(
            "Request an address inside one of the tree's pools, or add a block that covers it "
            "to a CiliumLoadBalancerIPPool."
        ),
        severity=Severity.ERROR,
        example_fail=(
            "# pool: blocks: [{cidr: 10.0.6.0/25}]\nmetadata:\n  annotations:\n"
            "    lbipam.cilium.io/ips: 10.0.6.200\n"
        ),
        example_pass=(
            "# pool: blocks: [{cidr: 10.0.6.0/24}]\nmetadata:\n  annotations:\n"
            "    lbipam.cilium.io/ips: 10.0.6.200\n"
        ),
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        if not facts.pools:
            return  # the pools are not in the linted part of the tree (CL202 still applies)
        blocks = [(pool, block) for pool in facts.pools for block in pool.blocks]
        # A block whose range is a Flux variable not known here may serve any IP.
        unknown = any(b.unknown and p.serving for p, b in blocks)
        if unknown:
            return
        served = intervals.Union(b.contained() for p, b in blocks if p.serving)
        why = _Why(blocks)
        for request in _checked(facts):
            ip = request.ip
            assert ip is not None
            if intervals.key(ip) in served:
                continue
            message, related = why.explain(ip)
            yield Hit(
                f"{ip} requested by {_describe(request)} {message}",
                request.location,
                _identity(request),
                related,
            )


class _Why:
    """Why an IP no block serves is not served: the first block (in order) that reserves it or
    holds it in a pool that does not serve, looked up without scanning every block."""

    def __init__(self, blocks: list[tuple[Pool, PoolBlock]]) -> None:
        self._blocks = blocks
        self._reserved: dict[IPAddress, int] = {}
        for index, (_, block) in enumerate(blocks):
            if block.first is not None and block.last is not None:
                for ip in block.reserved:
                    self._reserved.setdefault(ip, index)
        self._idle = intervals.FirstCover(
            [
                (*block.contained(), index)
                for index, (pool, block) in enumerate(blocks)
                if pool.rejected or pool.disabled
            ]
        )
        usable = [b for _, b in blocks if b.usable]
        self._listed = (
            ", ".join(b.text for b in usable[:4]) + (", ..." if len(usable) > 4 else "")
            if usable
            else ""
        )

    def explain(self, ip: IPAddress) -> tuple[str, tuple[Related, ...]]:
        if not self._blocks:
            return "is not served: no CiliumLoadBalancerIPPool in the tree has a block", ()
        reserving = self._reserved.get(ip)
        idle = self._idle.get(intervals.key(ip))
        if reserving is not None and (idle is None or reserving < idle):
            block = self._blocks[reserving][1]
            which = "first" if ip == block.first else "last"
            return (
                f"is the {which} address of {block.text}, which pool "
                f'{block.pool.name} reserves (allowFirstLastIPs: "No")',
                (Related(block.location, f"block {block.text} of pool {block.pool.name}"),),
            )
        if idle is not None:
            pool, block = self._blocks[idle]
            if pool.rejected:
                return (
                    f"is only in pool {block.pool.name}, which the API server rejects "
                    '(allowFirstLastIPs must be the string "Yes" or "No")',
                    (Related(block.location, f"block {block.text} of rejected pool"),),
                )
            return (
                f"is only in pool {block.pool.name}, which is disabled",
                (Related(block.location, f"block {block.text} of disabled pool"),),
            )
        if not self._listed:
            return "is not served: no CiliumLoadBalancerIPPool block in the tree is valid", ()
        return f"is outside every CiliumLoadBalancerIPPool block ({self._listed})", ()


class DuplicateAddress:
    params = NoParams
    meta = RuleMeta(
        id="CL204",
        name="lb-ip-duplicate",
        summary="No LoadBalancer IP is requested twice, unless LB-IPAM would share it.",
        rationale=(
            "LB-IPAM gives a requested IP to one Service; the other stays pending "
            "(`already_allocated`). Sharing is legal only when both Services carry the same "
            "`lbipam.cilium.io/sharing-key`, live in one namespace (or both allow each other "
            "with `lbipam.cilium.io/sharing-cross-namespace`), use no port in common and have "
            "the same externalTrafficPolicy. From Cilium 1.19 a port is a number and a "
            "protocol, so TCP/53 and UDP/53 share; before, only the number counted "
            "(cilium/cilium #34691, #40642)."
        ),
        fix=(
            "Give one of the two a free address (`cilium-lint ips` lists them), or make the "
            "pair shareable as described above."
        ),
        severity=Severity.ERROR,
        example_fail=(
            "# two Services, same namespace\nlbipam.cilium.io/ips: 10.0.6.20\n---\n"
            "lbipam.cilium.io/ips: 10.0.6.20\n"
        ),
        example_pass=(
            "# both with lbipam.cilium.io/sharing-key: dns, ports 53 and 853\n"
            "lbipam.cilium.io/ips: 10.0.6.20\n"
        ),
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        protocols = sharing.protocol_aware(facts.cilium)
        by_ip: dict[IPAddress, list[LoadBalancerRequest]] = defaultdict(list)
        for request in _checked(facts):
            assert request.ip is not None
            by_ip[request.ip].append(request)
        for ip, group in by_ip.items():
            for later, first, conflict in sharing.first_conflicts(group, protocols=protocols):
                yield Hit(
                    f"{ip} requested by {_describe(later)} is already requested by "
                    f"{_describe(first)} {conflict}",
                    later.location,
                    _identity(later),
                    (Related(first.location, f"{ip} first requested by {_describe(first)}"),),
                )


class PoolOutsidePolicy:
    params = NoParams
    meta = RuleMeta(
        id="CL205",
        name="pool-outside-policy",
        summary="Every CiliumLoadBalancerIPPool block lies inside the policy pool.",
        rationale=(
            "A pool block outside the policy pool lets LB-IPAM hand out addresses the network "
            "plan reserves for something else (nodes, DHCP, another cluster)."
        ),
        fix="Shrink or move the block into the policy pool, or update `lb-ipam.pools`.",
        severity=Severity.ERROR,
        example_fail="spec:\n  blocks:\n    - cidr: 10.0.7.0/24\n",
        example_pass="spec:\n  blocks:\n    - cidr: 10.0.6.0/24\n",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        policy = facts.policy_pools
        if not policy:
            return
        shown = ", ".join(str(p) for p in policy)
        inside = intervals.Disjoint(intervals.network_span(p) for p in policy)
        for pool in facts.pools:
            for block in pool.blocks:
                if not block.usable:
                    continue
                assert block.first is not None and block.last is not None
                if inside.within(intervals.key(block.first), intervals.key(block.last)):
                    continue
                yield Hit(
                    f"block {block.text} of pool {pool.obj.name} lies outside the policy pool "
                    f"{shown}",
                    block.location,
                    f"{pool.obj.ref}#/spec/blocks/{block.index}",
                )


def address_rules() -> list[object]:
    return [
        InvalidAddress(),
        OutsidePolicyPool(),
        OutsideTreePools(),
        DuplicateAddress(),
        PoolOutsidePolicy(),
    ]
