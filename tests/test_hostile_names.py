"""File names written by an adversary: every report format prints them escaped, never raw.

A pull request controls its file names. A newline followed by ``::error::`` (or ``::add-mask::``,
``::stop-commands::``) would be a GitHub workflow command in the log of a plain ``run:`` step, an
ESC sequence drives the reader's terminal, U+202E reorders what a reviewer sees, and a byte that
is not UTF-8 cannot be encoded. Each format is run on such a tree; the real finding beside them
must still be reported, and the run must end in findings (exit 1), not an error.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from clitools import run_cli
from hypothesis import given
from hypothesis import strategies as st

from cilium_lint.escape import printable, printable_path, uri_path

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs Linux file names")

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
  annotations:
    lbipam.cilium.io/ips: 10.9.9.9
spec:
  type: LoadBalancer
"""
BROKEN = b"a: [\n"
HOSTILE_NAMES = [
    b"a\n::error::pwned.yaml",
    b"b\n::add-mask::secret.yaml",
    b"c\n::stop-commands::token.yaml",
    b"d\x1b[2J\x1b]0;title\x07.yaml",
    b"e\xe2\x80\xaeevil.yaml",  # U+202E RIGHT-TO-LEFT OVERRIDE
    b"f\r::warning::carriage.yaml",
    b"\xff\xfe.yaml",  # not UTF-8
    b"::error::at-the-start.yaml",
    b"g|pipe`tick<b>.yaml",
]
GITHUB_COMMANDS = ("::error ", "::warning ", "::notice ", "::stop-commands::")


def hostile_tree(root: Path) -> None:
    (root / "real.yaml").write_text(SERVICE, encoding="utf-8")
    for name in HOSTILE_NAMES:
        with open(os.path.join(os.fsencode(root), name), "wb") as stream:
            stream.write(BROKEN)


def assert_inert(text: str, *, allowed: tuple[str, ...] = ()) -> None:
    """No raw control or layout character; no line a workflow command unless ``allowed``."""
    assert printable(text.replace("\n", "")) == text.replace("\n", ""), [
        c for c in text if printable(c) != c and c != "\n"
    ]
    token = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if token is not None:
            if stripped == f"::{token}::":
                token = None
            continue
        if stripped.startswith("::stop-commands::") and "::stop-commands::" in allowed:
            token = stripped.removeprefix("::stop-commands::")
            continue
        if stripped.startswith("::"):
            assert stripped.startswith(allowed), line
            # the one command a line holds is the one at its start
            name = stripped[2:].split("::", 1)[0].split(" ", 1)[0]
            assert name in ("error", "warning", "notice"), line


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    hostile_tree(root)
    return root


def test_printable_escapes_controls_layout_and_bytes() -> None:
    assert printable("a\nb\r\tc\x1b[2J\x7f\x85") == "a\\nb\\r\\tc\\x1b[2J\\x7f\\x85"
    assert printable("x\u202ey\u2066z\u2028\ufeff") == "x\\u202ey\\u2066z\\u2028\\ufeff"
    assert printable(os.fsdecode(b"\xff.yaml")) == "\\xff.yaml"
    assert printable("caf\u00e9 \u65e5\u672c \U0001f600") == "caf\u00e9 \u65e5\u672c \U0001f600"
    assert printable_path("::error::x.yaml") == "./::error::x.yaml"
    assert printable_path(" ::x.yaml") == "./ ::x.yaml"
    assert printable_path("apps/::x.yaml") == "apps/::x.yaml"
    assert uri_path(os.fsdecode(b"a b/\xff\n.yaml")) == "a%20b/%FF%0A.yaml"


@given(st.text(st.characters(exclude_categories=()), max_size=40))
def test_printable_output_is_one_visible_utf8_line(text: str) -> None:
    import unicodedata

    shown = printable(text)
    shown.encode("utf-8")  # strict: no surrogate left
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") for c in shown)
    assert printable(shown) == shown, "escaping is idempotent on its output"


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_log_formats_print_hostile_names_inert(tree: Path, fmt: str) -> None:
    proc = run_cli(".", "--no-cache", "--format", fmt, cwd=tree, env={"NO_COLOR": "1"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr == ""
    allowed = GITHUB_COMMANDS if fmt == "github" else ()
    assert_inert(proc.stdout, allowed=allowed)
    assert "real.yaml:7:27: CL202" in proc.stdout or "file=real.yaml,line=7," in proc.stdout
    assert "\\xff\\xfe.yaml" in proc.stdout
    assert "a\\n::error::pwned.yaml" in proc.stdout or "a\\n%3A%3Aerror" in proc.stdout
    if fmt == "text":
        assert "./::error::at-the-start.yaml:1:1: CL001" in proc.stdout or (
            "./::error::at-the-start.yaml:2:1: CL001" in proc.stdout
        )


def test_file_reports_are_valid_utf8_and_escaped(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_SHA": "0" * 40,
        "GITHUB_WORKSPACE": str(tree),
    }
    proc = run_cli(
        ".",
        "--no-cache",
        "--format",
        "json",
        "--output",
        str(out / "report.json"),
        "--report",
        f"sarif:{out / 'report.sarif'}",
        "--report",
        f"markdown:{out / 'report.md'}",
        cwd=tree,
        env=env,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    texts = {p.suffix: p.read_bytes().decode("utf-8") for p in out.iterdir()}
    for text in texts.values():
        assert_inert(text)
    report = json.loads(texts[".json"])
    where = {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in report["findings"]}
    assert ("real.yaml", 7, "CL202") in where
    assert ("\\xff\\xfe.yaml", 2, "CL001") in where
    assert ("a\\n::error::pwned.yaml", 2, "CL001") in where
    assert len({f["fingerprint"] for f in report["findings"]}) == len(report["findings"])
    sarif = json.loads(texts[".sarif"])
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert {"real.yaml", "%FF%FE.yaml", "a%0A%3A%3Aerror%3A%3Apwned.yaml"} <= uris
    markdown = texts[".md"]
    assert "/blob/" + "0" * 40 + "/%FF%FE.yaml#L2)" in markdown
    for line in markdown.splitlines():
        if line.startswith("| :x: |"):
            assert line.count(" | ") == 3, f"a file name does not split the row: {line}"


def test_coloured_text_and_statistics_escape_too() -> None:
    from cilium_lint.document import Location
    from cilium_lint.engine import Finding, Report
    from cilium_lint.report.statistics import to_statistics_text
    from cilium_lint.report.text import to_text
    from cilium_lint.rules.api import Related, Severity
    from cilium_lint.sourcemap import Span

    evil = "x\n::add-mask::secret\x1b[2J\u202e"
    related = Related(Location(f"b{evil}.yaml", Span(1, 1, 1, 2)), f"first {evil}")
    item = Finding(
        "ACME001",
        f"name{evil}",
        Severity.WARNING,
        f"message {evil}",
        Location(f"::a{evil}.yaml", Span(2, 3, 2, 4)),
        (related,),
        "0" * 32,
        "identity",
    )
    report = Report(findings=(item,), fail_on=Severity.ERROR, rules=(), files_checked=1, skipped=())
    coloured = to_text(report, color=True)
    # the formatter's own colour codes are the only ESC bytes
    assert_inert(coloured.replace("\x1b[", "").replace("\x1b", "ESC"))
    assert "\x1b[2J" not in coloured
    assert coloured.startswith("\x1b[1m./::a")
    assert_inert(to_statistics_text(report))


def test_the_address_plan_prints_hostile_names_inert(tree: Path) -> None:
    hostile = SERVICE.replace("10.9.9.9", "'::add-mask::secret'").replace("name: web", "name: x")
    with open(os.path.join(os.fsencode(tree), b"h\n::error::plan\x1b[2J.yaml"), "wb") as stream:
        stream.write(hostile.encode())
    proc = run_cli("ips", ".", "--no-cache", cwd=tree)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_inert(proc.stdout)
    assert "'::add-mask::secret'" in proc.stdout
    assert "h\\n::error::plan\\x1b[2J.yaml:7" in proc.stdout
    assert "10.9.9.9" in proc.stdout
