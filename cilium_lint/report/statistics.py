"""Counts per rule (``--statistics``, the job summary): most frequent first, then by id."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cilium_lint.engine import Report
from cilium_lint.escape import printable
from cilium_lint.rules.api import Severity


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule_id: str
    name: str
    severity: Severity
    count: int


def rule_counts(report: Report) -> list[RuleCount]:
    """One row per (rule, severity) that has findings; a rule has one severity per run."""
    counts = Counter((f.rule_id, f.rule_name, f.severity) for f in report.findings)
    rows = [
        RuleCount(printable(rid), printable(name), severity, n)
        for (rid, name, severity), n in counts.items()
    ]
    return sorted(rows, key=lambda row: (-row.count, row.rule_id, -row.severity.rank))


def statistics_data(report: Report) -> list[dict[str, Any]]:
    return [
        {"rule": r.rule_id, "name": r.name, "severity": r.severity.value, "count": r.count}
        for r in rule_counts(report)
    ]


def to_statistics_text(report: Report) -> str:
    """``count  id  name  severity`` aligned, one rule a line, then the summary line."""
    from cilium_lint.report.text import notice_lines, summary

    rows = [(str(r.count), r.rule_id, r.name, r.severity.value) for r in rule_counts(report)]
    lines = []
    if rows:
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            count, rule_id, name, severity = row
            lines.append(
                f"{count.rjust(widths[0])}  {rule_id.ljust(widths[1])}  "
                f"{name.ljust(widths[2])}  {severity}"
            )
    lines += notice_lines(report)
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def to_statistics_json(report: Report) -> str:
    return json.dumps(statistics_data(report), indent=2) + "\n"
