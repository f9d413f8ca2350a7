"""What a rule is: metadata, parameters and a check that yields hits. Plug-ins implement this."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from cilium_lint.document import Location

if TYPE_CHECKING:
    from cilium_lint.facts import Facts


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


# Public names for the source tags rule texts cite while they are written against the team's
# Cilium fact sheet; users see the sources, not the tags.
_SOURCES = {
    "1": "Cilium Helm chart (values.yaml, values.schema.json, templates)",
    "2": "Cilium upgrade notes",
    "3": "Cilium docs: kube-proxy replacement",
    "4": "Cilium docs: LB IPAM",
    "5": "Cilium docs: L2 announcements",
    "6": "cilium-operator LB-IPAM code",
    "7": "Cilium service annotations (pkg/annotation)",
    "8": "Cilium load-balancer configuration code",
    "9": "Cilium kube-proxy replacement code",
    "10": "Cilium Maglev code",
    "11": "Cilium devices controller",
    "12": "Cilium L2 announcer and CiliumL2AnnouncementPolicy CRD",
    "13": "CiliumLoadBalancerIPPool CRD",
    "14": "published CRD JSON schemas",
    "15": "cilium/cilium issues and pull requests",
    "16": "Cilium docs: Gateway API addresses",
    "17": "Envoy Gateway docs",
    "18": "Cilium docs: masquerading",
    "19": "Cilium docs: Node IPAM",
    "20": "Cilium docs: Gateway API",
    "21": "Cilium XDP acceleration code",
}
_CITATION_START = re.compile(r"[\(\[](?=cilium-facts|fact sheet|§)")
_CITATION_NOISE = re.compile(
    r"cilium-facts(?:\.md)?|fact sheet|§[0-9.]+(?:-§[0-9.]+)?|\[?S[0-9]+\]?|\band\b|,"
)


def public_citations(text: str) -> str:
    """``(cilium-facts §6 [S6][S7])`` becomes ``(sources: cilium-operator LB-IPAM code; ...)``."""
    out: list[str] = []
    position = 0
    for match in _CITATION_START.finditer(text):
        if match.start() < position:
            continue
        depth, end = 0, len(text)
        for index in range(match.start(), len(text)):
            depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(text[index], 0)
            if depth == 0:
                end = index + 1
                break
        inside = text[match.start() + 1 : end - 1]
        tags = dict.fromkeys(re.findall(r"S([0-9]+)", inside))
        names = [_SOURCES[t] for t in tags if t in _SOURCES] or ["Cilium documentation and code"]
        extra = " ".join(_CITATION_NOISE.sub(" ", inside).split()).strip(" ;:.")
        out.append(text[position : match.start()])
        out.append(f"(sources: {'; '.join(names)}{'; ' + extra if extra else ''})")
        position = end
    out.append(text[position:])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class RuleMeta:
    id: str
    name: str  # kebab-case, stable like the id
    summary: str  # one line: what the rule wants
    rationale: str  # why it matters: what breaks
    fix: str  # how to make the finding go away
    severity: Severity
    example_fail: str = ""
    example_pass: str = ""
    versions: str = ""  # chart versions the rule applies to, when it depends on them
    pack: str = "builtin"
    source: str = ""  # the rule file or module it comes from

    def __post_init__(self) -> None:
        for name in ("summary", "rationale", "fix", "versions"):
            object.__setattr__(self, name, public_citations(getattr(self, name)))

    def help_markdown(self) -> str:
        parts = [f"**{self.id} {self.name}**: {self.summary}", "", "**Why.** " + self.rationale]
        parts += ["", "**How to fix.** " + self.fix]
        if self.versions:
            parts += ["", f"**Applies to.** Cilium chart {self.versions}"]
        if self.example_fail:
            parts += ["", "Fails:", "", "```yaml", self.example_fail.rstrip(), "```"]
        if self.example_pass:
            parts += ["", "Passes:", "", "```yaml", self.example_pass.rstrip(), "```"]
        return "\n".join(parts)

    def help_text(self) -> str:
        text = f"{self.summary}\n\nWhy: {self.rationale}\n\nHow to fix: {self.fix}"
        if self.versions:
            text += f"\n\nApplies to: Cilium chart {self.versions}"
        return text


@dataclass(frozen=True, slots=True)
class Related:
    location: Location
    message: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule's verdict on one place. The engine turns it into a finding."""

    message: str
    location: Location
    # Stable identity of what is wrong (object + pointer), never a line number: fingerprints
    # and baselines rely on it surviving unrelated edits.
    identity: str
    related: tuple[Related, ...] = field(default=())
    # A rule whose findings differ in consequence (ignored vs. refused by Helm) may raise or
    # lower its default severity per hit; a severity set in the configuration still wins.
    severity: Severity | None = None


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@runtime_checkable
class Rule(Protocol):
    """A rule: ``meta`` describes it, ``params`` validates its settings, ``check`` runs it."""

    @property
    def meta(self) -> RuleMeta: ...

    @property
    def params(self) -> type[BaseModel]: ...

    def check(self, facts: Facts, params: BaseModel) -> Iterable[Hit]: ...
