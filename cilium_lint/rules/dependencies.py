"""Values that only work together: what the Cilium chart or agent refuses, for the tree's version.

Each rule reads the release's effective values (written value, else the chart default) through
:class:`~cilium_lint.cilium.effective.ValuesView` and stays silent when a key it needs may be
set somewhere the tree cannot show (an unreadable values source, a Flux variable). The facts
behind every rule are cited in its rationale (cilium-facts.md sections and source tags).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cilium_lint.cilium.effective import ValuesView
from cilium_lint.cilium.effective import release_views as views
from cilium_lint.rules.api import Hit, NoParams, Related, Rule, RuleMeta, Severity
from cilium_lint.rules.lb_settings import (
    L2ClientRateLimit,
    L2LeaseTimings,
    MaglevHashSeed,
    MaglevTableSize,
)

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

ALL_VERSIONS = "1.17 and later"


class KprApiServer:
    params = NoParams
    meta = RuleMeta(
        id="CL110",
        name="kpr-api-server",
        summary="With kube-proxy replacement the agent is told where the API server is "
        "(k8sServiceHost and k8sServicePort).",
        rationale=(
            "Without kube-proxy nothing implements the `kubernetes` ClusterIP Service until the "
            "agent runs, so the agent must reach the API server directly: `k8sServiceHost` and "
            "`k8sServicePort`, or `k8sServiceHost: auto` (looked up from "
            "`kube-public/cluster-info`), or from chart 1.18 `k8sServiceHostRef` (a ConfigMap "
            "key) with `k8sServicePort`. The chart does not check this; the agent cannot reach "
            "the API server and the node never gets pod networking "
            "[fact sheet §3.2, §10.2, S3]."
        ),
        fix=(
            "Set `k8sServiceHost` and `k8sServicePort` to an address every node can reach "
            "without a Service (a load balancer, a VIP, or a node-local proxy such as Talos "
            "KubePrism `127.0.0.1:7445`)."
        ),
        severity=Severity.ERROR,
        example_fail="kubeProxyReplacement: true\n",
        example_pass=(
            "kubeProxyReplacement: true\nk8sServiceHost: 127.0.0.1\nk8sServicePort: 7445\n"
        ),
        versions=ALL_VERSIONS + " (k8sServiceHostRef from 1.18)",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in views(facts):
            if not view.kube_proxy_replacement():
                continue
            host = view.value("k8sServiceHost")
            host_text = str(host).strip() if host not in (None, False) else ""
            if host_text == "auto":
                continue  # the chart looks up host and port (fact sheet §3.1)
            ref_name = view.text("k8sServiceHostRef.name")
            ref = bool(ref_name) and view.version >= (1, 18, 0)
            port = view.value("k8sServicePort")
            missing = []
            if not host_text and not ref:
                missing.append("k8sServiceHost")
            if port in (None, "") or isinstance(port, bool):
                missing.append("k8sServicePort")
            if view.uncertain or not missing:
                continue
            found = " and ".join(
                f"{key} is {'empty' if view.written(key) else 'unset'}" for key in missing
            )
            if ref_name and not ref:
                found += " (k8sServiceHostRef needs chart 1.18 or later)"
            where = next((k for k in missing if view.written(k)), "kubeProxyReplacement")
            yield Hit(
                f"kubeProxyReplacement is true but {found}; without kube-proxy the agent needs "
                "the API server's address: expected k8sServiceHost and k8sServicePort",
                view.location(where),
                view.identity("k8sServiceHost"),
            )


class NativeRoutingCidr:
    params = NoParams
    meta = RuleMeta(
        id="CL111",
        name="native-routing-cidr",
        summary="Native routing with IPv4 masquerading names the natively routed CIDR "
        "(ipv4NativeRoutingCIDR).",
        rationale=(
            "With `routingMode: native`, IPv4 masquerading on, no ip-masq-agent and an IPAM mode "
            "other than `eni`/`alibabacloud`, the agent must know which destinations are routed "
            "without masquerading; without `ipv4NativeRoutingCIDR` it exits at start-up "
            "(`native routing cidr must be configured with option --ipv4-native-routing-cidr`). "
            "From chart 1.18 the chart itself refuses to render when `enableIPv4Masquerade` is "
            "explicitly true. `enableIPv4Masquerade` is true by default in 1.17; from 1.18 null "
            "means true unless `eni.enabled` [fact sheet §1, §3.1, §3.2, §10.3, S1]."
        ),
        fix=(
            "Set `ipv4NativeRoutingCIDR` to the CIDR that is routed between nodes without "
            "masquerading (usually the pod CIDR, e.g. `10.42.0.0/16`)."
        ),
        severity=Severity.ERROR,
        example_fail="routingMode: native\n",
        example_pass="routingMode: native\nipv4NativeRoutingCIDR: 10.42.0.0/16\n",
        versions=ALL_VERSIONS + " (chart-side check from 1.18)",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in views(facts):
            if view.routing_mode() != "native" or not view.ipv4_enabled():
                continue
            if not view.ipv4_masquerade() or view.on("ipMasqAgent.enabled"):
                continue
            if view.text("ipam.mode") in ("eni", "alibabacloud") or view.on("eni.enabled"):
                continue
            if view.text("ipv4NativeRoutingCIDR") or view.uncertain:
                continue
            chart_fails = (
                view.version >= (1, 18, 0)
                and view.text("routingMode") == "native"
                and view.written("enableIPv4Masquerade")
                and view.on("enableIPv4Masquerade")
            )
            outcome = "Helm refuses to render the chart" if chart_fails else "the agent exits"
            where = view.first_written("ipv4NativeRoutingCIDR", "routingMode")
            yield Hit(
                "routingMode is native with IPv4 masquerading on but ipv4NativeRoutingCIDR is "
                f"unset, so {outcome}; set ipv4NativeRoutingCIDR to the natively routed CIDR "
                "(the pod CIDR)",
                view.location(where),
                view.identity("ipv4NativeRoutingCIDR"),
            )


class AutoDirectRoutesTunnel:
    params = NoParams
    meta = RuleMeta(
        id="CL112",
        name="auto-direct-routes-tunnel",
        summary="autoDirectNodeRoutes is only set with native routing.",
        rationale=(
            "`autoDirectNodeRoutes` installs routes to other nodes' pod CIDRs; with tunnel "
            "routing the packets must go through the tunnel device, and the agent exits with "
            "`auto-direct-node-routes cannot be used with tunneling`. An empty `routingMode` "
            "is tunnel routing [fact sheet §1, §3.2, §10.4, S11]."
        ),
        fix=(
            "Set `routingMode: native` (with `ipv4NativeRoutingCIDR`), or drop "
            "`autoDirectNodeRoutes`."
        ),
        severity=Severity.ERROR,
        example_fail="autoDirectNodeRoutes: true\n",
        example_pass=(
            "autoDirectNodeRoutes: true\nroutingMode: native\nipv4NativeRoutingCIDR: 10.42.0.0/16\n"
        ),
        versions=ALL_VERSIONS,
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in views(facts):
            if not view.on("autoDirectNodeRoutes") or view.routing_mode() != "tunnel":
                continue
            if view.uncertain:
                continue
            yield Hit(
                f"autoDirectNodeRoutes is true but {view.describe('routingMode')}, i.e. tunnel "
                "routing, and the agent refuses direct node routes with tunneling; expected "
                "routingMode: native",
                view.location("autoDirectNodeRoutes"),
                view.identity("autoDirectNodeRoutes"),
            )


class DsrDispatch:
    params = NoParams
    meta = RuleMeta(
        id="CL113",
        name="dsr-dispatch",
        summary="DSR's dispatch method fits the routing mode and tunnel protocol.",
        rationale=(
            "With DSR in use (`loadBalancer.mode` dsr or hybrid, or `bpf.lbModeAnnotation`) "
            'the agent refuses, in this order: tunnel routing with VXLAN (`Node Port "dsr" '
            "mode cannot be used with vxlan tunneling`); tunnel routing with a dispatch other "
            "than geneve (`requires geneve dispatch`); `loadBalancer.dsrDispatch: geneve` with a "
            "tunnel protocol other than geneve, also under native routing (`requires geneve "
            "tunnel protocol`). Empty `routingMode` is tunnel, empty `tunnelProtocol` is vxlan, "
            "unset `dsrDispatch` is opt. The checks run with kube-proxy replacement "
            "[fact sheet §1, §3.2, §10.5, S3, S9]."
        ),
        fix=(
            "Use native routing (`routingMode: native`, dispatch `opt`), or Geneve everywhere "
            "(`tunnelProtocol: geneve` with `loadBalancer.dsrDispatch: geneve`)."
        ),
        severity=Severity.ERROR,
        example_fail="kubeProxyReplacement: true\nloadBalancer:\n  mode: dsr\n",
        example_pass=(
            "kubeProxyReplacement: true\nroutingMode: native\nipv4NativeRoutingCIDR: 10.42.0.0/16"
            "\nloadBalancer:\n  mode: dsr\n"
        ),
        versions=ALL_VERSIONS,
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in views(facts):
            if not view.bpf_node_port() or not view.uses_dsr():
                continue
            routing = view.routing_mode()
            protocol = view.tunnel_protocol()
            dispatch = view.text("loadBalancer.dsrDispatch") or "opt"
            if view.uncertain:
                continue
            dsr_key = (
                "loadBalancer.mode"
                if view.text("loadBalancer.mode") in ("dsr", "hybrid")
                else "bpf.lbModeAnnotation"
            )
            dsr = f"DSR ({view.describe(dsr_key)})"
            if routing == "tunnel" and protocol == "vxlan":
                yield Hit(
                    f"{dsr} with tunnel routing over VXLAN ({view.describe('routingMode')}, "
                    f"{view.describe('tunnelProtocol')}); the agent refuses DSR with VXLAN: "
                    "expected routingMode: native, or tunnelProtocol: geneve with "
                    "loadBalancer.dsrDispatch: geneve",
                    view.location(dsr_key),
                    view.identity(dsr_key),
                )
            elif routing == "tunnel" and dispatch != "geneve":
                yield Hit(
                    f"{dsr} with tunnel routing but {view.describe('loadBalancer.dsrDispatch')}"
                    "; tunnel routing with DSR needs loadBalancer.dsrDispatch: geneve",
                    view.location(view.first_written("loadBalancer.dsrDispatch", dsr_key)),
                    view.identity("loadBalancer.dsrDispatch"),
                )
            elif dispatch == "geneve" and protocol != "geneve":
                yield Hit(
                    "loadBalancer.dsrDispatch is geneve but "
                    f"{view.describe('tunnelProtocol')}; geneve dispatch needs "
                    "tunnelProtocol: geneve (also with native routing)",
                    view.location("loadBalancer.dsrDispatch"),
                    view.identity("loadBalancer.dsrDispatch"),
                )


class LbModeAnnotation:
    params = NoParams
    meta = RuleMeta(
        id="CL114",
        name="lb-mode-annotation",
        summary="Per-service LB mode is enabled with bpf.lbModeAnnotation, not "
        "loadBalancer.mode: annotation, and its default mode is snat or dsr.",
        rationale=(
            "The agent accepts only `snat`, `dsr` and `hybrid` for `loadBalancer.mode` and "
            "exits on anything else; `annotation` appears in the kube-proxy-free docs but is "
            "not a mode: per-service modes are switched on with `bpf.lbModeAnnotation: true`. "
            "Under annotation mode the default mode cannot be hybrid (`The value "
            "--bpf-lb-mode=hybrid is not supported as default under annotation mode`) "
            "[fact sheet §1, §3.2, §10.5, S3, S8, S9]."
        ),
        fix=(
            "Set `bpf.lbModeAnnotation: true` and keep `loadBalancer.mode` at `snat` or `dsr` "
            "(the default for services without the `service.cilium.io/forwarding-mode` "
            "annotation)."
        ),
        severity=Severity.ERROR,
        example_fail="loadBalancer:\n  mode: annotation\n",
        example_pass="bpf:\n  lbModeAnnotation: true\nloadBalancer:\n  mode: dsr\n",
        versions=ALL_VERSIONS,
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in views(facts):
            mode = view.text("loadBalancer.mode")
            annotation = view.on("bpf.lbModeAnnotation")
            if view.uncertain:
                continue
            if mode == "annotation":
                yield Hit(
                    "loadBalancer.mode is annotation, which is not a mode, so the agent exits; "
                    "expected bpf.lbModeAnnotation: true with loadBalancer.mode snat or dsr",
                    view.location("loadBalancer.mode"),
                    view.identity("loadBalancer.mode"),
                )
            elif annotation and mode == "hybrid":
                yield Hit(
                    "loadBalancer.mode is hybrid with bpf.lbModeAnnotation true, and the agent "
                    "refuses hybrid as the default under annotation mode; expected snat or dsr",
                    view.location("loadBalancer.mode"),
                    view.identity("loadBalancer.mode"),
                    (Related(view.location("bpf.lbModeAnnotation"), "bpf.lbModeAnnotation"),),
                )


# (key, why it needs KPR) for settings that only act with Cilium's eBPF service load balancer.
_NEEDS_KPR: tuple[tuple[str, str], ...] = (
    ("loadBalancer.algorithm", "Maglev hashing only applies in Cilium's eBPF service LB"),
    ("loadBalancer.mode", "DSR is a mode of Cilium's eBPF service LB"),
    ("bpf.lbModeAnnotation", "per-service DSR is a mode of Cilium's eBPF service LB"),
    ("loadBalancer.acceleration", "XDP acceleration accelerates Cilium's eBPF service LB"),
    ("bpf.masquerade", "BPF masquerading needs the eBPF NodePort datapath"),
    ("l2announcements.enabled", "Cilium documents L2 announcements for kube-proxy replacement"),
)


class RequiresKubeProxyReplacement:
    params = NoParams
    meta = RuleMeta(
        id="CL117",
        name="requires-kube-proxy-replacement",
        summary="Maglev, DSR, XDP acceleration, BPF masquerading and L2 announcements are "
        "only enabled together with kube-proxy replacement.",
        rationale=(
            "These settings belong to Cilium's eBPF service load balancer, which runs with "
            "`kubeProxyReplacement: true`: Maglev and DSR are documented only with it "
            "(without it kube-proxy balances services and the settings do nothing), XDP "
            "acceleration needs it, the agent up to 1.18 exits with `BPF masquerade requires "
            "NodePort`, and L2 announcements list it as a prerequisite (without it LoadBalancer "
            "IPs are not answered as expected). Before 1.19 the deprecated `nodePort.enabled` "
            "also runs the eBPF load balancer [fact sheet §3.2, §8, §10.6-§10.8, S3, S5, S9, S18]."
        ),
        fix=(
            "Set `kubeProxyReplacement: true` (with `k8sServiceHost`/`k8sServicePort`), or "
            "drop the setting that needs it."
        ),
        severity=Severity.ERROR,
        example_fail="loadBalancer:\n  algorithm: maglev\n",
        example_pass=(
            "kubeProxyReplacement: true\nk8sServiceHost: 127.0.0.1\nk8sServicePort: 7445\n"
            "loadBalancer:\n  algorithm: maglev\n"
        ),
        versions=ALL_VERSIONS,
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in views(facts):
            # L2 announcements name KPR itself; the rest need the eBPF NodePort datapath.
            node_port = view.bpf_node_port()
            kpr = view.kube_proxy_replacement()
            if view.uncertain:
                continue  # an unread source may turn KPR on; dependents unset read as off
            kpr_text = view.describe("kubeProxyReplacement")
            related = (Related(view.location("kubeProxyReplacement"), "kubeProxyReplacement"),)
            for key, why in _NEEDS_KPR:
                if not self._needs(view, key) or (kpr if key.startswith("l2") else node_port):
                    continue
                yield Hit(
                    f"{view.describe(key)} but {kpr_text}; {why}, which needs "
                    "kubeProxyReplacement: true",
                    view.location(key),
                    view.identity(key),
                    related,
                )

    @staticmethod
    def _needs(view: ValuesView, key: str) -> bool:
        if key == "loadBalancer.algorithm":
            return view.text(key) == "maglev"
        if key == "loadBalancer.mode":
            return view.text(key) in ("dsr", "hybrid")
        if key == "loadBalancer.acceleration":
            return view.text(key) not in ("", "disabled")
        return view.on(key)


def dependency_rules() -> list[Rule]:
    """CL110-CL119: dependencies between Cilium values."""
    return [
        KprApiServer(),
        NativeRoutingCidr(),
        AutoDirectRoutesTunnel(),
        DsrDispatch(),
        LbModeAnnotation(),
        MaglevTableSize(),
        MaglevHashSeed(),
        RequiresKubeProxyReplacement(),
        L2LeaseTimings(),
        L2ClientRateLimit(),
    ]
