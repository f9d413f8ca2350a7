"""Formatters: each takes a frozen :class:`~cilium_lint.engine.Report` and returns text."""

from __future__ import annotations

from collections.abc import Callable

from cilium_lint.engine import Report

Formatter = Callable[[Report], str]

FORMATS = ("text", "sarif", "json", "github", "markdown")


def formatter(name: str, *, color: bool = False, link_base: str | None = None) -> Formatter:
    """``color`` is for text; ``link_base`` for markdown (see ``markdown.github_blob_base``)."""
    if name == "github":
        from cilium_lint.report.github import to_github

        return to_github
    if name == "markdown":
        from cilium_lint.report.markdown import to_markdown

        return lambda report: to_markdown(report, link_base=link_base)
    if name == "sarif":
        from cilium_lint.report.sarif import to_sarif

        return to_sarif
    if name == "json":
        from cilium_lint.report.json import to_json

        return to_json
    from cilium_lint.report.text import to_text

    return lambda report: to_text(report, color=color)
