"""Rules from outside the built-in pack: an installed plug-in, --rule-dir, and the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import run_cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
TREE = FIXTURES / "plugin-tree"
SELECT = ["--select", "ACME,CL101"]


def _run(
    args: list[str], cwd: Path, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"NO_COLOR": "1"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return run_cli(*args, cwd=cwd, env=env)


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example pack installed by pip into a folder put on PYTHONPATH."""
    target = tmp_path_factory.mktemp("plugin-site")
    _pip("--target", str(target), str(ROOT / "tests" / "plugin_pack"))
    return target


def test_installed_plugin_rules_are_listed_with_their_pack(plugin_site: Path) -> None:
    result = _run(["rules"], ROOT, plugin_site)
    assert result.returncode == 0, result.stderr
    line = next(row for row in result.stdout.splitlines() if row.startswith("ACME001"))
    assert "helmrelease-interval" in line and "example" in line


def test_installed_plugin_rule_reports_with_its_parameters(plugin_site: Path) -> None:
    result = _run([str(TREE), *SELECT, "--no-color"], ROOT, plugin_site)
    assert (
        "tests/fixtures/plugin-tree/helmrelease.yaml:7:13: ACME001 [warning] spec.interval "
        "is 2h; expected at most 1h" in result.stdout
    )


def test_plugin_parameters_come_from_config_and_are_validated(
    plugin_site: Path, tmp_path: Path
) -> None:
    config = tmp_path / "cfg.yaml"
    config.write_text("rules:\n  ACME001:\n    max-interval: 3h\n", "utf-8")
    result = _run([str(TREE), *SELECT, "--config", str(config)], ROOT, plugin_site)
    assert "ACME001" not in result.stdout
    config.write_text("rules:\n  ACME001:\n    max-interval: soon\n", "utf-8")
    result = _run([str(TREE), *SELECT, "--config", str(config)], ROOT, plugin_site)
    assert result.returncode == 2
    assert "rules.ACME001" in result.stderr and "max-interval" in result.stderr


def test_rule_dir_adds_declarative_rules() -> None:
    result = _run(
        [str(TREE), "--rule-dir", str(FIXTURES / "rule-dir"), "--select", "ACME101"], ROOT
    )
    assert (
        "helmrelease.yaml:18:18: ACME101 [warning] hubble.relay.enabled is false; expected "
        "true" in result.stdout
    )
    assert result.returncode == 0  # a warning alone does not fail the run


def test_bad_rule_file_names_file_line_and_problem() -> None:
    result = _run([str(TREE), "--rule-dir", str(FIXTURES / "bad-rule-dir")], ROOT)
    assert result.returncode == 2
    assert "ACME102.yaml:2:" in result.stderr and "'name'" in result.stderr
    assert "ACME102.yaml:4:" in result.stderr and "'severity'" in result.stderr
    assert "Traceback" not in result.stderr


def test_third_party_rule_may_not_use_the_builtin_prefix(tmp_path: Path) -> None:
    text = (FIXTURES / "rule-dir" / "ACME101.yaml").read_text("utf-8")
    (tmp_path / "CL999.yaml").write_text(text.replace("ACME101", "CL999"), "utf-8")
    result = _run([str(TREE), "--rule-dir", str(tmp_path)], ROOT)
    assert result.returncode == 2
    assert "built-in prefix" in result.stderr


def test_rule_id_collision_is_an_error(tmp_path: Path) -> None:
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "ACME101.yaml").write_text(
            (FIXTURES / "rule-dir" / "ACME101.yaml").read_text("utf-8"), "utf-8"
        )
    result = _run(
        [str(TREE), "--rule-dir", str(tmp_path / "one"), "--rule-dir", str(tmp_path / "two")], ROOT
    )
    assert result.returncode == 2
    assert "defined twice" in result.stderr


def test_the_wheel_ships_rules_and_schemas_and_lints(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("cilium_lint-*.whl"))
    site = tmp_path / "site"
    _pip("--target", str(site), str(wheel))
    assert (site / "cilium_lint" / "_data" / "rules" / "CL101.yaml").is_file()
    assert (site / "cilium_lint" / "_data" / "schemas" / "config.schema.json").is_file()
    probe = subprocess.run(
        [sys.executable, "-c", "import cilium_lint, sys; print(cilium_lint.__file__)"],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(site)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.startswith(str(site))
    clean = _run([str(ROOT / "examples" / "cluster")], tmp_path, site)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "All checks passed" in clean.stdout
    failing = _run([str(ROOT / "tests" / "cases" / "CL102" / "fail-tunnel")], tmp_path, site)
    assert failing.returncode == 1 and "CL102" in failing.stdout
