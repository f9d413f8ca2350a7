"""A Markdown report (``--format markdown``) for a GitHub job summary or a PR comment.

The summary line, the counts per rule, then a table of findings. With a ``link_base`` (see
:func:`github_blob_base`) every location links to its lines in the repository at that commit.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from cilium_lint.document import Location
from cilium_lint.engine import Report
from cilium_lint.escape import printable, uri_path
from cilium_lint.report.sarif import help_uri
from cilium_lint.report.statistics import rule_counts
from cilium_lint.rules.api import Severity

# GitHub caps a step summary at 1 MiB; a table this long is read in the log or SARIF anyway.
MAX_ROWS = 500
_ICON = {
    Severity.ERROR: ":x:",
    Severity.WARNING: ":warning:",
    Severity.NOTE: ":information_source:",
}
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_[]|#~"})


def cell(text: str) -> str:
    """Text as one table cell: control characters escaped, markup and HTML inert."""
    return html.escape(printable(text), quote=False).translate(_MARKDOWN)


def github_blob_base(environ: Mapping[str, str], cwd: Path) -> str | None:
    """``<server>/<owner>/<repo>/blob/<sha>/<folder>/``: what report paths are relative to.

    Report paths are relative to the working folder, GitHub's to the repository root
    (``GITHUB_WORKSPACE``); None outside GitHub Actions or outside the workspace.
    """
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository = environ.get("GITHUB_REPOSITORY", "")
    sha = environ.get("GITHUB_SHA", "")
    if not (server and repository and sha):
        return None
    base = f"{server}/{repository}/blob/{sha}/"
    workspace = environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return base
    try:
        folder = os.path.relpath(cwd.resolve(), Path(workspace).resolve())
    except ValueError:  # another drive on Windows
        return None
    if folder == os.curdir:
        return base
    if folder == os.pardir or folder.startswith(os.pardir + os.sep):
        return None
    return base + quote(folder.replace(os.sep, "/")) + "/"


def _where(location: Location, link_base: str | None) -> str:
    span = location.span
    text = f"{printable(location.path)}:{span.line}"
    if link_base is None:
        # In a table a pipe ends the cell even inside a code span, unless escaped.
        return "`" + text.replace("|", "\\|") + "`" if "`" not in text else cell(text)
    anchor = f"L{span.line}" + (f"-L{span.end_line}" if span.end_line > span.line else "")
    return f"[{cell(text)}]({link_base}{uri_path(location.path)}#{anchor})"


def to_markdown(report: Report, *, link_base: str | None = None) -> str:
    from cilium_lint.report.text import summary

    failed = ":x:" if report.failed else ":white_check_mark:"
    lines = ["## cilium-lint", "", f"{failed} {summary(report)}"]
    for notice in report.notices:
        lines += [
            "",
            f"> :warning: **Configuration notice** ({cell(notice.where)}): {cell(notice.message)}",
        ]
    if report.findings:
        metas = {meta.id: meta for meta in report.rules}
        lines += ["", "| Rule | Name | Severity | Findings |", "|---|---|---|---:|"]
        for row in rule_counts(report):
            meta = metas.get(row.rule_id)
            rule = f"[{cell(row.rule_id)}]({help_uri(meta)})" if meta else cell(row.rule_id)
            severity = f"{_ICON[row.severity]} {row.severity.value}"
            lines.append(f"| {rule} | {cell(row.name)} | {severity} | {row.count} |")
        lines += ["", "| | Location | Rule | Message |", "|---|---|---|---|"]
        for finding in report.findings[:MAX_ROWS]:
            message = cell(finding.message)
            for related in finding.related:
                message += f"<br>{_where(related.location, link_base)}: {cell(related.message)}"
            lines.append(
                f"| {_ICON[finding.severity]} | {_where(finding.location, link_base)} "
                f"| {cell(finding.rule_id)} | {message} |"
            )
        if len(report.findings) > MAX_ROWS:
            more = len(report.findings) - MAX_ROWS
            lines += ["", f"{more} more findings are not listed here; see the log."]
    if report.skipped:
        lines += ["", "<details><summary>Skipped paths</summary>", ""]
        lines += [f"- {cell(s.display)}: {cell(s.reason)}" for s in report.skipped]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
