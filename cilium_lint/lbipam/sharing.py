"""When LB-IPAM gives two Services the same IP: the sharing-key compatibility rules."""

from __future__ import annotations

from cilium_lint.cilium.release import CiliumRelease
from cilium_lint.lbipam.requests import LoadBalancerRequest

# LB-IPAM compares protocols as well as port numbers once protocol differentiation is on
# (cilium/cilium PR #34691); the operator only enabled it by default through mid-2025 patch
# releases of 1.17/1.18 (PRs #40642, #40643) and 1.19 removed the switch (always on, #40505).
PROTOCOL_AWARE_FROM = (1, 19)


def protocol_aware(releases: list[CiliumRelease]) -> bool:
    """Whether TCP and UDP on one port number may share an IP in this cluster.

    Assumed for 1.19 and later; for 1.17/1.18 the patch release decides, so the older, stricter
    behaviour is assumed there."""
    versions = [_line(r.chart.version) for r in releases]
    return all(v is not None and v >= PROTOCOL_AWARE_FROM for v in versions)


def _line(version: str) -> tuple[int, int] | None:
    parts = version.lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None


def _allows(request: LoadBalancerRequest, namespace: str | None) -> bool:
    return "*" in request.cross_namespace or (namespace or "") in request.cross_namespace


def conflict(
    first: LoadBalancerRequest, later: LoadBalancerRequest, *, protocols: bool
) -> str | None:
    """Why LB-IPAM would refuse to give both the same IP, or None if it would share it."""
    if not later.sharing_key or later.sharing_key != first.sharing_key:
        return "without a common lbipam.cilium.io/sharing-key"
    if first.namespace != later.namespace and not (
        _allows(first, later.namespace) and _allows(later, first.namespace)
    ):
        return (
            f"from another namespace ({first.namespace} and {later.namespace}) without "
            "lbipam.cilium.io/sharing-cross-namespace allowing it on both sides"
        )
    if first.ports is not None and later.ports is not None:
        if protocols:
            common = sorted(f"{n}/{p}" for n, p in first.ports & later.ports)
        else:
            numbers = {n for n, _ in first.ports} & {n for n, _ in later.ports}
            common = [str(n) for n in sorted(numbers)]
        if common:
            hint = "" if protocols else " (protocols are not told apart before Cilium 1.19)"
            return f"with a sharing key but the same port ({', '.join(common)}){hint}"
    if first.traffic_policy != later.traffic_policy:
        return (
            f"with a sharing key but a different externalTrafficPolicy "
            f"({first.traffic_policy} and {later.traffic_policy})"
        )
    return None
