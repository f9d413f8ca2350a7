"""Rules about suppressions themselves. The engine reports them after every other rule has run,
because only then is it known which suppressions matched nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity

if TYPE_CHECKING:
    from cilium_lint.facts import Facts


class _EngineReported:
    params = NoParams

    def __init__(self, meta: RuleMeta) -> None:
        self.meta = meta

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        return iter(())


INVALID = RuleMeta(
    id="CL006",
    name="suppression-invalid",
    summary="Every suppression names known rules and gives a reason.",
    rationale=(
        "A suppression hides a finding from everyone who reads the report later. Without a "
        "reason nobody can tell whether it is still justified; with a misspelt rule id it "
        "hides nothing while looking as if it did."
    ),
    fix=(
        "Write `# cilium-lint: ignore[CL204] shared with the DNS service on purpose` on the "
        "offending line or the line above, or annotate the object with "
        '`cilium-lint.io/ignore: "CL204: reason"`.'
    ),
    severity=Severity.ERROR,
    example_fail="lbipam.cilium.io/ips: 10.0.7.5  # cilium-lint: ignore[CL202]\n",
    example_pass=(
        "lbipam.cilium.io/ips: 10.0.7.5  # cilium-lint: ignore[CL202] lab VLAN, routed separately\n"
    ),
)

UNUSED = RuleMeta(
    id="CL007",
    name="suppression-unused",
    summary="Every suppression still suppresses a finding.",
    rationale=(
        "A suppression that matches nothing outlived the problem it hid, or points at the "
        "wrong line; left in place it would silently hide the next real finding there."
    ),
    fix="Remove the suppression, or move it to the line the finding is reported on.",
    severity=Severity.WARNING,
    example_fail="routingMode: native  # cilium-lint: ignore[CL102] migrating\n",
    example_pass="routingMode: native\n",
)


def suppression_rules() -> list[object]:
    return [_EngineReported(INVALID), _EngineReported(UNUSED)]
