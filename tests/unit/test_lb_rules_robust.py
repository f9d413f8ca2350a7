"""The pool, Service, Gateway and L2 rules: odd shapes give findings or nothing, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from lbtree import cilium_release, facts_of

from cilium_lint.cilium.cluster import release_for
from cilium_lint.config import Config
from cilium_lint.engine import evaluate
from cilium_lint.ipplan import build_plan, format_text, to_json
from cilium_lint.registry import load_registry
from cilium_lint.rules.api import Severity
from cilium_lint.rules.pools import parse_address, parse_prefix

MY_RULES = ("CL21", "CL22", "CL30")

HOSTILE = {
    "pools.yaml": """
    apiVersion: cilium.io/v2
    kind: CiliumLoadBalancerIPPool
    metadata: {name: a}
    spec: [1, 2]
    ---
    apiVersion: cilium.io/v2
    kind: CiliumLoadBalancerIPPool
    metadata: {name: b}
    spec:
      allowFirstLastIPs: [No]
      serviceSelector: "pool=b"
      blocks: "10.0.6.0/24"
    ---
    apiVersion: cilium.io/v2alpha1
    kind: CiliumLoadBalancerIPPool
    metadata: {name: c}
    spec:
      serviceSelector: {matchExpressions: [{key: a, operator: Near}]}
      blocks:
        - null
        - 7
        - {cidr: 12}
        - {start: [1]}
        - {cidr: 10.0.6.0/24, stop: 3}
        - {start: "::1", stop: 10.0.0.1}
    """,
    "policies.yaml": """
    apiVersion: cilium.io/v2alpha1
    kind: CiliumL2AnnouncementPolicy
    metadata: {name: p}
    spec:
      loadBalancerIPs: "true"
      interfaces: "eth0"
    ---
    apiVersion: cilium.io/v2alpha1
    kind: CiliumL2AnnouncementPolicy
    metadata: {name: q}
    spec:
      externalIPs: true
      interfaces: [7, null, "(", "^eth[0-9]+$"]
    ---
    apiVersion: cilium.io/v2alpha1
    kind: CiliumL2AnnouncementPolicy
    metadata: {name: r}
    """,
    "services.yaml": """
    apiVersion: v1
    kind: Service
    metadata:
      name: s
      labels: [a]
      annotations:
        io.cilium/lb-ipam-ips: 7
        lbipam.cilium.io/ips: {a: b}
        lbipam.cilium.io/sharing-cross-namespace: 5
    spec: {type: LoadBalancer, loadBalancerClass: io.cilium/l2-announcer, loadBalancerIP: 10.0.6.4}
    ---
    apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: g}
    spec:
      gatewayClassName: [x]
      addresses: {value: 1}
      infrastructure: {annotations: [], labels: "x"}
    ---
    apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: h}
    spec:
      addresses: [null, {type: IPAddress}, {value: [1]}]
      infrastructure: {annotations: {io.cilium/lb-ipam-ips: null}}
    """,
    "cilium.yaml": cilium_release(
        "1.19.6",
        """
        devices: 17
        ipv4NativeRoutingCIDR: [not, a, cidr]
        l2announcements: [on]
        ipam: {mode: cluster-pool, operator: {clusterPoolIPv4PodCIDRList: {a: b}}}
        """,
    ),
}


def test_hostile_shapes_never_raise(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, HOSTILE)
    registry = load_registry()
    rules = [registry.rules[r] for r in sorted(registry.matching(MY_RULES))]
    assert len(rules) == 17
    findings = evaluate(facts, rules, Config())
    found = {f.rule_id for f in findings}
    # The clear problems are still reported among the noise.
    assert {"CL210", "CL212", "CL214", "CL301", "CL302"} <= found
    plan = build_plan(facts)
    assert format_text(plan) and to_json(plan)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("10.0.6.0/24", "10.0.6.0/24"),
        ("10.0.6.7/24", "10.0.6.0/24"),  # masked, like LB-IPAM
        ("2001:db8::/64", "2001:db8::/64"),
        ("10.0.6.0", None),  # Go's ParsePrefix wants the bits
        ("10.0.6.0/255.255.255.0", None),
        ("10.0.6.0/024", None),
        ("10.0.6.0/33", None),
        (" 10.0.6.0/24", None),
        (24, None),
    ],
)
def test_parse_prefix_is_as_strict_as_go(text: object, parsed: str | None) -> None:
    result = parse_prefix(text)
    assert (str(result) if result is not None else None) == parsed


def test_parse_address() -> None:
    assert str(parse_address("10.0.6.1")) == "10.0.6.1"
    assert parse_address("10.0.6.01") is None
    assert parse_address(" 10.0.6.1") is None
    assert parse_address(None) is None


def test_release_for_picks_the_nearest_cilium_release(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        {
            "clusters/home/cilium.yaml": cilium_release("1.19.6", "ipam: {mode: kubernetes}"),
            "clusters/lab/cilium.yaml": cilium_release("1.17.18", "ipam: {mode: kubernetes}"),
        },
    )
    home, lab = sorted(facts.cilium, key=lambda r: r.release.obj.doc.path)
    assert release_for(facts.cilium, "clusters/home/apps/svc.yaml") is home
    assert release_for(facts.cilium, "clusters/lab/pool.yaml") is lab
    assert release_for(facts.cilium, "shared/pool.yaml") is None  # both equally near
    assert release_for([home], "anywhere/else.yaml") is home
    assert release_for([], "x.yaml") is None


@pytest.mark.parametrize(
    ("tag", "api", "severity"),
    [
        ("1.17.18", "cilium.io/v2", Severity.ERROR),  # not served: the pool is not applied
        ("1.19.6", "cilium.io/v2alpha1", Severity.WARNING),  # deprecated, still served
        ("1.18.12", "cilium.io/v2alpha1", None),
        ("1.18.12", "cilium.io/v2", None),
    ],
)
def test_pool_api_version_severity_follows_the_consequence(
    tmp_path: Path, tag: str, api: str, severity: Severity | None
) -> None:
    pool = f"apiVersion: {api}\nkind: CiliumLoadBalancerIPPool\nmetadata: {{name: p}}\n"
    release = cilium_release(tag, "ipam: {mode: kubernetes}")
    facts = facts_of(tmp_path, {"cilium.yaml": release, "pool.yaml": pool})
    rule = load_registry().rules["CL210"]
    found = [f.severity for f in evaluate(facts, [rule], Config())]
    assert found == ([severity] if severity else [])
