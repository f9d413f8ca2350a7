"""Run the linter on a case tree and read the `# expect: CL123` markers written in it."""

from __future__ import annotations

import re
from pathlib import Path

from cilium_lint.config import load_config
from cilium_lint.engine import Report, lint
from cilium_lint.registry import load_registry

MARKER = re.compile(r"#\s*expect:\s*([A-Z][A-Z0-9]*\d{3}(?:\s*,\s*[A-Z][A-Z0-9]*\d{3})*)")

Expectation = tuple[str, int, str]  # (path relative to the case, line, rule id)


def markers(case: Path) -> set[Expectation]:
    """Markers in the files, plus `expect.txt` lines (`file:line: RULE`) for lines that cannot
    carry a marker comment themselves (e.g. a suppression comment under test)."""
    found: set[Expectation] = set()
    listed = case / "expect.txt"
    if listed.is_file():
        for entry in listed.read_text("utf-8").splitlines():
            if entry.strip() and not entry.startswith("#"):
                where, _, rule_id = entry.rpartition(": ")
                file, _, line = where.rpartition(":")
                found.add((file, int(line), rule_id.strip()))
    for path in sorted(case.rglob("*")):
        if not path.is_file() or path.suffix not in (".yaml", ".yml", ".env", ".txt"):
            continue
        text = path.read_text("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            match = MARKER.search(line)
            if match:
                for rule_id in match.group(1).split(","):
                    found.add((path.relative_to(case).as_posix(), number, rule_id.strip()))
    return found


def run_case(case: Path) -> Report:
    loaded = load_config(None, case)
    return lint([case], case, loaded.config, load_registry(), config_base=loaded.base)


def findings(report: Report) -> set[Expectation]:
    return {(f.location.path, f.location.span.line, f.rule_id) for f in report.findings}
