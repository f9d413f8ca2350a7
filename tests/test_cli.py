"""The command line contract: exit codes, the text format, options, errors and colour.

Most tests run ``python -m cilium_lint`` in a subprocess with an explicit working directory;
the internal-error tests call :func:`cilium_lint.cli.main` in-process to patch the engine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import run_cli

from cilium_lint import __version__
from cilium_lint.registry import load_registry

REPO = Path(__file__).resolve().parent.parent
CLEAN = "examples/cluster"
TUNNEL = "tests/cases/CL102/fail-tunnel"
GOLDEN_TREE = "tests/golden/tree"

# path:line:col: CL123 message  (non-error findings tag the id: "CL100 [warning] ...")
FINDING = re.compile(
    r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): "
    r"(?P<rule>[A-Z]+\d{3})(?: \[(?P<severity>warning|note)\])? (?P<message>\S.*)$"
)
SUMMARY = re.compile(r"^(All checks passed|Found \d+ (error|warning|note)s?\b).*\.$")
ANSI = "\x1b["

POOL = """\
---
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata:
  name: pool
spec:
  blocks:
    - cidr: 10.0.6.0/24
"""
SERVICE = """\
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: default
  annotations:
    lbipam.cilium.io/ips: 10.0.6.30
spec:
  type: LoadBalancer
  ports:
    - name: http
      port: 8080
"""


run = run_cli


def finding_lines(stdout: str) -> list[re.Match[str]]:
    return [m for m in map(FINDING.match, stdout.splitlines()) if m]


def reported(stdout: str) -> set[str]:
    return {m["rule"] for m in finding_lines(stdout)}


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a clean exit-2 failure."""
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("cilium-lint: "), lines[0]
    return lines[0]


def marker_position(path: Path, rule: str, value: str) -> tuple[int, int]:
    """(line, column) of ``value`` on the line marked ``# expect: <rule>``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if f"# expect: {rule}" in line:
            return number, line.index(value) + 1
    raise AssertionError(f"no marker for {rule} in {path}")


@pytest.fixture
def warning_tree(tmp_path: Path) -> Path:
    """A tree with a pool and a Service in it but no Cilium release: only CL100 fires."""
    tree = tmp_path / "warn"
    tree.mkdir()
    (tree / "pool.yaml").write_text(POOL, encoding="utf-8")
    (tree / "service.yaml").write_text(SERVICE, encoding="utf-8")
    # Stops the search for a configuration at the tree; every rule runs.
    (tree / ".cilium-lint.yaml").write_text("fail-on: error\n", encoding="utf-8")
    return tree


@pytest.fixture
def broken_tree(tmp_path: Path) -> Path:
    """The CL102 tunnel case plus a file that is not YAML and one that is not UTF-8."""
    tree = tmp_path / "broken"
    shutil.copytree(REPO / TUNNEL, tree)
    (tree / ".cilium-lint.yaml").write_text("select: [CL0, CL102]\n", encoding="utf-8")
    (tree / "broken.yaml").write_text("a: [b\n", encoding="utf-8")
    (tree / "latin1.yaml").write_bytes(b"a: \x80\x81\n")
    return tree


# --- exit codes and the text format ----------------------------------------------------------


def test_clean_tree_exits_0() -> None:
    proc = run(CLEAN)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("All checks passed"), proc.stdout
    assert SUMMARY.match(lines[0])


def test_failing_tree_exits_1_with_exact_lines() -> None:
    proc = run(TUNNEL, "--select", "CL102")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr == ""
    line, col = marker_position(REPO / TUNNEL / "helmrelease.yaml", "CL102", "tunnel")
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stdout
    match = FINDING.match(lines[0])
    assert match, lines[0]
    assert lines[0].startswith(f"{TUNNEL}/helmrelease.yaml:{line}:{col}: CL102 ")
    assert match["severity"] is None
    assert "routingMode" in match["message"] and "tunnel" in match["message"]
    assert SUMMARY.match(lines[1]) and lines[1].startswith("Found 1 error in 1 file"), lines[1]


@pytest.mark.parametrize(
    ("cwd", "args", "prefix"),
    [
        (TUNNEL, [], ""),
        (TUNNEL, ["."], ""),
        ("tests/cases/CL102", ["fail-tunnel"], "fail-tunnel/"),
        ("tests/cases", ["CL102/fail-tunnel/helmrelease.yaml"], "CL102/fail-tunnel/"),
        ("tests/cases/CL102", [str(REPO / TUNNEL)], "fail-tunnel/"),
    ],
    ids=["default-dot", "dot", "folder", "file", "absolute"],
)
def test_paths_are_relative_to_the_working_directory(
    cwd: str, args: list[str], prefix: str
) -> None:
    proc = run(*args, "--select", "CL102", cwd=REPO / cwd)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (match,) = finding_lines(proc.stdout)
    assert match["path"] == f"{prefix}helmrelease.yaml"
    assert "\\" not in proc.stdout


def test_text_is_sorted_and_related_locations_are_indented() -> None:
    proc = run(GOLDEN_TREE)
    assert proc.returncode == 1
    matches = finding_lines(proc.stdout)
    keys = [(m["path"], int(m["line"]), int(m["col"]), m["rule"]) for m in matches]
    assert keys == sorted(keys) and len(keys) == 5
    lines = proc.stdout.splitlines()
    (duplicate,) = [i for i, line in enumerate(lines) if " CL204 " in line]
    assert lines[duplicate + 1].startswith(f"    {GOLDEN_TREE}/apps/echo/service.yaml:8:")
    assert SUMMARY.match(lines[-1]) and lines[-1].startswith("Found 4 errors, 1 warning")


def test_exit_zero() -> None:
    proc = run(TUNNEL, "--select", "CL102", "--exit-zero")
    assert proc.returncode == 0
    assert reported(proc.stdout) == {"CL102"}


def test_warning_rules_exist_and_warnings_alone_exit_0(warning_tree: Path) -> None:
    listing = run("rules")
    warning_rules = {
        line.split()[0] for line in listing.stdout.splitlines() if line.split()[2] == "warning"
    }
    assert "CL100" in warning_rules
    proc = run(cwd=warning_tree)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    matches = finding_lines(proc.stdout)
    assert [(m["rule"], m["severity"]) for m in matches] == [("CL100", "warning")]
    assert proc.stdout.splitlines()[-1].startswith("Found 1 warning")
    # ... and fail when the caller says warnings fail.
    assert run("--fail-on", "warning", cwd=warning_tree).returncode == 1


def test_broken_yaml_beside_a_finding_reports_both(broken_tree: Path) -> None:
    proc = run(cwd=broken_tree)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    got = {(m["path"], m["rule"]) for m in finding_lines(proc.stdout)}
    assert got == {
        ("broken.yaml", "CL001"),
        ("latin1.yaml", "CL003"),
        ("helmrelease.yaml", "CL102"),
    }


# --- select / ignore -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], {"CL010", "CL102", "CL202", "CL203", "CL204"}),
        (["--select", "CL102"], {"CL102"}),
        (["--select", "cl102"], {"CL102"}),
        (["--select", "CL2"], {"CL202", "CL203", "CL204"}),
        (["--select", "CL0,CL204"], {"CL010", "CL204"}),
        (["--ignore", "CL2"], {"CL010", "CL102"}),
        (["--ignore", "CL202,CL203"], {"CL010", "CL102", "CL204"}),
        (["--select", "CL2", "--ignore", "CL204"], {"CL202", "CL203"}),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_select_and_ignore(options: list[str], expected: set[str]) -> None:
    proc = run(GOLDEN_TREE, *options)
    assert reported(proc.stdout) == expected, proc.stdout + proc.stderr
    errors = expected - {"CL010"}
    assert proc.returncode == (1 if errors else 0)


def test_selecting_only_a_warning_rule_exits_0() -> None:
    proc = run(GOLDEN_TREE, "--select", "CL010")
    assert proc.returncode == 0
    assert reported(proc.stdout) == {"CL010"}


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_rule_id_exits_2_naming_it(option: str) -> None:
    proc = run(CLEAN, option, "CL102,XX999")
    line = one_line_error(proc)
    assert "XX999" in line and "CL102" not in line
    assert proc.stdout == ""


# --- configuration errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        (
            "lb-ipam:\n  pools: [10.0.6.0/24]\nselect: [CL1]\nroutingmode: native\n",
            4,
            "routingmode",
        ),
        ("lb-ipam:\n  pools: [10.0.6.0/24]\n  pool: 10.0.7.0/24\n", 3, "lb-ipam.pool"),
        ("# policy\nlb-ipam:\n  pools: 10.0.6.0/24\n", 3, "lb-ipam.pools"),
        ("lb-ipam:\n  pools: {a: 1}\n", 2, "lb-ipam.pools"),
    ],
    ids=["unknown-top-level-key", "unknown-nested-key", "pools-not-a-list", "pools-a-mapping"],
)
def test_bad_config_exits_2_naming_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str
) -> None:
    (tmp_path / "policy.yaml").write_text(text, encoding="utf-8")
    proc = run(str(REPO / CLEAN), "--config", "policy.yaml", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert re.search(rf"policy\.yaml:{line}:\d+: .*'{re.escape(key)}'", proc.stderr), proc.stderr


def test_discovered_bad_config_exits_2(warning_tree: Path) -> None:
    (warning_tree / ".cilium-lint.yaml").write_text("fail-on: sometimes\n", encoding="utf-8")
    proc = run(cwd=warning_tree)
    line = one_line_error(proc)
    assert ".cilium-lint.yaml:1:" in line and "fail-on" in line


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    line = one_line_error(run(CLEAN, "--config", str(tmp_path / "absent.yaml")))
    assert "absent.yaml" in line


# --- paths and --output ----------------------------------------------------------------------


def test_missing_path_exits_2() -> None:
    proc = run(CLEAN, "no/such/tree")
    line = one_line_error(proc)
    assert "no/such/tree" in line
    assert proc.stdout == ""


def test_output_into_missing_folder_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "report.sarif"
    proc = run(TUNNEL, "--format", "sarif", "--output", str(target))
    line = one_line_error(proc)
    assert "report.sarif" in line and "does not exist" in line
    assert not (tmp_path / "missing").exists()
    assert list(tmp_path.iterdir()) == []


def test_output_onto_a_folder_exits_2_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "report.sarif").mkdir()
    proc = run(str(REPO / TUNNEL), "--format", "sarif", "--output", "report.sarif", cwd=tmp_path)
    line = one_line_error(proc)
    assert "report.sarif" in line and "internal error" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.sarif"]
    assert list((tmp_path / "report.sarif").iterdir()) == []


@pytest.mark.parametrize("fmt", ["text", "sarif", "json", "github"])
def test_output_writes_the_file(tmp_path: Path, fmt: str) -> None:
    target = tmp_path / "out" / f"report.{fmt}"
    target.parent.mkdir()
    proc = run(TUNNEL, "--format", fmt, "--output", str(target))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == "", "the report goes to the file only"
    assert [p.name for p in target.parent.iterdir()] == [target.name], "no temporary file left"
    written = target.read_text(encoding="utf-8")
    assert written.endswith("\n") and "CL102" in written
    assert written == run(TUNNEL, "--format", fmt).stdout, "same bytes as on stdout"
    if fmt != "text":
        assert proc.stderr.startswith("Found 1 error"), "the summary goes to stderr"
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        assert target.stat().st_mode & 0o777 == 0o666 & ~umask, "mode as with a plain open()"


def test_output_replaces_an_existing_report(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    assert run(CLEAN, "--format", "json", "--output", str(target)).returncode == 0
    assert json.loads(target.read_text(encoding="utf-8"))["findings"] == []


def test_failed_write_keeps_the_old_report_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cilium_lint import cli

    target = tmp_path / "report.sarif"
    target.write_text("previous report\n", encoding="utf-8")

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.chdir(REPO)
    monkeypatch.setattr(os, "replace", failing_replace)
    code = cli.main([TUNNEL, "--format", "sarif", "--output", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert "report.sarif" in err and "No space left on device" in err
    assert "internal error" not in err and "Traceback" not in err
    assert target.read_text(encoding="utf-8") == "previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]


# --- formats ---------------------------------------------------------------------------------


def test_json_format() -> None:
    proc = run(GOLDEN_TREE, "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["tool"] == {"name": "cilium-lint", "version": __version__}
    findings = data["findings"]
    assert [f["rule"] for f in findings] == ["CL202", "CL203", "CL204", "CL010", "CL102"]
    (tunnel,) = [f for f in findings if f["rule"] == "CL102"]
    assert tunnel["severity"] == "error" and tunnel["message"]
    assert tunnel["location"]["path"] == f"{GOLDEN_TREE}/cilium/helmrelease.yaml"
    assert {"line", "column", "endLine", "endColumn"} <= set(tunnel["location"])
    (duplicate,) = [f for f in findings if f["rule"] == "CL204"]
    assert duplicate["related"][0]["location"]["path"] == f"{GOLDEN_TREE}/apps/echo/service.yaml"
    summary = data["summary"]
    assert (summary["error"], summary["warning"], summary["note"]) == (4, 1, 0)
    assert summary["failed"] is True


def test_json_format_clean() -> None:
    proc = run(CLEAN, "--format", "json")
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["findings"] == [] and data["summary"]["failed"] is False


def test_sarif_on_stdout_is_pure_json() -> None:
    proc = run(TUNNEL, "--format", "sarif")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["version"] == "2.1.0"


def test_github_format() -> None:
    """The contract lists ``--format github`` (GitHub Actions workflow commands)."""
    proc = run(GOLDEN_TREE, "--format", "github")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    annotations = [line for line in lines if re.match(r"::(error|warning|notice) file=", line)]
    assert len(annotations) == 5, proc.stdout
    command = re.compile(r"^::(error|warning|notice) ((?:\w+=[^,:]*)(?:,\w+=[^,:]*)*)::(.+)$")
    levels = {}
    for line in annotations:
        match = command.match(line)
        assert match, line
        fields = dict(part.split("=", 1) for part in match[2].split(","))
        assert {"file", "line", "col", "title"} <= set(fields)
        assert fields["file"].startswith(f"{GOLDEN_TREE}/")
        levels[fields["title"].split()[0]] = match[1]
    assert levels["CL010"] == "warning" and levels["CL102"] == "error"
    # multi-line messages are escaped, so a related location stays in its annotation
    assert any("%0A" in line and "CL204" in line for line in annotations)
    assert SUMMARY.match(lines[-1])


# --- colour ----------------------------------------------------------------------------------


def test_no_colour_when_stdout_is_not_a_tty() -> None:
    proc = run(TUNNEL)
    assert proc.returncode == 1
    assert ANSI not in proc.stdout and ANSI not in proc.stderr


def run_on_tty(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the CLI with stdout on a pseudo-terminal; (exit code, what it printed)."""
    import pty

    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(env or {})
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cilium_lint", *args],
            cwd=REPO,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.PIPE,
        )
    finally:
        os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert proc.stderr is not None
    proc.stderr.close()
    return proc.wait(timeout=120), output.decode("utf-8")


posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")


@posix_only
def test_colour_on_a_tty() -> None:
    code, output = run_on_tty(TUNNEL, "--select", "CL102")
    assert code == 1
    assert ANSI in output
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output).replace("\r\n", "\n")
    assert reported(plain) == {"CL102"}
    assert plain.startswith(f"{TUNNEL}/helmrelease.yaml:"), "the line still starts with the path"


@posix_only
@pytest.mark.parametrize(
    ("args", "env"),
    [([], {"NO_COLOR": "1"}), ([], {"NO_COLOR": "true"}), (["--no-color"], {})],
    ids=["NO_COLOR=1", "NO_COLOR=true", "--no-color"],
)
def test_no_colour_on_a_tty_when_asked(args: list[str], env: dict[str, str]) -> None:
    code, output = run_on_tty(TUNNEL, *args, env=env)
    assert code == 1
    assert ANSI not in output
    assert "CL102" in output


@posix_only
def test_no_colour_in_machine_formats_on_a_tty() -> None:
    code, output = run_on_tty(TUNNEL, "--format", "json")
    assert code == 1 and ANSI not in output
    json.loads(output)


# --- rules, rule, version --------------------------------------------------------------------


def test_rules_lists_every_rule() -> None:
    proc = run("rules")
    assert proc.returncode == 0
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    registry = load_registry()
    assert listed == sorted(registry.rules)
    assert len(listed) >= 27
    for line in proc.stdout.splitlines():
        rule = registry.rules[line.split()[0]]
        assert rule.meta.name in line and rule.meta.severity.value in line


@pytest.mark.parametrize("rule_id", ["CL101", "cl101"])
def test_rule_prints_its_documentation(rule_id: str) -> None:
    proc = run("rule", rule_id)
    assert proc.returncode == 0, proc.stderr
    meta = load_registry().rules["CL101"].meta
    assert proc.stdout.startswith("CL101 kube-proxy-replacement")
    assert meta.summary in proc.stdout
    assert meta.fix.split(".")[0] in proc.stdout
    assert "https://" in proc.stdout


def test_unknown_rule_exits_2() -> None:
    proc = run("rule", "XX999")
    line = one_line_error(proc)
    assert "XX999" in line
    assert proc.stdout == ""


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout == f"cilium-lint {__version__}\n"


def test_unknown_option_exits_2() -> None:
    proc = run(CLEAN, "--no-such-option")
    assert proc.returncode == 2
    assert "--no-such-option" in proc.stderr and "Traceback" not in proc.stderr


# --- internal errors -------------------------------------------------------------------------


def _explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom in the engine")


def test_internal_error_prints_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cilium_lint import cli, engine

    monkeypatch.chdir(REPO)
    monkeypatch.setattr(engine, "lint", _explode)
    code = cli.main([CLEAN])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "internal error" in lines[0] and "RuntimeError: boom in the engine" in lines[0]
    assert "--debug" in lines[0]
    assert "Traceback" not in captured.err


def test_internal_error_with_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cilium_lint import cli, engine

    monkeypatch.chdir(REPO)
    monkeypatch.setattr(engine, "lint", _explode)
    code = cli.main([CLEAN, "--debug"])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback (most recent call last)" in captured.err
    assert "RuntimeError: boom in the engine" in captured.err
    assert "_explode" in captured.err


# --- paths named, nothing linted -----------------------------------------------------------------


@pytest.mark.parametrize("layout", ["empty", "no-yaml", "templates-only"])
def test_named_paths_with_no_yaml_file_are_an_error(tmp_path: Path, layout: str) -> None:
    # (An exclude that leaves nothing is a configuration notice: test_config_notices.py.)
    target = tmp_path / "kubernetes"
    target.mkdir()
    if layout == "no-yaml":
        (target / "README.md").write_text("# apps\n", encoding="utf-8")
        (target / "values.json").write_text("{}\n", encoding="utf-8")
    if layout == "templates-only":
        (target / "service.yaml.j2").write_text("kind: Service\n", encoding="utf-8")
    proc = run_cli(str(target), "--no-cache", cwd=tmp_path)
    assert proc.stdout == ""
    line = one_line_error(proc)
    assert f"no YAML file was linted in {target}" in line


def test_the_current_folder_by_default_may_be_empty(tmp_path: Path) -> None:
    proc = run_cli("--no-cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("All checks passed (0 files checked")
