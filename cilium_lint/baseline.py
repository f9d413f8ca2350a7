"""Baselines: adopt the linter on a repository with existing findings and fail only on new ones.

Entries are keyed by fingerprint (rule + object identity + pointer), never by line numbers, so
edits elsewhere in a file do not resurrect baselined findings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cilium_lint.escape import printable

BASELINE_VERSION = 1


class BaselineError(Exception):
    pass


def write_baseline(findings: Iterable[Any], path: Path) -> str:
    entries = sorted(
        (
            {
                "rule": f.rule_id,
                "fingerprint": f.fingerprint,
                # For the reader only (matching is by rule and fingerprint): kept printable.
                "path": printable(f.location.path),
                "message": printable(f.message),
            }
            for f in findings
        ),
        key=lambda e: (e["path"], e["rule"], e["fingerprint"]),
    )
    return json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2) + "\n"


def read_baseline(path: Path) -> set[tuple[str, str]]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a cilium-lint baseline (invalid JSON: {exc})") from exc
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise BaselineError(
            f"{path}: not a cilium-lint baseline of version {BASELINE_VERSION} "
            "(write one with --write-baseline)"
        )
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: 'findings' must be a list")
    known: set[tuple[str, str]] = set()
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str):
            known.add((str(entry.get("rule")), entry["fingerprint"]))
    return known
