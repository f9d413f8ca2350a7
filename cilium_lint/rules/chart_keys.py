"""Written values the chart ignores or refuses: removed keys, wrong YAML types, unknown keys.

CL123 and CL124 read the chart's own key list and schema types (chart facts, derived from each
version's values.schema.json); CL122 adds what those facts cannot say: keys that stay in the
chart but do nothing, keys removed between sampled versions, and keys the chart's templates
refuse. That table cites the fact sheet.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel

from cilium_lint.cilium.chart_facts import KeyPath, key_versions, suggest
from cilium_lint.cilium.effective import ValuesView, Version, release_views, substituted
from cilium_lint.cilium.expect import show
from cilium_lint.quoting import clean
from cilium_lint.rules.api import Hit, NoParams, Related, Rule, RuleMeta, Severity
from cilium_lint.rules.service_monitors import ServiceMonitorCrds, ServiceMonitorWithoutMetrics

if TYPE_CHECKING:
    from cilium_lint.facts import Facts


@dataclass(frozen=True)
class RemovedKey:
    path: tuple[str, ...]
    since: Version  # first chart version where the entry applies
    until: Version | None  # first chart version where it no longer applies
    effect: str  # what the chart does with it, for the message
    instead: str = ""  # what to set instead
    refused: bool = False  # the chart's templates fail on a non-empty value


_ONLY_PARTIAL = (
    "reads it only for kubeProxyReplacement partial, which it refuses, so it does nothing"
)
_REFUSED_UNTIL: Final = (1, 20, 0)  # guards read in the 1.19 templates (fact sheet §3.1)

# Fact sheet §1 ("Keys that disappeared from values.yaml"), §3.1 (removed-key guards), §8.
REMOVED_KEYS: Final = (
    RemovedKey(("externalIPs", "enabled"), (1, 17, 0), (1, 17, 6), _ONLY_PARTIAL),
    RemovedKey(
        ("externalIPs", "enabled"),
        (1, 17, 6),
        None,
        "dropped it in 1.17.6, so it does nothing",
        "kubeProxyReplacement: true handles external IPs",
    ),
    RemovedKey(("hostPort", "enabled"), (1, 17, 0), (1, 18, 0), _ONLY_PARTIAL),
    RemovedKey(
        ("hostPort", "enabled"),
        (1, 18, 0),
        None,
        "dropped it in 1.18.0, so it does nothing",
        "kubeProxyReplacement: true handles host ports",
    ),
    RemovedKey(
        ("nodePort", "enabled"),
        (1, 19, 0),
        None,
        "dropped it in 1.19.0 with the agent's --enable-node-port, so it does nothing",
        "kubeProxyReplacement: true enables NodePort",
    ),
    RemovedKey(
        ("l2podAnnouncements", "interface"),
        (1, 19, 5),
        None,
        "dropped it in 1.19.5, so it does nothing",
        "use l2podAnnouncements.interfacePattern",
    ),
    *(
        RemovedKey(path, since, _REFUSED_UNTIL, f"removed in {removed}", instead, refused=True)
        for path, since, removed, instead in (
            (("tunnel",), (1, 17, 0), "1.15", "use routingMode and tunnelProtocol"),
            (("enableCiliumEndpointSlice",), (1, 18, 0), "1.18", "use ciliumEndpointSlice"),
            (("ciliumEndpointSlice", "sliceMode"), (1, 18, 0), "1.18", ""),
            (("encryption", "keyFile"), (1, 17, 0), "1.16", "see encryption.ipsec"),
            (("encryption", "mountPath"), (1, 17, 0), "1.16", "see encryption.ipsec"),
            (("encryption", "secretName"), (1, 17, 0), "1.16", "see encryption.ipsec"),
            (("encryption", "interface"), (1, 17, 0), "1.16", "see encryption.ipsec"),
            (("proxy", "prometheus"), (1, 17, 0), "1.16", "use envoy.prometheus"),
            (("endpointStatus",), (1, 17, 0), "1.16", ""),
            (("remoteNodeIdentity",), (1, 17, 0), "1.16", ""),
            (("containerRuntime", "integration"), (1, 17, 0), "1.16", ""),
            (("etcd", "managed"), (1, 17, 0), "1.16", ""),
            (("clustermesh", "apiserver", "tls", "ca", "cert"), (1, 17, 0), "1.15", ""),
            (("clustermesh", "apiserver", "tls", "ca", "key"), (1, 17, 0), "1.15", ""),
            (("enableK8sEventHandover",), (1, 17, 0), "1.15", ""),
            (("enableCnpStatusUpdates",), (1, 17, 0), "1.15", ""),
        )
    ),
)


def removed_entry(path: tuple[str, ...], version: Version) -> RemovedKey | None:
    for entry in REMOVED_KEYS:
        if (
            entry.path == path
            and entry.since <= version
            and (entry.until is None or version < entry.until)
        ):
            return entry
    return None


def explained_by_removal(path: tuple[str, ...], version: Version) -> bool:
    """CL122 reports this key, or a removed key below it, for this chart version."""
    return any(
        entry.path[: len(path)] == path and removed_entry(entry.path, version) is entry
        for entry in REMOVED_KEYS
    )


def go_truthy(value: Any) -> bool:
    """Go template truthiness: false, 0, nil and empty strings, maps and lists are false."""
    return value not in (None, False, 0, "") and value != {} and value != []


class ValueWithoutEffect:
    params = NoParams
    meta = RuleMeta(
        id="CL122",
        name="value-without-effect",
        summary="No value is set that the tree's chart version ignores or refuses.",
        rationale=(
            "Helm's values schema has no `additionalProperties`, so keys the chart no longer "
            "reads pass silently: `externalIPs.enabled` (removed 1.17.6), `hostPort.enabled` "
            "(removed 1.18.0; in 1.17 both were only read for the rejected KPR mode `partial`), "
            "`nodePort.enabled` (removed 1.19.0), `l2podAnnouncements.interface` (removed "
            "1.19.5). `socketLB.enabled: false` is overridden: with kube-proxy replacement the "
            "agent turns socket-LB on regardless. Older removed keys (`tunnel`, "
            "`enableCiliumEndpointSlice`, `encryption.keyFile`, `etcd.managed`, ...) are worse: "
            "the 1.17-1.19 templates fail on a non-empty value, so Helm refuses to render the "
            "release (the message says so) [fact sheet §1, §3.1, §8, §10.10, S1, S9, S15]."
        ),
        fix=(
            "Delete the key; where the message names a replacement (routingMode, "
            "interfacePattern, ...) set that instead. For socket-LB inside pods use "
            "`socketLB.hostNamespaceOnly: true`."
        ),
        severity=Severity.WARNING,
        example_fail="# chart 1.19.6\nnodePort:\n  enabled: true\n",
        example_pass="# chart 1.19.6\nkubeProxyReplacement: true\n",
        versions="1.17 and later (each key from the version it was removed)",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in release_views(facts):
            yield from self._removed(view)
            yield from self._socket_lb(view)

    @staticmethod
    def _removed(view: ValuesView) -> Iterator[Hit]:
        chart = view.release.chart
        values = view.release.release.values
        for entry in REMOVED_KEYS:
            written, value = values.get(entry.path)
            if not written or removed_entry(entry.path, view.version) is not entry:
                continue
            if entry.refused and chart.is_known_key(entry.path):
                continue  # the sampled chart still lists it: the guard cannot apply
            dotted = clean(".".join(entry.path))
            label = view.release.version_label
            if entry.refused and go_truthy(value):
                found = f"chart {label} refuses to render with it ({entry.effect})"
            elif entry.refused:
                found = (
                    f"chart {label} ignores it ({entry.effect}; a non-empty value fails the chart)"
                )
            else:
                found = f"chart {label} {entry.effect}"
            instead = f" ({entry.instead})" if entry.instead else ""
            refused = entry.refused and go_truthy(value)
            yield Hit(
                f"{dotted} is set but {found}; expected the key removed{instead}",
                view.key_location(entry.path),
                view.identity(dotted),
                # Helm failing to render is an outage at the next reconcile, not a no-op.
                severity=Severity.ERROR if refused else None,
            )

    @staticmethod
    def _socket_lb(view: ValuesView) -> Iterator[Hit]:
        found = view.setting("socketLB.enabled")
        if not found.written or found.value is not False or view.uncertain:
            return
        if not view.kube_proxy_replacement() or view.uncertain:
            return
        yield Hit(
            "socketLB.enabled is false but kubeProxyReplacement is true, and the agent turns "
            "socket-LB on with kube-proxy replacement regardless; expected the key removed "
            "(socketLB.hostNamespaceOnly: true keeps it out of pods)",
            found.location,
            view.identity("socketLB.enabled"),
            (Related(view.location("kubeProxyReplacement"), "kubeProxyReplacement"),),
        )


_TYPE_NAMES: Final = {
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def json_types(value: Any) -> set[str]:
    """The JSON-schema types a YAML value satisfies once Helm has turned it into JSON."""
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"integer", "number"} if value.is_integer() else {"number"}
    if isinstance(value, str | datetime.date):
        return {"string"}  # YAML timestamps reach the schema as strings
    if isinstance(value, list):
        return {"array"}
    if isinstance(value, dict):
        return {"object"}
    return {"null"} if value is None else set()


def _describe_type(value: Any) -> str:
    if isinstance(value, str):
        if _looks_bool(value):
            return "a quoted boolean, i.e. a string"
        if _looks_number(value):
            return "a quoted number, i.e. a string"
        return "a string"
    for kind, name in (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a number"),
        (list, "a list"),
        (dict, "a mapping"),
        (datetime.date, "a date"),
    ):
        if isinstance(value, kind):
            return name
    return "a value"


def _looks_bool(text: str) -> bool:
    return text.strip().lower() in ("true", "false", "yes", "no", "on", "off")


def _looks_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class ValueType:
    params = NoParams
    meta = RuleMeta(
        id="CL123",
        name="value-type",
        summary="Every written value has a YAML type the chart's values schema accepts.",
        rationale=(
            "Helm validates the merged values against the chart's values.schema.json on "
            "install, upgrade and template, and Flux's helm-controller does the same, so one "
            'quoted boolean fails the whole release: `bpf.masquerade: "true"`, '
            '`l2announcements.enabled: "true"`, `k8sClientRateLimit.qps: "50"` and a '
            "comma-separated string for `hubble.metrics.enabled` (which wants a list) all fail "
            "[fact sheet §1, §2, §10.9, S1]. Keys the policy rules check against an expected "
            "value (CL101-CL108, CL401-CL406) are left to them."
        ),
        fix="Write the value unquoted (`true`, `50`) or as a YAML list, as the message says.",
        severity=Severity.ERROR,
        example_fail='bpf:\n  masquerade: "true"\nhubble:\n  metrics:\n    enabled: "dns,drop"\n',
        example_pass="bpf:\n  masquerade: true\nhubble:\n  metrics:\n    enabled: [dns, drop]\n",
        versions="1.17 and later (values.schema.json ships since 1.16)",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        claimed = facts.claimed_value_keys
        for view in release_views(facts):
            data = view.release.release.values.data
            for path, value, wanted in self._mismatches(view, data, (), claimed):
                dotted = clean(".".join(path))
                names = [_TYPE_NAMES[t] for t in wanted if t != "null" and t in _TYPE_NAMES]
                container = isinstance(value, dict | list)
                found = _describe_type(value)
                if not container:
                    shown = clean(json.dumps(value)) if isinstance(value, str) else show(value)
                    found = f"{shown} ({found})"
                yield Hit(
                    f"{dotted} is {found} but the values schema of chart "
                    f"{view.release.version_label} wants {' or '.join(names) or 'null'}, so "
                    "Helm refuses the values",
                    view.key_location(path) if container else view.location(dotted),
                    view.identity(dotted),
                )

    def _mismatches(
        self,
        view: ValuesView,
        node: dict[str, Any],
        prefix: KeyPath,
        claimed: frozenset[tuple[str | int, ...]],
    ) -> Iterator[tuple[tuple[str, ...], Any, tuple[str, ...]]]:
        chart = view.release.chart
        for key, value in node.items():
            path = (*prefix, str(key))
            # null deletes the key in Helm's merge; a Flux variable has no type yet.
            if value is None or substituted(value) or path in claimed:
                continue
            wanted = chart.key_types(path)
            if wanted is not None and not json_types(value) & set(wanted):
                yield path, value, wanted
                continue
            if isinstance(value, dict):
                yield from self._mismatches(view, value, path, claimed)


class UnknownKey:
    params = NoParams
    meta = RuleMeta(
        id="CL124",
        name="unknown-key",
        summary="Every written key is a value of the tree's chart version.",
        rationale=(
            "The Cilium values schema allows unknown keys at every level, so a typo "
            "(`l2Announcements`, `loadbalancer`, `kubeproxyReplacement`) or a key from another "
            "chart version is ignored without a word and the chart default applies. The known "
            "keys come from the chart's values.schema.json and commented keys of values.yaml "
            "per sampled version; maps the chart passes through (annotations, nodeSelector, "
            "resources, ...) are not checked [fact sheet §2, §10.10, S1]."
        ),
        fix="Fix the spelling (the message suggests the nearest key) or delete the key.",
        severity=Severity.WARNING,
        example_fail="l2Announcements:\n  enabled: true\n",
        example_pass="l2announcements:\n  enabled: true\n",
        versions="1.17 and later",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in release_views(facts):
            yield from self._walk(view, view.release.release.values.data, ())

    def _walk(self, view: ValuesView, node: dict[str, Any], prefix: KeyPath) -> Iterator[Hit]:
        chart = view.release.chart
        known = chart.children(prefix)
        if not known:
            return  # open map (any key), unknown parent, or a leaf written as a mapping
        for key, value in node.items():
            path = (*prefix, str(key))
            if str(key) in known:
                if isinstance(value, dict):
                    yield from self._walk(view, value, path)
                continue
            if path == ("global",) or explained_by_removal(path, view.version):
                continue  # Helm's global values; CL122 explains removed keys
            message, confident = self._message(view, path, known)
            yield Hit(
                message,
                view.key_location(path),
                view.identity(".".join(path)),
                # The chart's schema omits keys that values.yaml only documents in comments, so
                # a key with no near-miss sibling may still be real: say so at note level.
                severity=None if confident else Severity.NOTE,
            )

    @staticmethod
    def _message(
        view: ValuesView, path: tuple[str, ...], siblings: frozenset[str]
    ) -> tuple[str, bool]:
        dotted = clean(".".join(path))
        text = f"{dotted} is not a key of chart {view.release.version_label}, so Helm ignores it"
        sampled = key_versions(path)
        if sampled:
            span = sampled[0] if len(sampled) == 1 else f"{sampled[0]}-{sampled[-1]}"
            return text + f"; charts {span} have it: expected one of them or the key removed", True
        guess = suggest(path[-1], siblings)
        if guess is not None:
            return text + f"; did you mean {clean('.'.join((*path[:-1], guess)))}?", True
        return (
            text + "; expected a key from the chart's values.yaml (if it is one of the keys "
            "values.yaml only documents in comments, ignore CL124 for it)",
            False,
        )


def chart_key_rules() -> list[Rule]:
    """CL120-CL124: ServiceMonitors and keys the chart ignores or refuses."""
    return [
        ServiceMonitorWithoutMetrics(),
        ServiceMonitorCrds(),
        ValueWithoutEffect(),
        ValueType(),
        UnknownKey(),
    ]
