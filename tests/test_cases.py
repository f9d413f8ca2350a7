"""Every case tree under tests/cases yields exactly the findings its markers name."""

from __future__ import annotations

from pathlib import Path

import pytest
from casetools import findings, markers, run_case

from cilium_lint.registry import load_registry

CASES = Path(__file__).parent / "cases"
ALL_CASES = sorted(p for p in CASES.glob("*/*") if p.is_dir())


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_findings_match_markers(case: Path) -> None:
    expected = markers(case)
    report = run_case(case)
    got = findings(report)
    details = "\n".join(
        f"{f.location.path}:{f.location.span.line}: {f.rule_id} {f.message}"
        for f in report.findings
    )
    assert got == expected, f"findings differ from markers:\n{details}"
    if case.name.startswith("pass-"):
        assert not expected, "a pass- case must carry no marker"
    else:
        assert case.name.startswith("fail-"), "case folders are named pass-* or fail-*"
        assert any(rule == case.parent.name for _, _, rule in expected), (
            f"a fail- case under {case.parent.name} must expect that rule at least once"
        )


# Rules whose failing input cannot be written as a tree in the repository (a file over the size
# limit, an unreadable file): they are covered by unit tests that make the input at run time.
GENERATED_INPUT_RULES = {"CL003", "CL004", "CL005"}


def test_every_builtin_rule_has_a_failing_and_a_passing_case() -> None:
    registry = load_registry()
    missing = []
    for rule_id, pack in registry.packs.items():
        if pack != "builtin" or rule_id in GENERATED_INPUT_RULES:
            continue
        kinds = {p.name.split("-", 1)[0] for p in (CASES / rule_id).glob("*") if p.is_dir()}
        if kinds != {"pass", "fail"}:
            missing.append(f"{rule_id}: has {sorted(kinds) or 'no cases'}")
    assert not missing, "rules without both a pass- and a fail- case:\n" + "\n".join(missing)
