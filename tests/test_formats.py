"""The report formats for CI: GitHub workflow commands, Markdown, statistics, versioned JSON, and
several reports from one run (``--report FORMAT:FILE``).

Formatter tests build reports in-process (the golden tree, or synthetic findings for limits and
hostile text); the command-line tests run ``python -m cilium_lint``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from clitools import run_cli

from cilium_lint.config import load_config
from cilium_lint.discover import SkippedPath
from cilium_lint.document import Location
from cilium_lint.engine import Finding, Report, lint
from cilium_lint.registry import load_registry
from cilium_lint.report import github, markdown, statistics
from cilium_lint.report import json as json_report
from cilium_lint.rules.api import Related, Severity
from cilium_lint.sourcemap import Span

REPO = Path(__file__).resolve().parent.parent
GOLDEN_TREE = "tests/golden/tree"
CLEAN = "examples/cluster"
TUNNEL = "tests/cases/CL102/fail-tunnel"
SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text("utf-8"))


run = run_cli


def golden_report() -> Report:
    path = REPO / GOLDEN_TREE
    loaded = load_config(None, path)
    return lint(
        [Path(GOLDEN_TREE)], REPO, loaded.config, load_registry([]), config_base=loaded.base
    )


def finding(
    rule_id: str = "CL201",
    severity: Severity = Severity.ERROR,
    message: str = "10.0.6.1/32 is not one bare IP",
    path: str = "apps/svc.yaml",
    line: int = 3,
    related: tuple[Related, ...] = (),
) -> Finding:
    span = Span(line, 5, line, 16)
    return Finding(
        rule_id,
        "lb-ip-invalid",
        severity,
        message,
        Location(path, span),
        related,
        f"{line:032x}",
        f"identity-{line}",
    )


def report_of(*findings: Finding, **extra: Any) -> Report:
    fields: dict[str, Any] = {"rules": (), "files_checked": 3, "skipped": ()}
    return Report(findings=tuple(findings), fail_on=Severity.ERROR, **{**fields, **extra})


# --- GitHub workflow commands ----------------------------------------------------------------

COMMAND = re.compile(r"^::(?P<name>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command read the way the runner reads one."""
    match = COMMAND.match(line)
    assert match, line
    props: dict[str, str] = {}
    for part in (match["props"] or "").split(","):
        if part:
            key, _, value = part.partition("=")
            props[key] = unescape_property(value)
    return match["name"], props, unescape_data(match["data"])


def commands_outside_stop(lines: list[str]) -> list[str]:
    """Lines the runner would treat as commands, honouring ``::stop-commands::``."""
    active: list[str] = []
    token: str | None = None
    for line in lines:
        stripped = line.lstrip()
        if token is not None:
            if stripped == f"::{token}::":
                token = None
            continue
        if stripped.startswith("::stop-commands::"):
            token = stripped.removeprefix("::stop-commands::")
            continue
        if stripped.startswith("::"):
            active.append(stripped)
    assert token is None, "stop-commands never resumed"
    return active


def test_github_annotations_of_the_golden_tree() -> None:
    report = golden_report()
    lines = github.to_github(report).splitlines()
    commands = [parse_command(line) for line in commands_outside_stop(lines)]
    assert len(commands) == len(report.findings) == 5
    for (name, props, message), item in zip(commands, report.findings, strict=True):
        span = item.location.span
        assert name == {"error": "error", "warning": "warning", "note": "notice"}[item.severity]
        assert props["file"] == item.location.path
        assert (int(props["line"]), int(props["col"])) == (span.line, span.column)
        assert int(props["endLine"]) == span.end_line
        if span.end_line == span.line:
            assert int(props["endColumn"]) == span.end_column
        else:
            assert "endColumn" not in props
        assert props["title"] == f"{item.rule_id} {item.rule_name}"
        assert message.startswith(item.message)
    duplicate = next(m for _, p, m in commands if p["title"].startswith("CL204"))
    assert "\ntests/golden/tree/apps/echo/service.yaml:8:27: " in duplicate
    assert lines[-1].startswith("Found 4 errors, 1 warning")


def test_github_escapes_data_and_properties() -> None:
    hostile = finding(
        message="100% wrong\r\nline two, with: colons",
        path="apps/a,b:c%d.yaml",
    )
    (line, _summary) = github.to_github(report_of(hostile)).splitlines()
    assert "\n" not in line and "\r" not in line
    assert "100%25" in line
    assert "a%2Cb%3Ac%25d.yaml" in line
    name, props, message = parse_command(line)
    assert name == "error"
    assert props["file"] == "apps/a,b:c%d.yaml"
    assert props["title"] == "CL201 lb-ip-invalid"
    # A line break from the tree is shown, never acted on.
    assert message == "100% wrong\\r\\nline two, with: colons"


def test_github_multi_line_span_has_no_end_column() -> None:
    item = Finding(
        "CL204",
        "lb-ip-duplicate",
        Severity.ERROR,
        "m",
        Location("a.yaml", Span(3, 5, 6, 2)),
        (),
        "0" * 32,
        "x",
    )
    _, props, _ = parse_command(github.annotation(item))
    assert props["endLine"] == "6" and "endColumn" not in props


def test_github_respects_the_per_step_annotation_limits() -> None:
    errors = [finding(line=i) for i in range(1, 26)]
    warnings = [finding("CL010", Severity.WARNING, line=100 + i) for i in range(3)]
    notes = [finding("CL300", Severity.NOTE, line=200 + i) for i in range(15)]
    report = report_of(*errors, *warnings, *notes)
    lines = github.to_github(report).splitlines()
    commands = [parse_command(line) for line in commands_outside_stop(lines)]
    kinds = [name for name, _, _ in commands]
    assert kinds.count("error") == 10
    assert kinds.count("warning") == 3
    assert kinds.count("notice") == 10, "9 notes and the closing notice"
    name, props, message = commands[-1]
    assert (name, props) == ("notice", {"title": "cilium-lint"})
    assert message.startswith("21 more findings are listed in the log but not annotated")
    # every unannotated finding is still in the log, in the text format
    for item in [*errors[10:], *notes[9:]]:
        span = item.location.span
        assert any(
            line.startswith(f"{item.location.path}:{span.line}:{span.column}: {item.rule_id}")
            for line in lines
        )
    assert lines[-1].startswith("Found 25 errors, 3 warnings, 15 notes")


def test_github_under_the_limits_annotates_everything() -> None:
    report = report_of(*[finding(line=i) for i in range(1, 11)])
    lines = github.to_github(report).splitlines()
    assert len(commands_outside_stop(lines)) == 10
    assert not any("stop-commands" in line or "more finding" in line for line in lines)


def test_github_text_from_the_tree_cannot_issue_commands() -> None:
    # A value in a manifest ends up in a message; past the limit it is printed as a plain line.
    evil = "x\n::add-mask::secret\n::error file=evil.yaml::pwned"
    report = report_of(*[finding(line=i, message=evil) for i in range(1, 13)])
    lines = github.to_github(report).splitlines()
    commands = commands_outside_stop(lines)
    assert len(commands) == 11, "10 annotations and the closing notice"
    assert not any(c.startswith(("::add-mask", "::error file=evil")) for c in commands)
    shown = evil.replace("\n", "\\n")
    assert all(parse_command(c)[2] == shown for c in commands[:10])
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    assert github.to_github(report) == github.to_github(report), "deterministic"
    token = lines[start].removeprefix("::stop-commands::")
    assert len(token) == 64
    plain = lines[start + 1 : lines.index(f"::{token}::")]
    assert len(plain) == 2 and all("\\n::add-mask::secret" in line for line in plain)


# --- Markdown --------------------------------------------------------------------------------


def test_markdown_counts_per_rule_and_lists_findings() -> None:
    report = golden_report()
    text = markdown.to_markdown(report)
    lines = text.splitlines()
    assert lines[0] == "## cilium-lint"
    assert ":x: Found 4 errors, 1 warning" in text
    counts = [line for line in lines if re.match(r"^\| \[CL\d{3}\]\(", line)]
    assert len(counts) == 5
    cl010 = next(line for line in counts if "CL010" in line)
    assert "values-source-missing" in cl010 and "warning" in cl010 and cl010.endswith("| 1 |")
    assert "docs/rules.md#cl010-values-source-missing" in cl010
    rows = [line for line in lines if line.startswith("| :")]
    assert len(rows) == 5
    assert "`tests/golden/tree/cilium/helmrelease.yaml:40`" in text
    assert "http" not in "".join(rows), "no links without a GitHub environment"
    duplicate = next(row for row in rows if "| CL204 |" in row)
    assert "<br>`tests/golden/tree/apps/echo/service.yaml:8`: 10.0.6.30 first requested" in (
        duplicate
    )


def test_markdown_links_to_the_lines_on_github() -> None:
    base = "https://github.example/owner/repo/blob/0123abc/"
    text = markdown.to_markdown(golden_report(), link_base=base)
    link = f"({base}tests/golden/tree/cilium/helmrelease.yaml#L40)"
    assert f"[tests/golden/tree/cilium/helmrelease.yaml:40]{link}" in text
    assert f"{base}tests/golden/tree/apps/echo/service.yaml#L8" in text, "related locations too"


def test_markdown_blob_base_from_the_environment(tmp_path: Path) -> None:
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_SHA": "f" * 40,
        "GITHUB_WORKSPACE": str(tmp_path),
    }
    base = f"https://github.com/owner/repo/blob/{'f' * 40}/"
    (tmp_path / "clusters" / "main dir").mkdir(parents=True)
    assert markdown.github_blob_base(env, tmp_path) == base
    assert markdown.github_blob_base(env, tmp_path / "clusters" / "main dir") == (
        base + "clusters/main%20dir/"
    )
    assert markdown.github_blob_base(env, tmp_path.parent) is None, "outside the workspace"
    assert markdown.github_blob_base({**env, "GITHUB_SHA": ""}, tmp_path) is None
    del env["GITHUB_WORKSPACE"]
    assert markdown.github_blob_base(env, tmp_path) == base


def test_markdown_escapes_cells() -> None:
    item = finding(message="a | b <script>x</script> *bold* [l](http://x)\nnext")
    text = markdown.to_markdown(report_of(item))
    (row,) = [line for line in text.splitlines() if line.startswith("| :x:")]
    assert row.count(" | ") == 3, "the message's pipe does not split the row"
    assert "<script>" not in row and "&lt;script&gt;" in row
    assert r"\*bold\*" in row and r"\[l\](http://x)" in row
    assert r"\\nnext" in row, "a line break from the tree is shown as \\n"


def test_markdown_clean_run_and_hidden_counts() -> None:
    skipped = (SkippedPath("chart/templates", "Helm chart templates"),)
    text = markdown.to_markdown(report_of(suppressed=2, baselined=1, skipped=skipped))
    assert ":white_check_mark: All checks passed" in text
    assert "2 suppressed, 1 in the baseline" in text, "the summary line counts hidden findings"
    assert "|" not in text, "no tables without findings"
    assert "chart/templates" in text


def test_markdown_caps_the_table() -> None:
    report = report_of(*[finding(line=i) for i in range(1, markdown.MAX_ROWS + 8)])
    text = markdown.to_markdown(report)
    assert sum(line.startswith("| :x:") for line in text.splitlines()) == markdown.MAX_ROWS
    assert "7 more findings are not listed here" in text


# --- statistics ------------------------------------------------------------------------------


def test_statistics_counts_per_rule_most_frequent_first() -> None:
    report = report_of(
        finding(line=1),
        finding("CL204", line=2),
        finding(line=3),
        finding("CL010", Severity.WARNING, line=4),
    )
    rows = statistics.rule_counts(report)
    assert [(r.rule_id, r.count) for r in rows] == [("CL201", 2), ("CL010", 1), ("CL204", 1)]
    lines = statistics.to_statistics_text(report).splitlines()
    assert lines[0].split() == ["2", "CL201", "lb-ip-invalid", "error"]
    assert lines[1].split() == ["1", "CL010", "lb-ip-invalid", "warning"]
    assert len({line.index("CL") for line in lines[:3]}) == 1, "aligned"
    assert lines[-1].startswith("Found 3 errors, 1 warning")
    assert json.loads(statistics.to_statistics_json(report))[0] == {
        "rule": "CL201",
        "name": "lb-ip-invalid",
        "severity": "error",
        "count": 2,
    }


# --- JSON and its schema ---------------------------------------------------------------------


def _validate(data: Any) -> None:
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    errors = sorted(cls(SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    assert not errors, f"{list(errors[0].path)}: {errors[0].message}"


def _undocumented(data: Any, schema: dict[str, Any], where: str = "") -> list[str]:
    """Keys the report emits that the schema does not describe."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return _undocumented(data, SCHEMA["$defs"][name], where)
    found = []
    if isinstance(data, dict):
        props = schema.get("properties", {})
        for key, value in data.items():
            if key not in props:
                found.append(f"{where}/{key}")
            else:
                found += _undocumented(value, props[key], f"{where}/{key}")
    elif isinstance(data, list) and "items" in schema:
        for item in data:
            found += _undocumented(item, schema["items"], f"{where}/[]")
    return found


def test_json_schema_version_matches_the_output() -> None:
    assert SCHEMA["properties"]["version"]["const"] == json_report.SCHEMA_VERSION


@pytest.mark.parametrize("tree", [GOLDEN_TREE, CLEAN, TUNNEL])
def test_json_output_is_valid_and_fully_documented(tree: str) -> None:
    proc = run(tree, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    _validate(data)
    assert _undocumented(data, SCHEMA) == []


def test_json_summary_carries_hidden_counts_and_skipped_paths() -> None:
    skipped = (SkippedPath("chart/templates", "Helm chart templates"),)
    report = report_of(
        finding(line=1), finding("CL010", Severity.WARNING, line=2),
        suppressed=2, baselined=3, skipped=skipped,
    )  # fmt: skip
    data = json.loads(json_report.to_json(report))
    _validate(data)
    assert _undocumented(data, SCHEMA) == []
    assert data["summary"] == {
        "files": 3,
        "rules": 0,
        "findings": 2,
        "error": 1,
        "warning": 1,
        "note": 0,
        "suppressed": 2,
        "baselined": 3,
        "notices": 0,
        "failOn": "error",
        "failed": True,
    }
    assert data["skipped"] == [{"path": "chart/templates", "reason": "Helm chart templates"}]


def test_json_schema_rejects_what_is_not_a_report() -> None:
    cls = jsonschema.validators.validator_for(SCHEMA)
    good = json.loads(json_report.to_json(report_of(finding())))
    bad_version = {**good, "version": 2}
    bad_severity = json.loads(json.dumps(good))
    bad_severity["findings"][0]["severity"] = "fatal"
    no_summary = {k: v for k, v in good.items() if k != "summary"}
    for data in (bad_version, bad_severity, no_summary):
        assert list(cls(SCHEMA).iter_errors(data))


# --- several reports from one run, and --statistics on the command line ------------------------


def test_report_writes_more_formats_from_one_run(tmp_path: Path) -> None:
    sarif, data, summary = tmp_path / "r.sarif", tmp_path / "r.json", tmp_path / "s.md"
    proc = run(
        GOLDEN_TREE,
        "--report", f"sarif:{sarif}",
        "--report", f"json:{data}",
        "--report", f"markdown:{summary}",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == run(GOLDEN_TREE).stdout, "the text report still goes to the terminal"
    assert proc.stderr == ""
    assert sarif.read_text("utf-8") == run(GOLDEN_TREE, "--format", "sarif").stdout
    assert data.read_text("utf-8") == run(GOLDEN_TREE, "--format", "json").stdout
    assert summary.read_text("utf-8") == run(GOLDEN_TREE, "--format", "markdown").stdout
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["r.json", "r.sarif", "s.md"]


def test_report_beside_output(tmp_path: Path) -> None:
    main, extra = tmp_path / "main.json", tmp_path / "extra.txt"
    proc = run(CLEAN, "--format", "json", "--output", str(main), "--report", f"text:{extra}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert json.loads(main.read_text("utf-8"))["findings"] == []
    assert extra.read_text("utf-8").startswith("All checks passed")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--report", "sarif"], "expected FORMAT:FILE"),
        (["--report", "sarif:"], "expected FORMAT:FILE"),
        (["--report", "yaml:x.yaml"], "unknown format 'yaml'"),
        (["--report", "sarif:a.sarif", "--report", "json:a.sarif"], "target of two reports"),
        (["--output", "a.json", "--report", "json:./a.json"], "target of two reports"),
        (["--statistics", "--format", "sarif"], "--statistics prints text or json"),
    ],
)
def test_report_usage_errors_exit_2_before_linting(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = run(str(REPO / TUNNEL), *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert list(tmp_path.iterdir()) == [], "nothing written"


def test_report_into_a_missing_folder_exits_2(tmp_path: Path) -> None:
    proc = run(TUNNEL, "--report", f"sarif:{tmp_path / 'missing' / 'r.sarif'}")
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_statistics_on_the_command_line() -> None:
    proc = run(GOLDEN_TREE, "--statistics")
    assert proc.returncode == 1, "the exit code does not change"
    lines = proc.stdout.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == ["CL010", "CL102", "CL202", "CL203", "CL204"]
    assert all(line.split()[0] == "1" for line in lines[:-1])
    assert lines[-1].startswith("Found 4 errors, 1 warning")
    data = json.loads(run(GOLDEN_TREE, "--statistics", "--format", "json").stdout)
    assert {row["rule"]: row["count"] for row in data}["CL204"] == 1
    clean = run(CLEAN, "--statistics")
    assert clean.returncode == 0 and clean.stdout.startswith("All checks passed")


def test_markdown_links_under_github_actions(tmp_path: Path) -> None:
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_SHA": "a" * 40,
        "GITHUB_WORKSPACE": str(REPO),
    }
    proc = run(GOLDEN_TREE, "--format", "markdown", env=env)
    assert proc.returncode == 1
    blob = f"https://github.com/owner/repo/blob/{'a' * 40}/"
    assert f"({blob}tests/golden/tree/cilium/helmrelease.yaml#L40)" in proc.stdout
    # run from a sub-folder of the workspace: links still point at the repository's paths
    inside = run("tree", "--format", "markdown", cwd=REPO / "tests/golden", env=env)
    assert f"({blob}tests/golden/tree/cilium/helmrelease.yaml#L40)" in inside.stdout
    assert "/blob/a" not in run(GOLDEN_TREE, "--format", "markdown").stdout
