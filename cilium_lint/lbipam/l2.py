"""CiliumL2AnnouncementPolicy objects, and which interfaces their ``interfaces`` regexes reach.

The policy's ``interfaces`` are Go regular expressions matched unanchored (``MatchString``)
against the devices Cilium selected, not against every host interface (cilium-facts §4).
``devices`` entries are exact names or prefixes ending in ``+``; a prefix selects interfaces
this tree cannot list, so :func:`candidates` stands in with the names such a prefix usually
selects (``bond0`` .. ``bond15``, VLAN sub-interfaces) and any name the regex itself spells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cilium_lint.lbipam.selectors import Selector, parse_selector
from cilium_lint.patterns import GoPattern, go_pattern
from cilium_lint.tree import KObject, Tree

POLICY_KIND = "CiliumL2AnnouncementPolicy"

_LITERAL_RUN = re.compile(r"(?:\\.|[A-Za-z0-9_.:@-])+")


@dataclass(frozen=True, slots=True)
class InterfacePattern:
    index: int
    text: str
    compiled: GoPattern | None
    error: str | None  # why Cilium refuses the regex


@dataclass(frozen=True, slots=True)
class L2Policy:
    obj: KObject
    load_balancer_ips: Any  # as written: only True announces
    external_ips: Any
    interfaces: tuple[InterfacePattern, ...] | None  # None: absent, i.e. every selected device
    service_selector: Selector | None

    @property
    def announces(self) -> bool:
        return self.load_balancer_ips is True or self.external_ips is True


def _patterns(raw: Any) -> tuple[InterfacePattern, ...] | None:
    if not isinstance(raw, list):
        return None
    found = []
    for index, item in enumerate(raw):
        if not isinstance(item, str):
            found.append(InterfacePattern(index, str(item), None, "not a string"))
            continue
        compiled = go_pattern(item)
        found.append(
            InterfacePattern(index, item, compiled if compiled.valid else None, compiled.error)
        )
    return tuple(found)


def l2_policies(tree: Tree) -> list[L2Policy]:
    found = []
    for obj in tree.of_kind(POLICY_KIND, "cilium.io"):
        spec = obj.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        found.append(
            L2Policy(
                obj=obj,
                load_balancer_ips=spec.get("loadBalancerIPs"),
                external_ips=spec.get("externalIPs"),
                interfaces=_patterns(spec.get("interfaces")),
                service_selector=parse_selector(spec.get("serviceSelector")),
            )
        )
    return found


_SUFFIXES = (
    "",
    *(str(n) for n in range(16)),
    *(f"{n}.{vlan}" for n in range(2) for vlan in (10, 100)),
    "p0s0",
    "p1s0",
    "p3s0",
    "s0",
    "s1",
    "o1",
)


def candidates(entry: str, pattern: str = "") -> list[str]:
    """Interface names a ``devices`` entry stands for; a prefix gets typical names."""
    if not entry.endswith("+"):
        return [entry]
    prefix = entry[:-1]
    names = [prefix + suffix for suffix in _SUFFIXES]
    # Names the regex spells out itself (`^bond0\.100$` -> bond0.100), when the prefix selects them.
    for run in _LITERAL_RUN.findall(pattern):
        literal = re.sub(r"\\(.)", r"\1", run)
        if literal.startswith(prefix) and literal not in names:
            names.append(literal)
    return names


def selects_everything(entries: list[str]) -> bool:
    """A bare ``+`` is a prefix of every name."""
    return any(entry == "+" for entry in entries)


def reachable(pattern: GoPattern, entries: list[str]) -> list[str]:
    """The candidate device names ``pattern`` matches (unanchored, like Go's MatchString)."""
    return [
        name
        for entry in entries
        for name in candidates(entry, pattern.text)
        if pattern.search(name)
    ]
