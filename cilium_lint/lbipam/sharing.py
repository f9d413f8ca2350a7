"""When LB-IPAM gives two Services the same IP: the sharing-key compatibility rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


# --- the first earlier request each request conflicts with, without comparing every pair -----
#
# conflict() holds for (first, later) when any of these does, so the earliest conflicting
# request is the earliest of the earliest for each: (A) no common sharing key; with a common
# key, (D) another traffic policy, (P) a port in common, (B1) a namespace ``later`` does not
# allow, (B2) a namespace ``first`` does not let ``later`` in. Each is answered from an index
# of the requests before it, so thousands of Services on one IP cost n log n, not n squared.

_Entry = tuple[int, LoadBalancerRequest]


class _Slot:
    """The first entry, and the first entry of another owner than the first's."""

    __slots__ = ("first", "other")

    def __init__(self) -> None:
        self.first: _Entry | None = None
        self.other: _Entry | None = None

    def offer(self, entry: _Entry) -> None:
        if self.first is None:
            self.first = entry
        elif self.other is None and entry[1].owner != self.first[1].owner:
            self.other = entry

    @property
    def complete(self) -> bool:
        return self.other is not None

    def pick(self, owner: str) -> _Entry | None:
        """The first entry not of ``owner``."""
        if self.first is not None and self.first[1].owner != owner:
            return self.first
        return self.other


class _Heads:
    """Entries grouped by one attribute; answers "the first entry whose value is not excluded"
    by visiting values in order of their first entry, stopping as soon as none can be earlier."""

    def __init__(self) -> None:
        self.slots: dict[object, _Slot] = {}
        self.order: list[tuple[object, _Slot]] = []

    def add(self, value: object, entry: _Entry) -> None:
        slot = self.slots.get(value)
        if slot is None:
            slot = self.slots[value] = _Slot()
            self.order.append((value, slot))
        slot.offer(entry)

    def earliest(self, excluded: Callable[[object], bool], owner: str) -> _Entry | None:
        best: _Entry | None = None
        for value, slot in self.order:
            assert slot.first is not None
            if best is not None and slot.first[0] > best[0]:
                break
            if excluded(value):
                continue
            found = slot.pick(owner)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        return best


class _KeyGroup:
    """The requests with one sharing key."""

    def __init__(self) -> None:
        self.policies = _Heads()
        self.namespaces = _Heads()
        self.ports: dict[object, _Slot] = {}
        self.closed: list[_Entry] = []  # requests without "*" in sharing-cross-namespace
        self.shut_out: dict[str | None, tuple[list[int], _Slot]] = {}  # namespace -> scan, found

    def add(self, entry: _Entry, protocols: bool) -> None:
        request = entry[1]
        self.policies.add(request.traffic_policy, entry)
        self.namespaces.add(request.namespace, entry)
        for token in _tokens(request, protocols):
            self.ports.setdefault(token, _Slot()).offer(entry)
        if "*" not in request.cross_namespace:
            self.closed.append(entry)

    def shutting_out(self, namespace: str | None, owner: str) -> _Entry | None:
        """The first request of another namespace that does not let ``namespace`` in (B2).

        The scan for one namespace resumes where it stopped: each request is passed over only
        when it is in that namespace or names it, which the tree pays for in its own text."""
        scan, slot = self.shut_out.setdefault(namespace, ([0], _Slot()))
        name = namespace or ""
        while scan[0] < len(self.closed) and not slot.complete:
            entry = self.closed[scan[0]]
            if entry[1].namespace != namespace and name not in entry[1].cross_namespace:
                slot.offer(entry)
            scan[0] += 1
        return slot.pick(owner)


def _tokens(request: LoadBalancerRequest, protocols: bool) -> set[object]:
    if request.ports is None:
        return set()
    return set(request.ports) if protocols else {number for number, _ in request.ports}


def first_conflicts(
    group: list[LoadBalancerRequest], *, protocols: bool
) -> Iterator[tuple[LoadBalancerRequest, LoadBalancerRequest, str]]:
    """For each request of ``group`` (one IP, in order) that LB-IPAM would refuse, the first
    earlier request of another owner it conflicts with, and why: (later, first, reason)."""
    earlier = _Earlier(protocols)
    for index, later in enumerate(group):
        found = earlier.first_conflicting(later)
        if found is not None:
            reason = conflict(found[1], later, protocols=protocols)
            if reason is not None:
                yield later, found[1], reason
        earlier.add((index, later))


class _Earlier:
    """The requests seen so far, indexed by what conflict() compares."""

    def __init__(self, protocols: bool) -> None:
        self.protocols = protocols
        self.everyone = _Slot()
        self.keys = _Heads()
        self.groups: dict[str, _KeyGroup] = {}

    def add(self, entry: _Entry) -> None:
        key = entry[1].sharing_key
        self.everyone.offer(entry)
        self.keys.add(key, entry)
        if key:
            self.groups.setdefault(key, _KeyGroup()).add(entry, self.protocols)

    def first_conflicting(self, later: LoadBalancerRequest) -> _Entry | None:
        owner, key = later.owner, later.sharing_key
        if not key:
            return self.everyone.pick(owner)  # (A) every earlier request
        found = [self.keys.earliest(lambda value: value == key, owner)]
        same = self.groups.get(key)
        if same is not None:
            policy, namespace, allowed = (
                later.traffic_policy,
                later.namespace,
                later.cross_namespace,
            )
            found.append(same.policies.earliest(lambda value: value == policy, owner))
            found.extend(
                same.ports[token].pick(owner)
                for token in _tokens(later, self.protocols)
                if token in same.ports
            )
            if "*" not in allowed:
                found.append(
                    same.namespaces.earliest(
                        lambda value: value == namespace or (value or "") in allowed, owner
                    )
                )
            found.append(same.shutting_out(namespace, owner))
        candidates = [entry for entry in found if entry is not None]
        return min(candidates, key=lambda entry: entry[0]) if candidates else None
