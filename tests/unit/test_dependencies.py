"""Unit tests for the value-dependency and chart-key rules (CL110-CL124) and their helpers."""

from __future__ import annotations

import datetime
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from cilium_lint.cilium.durations import parse_duration, show_seconds
from cilium_lint.cilium.effective import ValuesView, flag, parse_version
from cilium_lint.config import load_config
from cilium_lint.engine import Finding, build_tree, lint
from cilium_lint.facts import gather
from cilium_lint.registry import load_registry
from cilium_lint.rules.chart_keys import (
    explained_by_removal,
    go_truthy,
    json_types,
    removed_entry,
    suggest,
)
from cilium_lint.rules.lb_settings import seed_bytes

# --- helpers ----------------------------------------------------------------------------------

RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cilium
  namespace: kube-system
spec:
  interval: 1h
  chart:
    spec:
      chart: cilium
      version: {version}
      sourceRef:
        kind: HelmRepository
        name: cilium
{values_from}  values:
{values}"""


def _tree(tmp_path: Path, values: str, version: str, select: str, values_from: str = "") -> Path:
    body = textwrap.indent(textwrap.dedent(values).strip("\n") + "\n", "    ")
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "helmrelease.yaml").write_text(
        RELEASE.format(version=version, values=body, values_from=values_from)
    )
    (tmp_path / ".cilium-lint.yaml").write_text(f"select: [{select}]\n")
    return tmp_path


def run(
    tmp_path: Path, values: str, select: str, version: str = "1.19.6", values_from: str = ""
) -> list[Finding]:
    root = _tree(tmp_path, values, version, select, values_from)
    loaded = load_config(None, root)
    report = lint([root], root, loaded.config, load_registry(), config_base=loaded.base)
    return list(report.findings)


def view_of(tmp_path: Path, values: str, version: str = "1.19.6") -> ValuesView:
    root = _tree(tmp_path, values, version, "CL110")
    loaded = load_config(None, root)
    tree, _ = build_tree([root], root, loaded.config, loaded.base)
    facts = gather(tree, loaded.config)
    assert len(facts.cilium) == 1
    return ValuesView(facts.cilium[0])


KPR = """
kubeProxyReplacement: true
k8sServiceHost: 127.0.0.1
k8sServicePort: 7445
"""

# --- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("15s", Decimal(15)),
        ("1m30s", Decimal(90)),
        ("500ms", Decimal("0.5")),
        ("1.5s", Decimal("1.5")),
        (".5s", Decimal("0.5")),
        ("5.s", Decimal(5)),
        ("1h", Decimal(3600)),
        ("2us", Decimal("0.000002")),
        ("-1s", Decimal(-1)),
        ("0", Decimal(0)),
        (0, Decimal(0)),
    ],
)
def test_go_durations_parse(value: object, seconds: Decimal) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["15", 15, 1.5, "", ".s", "s", "1d", "2s3", "1 s", True, None])
def test_what_go_refuses_is_none(value: object) -> None:
    assert parse_duration(value) is None


def test_durations_print_like_go() -> None:
    assert show_seconds(Decimal("2.5")) == "2.5s"
    assert show_seconds(Decimal("0.2")) == "200ms"
    assert show_seconds(Decimal(15)) == "15s"


# --- small helpers ----------------------------------------------------------------------------


def test_seed_bytes_counts_standard_base64() -> None:
    assert seed_bytes("JLfvgnHc2kaSUFaI") == 12
    assert seed_bytes("c2VlZA==") == 4
    assert seed_bytes("c2VlZA") is None  # Go's StdEncoding wants the padding
    assert seed_bytes("home-cluster-seed") is None
    assert seed_bytes(123) is None


def test_suggest_prefers_the_same_name_in_another_case() -> None:
    siblings = frozenset({"loadBalancer", "l2announcements", "kubeProxyReplacement", "l7Proxy"})
    assert suggest("loadbalancer", siblings) == "loadBalancer"
    assert suggest("l2Announcements", siblings) == "l2announcements"
    assert suggest("kubeproxyReplacment", siblings) == "kubeProxyReplacement"
    assert suggest("bandwidthManager", siblings) is None


def test_json_types_follow_helm_conversion() -> None:
    assert json_types(True) == {"boolean"}
    assert json_types(3) == {"integer", "number"}
    assert json_types(3.0) == {"integer", "number"}
    assert json_types(3.5) == {"number"}
    assert json_types("true") == {"string"}
    assert json_types(datetime.date(2024, 1, 1)) == {"string"}
    assert json_types([]) == {"array"}
    assert json_types({}) == {"object"}


def test_go_truthiness() -> None:
    assert not any(go_truthy(v) for v in (None, False, 0, "", {}, []))
    assert all(go_truthy(v) for v in (True, 1, "vxlan", {"a": 1}, ["x"]))


def test_flag_reads_like_parse_bool() -> None:
    assert flag(True) and flag("true") and flag("True") and flag(1)
    assert not flag("yes") and not flag(False) and not flag(None) and not flag("false")


def test_parse_version_only_takes_exact_versions() -> None:
    assert parse_version("v1.19.6") == (1, 19, 6)
    assert parse_version("1.18.0-pre.1") == (1, 18, 0)
    assert parse_version("1.19.x") is None
    assert parse_version(">=1.18.0") is None


def test_removed_entries_depend_on_the_version() -> None:
    assert removed_entry(("nodePort", "enabled"), (1, 18, 7)) is None
    assert removed_entry(("nodePort", "enabled"), (1, 19, 0)) is not None
    assert removed_entry(("l2podAnnouncements", "interface"), (1, 19, 4)) is None
    early = removed_entry(("externalIPs", "enabled"), (1, 17, 5))
    late = removed_entry(("externalIPs", "enabled"), (1, 17, 6))
    assert early is not None and late is not None and early is not late
    assert removed_entry(("tunnel",), (1, 20, 0)) is None  # guards only known up to 1.19
    assert explained_by_removal(("proxy",), (1, 19, 6))
    assert not explained_by_removal(("proxy",), (1, 20, 0))


# --- the effective values ----------------------------------------------------------------------


def test_routing_mode_follows_the_cloud_switches(tmp_path: Path) -> None:
    assert view_of(tmp_path / "a", "ipam:\n  mode: kubernetes").routing_mode() == "tunnel"
    assert view_of(tmp_path / "b", "gke:\n  enabled: true").routing_mode() == "native"
    eni = "eni:\n  enabled: true"
    assert view_of(tmp_path / "c", eni, "1.19.6").routing_mode() == "native"
    assert view_of(tmp_path / "d", eni, "1.18.7").routing_mode() == "tunnel"


def test_ipv4_masquerade_default_changes_in_1_18(tmp_path: Path) -> None:
    eni = "eni:\n  enabled: true"
    assert view_of(tmp_path / "a", eni, "1.17.13").ipv4_masquerade()
    assert not view_of(tmp_path / "b", eni, "1.18.7").ipv4_masquerade()
    older = eni + '\nupgradeCompatibility: "1.17"'
    assert view_of(tmp_path / "c", older, "1.18.7").ipv4_masquerade()
    assert view_of(tmp_path / "d", "routingMode: native", "1.19.6").ipv4_masquerade()


# --- rules on small trees ----------------------------------------------------------------------


def test_kpr_without_api_server_is_reported_at_kpr(tmp_path: Path) -> None:
    found = run(tmp_path, "kubeProxyReplacement: true", "CL110")
    assert [f.rule_id for f in found] == ["CL110"]
    assert "k8sServiceHost is unset and k8sServicePort is unset" in found[0].message
    assert found[0].location.span.line == 16  # the kubeProxyReplacement line


def test_values_that_cannot_be_read_keep_the_rules_silent(tmp_path: Path) -> None:
    values_from = "  valuesFrom:\n    - kind: Secret\n      name: cilium-secret-values\n"
    found = run(tmp_path, "kubeProxyReplacement: true", "CL110", values_from=values_from)
    assert found == []  # the Secret (not in the tree) may set k8sServiceHost


def test_flux_variables_keep_the_rules_silent(tmp_path: Path) -> None:
    values = 'kubeProxyReplacement: true\nk8sServiceHost: "${API_HOST}"\nk8sServicePort: ""'
    assert run(tmp_path, values, "CL110") == []


def test_dsr_checks_stop_at_the_first_agent_error(tmp_path: Path) -> None:
    values = KPR + "loadBalancer:\n  mode: dsr\n  dsrDispatch: geneve"
    found = run(tmp_path, values, "CL113")
    assert len(found) == 1 and "VXLAN" in found[0].message


def test_lease_order_uses_the_substituted_renew_deadline(tmp_path: Path) -> None:
    # leaseDuration 5s <= renewDeadline 5s: the agent uses 2.5s, which is still > 1.2 x 2s.
    values = (
        KPR + "l2announcements:\n  enabled: true\n  leaseDuration: 5s\n  leaseRenewDeadline: 5s"
    )
    found = run(tmp_path, values, "CL118")
    assert len(found) == 1 and "renew deadline of 2.5s" in found[0].message


def test_lease_timings_need_l2_announcements(tmp_path: Path) -> None:
    values = KPR + "l2announcements:\n  enabled: false\n  leaseDuration: 15"
    assert run(tmp_path, values, "CL118,CL119") == []


def test_rate_limit_counts_services_once(tmp_path: Path) -> None:
    services = "".join(
        textwrap.dedent(f"""\
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: svc{i}
              namespace: default
              annotations:
                lbipam.cilium.io/ips: 10.0.6.{i + 10},10.0.6.{i + 100}
            spec:
              type: LoadBalancer
              ports:
                - port: 80
            """)
        for i in range(11)
    )
    (tmp_path / "services.yaml").write_text(services)
    values = KPR + "l2announcements:\n  enabled: true\n  leaseRenewDeadline: 1s"
    found = run(tmp_path, values, "CL119")
    assert len(found) == 1
    assert "renew 11 LoadBalancer services" in found[0].message
    assert "qps >= 11" in found[0].message


def test_rate_limit_safety_factor_is_a_validated_parameter(tmp_path: Path) -> None:
    from cilium_lint.rules.lb_settings import RateLimitParams

    assert RateLimitParams.model_validate({"safety-factor": 2}).safety_factor == 2
    with pytest.raises(ValueError):
        RateLimitParams.model_validate({"safety-factor": 0})
    with pytest.raises(ValueError):
        RateLimitParams.model_validate({"factor": 2})


def test_value_type_skips_null_and_keys_with_a_policy_rule(tmp_path: Path) -> None:
    values = 'bpf:\n  masquerade: null\nkubeProxyReplacement: "true"\nprometheus:\n  enabled: "1"'
    found = run(tmp_path, values, "CL123")
    # prometheus.enabled has its own policy rule (CL401); null deletes a key in Helm.
    assert found == []


def test_unknown_key_is_reported_once_at_the_top_unknown_key(tmp_path: Path) -> None:
    values = "l2Announcements:\n  enabled: true\n  leaseDuration: 5s"
    found = run(tmp_path, values, "CL124")
    assert [f.message.split(" ")[0] for f in found] == ["l2Announcements"]


def test_removed_key_is_left_to_cl122_not_cl124(tmp_path: Path) -> None:
    found = run(tmp_path, "tunnel: vxlan\nproxy:\n  prometheus:\n    enabled: true", "CL122,CL124")
    assert sorted(f.rule_id for f in found) == ["CL122", "CL122"]
    assert all("refuses to render" in f.message for f in found)


def test_removed_key_on_a_newer_chart_is_an_unknown_key(tmp_path: Path) -> None:
    found = run(tmp_path, "tunnel: vxlan", "CL122,CL124", version="1.20.0")
    assert [f.rule_id for f in found] == ["CL124"]


@pytest.mark.parametrize(
    "values",
    [
        "kubeProxyReplacement: [true]",
        "loadBalancer: dsr",
        "maglev:\n  tableSize: {a: 1}\n  hashSeed: [1]\nloadBalancer:\n  algorithm: maglev",
        "l2announcements:\n  enabled: true\n  leaseDuration: {}\n  leaseRenewDeadline: [1]",
        "hubble: true\nprometheus: []\noperator: 5",
        "k8sClientRateLimit: {qps: x}\nl2announcements: {enabled: true}",
        "routingMode: {native: true}\nautoDirectNodeRoutes: [1]",
    ],
)
def test_odd_shapes_never_raise(tmp_path: Path, values: str) -> None:
    run(tmp_path, values, "CL11,CL12")


def test_kpr_dependents_wait_only_for_an_unknown_kpr(tmp_path: Path) -> None:
    values_from = "  valuesFrom:\n    - kind: Secret\n      name: cilium-secret-values\n"
    maglev = "loadBalancer:\n  algorithm: maglev"
    # kubeProxyReplacement unset: the unread Secret may set it, so nothing is said.
    assert run(tmp_path / "a", maglev, "CL117", values_from=values_from) == []
    # kubeProxyReplacement written false: the Secret cannot be merged under an inline value.
    found = run(
        tmp_path / "b", "kubeProxyReplacement: false\n" + maglev, "CL117", values_from=values_from
    )
    assert [f.rule_id for f in found] == ["CL117"]


def test_rate_limit_counts_only_the_services_of_the_release_cluster(tmp_path: Path) -> None:
    def service(name: str) -> str:
        return (
            f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n"
            "  namespace: default\nspec:\n  type: LoadBalancer\n  ports:\n    - port: 80\n"
        )

    values = KPR + "l2announcements:\n  enabled: true\n  leaseRenewDeadline: 1s"
    for cluster, count in (("home", 12), ("lab", 3)):
        folder = tmp_path / "clusters" / cluster
        _tree(folder / "cilium", values, "1.19.6", "CL119")
        (folder / "services.yaml").write_text("".join(service(f"s{i}") for i in range(count)))
    (tmp_path / "clusters" / "home" / "cilium" / ".cilium-lint.yaml").unlink()
    (tmp_path / "clusters" / "lab" / "cilium" / ".cilium-lint.yaml").unlink()
    (tmp_path / "shared.yaml").write_text(service("shared"))  # no single cluster: counts for both
    (tmp_path / ".cilium-lint.yaml").write_text("select: [CL119]\n")
    loaded = load_config(None, tmp_path)
    report = lint([tmp_path], tmp_path, loaded.config, load_registry(), config_base=loaded.base)
    assert [
        (f.location.path.split("/")[1], f.message.split(" renew ")[1][:2]) for f in report.findings
    ] == [("home", "13")]
