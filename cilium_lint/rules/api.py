"""What a rule is: metadata, parameters and a check that yields hits. Plug-ins implement this."""

from __future__ import annotations

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
