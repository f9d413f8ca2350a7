"""A plain JSON report for scripts, described by ``schemas/report.schema.json`` (version 1).

Version 1 only ever gains optional keys; a removed or retyped key means version 2.
"""

from __future__ import annotations

import json
from typing import Any

from cilium_lint.document import Location
from cilium_lint.engine import Report
from cilium_lint.escape import printable
from cilium_lint.notices import Notice
from cilium_lint.rules.api import Severity

SCHEMA_VERSION = 1


def _location(location: Location) -> dict[str, Any]:
    span = location.span
    return {
        "path": printable(location.path),
        "line": span.line,
        "column": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }


def _notice(notice: Notice) -> dict[str, Any]:
    data: dict[str, Any] = {"key": printable(notice.key), "message": printable(notice.message)}
    if notice.path is not None:
        data["path"] = printable(notice.path)
    if notice.line is not None:
        data["line"] = notice.line
    return data


def report_data(report: Report) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": "cilium-lint", "version": report.tool_version},
        "findings": [
            {
                "rule": printable(f.rule_id),
                "name": printable(f.rule_name),
                "severity": f.severity.value,
                "message": printable(f.message),
                "location": _location(f.location),
                "related": [
                    {"message": printable(r.message), "location": _location(r.location)}
                    for r in f.related
                ],
                "fingerprint": f.fingerprint,
            }
            for f in report.findings
        ],
        "skipped": [
            {"path": printable(s.display), "reason": printable(s.reason)} for s in report.skipped
        ],
        "notices": [_notice(n) for n in report.notices],
        "summary": {
            "files": report.files_checked,
            "rules": len(report.rules),
            "findings": len(report.findings),
            **{s.value: report.count(s) for s in Severity},
            "suppressed": report.suppressed,
            "baselined": report.baselined,
            "notices": len(report.notices),
            "failOn": report.fail_on.value,
            "failed": report.failed,
        },
    }


def to_json(report: Report) -> str:
    return json.dumps(report_data(report), indent=2) + "\n"
