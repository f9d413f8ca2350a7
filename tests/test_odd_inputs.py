"""One odd input is one finding (or one clear configuration error), never an aborted run.

Deep kustomization chains, deep plain folders and long Flux chains are built without running
into Python's recursion limit: the run ends with the real finding of another file reported
(exit 1) and every report written. A rule whose JSON Schema refers outside itself is refused
when it is loaded, with file, line and reason, and nothing is looked up on disk or the network.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from clitools import run_cli

REPO = Path(__file__).resolve().parent.parent

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
# The real finding: 10.9.9.9 is outside the default policy pool.
REAL = ("apps/web/service.yaml", 7, "CL202")


def flux_kustomization(name: str, path: str) -> str:
    return f"""\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: {path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def with_real_finding(root: Path) -> None:
    write(root / "flux/apps.yaml", flux_kustomization("apps", "./apps"))
    write(root / "apps/web/service.yaml", SERVICE)


def lint(root: Path, *args: str) -> tuple[int, dict[str, object], str]:
    """Lint ``root`` from itself; the exit code, the JSON report, the text output."""
    report = root.parent / "report.json"
    proc = run_cli(".", "--no-cache", "--report", f"json:{report}", *args, cwd=root)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return proc.returncode, data, proc.stdout + proc.stderr


def found(data: dict[str, object]) -> set[tuple[str, int, str]]:
    findings = data["findings"]
    assert isinstance(findings, list)
    return {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in findings}


def test_400_nested_kustomizations_are_one_finding(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    with_real_finding(root)
    write(root / "flux/deep.yaml", flux_kustomization("deep", "./deep"))
    folder = root / "deep"
    for _ in range(400):
        write(folder / "kustomization.yaml", "resources:\n  - a\n")
        folder = folder / "a"
    write(folder / "kustomization.yaml", "resources:\n  - service.yaml\n")
    write(folder / "service.yaml", SERVICE.replace("name: web", "name: deepest"))
    code, data, output = lint(root)
    assert code == 1, output
    got = found(data)
    assert REAL in got
    deep = [f for f in got if f[2] == "CL009"]
    assert len(deep) == 1, got
    # at the reference: line 2 of the 100th kustomization.yaml
    assert deep[0][:2] == ("deep/" + "a/" * 99 + "kustomization.yaml", 2)


DEPTH = 1200  # past Python's recursion limit (1000)


@pytest.fixture
def deep_folder(tmp_path: Path) -> Iterator[Path]:
    """``deep/a/a/...`` DEPTH folders deep, removed without recursion afterwards (shutil.rmtree,
    which pytest uses to clean up, recurses per level and would fail on it)."""
    top = tmp_path / "repo" / "deep"
    top.mkdir(parents=True)
    chain = [top]
    for _ in range(DEPTH):  # os.makedirs recurses too
        chain.append(chain[-1] / "a")
        chain[-1].mkdir()
    try:
        yield chain[-1]
    finally:
        for folder in reversed(chain):
            for entry in os.scandir(folder):
                if not entry.is_dir(follow_symlinks=False):
                    os.unlink(entry.path)
            os.rmdir(folder)


def test_a_folder_tree_1200_deep_is_walked(tmp_path: Path, deep_folder: Path) -> None:
    root = tmp_path / "repo"
    with_real_finding(root)
    write(root / "flux/deep.yaml", flux_kustomization("deep", "./deep"))
    (deep_folder / "service.yaml").write_text(
        SERVICE.replace("name: web", "name: deepest").replace("10.9.9.9", "10.9.9.8"), "utf-8"
    )
    code, data, output = lint(root)
    assert code == 1, output
    got = found(data)
    assert REAL in got
    assert ("deep/" + "a/" * DEPTH + "service.yaml", 7, "CL202") in got


def test_a_chain_of_400_flux_kustomizations(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    with_real_finding(root)
    write(root / "flux/chain.yaml", flux_kustomization("chain-0", "./chain/k0"))
    for index in range(400):
        target = f"./chain/k{index + 1}" if index < 399 else "./chain/end"
        write(root / f"chain/k{index}/ks.yaml", flux_kustomization(f"chain-{index + 1}", target))
    write(root / "chain/end/service.yaml", SERVICE.replace("10.9.9.9", "10.9.9.7"))
    code, data, output = lint(root)
    assert code == 1, output
    got = found(data)
    assert REAL in got and ("chain/end/service.yaml", 7, "CL202") in got


# --- --rule-dir: JSON Schema references ---------------------------------------------------------

RULE = """\
id: ACME001
name: acme-routing
summary: routingMode is native.
rationale: Because.
fix: Set it.
key: routingMode
assert:
"""


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ("  $ref: {file}\n", "must be self-contained"),
        ("  $ref: file://{file}\n", "must be self-contained"),
        ("  $ref: https://example.invalid/schema.json\n", "must be self-contained"),
        ("  properties:\n    x:\n      $ref: sibling.json#/a\n", "must be self-contained"),
        ("  $id: https://example.invalid/a.json\n  type: string\n", "must be self-contained"),
        ("  $defs: {{}}\n  $ref: '#/$defs/missing'\n", "points at nothing"),
        ("  type: nope\n", "not a valid JSON Schema"),
    ],
)
def test_a_rule_schema_that_refers_outside_itself_is_a_load_error(
    tmp_path: Path, schema: str, reason: str
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"const": "tunnel"}', encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ACME001.yaml").write_text(RULE + schema.format(file=outside), encoding="utf-8")
    proc = run_cli(
        str(REPO / "tests/golden/tree"), "--no-cache", "--rule-dir", str(rules), cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert "Traceback" not in line
    assert line.startswith(f"cilium-lint: {rules / 'ACME001.yaml'}:8:3: rule key 'assert': ")
    assert reason in line


def test_a_rule_schema_with_local_references_works(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    schema = "  $defs:\n    native: {const: native}\n  $ref: '#/$defs/native'\n"
    (rules / "ACME001.yaml").write_text(RULE + schema, encoding="utf-8")
    proc = run_cli(
        str(REPO / "tests/golden/tree"),
        "--no-cache",
        "--select",
        "ACME",
        "--rule-dir",
        str(rules),
        cwd=REPO,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = [line for line in proc.stdout.splitlines() if " ACME001 " in line]
    assert "helmrelease.yaml:40:18: ACME001 routingMode is tunnel;" in line
    assert line.endswith("'native' was expected"), "the schema's $ref was followed"


def test_non_utf8_file_name_next_to_a_finding(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    with_real_finding(root)
    with open(os.path.join(os.fsencode(root / "apps"), b"\xff.yaml"), "wb") as stream:
        stream.write(SERVICE.replace("name: web", "name: other").encode())
    code, data, output = lint(root)
    assert code == 1, output
    got = found(data)
    assert REAL in got and ("apps/\\xff.yaml", 7, "CL202") in got
