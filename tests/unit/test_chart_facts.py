"""Tests for the embedded Cilium chart facts (cilium_lint.cilium.chart_facts)."""

from __future__ import annotations

import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest

from cilium_lint.cilium.chart_facts import (
    ChartDefault,
    facts_for,
    key_versions,
    known_versions,
    select_version,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "tools" / "derive_chart_facts.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive_chart_facts", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


# --- versions ---------------------------------------------------------------------------------


def test_known_versions_sorted() -> None:
    versions = known_versions()
    assert versions == ("1.17.0", "1.17.18", "1.18.0", "1.18.12", "1.19.0", "1.19.6", "1.20.0")


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [
        ("1.18.5", "1.18.0"),
        ("1.18.12", "1.18.12"),
        ("1.18.13", "1.18.12"),
        ("v1.19.3", "1.19.0"),
        ("V1.19.3", "1.19.0"),
        (None, "1.20.0"),
        ("", "1.20.0"),
        ("1.16.0", "1.17.0"),
        ("1.9.0", "1.17.0"),
        ("1.19", "1.19.6"),
        ("1.19.x", "1.19.6"),
        ("1.19.*", "1.19.6"),
        ("~1.18.3", "1.18.12"),
        ("^1.17.0", "1.20.0"),
        (">=1.18.0 <1.20.0", "1.19.6"),
        (">=1.18.0, <1.19.0", "1.18.12"),
        ("<=1.19.0", "1.19.0"),
        ("<1.17.0", "1.17.0"),
        (">=1.18.0", "1.20.0"),
        ("1.17.0 - 1.18.4", "1.18.0"),
        ("1.17.x || 1.19.1", "1.19.0"),
        ("1.19.0-pre.2", "1.19.0"),
        ("1.21.3", "1.20.0"),
        ("*", "1.20.0"),
        ("latest", "1.20.0"),
        ("garbage", "1.20.0"),
    ],
)
def test_version_selection(requested: str | None, chosen: str) -> None:
    facts = facts_for(requested)
    assert facts.version == chosen
    assert facts.requested == requested
    assert select_version(requested) == chosen


def test_select_version_with_explicit_list() -> None:
    assert select_version("1.5.2", ("1.4.0", "1.10.0", "1.5.0")) == "1.5.0"
    assert select_version("1.10", ("1.4.0", "1.10.0", "1.5.0")) == "1.10.0"


# --- defaults ---------------------------------------------------------------------------------


def test_cni_exclusive_written_true() -> None:
    d = facts_for("1.19.6").default(("cni", "exclusive"))
    assert d == ChartDefault(value=True, written=True, effective=True)


def test_load_balancer_algorithm_commented() -> None:
    for version in known_versions():
        d = facts_for(version).default(("loadBalancer", "algorithm"))
        assert d is not None
        assert d.written is False
        assert d.value is None
        assert d.example == "random"
        assert d.effective == "random"


def test_kube_proxy_replacement_commented_then_written() -> None:
    old = facts_for("1.17.0").default(("kubeProxyReplacement",))
    assert old is not None
    assert old.written is False
    assert old.example == "false"  # the quoted "false" of the comment: a string
    assert old.effective == "false"
    new = facts_for("1.18.12").default(("kubeProxyReplacement",))
    assert new == ChartDefault(value="false", written=True, effective="false")


def test_routing_mode_and_tunnel_protocol_effective() -> None:
    routing = facts_for(None).default(("routingMode",))
    assert routing == ChartDefault(value="", written=True, effective="tunnel")
    tunnel = facts_for(None).default(("tunnelProtocol",))
    assert tunnel is not None and tunnel.effective == "vxlan"


def test_effective_notes() -> None:
    f17, f18 = facts_for("1.17.0"), facts_for("1.18.0")
    mode = f18.default(("loadBalancer", "mode"))
    dispatch = f18.default(("loadBalancer", "dsrDispatch"))
    assert mode is not None and mode.effective == "snat"
    assert dispatch is not None and dispatch.effective == "opt"
    masq17 = f17.default(("enableIPv4Masquerade",))
    masq18 = f18.default(("enableIPv4Masquerade",))
    assert masq17 == ChartDefault(value=True, written=True, effective=True)
    assert masq18 == ChartDefault(value=None, written=True, effective=True)
    for version in known_versions():
        devices = facts_for(version).default(("devices",))
        assert devices is not None and devices.effective == "auto-detected"
    devices20 = facts_for("1.20.0").default(("devices",))
    assert devices20 == ChartDefault(value="", written=True, effective="auto-detected")


def test_commented_examples_parsed_as_yaml() -> None:
    f = facts_for("1.19.0")
    lease = f.default(("l2announcements", "leaseDuration"))
    assert lease is not None and lease.example == "15s" and not lease.written
    host_ns = f.default(("socketLB", "hostNamespaceOnly"))
    assert host_ns is not None and host_ns.example is False  # unquoted false: a bool
    table = f.default(("maglev", "tableSize"))
    assert table is not None and table.example is None and table.effective == 16381


def test_untracked_or_removed_key_has_no_default() -> None:
    assert facts_for(None).default(("hubble", "relay", "replicas")) is None
    assert facts_for("1.19.0").default(("nodePort", "enabled")) is None
    assert facts_for("1.18.12").default(("nodePort", "enabled")) is not None


# --- keys -------------------------------------------------------------------------------------


def test_known_and_unknown_keys() -> None:
    f = facts_for("1.19.6")
    assert f.is_known_key(("l2announcements", "enabled"))
    assert not f.is_known_key(("l2Announcements",))
    assert not f.is_known_key(("l2Announcements", "enabled"))
    assert not f.is_known_key(("loadbalancer",))
    assert f.is_known_key(("loadBalancer",))
    assert f.is_known_key(("loadBalancer", "algorithm"))  # only commented in values.yaml
    assert not f.is_known_key(("loadBalancer", "algorythm"))
    assert f.is_known_key(())
    assert not f.is_known_key(("cni", "exclusive", "deeper"))


def test_open_objects() -> None:
    f = facts_for("1.18.0")
    assert f.is_known_key(("podAnnotations", "foo"))
    assert f.is_known_key(("podAnnotations", "foo", "bar"))
    assert f.children(("podAnnotations",)) is None
    assert f.children(("podAnnotations", "foo")) is None
    assert f.key_types(("podAnnotations", "foo")) is None
    # maglev: {} with commented children: open, the commented children listed
    assert f.is_known_key(("maglev", "tableSize"))
    assert f.is_known_key(("maglev", "anything"))
    assert f.children(("maglev",)) is None
    # Kubernetes objects passed through: open though the schema lists some children
    assert f.is_known_key(("nodeSelector", "kubernetes.io/os"))
    assert f.key_types(("nodeSelector", "kubernetes.io/os")) == ("string",)
    assert f.is_known_key(("nodeSelector", "disktype"))
    assert f.is_known_key(("operator", "podSecurityContext", "runAsUser"))


def test_devices_known_in_every_version() -> None:
    for version in known_versions():
        f = facts_for(version)
        assert f.is_known_key(("devices",)), version
    assert facts_for("1.19.6").key_types(("devices",)) is None  # commented: no schema
    assert not facts_for("1.19.6").in_schema(("devices",))
    assert facts_for("1.20.0").key_types(("devices",)) == ("null", "string", "array")
    assert facts_for("1.20.0").in_schema(("devices",))


def test_types_children_and_leaves() -> None:
    f = facts_for("1.19.6")
    assert f.key_types(("kubeProxyReplacement",)) == ("string", "boolean")
    assert facts_for("1.17.0").key_types(("kubeProxyReplacement",)) is None
    assert f.key_types(("hubble", "metrics", "enabled")) == ("null", "array")
    assert f.key_types(("no", "such")) is None
    lb = f.children(("l2announcements",))
    assert lb is not None
    assert {"enabled", "leaseDuration", "leaseRenewDeadline", "leaseRetryPeriod"} <= lb
    assert f.children(("cni", "exclusive")) == frozenset()
    assert f.is_leaf(("cni", "exclusive")) is True
    assert f.is_leaf(("cni",)) is False
    assert f.is_leaf(("podAnnotations",)) is False
    assert f.is_leaf(("nope",)) is None
    top = f.children(())
    assert top is not None and {"routingMode", "devices", "loadBalancer", "cni"} <= top
    # enum-only schema node: types inferred from the enum
    assert f.key_types(("envoy", "log", "defaultLevel")) == ("null", "string")


def test_removed_keys_unknown_after_removal() -> None:
    # cilium-facts.md §1: externalIPs.enabled gone 1.17.6, hostPort.enabled gone 1.18.0,
    # nodePort.enabled gone 1.19.0, l2podAnnouncements.interface gone 1.19.5.
    assert facts_for("1.17.0").is_known_key(("externalIPs", "enabled"))
    assert not facts_for("1.17.18").is_known_key(("externalIPs", "enabled"))
    assert facts_for("1.17.18").is_known_key(("hostPort", "enabled"))
    assert not facts_for("1.18.0").is_known_key(("hostPort", "enabled"))
    assert facts_for("1.18.12").is_known_key(("nodePort", "enabled"))
    assert not facts_for("1.19.0").is_known_key(("nodePort", "enabled"))
    assert facts_for("1.19.0").is_known_key(("l2podAnnouncements", "interface"))
    assert not facts_for("1.19.6").is_known_key(("l2podAnnouncements", "interface"))
    assert key_versions(("nodePort", "enabled")) == ("1.17.0", "1.17.18", "1.18.0", "1.18.12")
    assert key_versions(("k8sServiceHostRef",))[0] == "1.18.0"
    assert key_versions(("loadbalancer",)) == ()
    # commented without an example in every version: still a known key
    assert key_versions(("nodePort", "directRoutingDevice")) == known_versions()


# --- the data file ----------------------------------------------------------------------------


def _data_text() -> str:
    return (
        resources.files("cilium_lint.cilium")
        .joinpath("data", "chart_facts.json")
        .read_text(encoding="utf-8")
    )


def test_data_file_small_and_canonical() -> None:
    text = _data_text()
    assert len(text.encode()) < 300_000
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"
    assert data["versions"] == list(known_versions())
    for name, sha in data["source"]["files"].items():
        assert "/" not in name
        assert len(sha) == 64


def test_data_file_is_up_to_date() -> None:
    """Staleness check: regenerate from the reference data when it is available."""
    script = _load_script()
    reference_dir: Path = script.DEFAULT_REFERENCE_DIR
    if not reference_dir.is_dir():
        pytest.skip("reference data not available (only in the development workspace)")
    assert script.build(reference_dir) == _data_text(), (
        "chart_facts.json is stale: run python tools/derive_chart_facts.py"
    )
