"""Load-balancer tuning values the agent validates: Maglev table and seed, L2 lease timings and
the client rate limit that L2 announcements consume."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field

from cilium_lint.cilium.cluster import release_for
from cilium_lint.cilium.durations import parse_duration, show_seconds
from cilium_lint.cilium.effective import ValuesView, release_views
from cilium_lint.cilium.expect import show
from cilium_lint.cilium.release import CiliumRelease
from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

# The agent's list (`supported values are: [251 ... 131071]`), fact sheet §1 and §3.2 [S10].
MAGLEV_PRIMES: Final = (251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071)
MAGLEV_SEED_BYTES: Final = 12
L2_ANNOUNCER_CLASS: Final = "io.cilium/l2-announcer"


def _maglev_in_use(view: ValuesView) -> bool:
    """Maglev tables are built: maglev by default, or per service through the annotation."""
    return view.text("loadBalancer.algorithm") == "maglev" or view.on("bpf.lbAlgorithmAnnotation")


def _integer(value: Any) -> int | None:
    """An integer as the agent parses the rendered string (the chart quotes it)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class MaglevTableSize:
    params = NoParams
    meta = RuleMeta(
        id="CL115",
        name="maglev-table-size",
        summary="maglev.tableSize is one of the primes the agent supports.",
        rationale=(
            "The agent accepts only " + ", ".join(str(p) for p in MAGLEV_PRIMES) + " and exits "
            "on any other size (`Invalid value for --bpf-lb-maglev-table-size`). The table "
            "should be larger than 100 x the largest backend count of a service; the default "
            "16381 suits about 160 backends [fact sheet §1, §3.2, §10.6, S3, S10]."
        ),
        fix="Pick the listed prime just above 100 x your largest backend count, or drop the key.",
        severity=Severity.ERROR,
        example_fail="loadBalancer:\n  algorithm: maglev\nmaglev:\n  tableSize: 16384\n",
        example_pass="loadBalancer:\n  algorithm: maglev\nmaglev:\n  tableSize: 16381\n",
        versions="1.17 and later",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in release_views(facts):
            found = view.setting("maglev.tableSize")
            if not found.written or not _maglev_in_use(view) or view.uncertain:
                continue
            size = _integer(found.value)
            if size in MAGLEV_PRIMES:
                continue
            what = "not a whole number" if size is None else "not a supported prime"
            yield Hit(
                f"maglev.tableSize is {show(found.value)}, {what}, so the agent exits; "
                f"expected one of {', '.join(str(p) for p in MAGLEV_PRIMES)}",
                found.location,
                view.identity("maglev.tableSize"),
            )


def seed_bytes(value: Any) -> int | None:
    """How many bytes a hash seed decodes to (standard base64, padding required), or None."""
    if not isinstance(value, str):
        return None
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None


class MaglevHashSeed:
    params = NoParams
    meta = RuleMeta(
        id="CL116",
        name="maglev-hash-seed",
        summary="maglev.hashSeed is base64 of exactly 12 bytes.",
        rationale=(
            "The agent decodes the seed as standard base64 and exits unless it is 12 bytes "
            "(`decoded hash seed is N bytes (not 12 bytes)`). Every agent must use the same "
            "seed, which is why it is pinned in values [fact sheet §1, §3.2, §10.6, S3, S10]."
        ),
        fix="Generate one with `head -c12 /dev/urandom | base64` (16 characters).",
        severity=Severity.ERROR,
        example_fail="loadBalancer:\n  algorithm: maglev\nmaglev:\n  hashSeed: my-cluster-seed\n",
        example_pass="loadBalancer:\n  algorithm: maglev\nmaglev:\n  hashSeed: JLfvgnHc2kaSUFaI\n",
        versions="1.17 and later",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in release_views(facts):
            found = view.setting("maglev.hashSeed")
            if not found.written or not _maglev_in_use(view) or view.uncertain:
                continue
            size = seed_bytes(found.value)
            if size == MAGLEV_SEED_BYTES:
                continue
            what = "not base64" if size is None else f"base64 of {size} bytes"
            yield Hit(
                f"maglev.hashSeed {show(found.value)} is {what}, so the agent exits; expected "
                "base64 of exactly 12 bytes (16 characters)",
                found.location,
                view.identity("maglev.hashSeed"),
            )


# Agent defaults when the keys are unset (fact sheet §1).
LEASE_DEFAULTS: Final = {
    "l2announcements.leaseDuration": Decimal(15),
    "l2announcements.leaseRenewDeadline": Decimal(5),
    "l2announcements.leaseRetryPeriod": Decimal(2),
}


def lease_timings(view: ValuesView) -> tuple[dict[str, Decimal], list[str]]:
    """Each lease timing in seconds (written, else the agent default), and the written keys
    that are not Go durations."""
    timings: dict[str, Decimal] = {}
    invalid: list[str] = []
    for key, default in LEASE_DEFAULTS.items():
        found = view.setting(key)
        if not found.written or found.value is None:
            timings[key] = default
            continue
        parsed = parse_duration(found.value)
        if parsed is None:
            invalid.append(key)
        else:
            timings[key] = parsed
    return timings, invalid


class L2LeaseTimings:
    params = NoParams
    meta = RuleMeta(
        id="CL118",
        name="l2-lease-timings",
        summary="L2 announcement lease timings are Go durations in the order the agent needs "
        "(leaseDuration > leaseRenewDeadline > 1.2 x leaseRetryPeriod > 0, leaseDuration >= 1s).",
        rationale=(
            "The agent reads the lease timings as Go durations and corrects timings that are "
            "out of order with a warning: leaseDuration must be at least 1s; renewDeadline and "
            "retryPeriod above 0; leaseDuration above renewDeadline (else renewDeadline becomes "
            "leaseDuration/2); renewDeadline above 1.2 x retryPeriod (else retryPeriod becomes "
            "renewDeadline/2). The values in Git are then not the ones in effect, and failover "
            "takes between leaseDuration - renewDeadline and leaseDuration + renewDeadline "
            "[fact sheet §1, §3.2, §10.7, S5, S12]."
        ),
        fix=(
            "Keep the defaults (15s / 5s / 2s) or scale them together, e.g. leaseDuration: 3s, "
            "leaseRenewDeadline: 1s, leaseRetryPeriod: 200ms. Write a unit: `15s`, not `15`."
        ),
        severity=Severity.WARNING,
        example_fail="l2announcements:\n  enabled: true\n  leaseDuration: 5s\n",
        example_pass="l2announcements:\n  enabled: true\n  leaseDuration: 20s\n",
        versions="1.17 and later",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for view in release_views(facts):
            if not view.on("l2announcements.enabled"):
                continue
            timings, invalid = lease_timings(view)
            if view.uncertain:
                continue
            for key in invalid:
                yield Hit(
                    f"{view.describe(key)}, which is not a Go duration; expected a number with "
                    "a unit such as 15s, 1m30s or 500ms",
                    view.location(key),
                    view.identity(key),
                )
            if invalid:
                continue
            yield from self._order(view, timings)

    @staticmethod
    def _order(view: ValuesView, timings: dict[str, Decimal]) -> Iterator[Hit]:
        duration_key, renew_key, retry_key = LEASE_DEFAULTS
        duration, renew, retry = (timings[k] for k in LEASE_DEFAULTS)

        def hit(message: str, *keys: str) -> Hit:
            key = view.first_written(*keys)
            return Hit(message, view.location(key), view.identity(key))

        if duration < 1:
            yield hit(
                f"{view.describe(duration_key)}, below the 1s minimum, so the agent replaces "
                "it; expected leaseDuration >= 1s",
                duration_key,
            )
        if renew <= 0:
            yield hit(f"{view.describe(renew_key)}; expected more than 0", renew_key)
        if retry <= 0:
            yield hit(f"{view.describe(retry_key)}; expected more than 0", retry_key)
        if duration <= renew and renew > 0:
            renew = duration / 2
            yield hit(
                f"l2announcements leaseDuration {show_seconds(duration)} is not longer than "
                f"leaseRenewDeadline {show_seconds(timings[renew_key])}, so the agent uses a "
                f"renew deadline of {show_seconds(renew)}; expected leaseDuration > "
                "leaseRenewDeadline",
                renew_key,
                duration_key,
            )
        if retry > 0 and renew > 0 and renew <= retry * Decimal("1.2"):
            yield hit(
                f"l2announcements leaseRenewDeadline {show_seconds(renew)} is not above 1.2 x "
                f"leaseRetryPeriod {show_seconds(retry)}, so the agent uses a retry period of "
                f"{show_seconds(renew / 2)}; expected leaseRenewDeadline > 1.2 x "
                "leaseRetryPeriod",
                retry_key,
                renew_key,
            )


class RateLimitParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    safety_factor: float = Field(
        1.0,
        gt=0,
        alias="safety-factor",
        description="Multiplies the documented minimum (services / leaseRenewDeadline), e.g. "
        "1.5 to keep head room for services added later.",
    )


def announced_services(facts: Facts, release: CiliumRelease) -> int:
    """LoadBalancer services of the release's cluster: every object requesting an LB IP, plus
    Services of type LoadBalancer that L2 announcements may serve (no class, or the
    l2-announcer class), counted once each. An object that no single cluster claims (a shared
    folder) counts for every cluster."""

    def ours(path: str) -> bool:
        return release_for(facts.cilium, path) in (release, None)

    # Requests from HelmRelease values carry the values path in their owner, so each service of
    # a chart counts once; a Service object's owner is its ref, as below.
    owners = {r.owner for r in facts.requests if ours(r.location.path)}
    for service in facts.tree.of_kind("Service", ""):
        spec = service.get("spec")
        if not isinstance(spec, dict) or spec.get("type") != "LoadBalancer":
            continue
        if spec.get("loadBalancerClass") in (None, L2_ANNOUNCER_CLASS) and ours(service.doc.path):
            owners.add(service.ref)
    return len(owners)


class L2ClientRateLimit:
    params = RateLimitParams
    meta = RuleMeta(
        id="CL119",
        name="l2-client-rate-limit",
        summary="With L2 announcements, the agent's API client rate limit covers the lease "
        "renewals of every announced service (qps >= services / leaseRenewDeadline).",
        rationale=(
            "Each announced service holds a Kubernetes lease that its node renews through the "
            "agent's API client. The client is limited by `k8sClientRateLimit.qps` (unset: 10 "
            "per second in 1.17+); when renewals need more, leases expire, announcements flap "
            "and services drop off the network. The Cilium docs size it as QPS = announced "
            "services / leaseRenewDeadline, with burst somewhat higher. The count here is every "
            "object of the release's cluster (or of a folder shared by all clusters) that "
            "requests a LoadBalancer IP, plus every Service of type LoadBalancer without a class "
            "or with `io.cilium/l2-announcer` "
            "[fact sheet §1, §3.2, §10.7, S5]."
        ),
        fix=(
            "Raise `k8sClientRateLimit.qps` (and `burst`, e.g. twice qps) to at least the "
            "number in the message, or lengthen `l2announcements.leaseRenewDeadline`."
        ),
        severity=Severity.WARNING,
        example_fail="l2announcements:\n  enabled: true\n# and 60 LoadBalancer services\n",
        example_pass=(
            "l2announcements:\n  enabled: true\nk8sClientRateLimit:\n  qps: 15\n  burst: 30\n"
            "# and 60 LoadBalancer services\n"
        ),
        versions="1.17 and later",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        assert isinstance(params, RateLimitParams)
        for view in release_views(facts):
            if not view.on("l2announcements.enabled"):
                continue
            timings, invalid = lease_timings(view)
            renew = timings.get("l2announcements.leaseRenewDeadline")
            qps_setting = view.setting("k8sClientRateLimit.qps")
            qps = _integer(qps_setting.value) if qps_setting.value is not None else 10
            if view.uncertain or invalid or renew is None or renew <= 0 or qps is None:
                continue  # CL118/CL123 report values that cannot be read
            services = announced_services(facts, view.release)
            needed = math.ceil(Decimal(services) / renew * Decimal(str(params.safety_factor)))
            if qps >= needed:
                continue
            where = view.first_written("k8sClientRateLimit.qps", "l2announcements.enabled")
            factor = f" x {params.safety_factor:g}" if params.safety_factor != 1 else ""
            yield Hit(
                f"{view.describe('k8sClientRateLimit.qps')} while L2 announcements renew "
                f"{services} LoadBalancer services every {show_seconds(renew)}; expected "
                f"k8sClientRateLimit.qps >= {needed} (services / leaseRenewDeadline{factor})",
                view.location(where),
                view.identity("k8sClientRateLimit.qps"),
            )
