"""SARIF 2.1.0 for GitHub code scanning: deterministic, relative URIs, one run."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from cilium_lint.document import Location
from cilium_lint.engine import Report
from cilium_lint.escape import printable, uri_path
from cilium_lint.notices import Notice
from cilium_lint.rules.api import RuleMeta, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/cilium-lint/cilium-lint"
RULES_DOC = INFORMATION_URI + "/blob/main/docs/rules.md"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "ciliumLint/v1"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def help_uri(meta: RuleMeta) -> str:
    return f"{RULES_DOC}#{quote(meta.id.lower(), safe='')}-{quote(meta.name, safe='')}"


def _rule(meta: RuleMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": meta.rationale},
        "help": {"text": meta.help_text(), "markdown": meta.help_markdown()},
        "helpUri": help_uri(meta),
        "defaultConfiguration": {"level": _LEVEL[meta.severity]},
        "properties": {"tags": [meta.pack], "precision": "very-high"},
    }


def _physical(location: Location) -> dict[str, Any]:
    span = location.span
    end_line, end_column = span.end_line, span.end_column
    if (end_line, end_column) <= (span.line, span.column):
        end_line, end_column = span.line, span.column + 1
    return {
        "artifactLocation": {"uri": uri_path(location.path), "uriBaseId": SRCROOT},
        "region": {
            "startLine": span.line,
            "startColumn": span.column,
            "endLine": end_line,
            "endColumn": end_column,
        },
    }


def _notification(notice: Notice) -> dict[str, Any]:
    """A configuration notice (SARIF 2.1.0 §3.58, in ``toolConfigurationNotifications``)."""
    data: dict[str, Any] = {
        "level": "warning",
        "message": {"text": printable(f"{notice.key}: {notice.message}")},
        "properties": {"configurationKey": printable(notice.key)},
    }
    path = notice.path
    if path is not None and not path.startswith(("..", "/")):
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": uri_path(path), "uriBaseId": SRCROOT}
        }
        if notice.line is not None:
            physical["region"] = {"startLine": notice.line}
        data["locations"] = [{"physicalLocation": physical}]
    return data


def sarif_log(report: Report) -> dict[str, Any]:
    index = {meta.id: i for i, meta in enumerate(report.rules)}
    results = []
    for finding in report.findings:
        result: dict[str, Any] = {
            "ruleId": finding.rule_id,
            "ruleIndex": index[finding.rule_id],
            "level": _LEVEL[finding.severity],
            "message": {"text": printable(finding.message)},
            "locations": [{"physicalLocation": _physical(finding.location)}],
            "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        }
        if finding.related:
            result["relatedLocations"] = [
                {
                    "id": i,
                    "physicalLocation": _physical(r.location),
                    "message": {"text": printable(r.message)},
                }
                for i, r in enumerate(finding.related, start=1)
            ]
        results.append(result)
    run: dict[str, Any] = {}
    if report.notices:
        # What the configuration silenced; a run without notices keeps its exact old shape.
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolConfigurationNotifications": [_notification(n) for n in report.notices],
            }
        ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cilium-lint",
                        "version": report.tool_version,
                        "semanticVersion": report.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(meta) for meta in report.rules],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
                **run,
            }
        ],
    }


def to_sarif(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2, sort_keys=False) + "\n"
