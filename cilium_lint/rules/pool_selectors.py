"""CL217: a requested IP must lie in a pool whose serviceSelector selects the requester."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cilium_lint.lbipam import intervals
from cilium_lint.lbipam.pools import Pool
from cilium_lint.lbipam.requests import LoadBalancerRequest
from cilium_lint.lbipam.selectors import Verdict, evaluate, parse_selector, service_labels
from cilium_lint.rules.api import Hit, NoParams, Related, RuleMeta, Severity
from cilium_lint.rules.lbcommon import key_location
from cilium_lint.tree import Tree, api_group, dig

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

# Cilium labels the Service it makes for a Gateway itself; keys it may set are not known here.
_GATEWAY_OWNED_PREFIXES = ("io.cilium.gateway/", "gateway.networking.k8s.io/")


def _keys(mapping: Any) -> set[str]:
    return {str(k) for k in mapping} if isinstance(mapping, dict) else set()


def injected_label_keys(tree: Tree) -> frozenset[str]:
    """Label keys kustomize or Flux may add to objects (commonLabels, labels, commonMetadata).

    Which objects a kustomization reaches is not resolved here, so such a key counts as unknown
    on every object: a selector on it is never judged a mismatch.
    """
    keys: set[str] = set()
    for doc in tree.documents():
        data = doc.data if isinstance(doc.data, dict) else {}
        group = api_group(doc.api_version)
        if group == "kustomize.config.k8s.io" or (doc.kind is None and "resources" in data):
            keys |= _keys(data.get("commonLabels"))
            labels = data.get("labels")
            for entry in labels if isinstance(labels, list) else []:
                keys |= _keys(entry.get("pairs") if isinstance(entry, dict) else None)
        elif group == "kustomize.toolkit.fluxcd.io" and doc.kind == "Kustomization":
            keys |= _keys(dig(data, ("spec", "commonMetadata", "labels")))
    return frozenset(keys)


class PoolSelectorMismatch:
    params = NoParams
    meta = RuleMeta(
        id="CL217",
        name="pool-selector-mismatch",
        summary="A requested IP lies in a pool whose serviceSelector selects the requester.",
        rationale=(
            "LB-IPAM hands a specific IP only from an enabled range of a pool whose "
            "`serviceSelector` matches the Service (its labels plus the pseudo-labels "
            "`io.kubernetes.service.namespace` and `io.kubernetes.service.name`). An IP inside "
            "a pool that does not select the Service leaves it pending with condition "
            "`IPAMRequestSatisfied=False`, reason `pool_selector_mismatch` (cilium-facts §5.2, "
            "§5.3 [S6]). For a Gateway, `spec.infrastructure.labels` are the Service's labels "
            "(§9)."
        ),
        fix=(
            "Label the Service (for a Gateway: `spec.infrastructure.labels`) so the pool's "
            "serviceSelector matches, widen the selector, or request an IP from a pool that "
            "selects the Service."
        ),
        severity=Severity.ERROR,
        example_fail=(
            "# pool internal: blocks [{cidr: 10.0.6.0/25}], serviceSelector: {matchLabels: "
            "{pool: internal}}\nkind: Service\nmetadata:\n  name: echo\n  annotations:\n"
            "    lbipam.cilium.io/ips: 10.0.6.10\n"
        ),
        example_pass=(
            "kind: Service\nmetadata:\n  name: echo\n  labels:\n    pool: internal\n"
            "  annotations:\n    lbipam.cilium.io/ips: 10.0.6.10\n"
        ),
        versions="1.17 - 1.20",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        injected = facts.tree.memo("injected-label-keys", lambda: injected_label_keys(facts.tree))
        pools = facts.pools
        # Which serving pools hold an IP, without scanning every block for every request.
        holders = intervals.Holders(
            [
                (*block.contained(), number)
                for number, pool in enumerate(pools)
                if pool.serving
                for block in pool.blocks
            ]
        )
        unknown_pools = [p for p in pools if p.serving and p.unknown]
        for request in facts.requests:
            if request.ip is None or request.labels is None:
                continue
            numbers = dict.fromkeys(holders.get(intervals.key(request.ip)))
            holding = [pools[number] for number in numbers]
            if not holding:
                continue  # CL203 reports an IP that no enabled pool holds
            # A pool with a block whose range is not known here may hold the IP too.
            maybe = [p for p in unknown_pools if p not in holding]
            labels, unknown = service_labels(
                request.labels, request.namespace, request.service_name
            )
            unknown |= injected
            verdicts = [(pool, self._verdict(pool, request, labels, unknown)) for pool in holding]
            if any(v.matched is not False for _, v in verdicts):
                continue
            if any(self._verdict(p, request, labels, unknown).matched is not False for p in maybe):
                continue
            yield self._hit(request, verdicts)

    @staticmethod
    def _verdict(
        pool: Pool, request: LoadBalancerRequest, labels: dict[str, str], unknown: frozenset[str]
    ) -> Verdict:
        selector = parse_selector(pool.obj.get("spec", "serviceSelector"))
        if request.source == "Gateway" and selector is not None:
            owned = {
                r.key for r in selector.requirements if r.key.startswith(_GATEWAY_OWNED_PREFIXES)
            }
            unknown = unknown | owned
        return evaluate(selector, labels, unknown)

    @staticmethod
    def _hit(request: LoadBalancerRequest, verdicts: list[tuple[Pool, Verdict]]) -> Hit:
        pool, verdict = verdicts[0]
        needs = verdict.failed.describe() if verdict.failed is not None else "its selector"
        others = f" (and {len(verdicts) - 1} more pool(s))" if len(verdicts) > 1 else ""
        related = tuple(
            Related(
                key_location(p.obj, "spec", "serviceSelector"),
                f"serviceSelector of pool {p.obj.name}",
            )
            for p, _ in verdicts
        )
        return Hit(
            f"{request.ip} requested by {request.label} lies in pool "
            f"{pool.obj.name}{others}, whose serviceSelector does not select it (needs "
            f"{needs}), so LB-IPAM leaves it pending; expected labels the selector matches or "
            "an IP from a pool that selects it",
            request.location,
            f"{request.owner}#{request.pointer}#{request.text}",
            related,
        )
