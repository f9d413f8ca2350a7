"""The address plan (`cilium-lint ips`): who asks for which IP, usage and the next free ones."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from lbtree import facts_of

from cilium_lint.config import Config, load_config
from cilium_lint.engine import build_tree
from cilium_lint.facts import gather
from cilium_lint.ipplan import (
    DISABLED,
    DUPLICATE,
    INVALID,
    NOT_IN_TREE_POOL,
    OUTSIDE_POLICY,
    RESERVED,
    SHARED,
    UNRESOLVED,
    AddressPlan,
    PlanPool,
    build_plan,
    format_text,
    to_json,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cluster"


def _example_plan() -> AddressPlan:
    config = load_config(None, EXAMPLE).config
    tree, _ = build_tree([EXAMPLE], EXAMPLE, config, None)
    return build_plan(gather(tree, config))


def _pool(plan: AddressPlan, name: str) -> PlanPool:
    return next(p for p in plan.pools if p.name == name)


def test_example_cluster_lists_every_ip_with_its_owner_and_the_next_free_ones() -> None:
    plan = _example_plan()
    assert [(p.kind, p.name) for p in plan.pools] == [
        ("CiliumLoadBalancerIPPool", "pool"),
        ("policy", "10.0.6.0/24"),
    ]
    pool = _pool(plan, "pool")
    assert pool.path == "kubernetes/apps/kube-system/cilium/config/pool.yaml"
    assert pool.allow_first_last is False
    listed = [(e.ip, e.owner, e.path.rsplit("/", 1)[-1], e.line, e.marks) for e in pool.entries]
    assert listed == [
        ("10.0.6.20", "Gateway/network/external", "external.yaml", 11, ()),
        ("10.0.6.21", "Gateway/network/internal", "internal.yaml", 16, ()),
        ("10.0.6.30", "HelmRelease/default/echo (values service.app)", "helmrelease.yaml", 55, ()),
        (
            "10.0.6.31",
            "HelmRelease/default/home-assistant (values service.app)",
            "helmrelease.yaml",
            55,
            (),
        ),
        ("10.0.6.53", "Service/network/adguard-home-dns", "service.yaml", 8, (SHARED,)),
        ("10.0.6.53", "Service/network/adguard-home-http", "service.yaml", 31, (SHARED,)),
    ]
    # allowFirstLastIPs "No": .0 and .255 are not handed out; five distinct IPs are taken.
    assert (pool.used, pool.usable) == (5, 254)
    assert pool.next_free == ("10.0.6.1", "10.0.6.2", "10.0.6.3", "10.0.6.4", "10.0.6.5")
    policy = _pool(plan, "10.0.6.0/24")
    assert [e.ip for e in policy.entries] == [e.ip for e in pool.entries]
    assert (policy.used, policy.usable) == (5, 254)
    assert plan.unpooled == ()


def test_example_cluster_text_and_json() -> None:
    plan = _example_plan()
    text = format_text(plan)
    assert text.splitlines()[0] == (
        "CiliumLoadBalancerIPPool pool (kubernetes/apps/kube-system/cilium/config/pool.yaml:5)"
    )
    assert (
        "  used 5 of 254 usable; next free: 10.0.6.1, 10.0.6.2, 10.0.6.3, 10.0.6.4, 10.0.6.5"
        in text
    )
    assert "[shared]" in text
    data = json.loads(to_json(plan))
    assert data["pools"][0]["next_free"][0] == "10.0.6.1"
    assert data["pools"][0]["entries"][0] == {
        "ip": "10.0.6.20",
        "owner": "Gateway/network/external",
        "source": "Gateway",
        "path": "kubernetes/apps/network/gateway/app/external.yaml",
        "line": 11,
        "marks": [],
    }
    assert data["unpooled"] == []


POOLS = """
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata:
  name: apps
spec:
  allowFirstLastIPs: "No"
  blocks:
    - cidr: 10.0.6.0/29
    - start: 10.0.6.100
      stop: 10.0.6.102
    - cidr: "2001:db8::/126"
---
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata:
  name: drained
spec:
  disabled: true
  blocks:
    - cidr: 10.0.7.0/30
"""


def _service(name: str, ips: str, extra: str = "") -> str:
    return f"""
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: default
  annotations:
    lbipam.cilium.io/ips: "{ips}"
{extra}spec:
  type: LoadBalancer
  ports:
    - port: 80
"""


def test_marks_usage_and_unpooled_requests(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "pools.yaml": POOLS,
            "a.yaml": _service("a", "10.0.6.1,10.0.6.100,10.0.6.0"),
            "b.yaml": _service("b", "10.0.6.1"),
            "c.yaml": _service("c", "10.0.7.1,10.0.8.8,2001:db8::2,10.0.6.9/32,${LB_IP}"),
        },
        Config.model_validate({"lb-ipam": {"pools": ["10.0.6.0/24"]}}),
    )
    plan = build_plan(facts)
    apps = _pool(plan, "apps")
    marks = {(e.ip, e.owner): e.marks for e in apps.entries}
    assert marks == {
        ("10.0.6.0", "Service/default/a"): (RESERVED,),
        ("10.0.6.1", "Service/default/a"): (DUPLICATE,),
        ("10.0.6.1", "Service/default/b"): (DUPLICATE,),
        ("10.0.6.100", "Service/default/a"): (),
        ("2001:db8::2", "Service/default/c"): (OUTSIDE_POLICY,),
    }
    # /29 without first and last: 6; the range: 3; the IPv6 /126: 2 (its ends are reserved too).
    assert apps.usable == 6 + 3 + 2
    assert apps.used == 3  # 10.0.6.1, 10.0.6.100, 2001:db8::2; 10.0.6.0 is not servable
    assert apps.next_free == ("10.0.6.2", "10.0.6.3", "10.0.6.4", "10.0.6.5", "10.0.6.6")

    drained = _pool(plan, "drained")
    assert drained.disabled and drained.usable == 0 and drained.next_free == ()
    assert [(e.ip, e.marks) for e in drained.entries] == [("10.0.7.1", (DISABLED, OUTSIDE_POLICY))]

    policy = _pool(plan, "10.0.6.0/24")
    assert {e.ip: e.marks for e in policy.entries if e.owner == "Service/default/a"} == {
        "10.0.6.0": (NOT_IN_TREE_POOL,),
        "10.0.6.1": (DUPLICATE,),
        "10.0.6.100": (),
    }
    # What a Service can get inside the policy pool: where the enabled tree pool serves.
    assert policy.usable == 6 + 3
    assert policy.next_free[0] == "10.0.6.2"

    unpooled = {e.ip: e.marks for e in plan.unpooled}
    assert unpooled == {"10.0.8.8": (), "10.0.6.9/32": (INVALID,), "${LB_IP}": (UNRESOLVED,)}
    text = format_text(plan)
    assert "requests in no pool" in text
    assert "disabled: hands out no new addresses" in text


def test_next_free_skips_taken_addresses_across_blocks(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "pool.yaml": """
            apiVersion: cilium.io/v2
            kind: CiliumLoadBalancerIPPool
            metadata:
              name: small
            spec:
              blocks:
                - start: 10.0.6.10
                  stop: 10.0.6.11
                - start: 10.0.6.20
            """,
            "svc.yaml": _service("a", "10.0.6.10,10.0.6.20"),
        },
    )
    pool = _pool(build_plan(facts), "small")
    assert (pool.used, pool.usable) == (2, 3)
    assert pool.next_free == ("10.0.6.11",)
    assert format_text(build_plan(facts)).splitlines()[-1] == (
        "  used 2 of 3 usable; next free: 10.0.6.11"
    )


def test_an_empty_tree_has_an_empty_plan(tmp_path: Path) -> None:
    plan = build_plan(facts_of(tmp_path, {"empty.yaml": "kind: ConfigMap\n"}))
    assert plan == AddressPlan((), ())
    assert format_text(plan) == "no pools and no requested LoadBalancer IPs\n"
    assert json.loads(to_json(plan)) == {"pools": [], "unpooled": []}


def test_every_free_address_is_really_free_and_in_the_pool() -> None:
    plan = _example_plan()
    pool = _pool(plan, "pool")
    taken = {e.ip for e in pool.entries}
    for address in pool.next_free:
        assert address not in taken
        assert ipaddress.ip_address(address) in ipaddress.ip_network("10.0.6.0/24")


def test_an_ip_is_not_marked_unserved_while_a_pool_block_is_unknown(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "pool.yaml": """
                apiVersion: cilium.io/v2
                kind: CiliumLoadBalancerIPPool
                metadata:
                  name: secret
                spec:
                  blocks:
                    - cidr: ${LB_CIDR}
            """,
            "svc.yaml": """
                apiVersion: v1
                kind: Service
                metadata:
                  name: a
                  namespace: default
                  annotations:
                    lbipam.cilium.io/ips: 10.0.6.50
                spec:
                  type: LoadBalancer
            """,
        },
        Config.model_validate({"lb-ipam": {"pools": ["10.0.6.0/24"]}}),
    )
    plan = build_plan(facts)
    policy = _pool(plan, "10.0.6.0/24")
    assert [(e.ip, e.marks) for e in policy.entries] == [("10.0.6.50", ())]
    assert _pool(plan, "secret").ranges == ("${LB_CIDR}",)
