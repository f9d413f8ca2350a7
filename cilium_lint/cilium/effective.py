"""What Cilium makes of a release's values: the switches that several rules depend on.

Every answer follows the chart templates and agent defaults recorded in the team's fact sheet
(cilium-facts.md §1 and §3). A :class:`ValuesView` also remembers whether any key it read might
be set where the tree cannot see it (an unreadable ``valuesFrom`` source) or is still a Flux
substitution variable, so a rule can stay silent instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from cilium_lint.cilium.chart_facts import KeyPath
from cilium_lint.cilium.expect import helm_string, show
from cilium_lint.cilium.release import CiliumRelease, Setting
from cilium_lint.document import Location
from cilium_lint.sourcemap import Path

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

Version = tuple[int, int, int]

_EXACT: Final = re.compile(r"^\s*[vV]?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?\s*$")
_MINOR: Final = re.compile(r"^\s*[vV]?(\d+)\.(\d+)")
# strconv.ParseBool, which the agent applies to the strings the chart renders.
_TRUE_STRINGS: Final = frozenset({"1", "t", "T", "TRUE", "true", "True"})


def parse_version(text: str) -> Version | None:
    """``1.19.6`` / ``v1.19.6-pre.1`` -> (1, 19, 6); None for a range or anything else."""
    match = _EXACT.match(text)
    if match is None:
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))


def chart_version(release: CiliumRelease) -> Version:
    """The chart version the tree installs: the pinned version, else the version the chart facts
    picked for the constraint (the newest sampled version it allows)."""
    pinned = release.release.chart_version
    exact = parse_version(pinned) if pinned else None
    if exact is not None:
        return exact
    sampled = parse_version(release.chart.version)
    return sampled if sampled is not None else (0, 0, 0)


def flag(value: Any) -> bool:
    """A value as the agent reads the rendered string: ``true``/``"true"``/``1`` are on."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    if isinstance(value, str):
        return value.strip() in _TRUE_STRINGS
    return False


def substituted(value: Any) -> bool:
    """A Flux ``postBuild`` variable: its final value (and even its type) is not known here."""
    return isinstance(value, str) and "${" in value


def values_path(dotted: str) -> KeyPath:
    return tuple(dotted.split("."))


class ValuesView:
    """One Cilium release's effective values, read by dotted key (``loadBalancer.mode``)."""

    def __init__(self, release: CiliumRelease) -> None:
        self.release = release
        self.version = chart_version(release)
        self.uncertain = False  # some key read so far may differ from what the tree shows

    # --- reading -------------------------------------------------------------------------------

    def setting(self, dotted: str) -> Setting:
        found = self.release.setting(values_path(dotted))
        if found.unknown or (found.written and substituted(found.value)):
            self.uncertain = True
        return found

    def value(self, dotted: str) -> Any:
        return self.setting(dotted).value

    def on(self, dotted: str) -> bool:
        return flag(self.value(dotted))

    def text(self, dotted: str) -> str:
        """A string value stripped, or "" when the key holds no string."""
        value = self.value(dotted)
        return value.strip() if isinstance(value, str) else ""

    def written(self, dotted: str) -> bool:
        return self.setting(dotted).written

    def identity(self, dotted: str) -> str:
        """Fingerprint identity of a finding about a key: the release and the key, no line."""
        return f"{self.release.identity}#/values/{dotted.replace('.', '/')}"

    def location(self, dotted: str) -> Location:
        """Where the value is written, or its nearest written ancestor."""
        return self.release.setting(values_path(dotted)).location

    def first_written(self, *keys: str) -> str:
        """The first of ``keys`` that some values source writes, else the first key: a finding
        about several keys points at one the user wrote."""
        for key in keys:
            if self.release.setting(values_path(key)).written:
                return key
        return keys[0]

    def key_location(self, path: Path) -> Location:
        """Where the key itself is written (for a mapping, its own line, not its first child)."""
        values = self.release.release.values
        origin = values.provenance(path)
        if origin is None:
            return values.locate(path)
        return origin.document.locate_key(origin.path)

    def describe(self, dotted: str) -> str:
        """``key is value``, or what the chart uses when the key is unset."""
        found = self.setting(dotted)
        if found.written:
            return f"{dotted} is {show(found.value)}"
        if found.default is None:
            return f"{dotted} is unset"
        return f"{dotted} is unset (chart {self.release.version_label} uses {show(found.value)})"

    # --- what the chart and the agent make of it --------------------------------------------

    def kube_proxy_replacement(self) -> bool:
        # The chart compares toString of the value with "true" (fact sheet §1.1).
        return helm_string(self.value("kubeProxyReplacement")) == "true"

    def bpf_node_port(self) -> bool:
        """The BPF service load balancer runs: with KPR, or (before 1.19, where the flag was
        removed) with the deprecated ``nodePort.enabled`` (fact sheet §8)."""
        if self.kube_proxy_replacement():
            return True
        return self.version < (1, 19, 0) and self.on("nodePort.enabled")

    def routing_mode(self) -> str:
        """``native`` or ``tunnel`` as the chart renders it; other strings are returned as
        written. Empty means tunnel, except native with ``gke.enabled`` (and ``eni.enabled``
        from 1.19) (fact sheet §1)."""
        written = self.text("routingMode") if self.written("routingMode") else ""
        if written:
            return written
        if self.on("gke.enabled") or (self.version >= (1, 19, 0) and self.on("eni.enabled")):
            return "native"
        return "tunnel"

    def tunnel_protocol(self) -> str:
        return self.text("tunnelProtocol") or "vxlan"  # empty -> vxlan (fact sheet §1)

    def uses_dsr(self) -> bool:
        """DSR may be used: mode dsr or hybrid, or per-service annotation mode."""
        return self.text("loadBalancer.mode") in ("dsr", "hybrid") or self.on(
            "bpf.lbModeAnnotation"
        )

    def ipv4_enabled(self) -> bool:
        found = self.setting("ipv4.enabled")
        return not found.written or found.value is None or flag(found.value)

    def ipv4_masquerade(self) -> bool:
        """``enableIPv4Masquerade``: true by default in 1.17; from 1.18 null means true, or
        false under ``eni.enabled`` unless ``upgradeCompatibility`` is older than 1.18
        (fact sheet §1)."""
        found = self.setting("enableIPv4Masquerade")
        if found.written and found.value is not None:
            return flag(found.value)
        if self.version < (1, 18, 0):
            return True
        if self.on("eni.enabled"):
            compat = _MINOR.match(helm_string(self.value("upgradeCompatibility")))
            older = compat is not None and (int(compat.group(1)), int(compat.group(2))) < (1, 18)
            return older
        return True


def release_views(facts: Facts) -> Iterator[ValuesView]:
    """A fresh view per Cilium release of the tree (a view's ``uncertain`` is per release)."""
    for release in facts.cilium:
        yield ValuesView(release)
