"""Adopting on a dirty repository: write a baseline, then fail only on new findings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from clitools import run_cli

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests" / "cases" / "CL204" / "fail-three-occurrences"


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(".", "--no-color", *args, cwd=cwd)


def test_baseline_hides_known_findings_and_reports_new_ones(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(CASE, tree)
    assert _run(tree).returncode == 1

    written = _run(tree, "--write-baseline", "baseline.json")
    assert written.returncode == 0
    data = json.loads((tree / "baseline.json").read_text())
    assert data["version"] == 1
    assert {entry["rule"] for entry in data["findings"]} == {"CL204"}
    assert all(":" not in entry["fingerprint"] for entry in data["findings"])

    clean = _run(tree, "--baseline", "baseline.json")
    assert clean.returncode == 0, clean.stdout
    assert "2 in the baseline" in clean.stdout

    # Lines moved by an unrelated edit: the fingerprints still match.
    services = tree / "services.yaml"
    services.write_text("# moved down\n# by two lines\n" + services.read_text())
    assert _run(tree, "--baseline", "baseline.json").returncode == 0

    # A new duplicate is reported although the old ones stay hidden.
    services.write_text(
        services.read_text()
        + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: newcomer\n  namespace: default\n"
        "  annotations:\n    lbipam.cilium.io/ips: 10.0.6.30\nspec:\n  type: LoadBalancer\n"
    )
    new = _run(tree, "--baseline", "baseline.json")
    assert new.returncode == 1
    assert "Service/default/newcomer" in new.stdout
    assert "Service/default/whoami" not in new.stdout


def test_unreadable_baseline_is_a_usage_error(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(CASE, tree)
    (tree / "bad.json").write_text("{not json")
    result = _run(tree, "--baseline", "bad.json")
    assert result.returncode == 2
    assert "not a cilium-lint baseline" in result.stderr
    missing = _run(tree, "--baseline", "absent.json")
    assert missing.returncode == 2 and "cannot read the baseline" in missing.stderr


def test_a_selection_that_leaves_no_rule_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(CASE, "--select", "CL204", "--ignore", "CL2")
    assert result.returncode == 2
    assert "leave no rule to run" in result.stderr
