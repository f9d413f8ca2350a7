"""CL204's index finds, for every request, the same first conflicting request as comparing
every earlier pair would (the definition), on random groups of requests for one IP."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from cilium_lint.document import Location
from cilium_lint.lbipam.requests import LoadBalancerRequest
from cilium_lint.lbipam.sharing import conflict, first_conflicts
from cilium_lint.sourcemap import Span

IP = ipaddress.ip_address("10.0.6.10")
NAMESPACES = st.sampled_from([None, "", "a", "b", "c"])


@st.composite
def requests(draw: st.DrawFn) -> LoadBalancerRequest:
    return LoadBalancerRequest(
        text=str(IP),
        ip=IP,
        location=Location("x.yaml", Span(1, 1, 1, 2)),
        owner=draw(st.sampled_from(["o1", "o2", "o3", "o4"])),
        source="Service",
        pointer="p",
        namespace=draw(NAMESPACES),
        sharing_key=draw(st.sampled_from([None, "", "k", "j"])),
        cross_namespace=frozenset(draw(st.lists(st.sampled_from(["*", "", "a", "b", "c"])))),
        ports=draw(
            st.none() | st.frozensets(st.tuples(st.integers(1, 4), st.sampled_from(["TCP", "UDP"])))
        ),
        traffic_policy=draw(st.sampled_from(["Cluster", "Local"])),
    )


def pairwise(group: list[LoadBalancerRequest], protocols: bool) -> list[tuple[int, int, str]]:
    found = []
    for index, later in enumerate(group):
        for position, first in enumerate(group[:index]):
            if first.owner == later.owner:
                continue
            reason = conflict(first, later, protocols=protocols)
            if reason is not None:
                found.append((index, position, reason))
                break
    return found


@settings(max_examples=400, deadline=None)
@given(st.lists(requests(), max_size=12), st.booleans())
def test_index_finds_what_every_pair_finds(
    group: list[LoadBalancerRequest], protocols: bool
) -> None:
    positions = {id(r): i for i, r in enumerate(group)}
    indexed = [
        (positions[id(later)], positions[id(first)], reason)
        for later, first, reason in first_conflicts(group, protocols=protocols)
    ]
    assert indexed == pairwise(group, protocols)
