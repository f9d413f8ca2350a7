"""Rules about the Cilium chart version and the bootstrap copies of the release."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cilium_lint.cilium.release import CiliumRelease
from cilium_lint.document import Location
from cilium_lint.quoting import quote
from cilium_lint.rules.api import Hit, NoParams, Related, RuleMeta, Severity
from cilium_lint.sourcemap import Path

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

Version = tuple[int, int, int]
_VERSION = re.compile(
    r"\s*[vV]?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+][0-9A-Za-z.-]*)?\s*"
)
_COMPARATOR = re.compile(r"\s*(>=|<=|>|<|=|~>|~|\^)?\s*([^\s<>=~^]\S*)")


def exact_version(text: str | None) -> Version | None:
    """``1.19.6`` or ``v1.19.6`` (a pre-release or build suffix ignored); None for a range."""
    if text is None:
        return None
    match = _VERSION.fullmatch(text)
    if match is None or match.group(3) is None or not match.group(3).isdigit():
        return None
    if not match.group(2).isdigit():
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))


def _partial(text: str) -> tuple[int, int | None, int | None] | None:
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    minor = match.group(2)
    patch = match.group(3)
    return (
        int(match.group(1)),
        int(minor) if minor is not None and minor.isdigit() else None,
        int(patch) if patch is not None and patch.isdigit() else None,
    )


def _comparator(op: str, text: str, version: Version) -> bool | None:
    parts = _partial(text)
    if parts is None:
        return None
    major, minor, patch = parts
    low: Version = (major, minor or 0, patch or 0)
    if op in ("", "="):
        if minor is None:
            return version[0] == major
        if patch is None:
            return version[:2] == (major, minor)
        return version == low
    if op in ("~", "~>"):
        high = (major + 1, 0, 0) if minor is None else (major, minor + 1, 0)
        return low <= version < high
    if op == "^":
        if major > 0 or minor is None:
            high = (major + 1, 0, 0)
        elif minor > 0 or patch is None:
            high = (0, minor + 1, 0)
        else:
            high = (0, 0, (patch or 0) + 1)
        return low <= version < high
    # A partial version is a range: ">1.19" means from 1.20.0 on, "<=1.19" up to 1.19.x.
    width = 1 if minor is None else 2 if patch is None else 3
    head, bound = version[:width], low[:width]
    comparisons = {">=": head >= bound, ">": head > bound, "<": head < bound, "<=": head <= bound}
    return comparisons.get(op)


def satisfies(version: Version, spec: str) -> bool | None:
    """Whether ``version`` meets a semver range (``>=1.19.0 <1.20.0``, ``~1.19``, ``1.19.x``,
    ``^1.19.0``, alternatives with ``||``); None when the range cannot be read."""
    for alternative in spec.split("||"):
        terms = _COMPARATOR.findall(alternative.replace(",", " "))
        if not terms:
            return None
        results = [_comparator(op, text, version) for op, text in terms]
        if any(r is None for r in results):
            return None
        if all(results):
            return True
    return False


def version_location(facts: Facts, release: CiliumRelease) -> Location:
    """Where the chart version of ``release`` is written, or where it should be."""
    obj = release.release.obj
    if obj.get("spec", "chart", "spec") is not None:
        return obj.doc.locate(("spec", "chart", "spec", "version"))
    ref = obj.get("spec", "chartRef")
    if isinstance(ref, dict) and isinstance(ref.get("name"), str):
        for source in facts.tree.of_kind(str(ref.get("kind") or "OCIRepository")):
            if source.name == ref["name"]:
                for key in ("tag", "semver", "digest"):
                    if source.get("spec", "ref", key) is not None:
                        return source.doc.locate(("spec", "ref", key))
                return source.doc.locate_key(("spec", "ref"))
    return release.release.chart_location


def _label(release: CiliumRelease) -> str:
    obj = release.release.obj
    if obj.kind == "HelmRelease":
        return obj.ref
    return f"the bootstrap {obj.kind} {quote(obj.name)} in {obj.doc.path}"


class ChartVersion:
    params = NoParams
    meta = RuleMeta(
        id="CL015",
        name="chart-version",
        summary=(
            "The Cilium chart version lies in the range the policy allows "
            "(cilium.chart-version, e.g. '>=1.19.0 <1.20.0')."
        ),
        rationale=(
            "Chart upgrades change defaults and value keys, and a minor upgrade of the CNI is a "
            "planned event. The version comes from the OCIRepository ref.tag or ref.semver, the "
            "HelmRelease chart.spec.version, or the bootstrap helmfile or helmCharts entry; an "
            "unpinned chart follows whatever the repository serves."
        ),
        fix=(
            "Pin a version inside the allowed range, or change cilium.chart-version in the "
            "configuration when the upgrade is planned."
        ),
        severity=Severity.ERROR,
        example_fail="# policy: cilium: {chart-version: '>=1.19.0 <1.20.0'}\nref:\n  tag: 1.18.4\n",
        example_pass="# policy: cilium: {chart-version: '>=1.19.0 <1.20.0'}\nref:\n  tag: 1.19.6\n",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        wanted = facts.config.cilium.chart_version
        if not wanted:
            return
        for release in [*facts.cilium, *facts.bootstrap]:
            written = release.release.chart_version
            where = version_location(facts, release)
            identity = f"{release.release.obj.ref}#chart-version"
            if written is None:
                yield Hit(
                    f"{_label(release)} pins no chart version; the policy allows {wanted}",
                    where,
                    identity,
                )
                continue
            version = exact_version(written)
            if version is None:
                continue  # a range (ref.semver): the version Flux picks is not known here
            if satisfies(version, wanted) is False:
                yield Hit(
                    f"{_label(release)} installs chart {written}, outside the policy's {wanted}",
                    where,
                    identity,
                )


def _normal(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _shown(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _policy_keys(values: dict[str, Any], prefix: Path = ()) -> list[Path]:
    keys: list[Path] = []
    for key, value in values.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            keys.extend(_policy_keys(value, path))
        else:
            keys.append(path)
    return keys


class BootstrapDrift:
    params = NoParams
    meta = RuleMeta(
        id="CL014",
        name="bootstrap-drift",
        summary=(
            "A bootstrap copy of the Cilium release (helmfile, kustomize helmCharts) agrees "
            "with the HelmRelease on the chart version and on every key of the policy."
        ),
        rationale=(
            "The cluster is first installed from the bootstrap copy, then Flux takes over with "
            "the HelmRelease. When they disagree on kubeProxyReplacement, routingMode, the "
            "load-balancer mode or the chart version, the handover changes the datapath of a "
            "running cluster (and a rebuilt cluster comes up different from the one in Git)."
        ),
        fix=(
            "Make both read the same values file, or change the bootstrap copy to match the "
            "HelmRelease (or the other way round)."
        ),
        severity=Severity.ERROR,
        example_fail=(
            "# helmfile.yaml\nreleases:\n  - name: cilium\n    chart: cilium/cilium\n"
            "    version: 1.18.4      # the HelmRelease pins 1.19.6\n"
        ),
        example_pass=(
            "# helmfile.yaml\nreleases:\n  - name: cilium\n    chart: cilium/cilium\n"
            "    version: 1.19.6\n    values: [../kubernetes/apps/kube-system/cilium/app/"
            "helm-values.yaml]\n"
        ),
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        keys = _policy_keys(facts.expected_values)
        for copy in facts.bootstrap:
            for release in facts.cilium:
                yield from self._compare(facts, copy, release, keys)

    def _compare(
        self, facts: Facts, copy: CiliumRelease, release: CiliumRelease, keys: list[Path]
    ) -> Iterator[Hit]:
        label = _label(copy)
        ours, theirs = copy.release.chart_version, release.release.chart_version
        mine, other = exact_version(ours), exact_version(theirs)
        if mine is not None and other is not None and mine != other:
            yield Hit(
                f"{label} installs chart {ours}, {release.release.obj.ref} installs {theirs}",
                version_location(facts, copy),
                f"{copy.release.obj.ref}#chart-version",
                (Related(version_location(facts, release), f"chart {theirs} of the HelmRelease"),),
            )
        for path in keys:
            a, b = copy.setting(path), release.setting(path)
            if a.unknown or b.unknown or not (a.written or b.written):
                continue
            if _normal(a.value) == _normal(b.value):
                continue
            key = ".".join(str(p) for p in path)
            yield Hit(
                f"{key} is {_shown(a.value)} in {label} but {_shown(b.value)} in "
                f"{release.release.obj.ref}: the handover to Flux changes it",
                a.location,
                f"{copy.release.obj.ref}#{key}",
                (Related(b.location, f"{key} of {release.release.obj.ref}"),),
            )


def bootstrap_rules() -> list[object]:
    return [BootstrapDrift(), ChartVersion()]
