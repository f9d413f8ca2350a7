"""Python rules about the Cilium release's values that a single rule file cannot express."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cilium_lint.cilium.expect import Compare, matches, show
from cilium_lint.document import Location
from cilium_lint.facts import expected_leaves
from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity
from cilium_lint.sourcemap import Span

if TYPE_CHECKING:
    from cilium_lint.facts import Facts


class CiliumReleaseMissing:
    params = NoParams
    meta = RuleMeta(
        id="CL100",
        name="cilium-release-missing",
        summary="The tree holds the Cilium HelmRelease whose values the policy constrains.",
        rationale=(
            "Without a HelmRelease of the `cilium` chart nothing in the policy's expected values "
            "can be checked, so a clean run would mean nothing. The chart is recognised through "
            "`spec.chart.spec.chart` or `spec.chartRef` (OCIRepository or HelmChart), never by "
            "the release's name. It is only reported when the linted tree holds where a "
            "cluster's Flux starts (a FluxInstance, a Kustomization that applies other "
            "Kustomizations, or one that applies itself), or has no Flux Kustomization at all: "
            "a subfolder such as one app's folder, whose Kustomizations only build their own "
            "manifests, is a part of a cluster that is not expected to hold the release. The "
            "finding is placed on the first Kubernetes object of the linted tree, in path order."
        ),
        fix=(
            "Lint the folder that holds the Cilium release, or make its chart source "
            "(OCIRepository/HelmRepository) part of the tree. If the tree legitimately has no "
            "Cilium release, ignore CL100 (and the CL1 family) in the configuration."
        ),
        severity=Severity.WARNING,
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        if facts.cilium or not facts.expected_values:
            return
        graph = facts.graph
        if graph is not None and graph.active and not any(s.whole for s in graph.scopes):
            return  # a part of a cluster's tree: the release is elsewhere
        # SARIF needs a location even for a finding about an absence: the first object.
        candidates = [
            o.doc for o in facts.tree.objects if o.group != "kustomize.config.k8s.io"
        ] or [o.doc for o in facts.tree.objects]
        if not candidates:
            return
        first = min(candidates, key=lambda d: (d.path, d.span.line))
        yield Hit(
            "no HelmRelease of the cilium chart found in the linted tree; "
            "the expected Cilium values were not checked",
            Location(first.path, Span(first.span.line, 1, first.span.line, 1)),
            identity="tree#cilium-release",
        )


class CiliumValue:
    """Keys the policy expects that no dedicated rule covers (a user's own additions)."""

    params = NoParams
    meta = RuleMeta(
        id="CL109",
        name="cilium-value",
        summary="Every further key of the policy's expected Cilium values has that value.",
        rationale=(
            "The policy's `cilium.values` is a partial Helm values mapping: any key added there is "
            "enforced, so a team can pin settings beyond the built-in invariants (for example "
            "`hubble.relay.enabled: true`)."
        ),
        fix="Set the key to the expected value in the Cilium HelmRelease or its values file.",
        severity=Severity.ERROR,
        example_fail="# policy: cilium.values.hubble.relay.enabled: true\nhubble:\n  relay:\n"
        "    enabled: false\n",
        example_pass="hubble:\n  relay:\n    enabled: true\n",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        leaves = [
            (path, expected)
            for path, expected in expected_leaves(facts.expected_values)
            if path not in facts.claimed_value_keys
        ]
        for release in facts.cilium:
            for path, expected in leaves:
                setting = release.setting(path)
                if setting.hidden or matches(setting.value, expected, Compare.EXACT):
                    continue
                if setting.written:
                    found = f"{setting.key} is {show(setting.value)}"
                elif setting.default is not None:
                    found = (
                        f"{setting.key} is unset, so chart {release.version_label} uses "
                        f"{show(setting.value)}"
                    )
                else:
                    found = f"{setting.key} is unset"
                yield Hit(
                    f"{found}; expected {show(expected)}",
                    setting.location,
                    identity=f"{release.identity}#/values/{'/'.join(map(str, path))}",
                )
