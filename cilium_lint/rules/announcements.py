"""CiliumL2AnnouncementPolicy rules: a policy must announce something, somewhere, and exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cilium_lint.cilium.expect import device_entries, show
from cilium_lint.cilium.release import CiliumRelease
from cilium_lint.lbipam.l2 import L2Policy, candidates, l2_policies, reachable, selects_everything
from cilium_lint.lbipam.requests import CILIUM_CLASSES
from cilium_lint.rules.api import Hit, NoParams, Related, RuleMeta, Severity
from cilium_lint.rules.lbcommon import key_location, release_of, values_key_location
from cilium_lint.tree import dig

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

_POLICY_HEAD = "apiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\n"


class AnnouncesNothing:
    params = NoParams
    meta = RuleMeta(
        id="CL301",
        name="l2-policy-announces-nothing",
        summary="A CiliumL2AnnouncementPolicy sets loadBalancerIPs or externalIPs to true.",
        rationale=(
            "Both fields default to false when omitted, so a policy with neither set to true "
            "announces no address at all: LoadBalancer IPs are assigned but unreachable from "
            "the LAN (cilium-facts §7 [S12][S14])."
        ),
        fix="Add `loadBalancerIPs: true` (LB-IPAM addresses) and/or `externalIPs: true`.",
        severity=Severity.ERROR,
        example_fail=_POLICY_HEAD + "spec:\n  interfaces: [^bond[0-9]+$]\n",
        example_pass=_POLICY_HEAD + "spec:\n  loadBalancerIPs: true\n",
        versions="1.17 - 1.20 (cilium.io/v2alpha1)",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for policy in l2_policies(facts.tree):
            if policy.announces:
                continue
            obj = policy.obj
            spec = obj.get("spec")
            written = [
                k
                for k in ("loadBalancerIPs", "externalIPs")
                if isinstance(spec, dict) and k in spec
            ]
            state = ", ".join(f"{k}: {show(spec[k])}" for k in written) or (
                "neither loadBalancerIPs nor externalIPs set"
            )
            location = obj.locate("spec", written[0]) if written else key_location(obj, "spec")
            yield Hit(
                f"CiliumL2AnnouncementPolicy {obj.name} announces nothing ({state}); expected "
                "loadBalancerIPs: true or externalIPs: true",
                location,
                f"{obj.ref}#/spec/loadBalancerIPs",
            )


def _devices(release: CiliumRelease) -> tuple[list[str], Related] | None:
    """The devices the agent selects, when the values name them; None: auto-detection."""
    setting = release.setting(("devices",))
    if not setting.written or setting.unknown:
        return None
    entries = device_entries(setting.value)
    force = release.setting(("forceDeviceDetection",))
    if not entries or force.value is True or force.unknown:
        return None  # auto-detected devices join the list: any name is possible
    return entries, Related(setting.location, f"devices: {' '.join(entries)}")


class InterfacesUnmatched:
    params = NoParams
    meta = RuleMeta(
        id="CL302",
        name="l2-policy-interfaces-unmatched",
        summary="Every interfaces regex of an L2 policy matches a device that devices selects.",
        rationale=(
            "The policy's `interfaces` are Go regular expressions tried (unanchored) against "
            "the devices Cilium selected through `devices` (exact names, or prefixes ending in "
            "`+`), not against every host interface. A regex that matches none of them "
            "announces nothing there, and one Go cannot compile sets "
            "`io.cilium/bad-interface-regex` (cilium-facts §4, §7 [S11][S12][S5])."
        ),
        fix=(
            "Write the regex for the interfaces `devices` selects (`devices: bond+` -> "
            "`^bond[0-9]+$`), or add the interface to `devices`."
        ),
        severity=Severity.ERROR,
        example_fail="# values: devices: bond+\n"
        + _POLICY_HEAD
        + "spec:\n  interfaces: [^eth0$]\n",
        example_pass="# values: devices: bond+\n"
        + _POLICY_HEAD
        + "spec:\n  interfaces: [^bond[0-9]+$]\n",
        versions="1.17 - 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for policy in l2_policies(facts.tree):
            if not policy.interfaces:
                continue  # absent or empty: every selected device
            release = release_of(facts, policy.obj.doc.path)
            devices = _devices(release) if release is not None else None
            for pattern in policy.interfaces:
                hit = self._judge(policy, pattern.index, devices)
                if hit is not None:
                    yield hit

    @staticmethod
    def _judge(
        policy: L2Policy, index: int, devices: tuple[list[str], Related] | None
    ) -> Hit | None:
        assert policy.interfaces is not None
        pattern = policy.interfaces[index]
        obj = policy.obj
        location = obj.locate("spec", "interfaces", index)
        identity = f"{obj.ref}#/spec/interfaces/{index}"
        if pattern.compiled is None:
            return Hit(
                f"interfaces regex {show(pattern.text)} of {obj.ref} is not a valid Go regular "
                f"expression ({pattern.error}); expected a regex such as ^bond[0-9]+$",
                location,
                identity,
            )
        if devices is None:
            return None
        entries, related = devices
        if selects_everything(entries) or reachable(pattern.compiled, entries):
            return None
        # The bare prefix of `bond+` is a legal name but a poor example.
        examples = [n for e in entries for n in candidates(e) if n + "+" != e][:4]
        return Hit(
            f"interfaces regex {show(pattern.text)} of {obj.ref} matches none of the devices "
            f"Cilium selects (devices: {' '.join(entries)}, e.g. {', '.join(examples)}); "
            "expected a regex for those devices",
            location,
            identity,
            (related,),
        )


def _asks_for_addresses(facts: Facts, release: CiliumRelease) -> bool:
    if any(release_of(facts, r.location.path) is release for r in facts.requests):
        return True
    for obj in facts.tree.of_kind("Service", ""):
        spec = obj.get("spec")
        if not isinstance(spec, dict) or spec.get("type") != "LoadBalancer":
            continue
        served = spec.get("loadBalancerClass") in (None, *CILIUM_CLASSES)
        if served and release_of(facts, obj.doc.path) is release:
            return True
    return False


def _l2_wanted(facts: Facts, release: CiliumRelease) -> str | None:
    """Why L2 announcements matter for this release, or None when they do not."""
    if release.setting(("l2announcements", "enabled")).value is True:
        return f"l2announcements.enabled is true in {release.identity}"
    if dig(facts.expected_values, ("l2announcements", "enabled")) is True:
        return f"the policy requires l2announcements.enabled for {release.identity}"
    return None


class PolicyMissing:
    params = NoParams
    meta = RuleMeta(
        id="CL303",
        name="l2-policy-missing",
        summary="With L2 announcements on and LB IPs in use, a CiliumL2AnnouncementPolicy exists.",
        rationale=(
            "`l2announcements.enabled` only starts the machinery: the agent answers ARP for a "
            "Service's address only where a CiliumL2AnnouncementPolicy selects the Service, "
            "the node and the interface. Without any policy, LB-IPAM hands out addresses that "
            "nobody announces, so they are unreachable from the LAN (cilium-facts §7 [S5][S12])."
        ),
        fix=(
            "Add a CiliumL2AnnouncementPolicy with `loadBalancerIPs: true` (and `interfaces` "
            "matching `devices`) to the tree of the cluster."
        ),
        severity=Severity.ERROR,
        example_fail="# values: l2announcements: {enabled: true}; a Service asks for 10.0.6.10;"
        " no policy in the tree\n",
        example_pass=_POLICY_HEAD + "metadata:\n  name: l2\nspec:\n  loadBalancerIPs: true\n",
        versions="1.17 - 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        policies = l2_policies(facts.tree)
        for release in facts.cilium:
            why = _l2_wanted(facts, release)
            if why is None or not _asks_for_addresses(facts, release):
                continue
            if any(release_of(facts, p.obj.doc.path) in (release, None) for p in policies):
                continue
            yield Hit(
                f"{why} and the tree has LoadBalancer Services, but no "
                "CiliumL2AnnouncementPolicy announces their IPs; expected a policy with "
                "loadBalancerIPs: true",
                values_key_location(release, ("l2announcements",)),
                f"{release.identity}#/values/l2announcements",
            )


def announcement_rules() -> list[object]:
    return [AnnouncesNothing(), InterfacesUnmatched(), PolicyMissing()]
