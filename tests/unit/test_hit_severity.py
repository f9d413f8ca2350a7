"""A rule may raise a hit's severity; the configured severity still wins."""

from __future__ import annotations

from pathlib import Path

from casetools import run_case

from cilium_lint.config import RuleSettings, load_config
from cilium_lint.engine import lint
from cilium_lint.registry import load_registry
from cilium_lint.rules.api import Severity

CASE = (
    Path(__file__).resolve().parent.parent / "cases" / "CL122" / "fail-chart-refuses-removed-keys"
)


def test_keys_the_chart_refuses_are_errors_while_ignored_keys_stay_warnings() -> None:
    severities = {f.location.span.line: f.severity for f in run_case(CASE).findings}
    assert severities[5] is Severity.ERROR  # tunnel: vxlan -> the chart fails to render
    ignored = run_case(CASE.parent / "fail-removed-service-switches").findings
    assert ignored and all(f.severity is Severity.WARNING for f in ignored)


def test_configured_severity_overrides_the_hit() -> None:
    loaded = load_config(None, CASE)
    config = loaded.config.model_copy(
        update={"rules": {"CL122": RuleSettings(severity=Severity.NOTE)}}
    )
    report = lint([CASE], CASE, config, load_registry(), config_base=loaded.base)
    assert {f.severity for f in report.findings if f.rule_id == "CL122"} == {Severity.NOTE}


def test_unknown_key_without_a_near_miss_is_only_a_note() -> None:
    case = CASE.parent.parent / "CL124" / "fail-misspelled-keys"
    by_key = {f.message.split(" ", 1)[0]: f.severity for f in run_case(case).findings}
    assert by_key["l2Announcements"] is Severity.WARNING
    assert by_key["disableEnvoyVersionCheck"] is Severity.NOTE


def test_rule_texts_cite_public_sources_not_internal_tags() -> None:
    from cilium_lint.rules.api import public_citations

    text = public_citations("splits on commas (cilium-facts §6 [S6][S15] PR #48868).")
    assert text == (
        "splits on commas (sources: cilium-operator LB-IPAM code; "
        "cilium/cilium issues and pull requests; PR #48868)."
    )
    for rule in load_registry().rules.values():
        for part in (rule.meta.summary, rule.meta.rationale, rule.meta.fix):
            assert "cilium-facts" not in part and "fact sheet" not in part, rule.meta.id
