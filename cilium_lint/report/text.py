"""``path:line:col: CL123 message``, one finding per line, then a summary."""

from __future__ import annotations

from cilium_lint.engine import Report
from cilium_lint.escape import printable, printable_path
from cilium_lint.rules.api import Severity

_COLORS = {
    Severity.ERROR: "\033[1;31m",
    Severity.WARNING: "\033[1;33m",
    Severity.NOTE: "\033[1;36m",
}
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(report: Report) -> str:
    files = _plural(report.files_checked, "file")
    hidden = []
    if report.suppressed:
        hidden.append(f"{report.suppressed} suppressed")
    if report.baselined:
        hidden.append(f"{report.baselined} in the baseline")
    if report.notices:
        hidden.append(_plural(len(report.notices), "configuration notice"))
    extra = f"; {', '.join(hidden)}" if hidden else ""
    if not report.findings:
        rules = _plural(len(report.rules), "rule")
        if report.notices:
            # Not "All checks passed": the configuration kept something from being checked.
            return (
                f"No findings reported, but the configuration silenced checks; see the notices "
                f"({files} checked, {rules}{extra})."
            )
        return f"All checks passed ({files} checked, {rules}{extra})."
    parts = [
        _plural(report.count(severity), severity.value)
        for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTE)
        if report.count(severity)
    ]
    touched = len({f.location.path for f in report.findings})
    return f"Found {', '.join(parts)} in {_plural(touched, 'file')} ({files} checked{extra})."


def notice_lines(report: Report, *, color: bool = False) -> list[str]:
    """One ``file:line: notice: ...`` line per configuration notice."""
    lines = []
    for notice in report.notices:
        text = f"{printable_path(notice.where)}: notice: {printable(notice.message)}"
        lines.append(f"{_COLORS[Severity.WARNING]}{text}{_RESET}" if color else text)
    return lines


def to_text(report: Report, *, color: bool = False) -> str:
    lines: list[str] = []
    for finding in report.findings:
        span = finding.location.span
        where = f"{printable_path(finding.location.path)}:{span.line}:{span.column}:"
        rule = printable(finding.rule_id)
        if finding.severity is not Severity.ERROR:
            rule += f" [{finding.severity.value}]"
        if color:
            where = f"{_BOLD}{where}{_RESET}"
            rule = f"{_COLORS[finding.severity]}{rule}{_RESET}"
        lines.append(f"{where} {rule} {printable(finding.message)}")
        for related in finding.related:
            rspan = related.location.span
            path = printable_path(related.location.path)
            note = f"    {path}:{rspan.line}:{rspan.column}: {printable(related.message)}"
            lines.append(f"{_DIM}{note}{_RESET}" if color else note)
    for skipped in report.skipped:
        lines.append(f"{printable_path(skipped.display)}: skipped: {printable(skipped.reason)}")
    lines += notice_lines(report, color=color)
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
