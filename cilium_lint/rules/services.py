"""Rules on how Services and Gateways ask LB-IPAM for addresses: classes, annotation keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cilium_lint.cilium.expect import show
from cilium_lint.lbipam.annotations import ALIASES, LEGACY, AnnotationSite
from cilium_lint.lbipam.requests import (
    ENVOY_GATEWAY_CONTROLLER,
    GATEWAY_GROUP,
    IPS_KEY,
    LEGACY_IPS_KEY,
)
from cilium_lint.quoting import clean, quote
from cilium_lint.rules.api import Hit, NoParams, Related, RuleMeta, Severity
from cilium_lint.rules.lbcommon import key_location, pinned_minor, release_of
from cilium_lint.tree import KObject

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

L2_CLASS = "io.cilium/l2-announcer"
_CROSS_KEY = "lbipam.cilium.io/sharing-cross-namespace"
CROSS_NAMESPACE = (_CROSS_KEY, ALIASES[_CROSS_KEY])


def _sites(facts: Facts) -> list[AnnotationSite]:
    return facts.annotation_sites


class L2ClassWithoutL2:
    params = NoParams
    meta = RuleMeta(
        id="CL220",
        name="service-l2-class-without-l2",
        summary="A Service of class io.cilium/l2-announcer needs l2announcements.enabled: true.",
        rationale=(
            "LB-IPAM serves `loadBalancerClass: io.cilium/l2-announcer` only when L2 "
            "announcements are enabled, and ignores any class it does not serve: the Service "
            "gets no address and no status condition, it just stays `<pending>` "
            "(cilium-facts §3.2, §6 [S6])."
        ),
        fix=(
            "Set `l2announcements.enabled: true` in the Cilium values, or drop "
            "`loadBalancerClass` so the default LB-IPAM serves the Service."
        ),
        severity=Severity.ERROR,
        example_fail="# values: l2announcements.enabled unset\nkind: Service\nspec:\n"
        "  type: LoadBalancer\n  loadBalancerClass: io.cilium/l2-announcer\n",
        example_pass="# values: l2announcements: {enabled: true}\nkind: Service\nspec:\n"
        "  type: LoadBalancer\n  loadBalancerClass: io.cilium/l2-announcer\n",
        versions="1.17 - 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for obj in facts.tree.of_kind("Service", ""):
            if obj.get("spec", "type") != "LoadBalancer":
                continue
            if obj.get("spec", "loadBalancerClass") != L2_CLASS:
                continue
            release = release_of(facts, obj.doc.path)
            if release is None:
                continue
            setting = release.setting(("l2announcements", "enabled"))
            if setting.unknown or setting.value is True:
                continue
            state = (
                f"is {show(setting.value)}"
                if setting.written
                else f"is unset (chart {release.version_label}: {show(setting.value)})"
            )
            yield Hit(
                f"{obj.ref} has loadBalancerClass {L2_CLASS} but l2announcements.enabled "
                f"{state} in {release.identity}; expected true, or no loadBalancerClass",
                obj.locate("spec", "loadBalancerClass"),
                f"{obj.ref}#/spec/loadBalancerClass",
                (Related(setting.location, "l2announcements.enabled of the Cilium release"),),
            )


class DeprecatedAnnotation:
    params = NoParams
    meta = RuleMeta(
        id="CL221",
        name="deprecated-lbipam-annotation",
        summary="LB-IPAM annotations use the lbipam.cilium.io/ spelling.",
        rationale=(
            "`io.cilium/lb-ipam-ips`, `io.cilium/lb-ipam-sharing-key` and "
            "`io.cilium/lb-ipam-sharing-cross-namespace` are deprecated aliases of the "
            "`lbipam.cilium.io/` keys (cilium-facts §6 [S7]); on a Gateway the operator logs "
            "`DEPRECATED` for `io.cilium/lb-ipam-ips` (§9 [S16]). When both spellings are set "
            "the new one wins silently."
        ),
        fix=(
            "Rename the key: `lbipam.cilium.io/ips`, `lbipam.cilium.io/sharing-key`, "
            "`lbipam.cilium.io/sharing-cross-namespace` (for a Gateway, prefer `spec.addresses`)."
        ),
        severity=Severity.WARNING,
        example_fail="metadata:\n  annotations:\n    io.cilium/lb-ipam-ips: 10.0.6.10\n",
        example_pass="metadata:\n  annotations:\n    lbipam.cilium.io/ips: 10.0.6.10\n",
        versions="1.17 - 1.20 (the aliases are still read, deprecated)",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for site in _sites(facts):
            for key in site.annotations:
                new = LEGACY.get(key)
                if new is None:
                    continue
                hint = (
                    " (or spec.addresses)"
                    if site.kind == "Gateway" and key == LEGACY_IPS_KEY
                    else ""
                )
                yield Hit(
                    f"{key} on {site.owner} is deprecated; write {new}{hint}",
                    site.where(key),
                    f"{site.owner}#/{'/'.join(map(str, site.path))}/{key}",
                )


def _meaning(key: str, value: Any) -> Any:
    """What LB-IPAM makes of an annotation value: IP lists are sets, the rest is text."""
    if not isinstance(value, str):
        return value
    if key in (IPS_KEY, LEGACY_IPS_KEY) or "cross-namespace" in key:
        return frozenset(p.strip() for p in value.split(",") if p.strip())
    return value.strip()


class ConflictingSpellings:
    params = NoParams
    meta = RuleMeta(
        id="CL222",
        name="conflicting-annotation-spellings",
        summary="No object sets both spellings of an LB-IPAM annotation to different values.",
        rationale=(
            "When `lbipam.cilium.io/<x>` and its deprecated alias `io.cilium/lb-ipam-<x>` are "
            "both set, LB-IPAM reads the `lbipam.cilium.io/` key and ignores the other value "
            "without a word (cilium-facts §6 [S6][S7]): whoever edits the old key changes "
            "nothing."
        ),
        fix=(
            "Delete the `io.cilium/lb-ipam-*` key and keep the value you mean under "
            "`lbipam.cilium.io/`."
        ),
        severity=Severity.ERROR,
        example_fail="metadata:\n  annotations:\n    lbipam.cilium.io/ips: 10.0.6.10\n"
        "    io.cilium/lb-ipam-ips: 10.0.6.11\n",
        example_pass="metadata:\n  annotations:\n    lbipam.cilium.io/ips: 10.0.6.10\n",
        versions="1.17 - 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for site in _sites(facts):
            for new, legacy in ALIASES.items():
                if new not in site.annotations or legacy not in site.annotations:
                    continue
                kept, ignored = site.annotations[new], site.annotations[legacy]
                if not isinstance(kept, str) or not isinstance(ignored, str):
                    continue  # the API server refuses non-string annotations before LB-IPAM
                if _meaning(new, kept) == _meaning(legacy, ignored):
                    continue
                yield Hit(
                    f"{legacy}: {show(ignored)} on {site.owner} is ignored because {new}: "
                    f"{show(kept)} is also set; expected one key ({new})",
                    site.where(legacy),
                    f"{site.owner}#/{'/'.join(map(str, site.path))}/{legacy}",
                    (Related(site.where(new), f"{new}, the value LB-IPAM uses"),),
                )


class CrossNamespaceSpaces:
    params = NoParams
    meta = RuleMeta(
        id="CL223",
        name="sharing-cross-namespace-spaces",
        summary="The sharing-cross-namespace list has no spaces around its commas.",
        rationale=(
            "Up to Cilium 1.20 LB-IPAM splits `lbipam.cilium.io/sharing-cross-namespace` on "
            'commas without trimming, so `"ns-a, ns-b"` allows `ns-a` and ` ns-b` - and never '
            "matches namespace `ns-b`: the Services do not share the IP (cilium-facts §6 "
            "[S6][S15] PR #48868, which trims, landed after 1.20)."
        ),
        fix="Write the list without spaces: `ns-a,ns-b`.",
        severity=Severity.ERROR,
        example_fail="lbipam.cilium.io/sharing-cross-namespace: ns-a, ns-b\n",
        example_pass="lbipam.cilium.io/sharing-cross-namespace: ns-a,ns-b\n",
        versions="<= 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for site in _sites(facts):
            for key in CROSS_NAMESPACE:
                value = site.annotations.get(key)
                if not isinstance(value, str):
                    continue
                entries = value.split(",")
                if all(e == e.strip() for e in entries):
                    continue
                location = site.where(key)
                release = release_of(facts, location.path)
                minor = pinned_minor(release) if release is not None else None
                if minor is not None and minor > (1, 20):
                    continue  # trimmed by then
                fixed = ",".join(e.strip() for e in entries if e.strip())
                bad = next(e for e in entries if e != e.strip())
                yield Hit(
                    f"{key} on {site.owner} is {quote(value)}: LB-IPAM does not trim entries, so "
                    f"{quote(bad)} never matches namespace {clean(bad.strip()) or '(none)'}; "
                    f"expected {quote(fixed)}",
                    location,
                    f"{site.owner}#/{'/'.join(map(str, site.path))}/{key}",
                )


def _ip_addresses(obj: KObject) -> list[tuple[int, str]]:
    """The Gateway's addresses of type IPAddress (the default type), as written."""
    addresses = obj.get("spec", "addresses")
    found = []
    for index, address in enumerate(addresses if isinstance(addresses, list) else []):
        if not isinstance(address, dict) or address.get("type", "IPAddress") != "IPAddress":
            continue
        value = address.get("value")
        if isinstance(value, str):
            found.append((index, value))
    return found


def _envoy_classes(facts: Facts) -> set[str]:
    return {
        c.name
        for c in facts.tree.of_kind("GatewayClass", GATEWAY_GROUP)
        if c.get("spec", "controllerName") == ENVOY_GATEWAY_CONTROLLER
    }


class GatewayAddressesIgnored:
    params = NoParams
    meta = RuleMeta(
        id="CL224",
        name="gateway-addresses-ignored",
        summary="A Gateway's spec.addresses and its infrastructure IP annotation agree.",
        rationale=(
            "Cilium turns a Gateway's `spec.addresses` into `io.cilium/lb-ipam-ips` on the "
            "generated Service, unless `spec.infrastructure.annotations` already carry "
            "`io.cilium/lb-ipam-ips`: then `spec.addresses` is ignored. With "
            "`lbipam.cilium.io/ips` in the infrastructure annotations that key wins over the "
            "addresses (cilium-facts §9 [S16]). When both name different IPs, editing "
            "`spec.addresses` changes nothing."
        ),
        fix=(
            "Keep `spec.addresses` and drop the IP annotation from `spec.infrastructure`, or "
            "make both name the same addresses with `lbipam.cilium.io/ips`."
        ),
        severity=Severity.WARNING,
        example_fail="spec:\n  addresses:\n    - value: 10.0.6.20\n  infrastructure:\n"
        "    annotations:\n      io.cilium/lb-ipam-ips: 10.0.6.21\n",
        example_pass="spec:\n  addresses:\n    - value: 10.0.6.20\n",
        versions="1.17 - 1.20 (Gateway spec.addresses support arrived in the 1.17 cycle)",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        envoy = _envoy_classes(facts)
        for obj in facts.tree.of_kind("Gateway", GATEWAY_GROUP):
            class_name = obj.get("spec", "gatewayClassName")
            if isinstance(class_name, str) and class_name in envoy:
                continue  # CL225
            addresses = _ip_addresses(obj)
            annotations = obj.get("spec", "infrastructure", "annotations")
            if not addresses or not isinstance(annotations, dict):
                continue
            wanted = frozenset(str(v).strip() for _, v in addresses)
            shown = ", ".join(sorted(wanted))
            # The legacy key replaces spec.addresses, the new one outranks it (cilium-facts §9);
            # either way only a different list loses something.
            key = LEGACY_IPS_KEY if LEGACY_IPS_KEY in annotations else IPS_KEY
            value = annotations.get(key)
            if not isinstance(value, str) or _meaning(key, value) == wanted:
                continue  # a non-string annotation is refused by the API server anyway
            why = (
                "Cilium ignores spec.addresses when it is set"
                if key == LEGACY_IPS_KEY
                else "that key wins over spec.addresses"
            )
            path = ("spec", "infrastructure", "annotations", key)
            yield Hit(
                f"spec.addresses ({shown}) of {obj.ref} is ignored: the infrastructure "
                f"annotation {key}: {show(value)} is set and {why}; expected "
                "the IPs in one place, or the same IPs in both",
                key_location(obj, "spec", "addresses"),
                f"{obj.ref}#/spec/addresses",
                (Related(obj.locate(*path), f"{key} in spec.infrastructure.annotations"),),
            )


class EnvoyGatewayAddresses:
    params = NoParams
    meta = RuleMeta(
        id="CL225",
        name="envoy-gateway-addresses",
        summary="An Envoy Gateway Gateway does not expect spec.addresses to come from LB-IPAM.",
        rationale=(
            "Envoy Gateway puts a Gateway's `spec.addresses` (type IPAddress) into the Envoy "
            "Service's `spec.externalIPs`; LB-IPAM never sees them. The Service still gets an "
            "LB-IPAM address of its own, and the external IPs are only announced with "
            "kube-proxy replacement and an L2 policy with `externalIPs: true` "
            "(cilium-facts §9 [S17])."
        ),
        fix=(
            "Drop `spec.addresses` and put `lbipam.cilium.io/ips` in "
            "`spec.infrastructure.annotations`, or in the EnvoyProxy's "
            "`spec.provider.kubernetes.envoyService.annotations`."
        ),
        severity=Severity.WARNING,
        example_fail="# gatewayClassName: envoy (controller gateway.envoyproxy.io/...)\nspec:\n"
        "  addresses:\n    - value: 10.0.6.20\n",
        example_pass="spec:\n  infrastructure:\n    annotations:\n"
        "      lbipam.cilium.io/ips: 10.0.6.20\n",
        versions="1.17 - 1.20, with Envoy Gateway as the Gateway controller",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        envoy = _envoy_classes(facts)
        for obj in facts.tree.of_kind("Gateway", GATEWAY_GROUP):
            class_name = obj.get("spec", "gatewayClassName")
            addresses = _ip_addresses(obj)
            if not isinstance(class_name, str) or class_name not in envoy or not addresses:
                continue
            shown = ", ".join(str(v) for _, v in addresses)
            yield Hit(
                f"spec.addresses ({shown}) of {obj.ref} become externalIPs under Envoy Gateway "
                f"(class {class_name}), not an LB-IPAM request; expected lbipam.cilium.io/ips "
                "in spec.infrastructure.annotations or the EnvoyProxy envoyService",
                key_location(obj, "spec", "addresses"),
                f"{obj.ref}#/spec/addresses",
            )


def service_rules() -> list[object]:
    return [
        L2ClassWithoutL2(),
        DeprecatedAnnotation(),
        ConflictingSpellings(),
        CrossNamespaceSpaces(),
        GatewayAddressesIgnored(),
        EnvoyGatewayAddresses(),
    ]
