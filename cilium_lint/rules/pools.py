"""CiliumLoadBalancerIPPool rules: what the CRD refuses, what LB-IPAM masks or disables."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cilium_lint.cilium.expect import show
from cilium_lint.flux.text import is_unknown, literal_reason
from cilium_lint.lbipam.pools import POOL_KIND, IPAddress, IPNetwork
from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity
from cilium_lint.rules.lbcommon import chart_minor, key_location, release_of
from cilium_lint.rules.pool_overlaps import PoolOverlap, PoolOverlapsPodCidr
from cilium_lint.rules.pool_selectors import PoolSelectorMismatch
from cilium_lint.tree import KObject

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

_POOL_HEAD = "apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: lb\n"


def _pool_objects(facts: Facts) -> list[KObject]:
    return facts.tree.of_kind(POOL_KIND, "cilium.io")


def _blocks(obj: KObject) -> list[tuple[int, Any]]:
    raw = obj.get("spec", "blocks")
    return list(enumerate(raw)) if isinstance(raw, list) else []


def parse_prefix(text: Any) -> IPNetwork | None:
    """Go's ``netip.ParsePrefix``: ``address/bits`` and nothing else (no bare address, no mask)."""
    if not isinstance(text, str) or text.count("/") != 1:
        return None
    address, _, bits = text.partition("/")
    if not bits.isdigit() or (len(bits) > 1 and bits.startswith("0")):
        return None
    try:
        return ipaddress.ip_network(f"{address}/{bits}", strict=False)
    except ValueError:
        return None


def parse_address(text: Any) -> IPAddress | None:
    """Go's ``netip.ParseAddr`` for the forms a pool holds."""
    if not isinstance(text, str) or text != text.strip():
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class PoolApiVersion:
    params = NoParams
    meta = RuleMeta(
        id="CL210",
        name="pool-api-version",
        summary="CiliumLoadBalancerIPPool uses the API version the tree's Cilium chart serves.",
        rationale=(
            "`cilium.io/v2` pools exist from Cilium 1.18 (PR #39090); on 1.17 and older the API "
            "server does not serve v2, so Flux fails to apply the pool and LB-IPAM has no "
            "addresses. From 1.19 `cilium.io/v2alpha1` is deprecated (PR #39134, 1.19 upgrade "
            "notes) and may stop being served later (cilium-facts §5.1 [S2][S13][S15])."
        ),
        fix=(
            "Write `apiVersion: cilium.io/v2` on chart 1.18 or newer (the spec is unchanged); "
            "keep `cilium.io/v2alpha1` only while the cluster runs 1.17 or older."
        ),
        severity=Severity.WARNING,
        example_fail=_POOL_HEAD.replace("v2", "v2alpha1", 1) + "# the tree's chart: 1.19.6\n",
        example_pass=_POOL_HEAD + "# the tree's chart: 1.19.6\n",
        versions=">= 1.19 (v2alpha1 deprecated); < 1.18 (v2 not served)",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for obj in _pool_objects(facts):
            release = release_of(facts, obj.doc.path)
            if release is None:
                continue
            version = obj.get("apiVersion")
            minor = chart_minor(release)
            where = obj.locate("apiVersion")
            identity = f"{obj.ref}#/apiVersion"
            if version == "cilium.io/v2alpha1" and minor >= (1, 19):
                yield Hit(
                    f"pool {obj.name} uses cilium.io/v2alpha1, deprecated since Cilium 1.19 "
                    f"(the tree's chart is {release.version_label}); expected cilium.io/v2",
                    where,
                    identity,
                )
            elif version == "cilium.io/v2" and minor < (1, 18):
                # Worse than a deprecation: the pool is not applied at all.
                yield Hit(
                    f"pool {obj.name} uses cilium.io/v2, which Cilium serves from 1.18 only "
                    f"(the tree's chart is {release.version_label}), so the pool is not applied; "
                    "expected cilium.io/v2alpha1",
                    where,
                    identity,
                    severity=Severity.ERROR,
                )


class PoolCidrsRemoved:
    params = NoParams
    meta = RuleMeta(
        id="CL211",
        name="pool-cidrs-removed",
        summary="CiliumLoadBalancerIPPool lists its ranges under spec.blocks, not spec.cidrs.",
        rationale=(
            "`spec.cidrs` was removed in Cilium 1.16 (PR #33151). It is now an unknown field: "
            "server-side apply (which Flux uses) rejects it and other clients prune it, so the "
            "pool either fails to apply or has no ranges at all (cilium-facts §5.2 [S13][S15])."
        ),
        fix="Rename `cidrs:` to `blocks:`; each entry keeps its `cidr:` key.",
        severity=Severity.ERROR,
        example_fail=_POOL_HEAD + "spec:\n  cidrs:\n    - cidr: 10.0.6.0/24\n",
        example_pass=_POOL_HEAD + "spec:\n  blocks:\n    - cidr: 10.0.6.0/24\n",
        versions=">= 1.16",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for obj in _pool_objects(facts):
            spec = obj.get("spec")
            if not isinstance(spec, dict) or "cidrs" not in spec:
                continue
            also = " (alongside spec.blocks)" if "blocks" in spec else ""
            yield Hit(
                f"pool {obj.name} uses spec.cidrs{also}, removed in Cilium 1.16 and rejected or "
                "pruned by the API server; expected spec.blocks",
                key_location(obj, "spec", "cidrs"),
                f"{obj.ref}#/spec/cidrs",
            )


class PoolAllowFirstLast:
    params = NoParams
    meta = RuleMeta(
        id="CL212",
        name="pool-allow-first-last",
        summary='allowFirstLastIPs is exactly the string "Yes" or "No".',
        rationale=(
            'The CRD declares `allowFirstLastIPs` as a string enum `"Yes"`/`"No"`. YAML reads an '
            "unquoted `No` or `yes` as a boolean and `yes`/`no` in lower case are not in the "
            "enum, so the API server refuses the whole pool (cilium-facts §5.2 [S13][S14])."
        ),
        fix='Quote it: `allowFirstLastIPs: "No"` (or `"Yes"`, the default since 1.16).',
        severity=Severity.ERROR,
        example_fail=_POOL_HEAD + "spec:\n  allowFirstLastIPs: No\n",
        example_pass=_POOL_HEAD + 'spec:\n  allowFirstLastIPs: "No"\n',
        versions=">= 1.16",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for obj in _pool_objects(facts):
            spec = obj.get("spec")
            if not isinstance(spec, dict) or "allowFirstLastIPs" not in spec:
                continue
            value = spec["allowFirstLastIPs"]
            if value in ("Yes", "No") and isinstance(value, str):
                continue
            if isinstance(value, bool):
                shown = "Yes" if value else "No"
                kind = f"unquoted, so YAML reads the boolean {show(value)}"
            else:
                shown, kind = show(value), "not in the enum"
            yield Hit(
                f"pool {obj.name} has allowFirstLastIPs: {shown} ({kind}), which the "
                'CRD refuses; expected the string "Yes" or "No" (quoted)',
                obj.locate("spec", "allowFirstLastIPs"),
                f"{obj.ref}#/spec/allowFirstLastIPs",
            )


class PoolHostBits:
    params = NoParams
    meta = RuleMeta(
        id="CL213",
        name="pool-host-bits",
        summary="A pool cidr block is written as its network address (no host bits set).",
        rationale=(
            "LB-IPAM masks a cidr block silently: `10.0.6.200/28` becomes 10.0.6.192-10.0.6.207, "
            "so the pool serves addresses the author did not mean to hand out "
            "(cilium-facts §5.3 [S6])."
        ),
        fix="Write the network address (`10.0.6.192/28`), or use `start`/`stop` for a range.",
        severity=Severity.WARNING,
        example_fail=_POOL_HEAD + "spec:\n  blocks:\n    - cidr: 10.0.6.1/24\n",
        example_pass=_POOL_HEAD + "spec:\n  blocks:\n    - cidr: 10.0.6.0/24\n",
        versions="1.17 - 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for obj in _pool_objects(facts):
            for index, raw in _blocks(obj):
                text = raw.get("cidr") if isinstance(raw, dict) else None
                network = parse_prefix(text)
                if network is None or str(network) == text:
                    continue
                address = ipaddress.ip_interface(str(text)).ip
                if address == network.network_address:
                    continue  # same address, only spelled differently (IPv6 zeros)
                yield Hit(
                    f"block {text} of pool {obj.name} has host bits set; LB-IPAM masks it to "
                    f"{network} ({network.network_address}-{network.broadcast_address})",
                    obj.locate("spec", "blocks", index, "cidr"),
                    f"{obj.ref}#/spec/blocks/{index}/cidr",
                )


def _never(value: Any) -> str:
    """Why a Flux variable in ``value`` reaches the cluster as written, for messages."""
    reason = literal_reason(value)
    return f", never substituted by Flux: {reason}" if reason else ""


def _shape_problems(raw: Any) -> list[tuple[tuple[str, ...], str]]:  # (key in block, message)
    """What is wrong with one block: (key inside the block to point at, message)."""
    if not isinstance(raw, dict):
        return [((), f"{show(raw)} is not a mapping with cidr or start/stop")]
    if any(is_unknown(raw.get(key)) for key in ("cidr", "start", "stop")):
        return []  # a Flux variable whose value is not known here: CL013 says so
    has_cidr, has_start = "cidr" in raw, "start" in raw
    if has_cidr and (has_start or "stop" in raw):
        other = "start" if has_start else "stop"
        return [(("cidr",), f"both cidr and {other} are set; expected either cidr or start/stop")]
    if not has_cidr and not has_start:
        return [
            ((), "neither cidr nor start is set; expected cidr, or start with an optional stop")
        ]
    if has_cidr:
        if parse_prefix(raw["cidr"]) is None:
            cidr = raw["cidr"]
            return [(("cidr",), f"cidr {show(cidr)} is not a CIDR (address/bits){_never(cidr)}")]
        return []
    problems: list[tuple[tuple[str, ...], str]] = []
    start = parse_address(raw["start"])
    if start is None:
        text = raw["start"]
        problems.append((("start",), f"start {show(text)} is not an IP address{_never(text)}"))
    stop = start
    if "stop" in raw:
        stop = parse_address(raw["stop"])
        if stop is None:
            text = raw["stop"]
            problems.append((("stop",), f"stop {show(text)} is not an IP address{_never(text)}"))
    if start is None or stop is None or problems:
        return problems
    if start.version != stop.version:
        return [(("stop",), f"start {start} and stop {stop} are of different IP families")]
    if int(stop) < int(start):
        return [(("stop",), f"stop {stop} is before start {start}; the range is empty")]
    return []


class PoolBlockShape:
    params = NoParams
    meta = RuleMeta(
        id="CL214",
        name="pool-block-shape",
        summary="Every pool block has a valid cidr, or a valid start with an optional stop.",
        rationale=(
            "A block is a `cidr` or a `start` (+ optional `stop`); the CRD does not enforce it. "
            "LB-IPAM fails to upsert a pool whose cidr, start or stop does not parse, and a "
            "range that ends before it starts or mixes IPv4 and IPv6 holds no address "
            "(cilium-facts §5.2, §5.3 [S6][S13]). A value set by a Flux variable that is not "
            "known here (CL013) is not judged."
        ),
        fix="Write `- cidr: 10.0.6.0/24` or `- start: 10.0.6.10` with `stop: 10.0.6.20`.",
        severity=Severity.ERROR,
        example_fail=_POOL_HEAD
        + "spec:\n  blocks:\n    - start: 10.0.6.20\n      stop: 10.0.6.1\n",
        example_pass=_POOL_HEAD
        + "spec:\n  blocks:\n    - start: 10.0.6.1\n      stop: 10.0.6.20\n",
        versions="1.17 - 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for obj in _pool_objects(facts):
            blocks = obj.get("spec", "blocks")
            if blocks is not None and not isinstance(blocks, list):
                yield Hit(
                    f"pool {obj.name} has spec.blocks {show(blocks)}; expected a list of blocks",
                    obj.locate("spec", "blocks"),
                    f"{obj.ref}#/spec/blocks",
                )
                continue
            for index, raw in _blocks(obj):
                for inner, message in _shape_problems(raw):
                    path: tuple[str | int, ...] = ("spec", "blocks", index, *inner)
                    yield Hit(
                        f"block {index} of pool {obj.name}: {message}",
                        obj.locate(*path),
                        f"{obj.ref}#/" + "/".join(str(p) for p in path),
                    )


def pool_rules() -> list[object]:
    return [
        PoolApiVersion(),
        PoolCidrsRemoved(),
        PoolAllowFirstLast(),
        PoolHostBits(),
        PoolBlockShape(),
        PoolOverlap(),
        PoolOverlapsPodCidr(),
        PoolSelectorMismatch(),
    ]
