"""GitHub Actions workflow commands (``--format github``): inline annotations on the PR.

GitHub shows at most 10 error, 10 warning and 10 notice annotations per step. The first ones of
each kind become annotations; the rest are printed as plain log lines (between
``::stop-commands::`` markers, so text from the linted files can never act as a command) and a
final notice says how many were not annotated.

Escaping follows the Actions toolkit: data escapes ``%``, ``\\r`` and ``\\n``; property values
also escape ``:`` and ``,``.
"""

from __future__ import annotations

import hashlib

from cilium_lint.engine import Finding, Report
from cilium_lint.escape import printable, printable_path
from cilium_lint.notices import Notice
from cilium_lint.rules.api import Severity

ANNOTATIONS_PER_KIND = 10
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, str | int], message: str) -> str:
    fields = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return (
        f"::{name} {fields}::{escape_data(message)}"
        if fields
        else f"::{name}::{escape_data(message)}"
    )


def _message(finding: Finding) -> str:
    # Each part on its own line of the annotation; a line break inside a part is escaped.
    message = printable(finding.message)
    for related in finding.related:
        span = related.location.span
        where = f"{printable(related.location.path)}:{span.line}:{span.column}"
        message += f"\n{where}: {printable(related.message)}"
    return message


def annotation(finding: Finding) -> str:
    span = finding.location.span
    properties: dict[str, str | int] = {
        "file": printable(finding.location.path),
        "line": span.line,
        "endLine": max(span.end_line, span.line),
        "col": span.column,
    }
    # GitHub only honours a column range on a single line.
    if span.end_line == span.line and span.end_column > span.column:
        properties["endColumn"] = span.end_column
    properties["title"] = printable(f"{finding.rule_id} {finding.rule_name}")
    return command(LEVEL[finding.severity], properties, _message(finding))


def notice_command(notice: Notice) -> str:
    """A configuration notice as a warning on the configuration file."""
    properties: dict[str, str | int] = {}
    if notice.path is not None:
        properties["file"] = printable(notice.path)
        if notice.line is not None:
            properties["line"] = notice.line
    properties["title"] = f"cilium-lint configuration: {printable(notice.key)}"
    return command("warning", properties, printable(notice.message))


def _plain(finding: Finding) -> list[str]:
    span = finding.location.span
    severity = "" if finding.severity is Severity.ERROR else f" [{finding.severity.value}]"
    lines = [
        f"{printable_path(finding.location.path)}:{span.line}:{span.column}: "
        f"{printable(finding.rule_id)}{severity} {printable(finding.message)}"
    ]
    for related in finding.related:
        rspan = related.location.span
        path = printable_path(related.location.path)
        lines.append(f"    {path}:{rspan.line}:{rspan.column}: {printable(related.message)}")
    return lines


def to_github(report: Report, *, limit: int = ANNOTATIONS_PER_KIND) -> str:
    from cilium_lint.report.text import summary

    totals = {level: 0 for level in LEVEL.values()}
    for finding in report.findings:
        totals[LEVEL[finding.severity]] += 1
    overflow = any(total > limit for total in totals.values())
    # The closing notice takes one notice slot when anything is left unannotated.
    budget = {level: limit for level in totals}
    if overflow:
        budget["notice"] = limit - 1
    shown = dict.fromkeys(totals, 0)
    lines = [notice_command(n) for n in report.notices]
    # The notices come first and take warning slots: a step shows 10 warnings in all.
    budget["warning"] = max(budget["warning"] - len(lines), 0)
    rest: list[str] = []
    hidden = 0
    for finding in report.findings:
        level = LEVEL[finding.severity]
        if shown[level] < budget[level]:
            shown[level] += 1
            lines.append(annotation(finding))
        else:
            hidden += 1
            rest.extend(_plain(finding))
    if rest:
        # A token derived from the text itself: deterministic, and no line can contain it.
        token = hashlib.sha256("\n".join(rest).encode()).hexdigest()
        lines.append(f"::stop-commands::{token}")
        lines.extend(rest)
        lines.append(f"::{token}::")
    if hidden:
        noun = "finding is" if hidden == 1 else "findings are"
        lines.append(
            command(
                "notice",
                {"title": "cilium-lint"},
                f"{hidden} more {noun} listed in the log but not annotated: GitHub shows "
                f"{limit} annotations of each kind per step.",
            )
        )
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
