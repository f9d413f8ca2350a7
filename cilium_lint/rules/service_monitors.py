"""ServiceMonitors in the Cilium chart: created only with metrics on, and only where the
Prometheus-operator CRDs exist (or are trusted to)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel

from cilium_lint.cilium.cluster import release_for
from cilium_lint.cilium.effective import ValuesView, flag, release_views, values_path
from cilium_lint.cilium.release import CiliumRelease
from cilium_lint.rules.api import Hit, NoParams, Related, RuleMeta, Severity

if TYPE_CHECKING:
    from cilium_lint.facts import Facts


@dataclass(frozen=True)
class Monitor:
    component: str
    monitor_key: str  # <x>.serviceMonitor.enabled
    metrics_key: str  # the <x>.prometheus.enabled it depends on


# The chart's ServiceMonitors that render only with their component's metrics on, as checked
# by templates/validate.yaml (fact sheet §3.1).
MONITORS: Final = (
    Monitor("agent", "prometheus.serviceMonitor.enabled", "prometheus.enabled"),
    Monitor(
        "operator",
        "operator.prometheus.serviceMonitor.enabled",
        "operator.prometheus.enabled",
    ),
    Monitor("Envoy", "envoy.prometheus.serviceMonitor.enabled", "envoy.prometheus.enabled"),
    Monitor(
        "Hubble Relay",
        "hubble.relay.prometheus.serviceMonitor.enabled",
        "hubble.relay.prometheus.enabled",
    ),
)
TRUST_KEY: Final = "prometheus.serviceMonitor.trustCRDsExist"
HUBBLE_MONITOR: Final = "hubble.metrics.serviceMonitor.enabled"
# Charts that install the monitoring.coreos.com CRDs.
OPERATOR_CHARTS: Final = frozenset(
    {"kube-prometheus-stack", "prometheus-operator-crds", "kube-prometheus"}
)
SERVICE_MONITOR_CRD: Final = "servicemonitors.monitoring.coreos.com"


def metrics_state(view: ValuesView, key: str) -> bool | None:
    """Whether metrics are on: the written value, else the chart default when the chart facts
    track it; None when neither is known."""
    found = view.setting(key)
    if found.written:
        return flag(found.value)
    if found.default is not None:
        return flag(found.value)
    return None


def _known(view: ValuesView, dotted: str) -> bool:
    return view.release.chart.is_known_key(values_path(dotted))


class ServiceMonitorWithoutMetrics:
    params = NoParams
    meta = RuleMeta(
        id="CL120",
        name="service-monitor-without-metrics",
        summary="A ServiceMonitor is only enabled together with its component's metrics "
        "(prometheus.enabled).",
        rationale=(
            "The chart renders the agent's, operator's, Envoy's and Hubble Relay's "
            "ServiceMonitor only when that component's `prometheus.enabled` is also true, so "
            "`serviceMonitor.enabled: true` alone is a silent no-op: the review reads "
            '"scraped", Prometheus scrapes nothing [fact sheet §1, §3.1, §10.10, S1].'
        ),
        fix="Set the matching `prometheus.enabled: true` (or drop the ServiceMonitor setting).",
        severity=Severity.WARNING,
        example_fail="prometheus:\n  enabled: false\n  serviceMonitor:\n    enabled: true\n",
        example_pass="prometheus:\n  enabled: true\n  serviceMonitor:\n    enabled: true\n",
        versions="1.17 and later",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in release_views(facts):
            for monitor in MONITORS:
                if not _known(view, monitor.monitor_key) or not view.on(monitor.monitor_key):
                    continue
                if metrics_state(view, monitor.metrics_key) is not False or view.uncertain:
                    continue
                yield Hit(
                    f"{monitor.monitor_key} is true but {view.describe(monitor.metrics_key)}, "
                    f"so the chart creates no ServiceMonitor for the {monitor.component}; "
                    f"expected {monitor.metrics_key}: true",
                    view.location(monitor.monitor_key),
                    view.identity(monitor.monitor_key),
                    (Related(view.location(monitor.metrics_key), monitor.metrics_key),),
                )


def tree_has_prometheus_operator(facts: Facts, release: CiliumRelease) -> bool:
    """The release's cluster installs the monitoring.coreos.com CRDs: a chart that ships them,
    or the ServiceMonitor CRD itself, written in the cluster's folder or a shared one."""

    def ours(path: str) -> bool:
        return release_for(facts.cilium, path) in (release, None)

    if any(r.chart in OPERATOR_CHARTS and ours(r.obj.doc.path) for r in facts.releases):
        return True
    return any(
        crd.name == SERVICE_MONITOR_CRD and ours(crd.doc.path)
        for crd in facts.tree.of_kind("CustomResourceDefinition", "apiextensions.k8s.io")
    )


def _enabled_monitors(view: ValuesView) -> list[tuple[str, str]]:
    """(key, component) of every ServiceMonitor the chart will render."""
    found = [
        (m.monitor_key, m.component)
        for m in MONITORS
        if _known(view, m.monitor_key)
        and view.on(m.monitor_key)
        and metrics_state(view, m.metrics_key)
    ]
    metrics = view.value("hubble.metrics.enabled")
    if view.on("hubble.enabled") and metrics and view.on(HUBBLE_MONITOR):
        found.append((HUBBLE_MONITOR, "Hubble"))
    return found


class ServiceMonitorCrds:
    params = NoParams
    meta = RuleMeta(
        id="CL121",
        name="service-monitor-crds",
        summary="ServiceMonitors are only enabled where the Prometheus-operator CRDs exist "
        "(or prometheus.serviceMonitor.trustCRDsExist is true).",
        rationale=(
            "When Helm does not know `monitoring.coreos.com/v1`, the chart refuses to render "
            "with a ServiceMonitor enabled (`Service Monitor requires monitoring.coreos.com/v1 "
            "CRDs`) unless `prometheus.serviceMonitor.trustCRDsExist: true`; and no "
            "ServiceMonitor can be created without its CRD. The tree is taken to install the "
            "CRDs when it has a kube-prometheus-stack, kube-prometheus or "
            "prometheus-operator-crds HelmRelease, or the `servicemonitors.monitoring.coreos.com` "
            "CustomResourceDefinition in the release's cluster (the folder nearest to the release) "
            "or in a folder shared by all clusters [fact sheet §3.1, §10.11, S1]."
        ),
        fix=(
            "Install the Prometheus-operator CRDs before Cilium (e.g. the "
            "prometheus-operator-crds chart) and set `prometheus.serviceMonitor.trustCRDsExist: "
            "true` when the chart may render before they exist, or disable the ServiceMonitors."
        ),
        severity=Severity.ERROR,
        example_fail="prometheus:\n  enabled: true\n  serviceMonitor:\n    enabled: true\n",
        example_pass=(
            "prometheus:\n  enabled: true\n  serviceMonitor:\n    enabled: true\n"
            "    trustCRDsExist: true\n"
        ),
        versions="1.17 and later",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in release_views(facts):
            monitors = _enabled_monitors(view)
            if not monitors or view.on(TRUST_KEY) or view.uncertain:
                continue
            if tree_has_prometheus_operator(facts, view.release):
                continue
            for key, component in monitors:
                yield Hit(
                    f"{key} is true ({component} metrics) but the tree installs no "
                    f"Prometheus-operator CRDs for this cluster and {TRUST_KEY} is not true, so "
                    "Helm fails; "
                    "expected the CRDs in the tree or trustCRDsExist: true",
                    view.location(key),
                    view.identity(key),
                )
