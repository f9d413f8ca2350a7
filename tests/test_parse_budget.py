"""Reading a tree has a bounded cost: caps per file and a budget per run (issue #11, attack 5).

Every file under the size cap can be written to hold as many YAML nodes as it has bytes; a few
such files used to end the run with a MemoryError (exit 2, no report). What is over a cap now
becomes a finding for that file (CL004 bytes, CL005 documents and nodes), and the findings of
the other files are still reported.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from clitools import run_cli

from cilium_lint import parse_budget, readfile
from cilium_lint.discover import FoundFile
from cilium_lint.loader import load_files
from cilium_lint.readfile import DEFAULT_MAX_BYTES, load_file
from cilium_lint.yamlload import PRESCAN_FROM

BAD = "a: 1\nb: [1, 2\n"  # the real finding: CL001 at line 3
GIB = 1024**3


def _found(path: Path) -> FoundFile:
    return FoundFile(path, path.name)


def _flow_list(count: int) -> str:
    return "[" + ",".join(["a"] * count) + "]\n"  # count + 1 nodes in 2 * count bytes


def _only_problem(parsed: Any, rule: str, words: str) -> None:
    assert parsed.documents == []
    assert [(p.rule_id, p.location.span.line) for p in parsed.problems] == [(rule, 1)]
    assert words in parsed.problems[0].message


def test_documents_cap(tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    many.write_text("--- {a: 1}\n" * (parse_budget.MAX_DOCUMENTS_PER_FILE + 1))
    assert many.stat().st_size < PRESCAN_FROM  # the parser's own count refuses it
    _only_problem(load_file(_found(many)), "CL005", "more than 10,000 documents")
    exactly = tmp_path / "exactly.yaml"
    exactly.write_text("--- {a: 1}\n" * parse_budget.MAX_DOCUMENTS_PER_FILE)
    assert len(load_file(_found(exactly)).documents) == parse_budget.MAX_DOCUMENTS_PER_FILE


def test_documents_cap_counted_before_composing(tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    many.write_text("--- {a: 1}\n" * 200_000)
    assert many.stat().st_size >= PRESCAN_FROM
    _only_problem(load_file(_found(many)), "CL005", "more than 10,000 documents")


def test_nodes_cap(tmp_path: Path) -> None:
    built = tmp_path / "built.yaml"
    built.write_text(_flow_list(parse_budget.MAX_NODES_PER_FILE))
    assert built.stat().st_size < PRESCAN_FROM
    _only_problem(load_file(_found(built)), "CL005", "more than 500,000 YAML nodes")
    scanned = tmp_path / "scanned.yaml"
    scanned.write_text("".join(f"- {{k{i}: v}}\n" for i in range(200_000)))
    assert scanned.stat().st_size >= PRESCAN_FROM
    _only_problem(load_file(_found(scanned)), "CL005", "more than 500,000 YAML nodes")


def test_a_big_valid_file_under_the_caps_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("".join(f"- {{k{i}: v}}\n" for i in range(100_000)))
    assert big.stat().st_size >= PRESCAN_FROM
    parsed = load_file(_found(big))
    assert parsed.problems == [] and len(parsed.documents[0].data) == 100_000


def test_run_budget_drops_the_files_past_it(tmp_path: Path) -> None:
    files = []
    for number in range(4):
        path = tmp_path / f"f{number}.yaml"
        path.write_text(_flow_list(99))  # 100 nodes each
        files.append(_found(path))
    (tmp_path / "bad.yaml").write_text(BAD)
    files.append(_found(tmp_path / "bad.yaml"))
    loaded = load_files(files, DEFAULT_MAX_BYTES, budget=parse_budget.RunBudget(max_nodes=250))
    assert [len(p.documents) for p in loaded] == [1, 1, 0, 0, 0]
    for parsed in loaded[2:4]:
        _only_problem(parsed, "CL005", "run's budget of 250 YAML nodes")
    assert [p.rule_id for p in loaded[4].problems] == ["CL001"]  # still reported

    by_bytes = load_files(files, DEFAULT_MAX_BYTES, budget=parse_budget.RunBudget(max_bytes=450))
    assert [len(p.documents) for p in by_bytes][:4] == [1, 1, 0, 0]
    _only_problem(by_bytes[2], "CL004", "run's budget of 450 bytes")


def test_memory_error_while_parsing_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(source: bytes, path: str) -> Any:
        raise MemoryError

    monkeypatch.setattr(readfile, "parse_yaml", exhausted)
    (tmp_path / "a.yaml").write_text("a: 1\n")
    _only_problem(load_file(_found(tmp_path / "a.yaml")), "CL005", "ran out of memory")


def test_max_file_size_has_a_ceiling(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".cilium-lint.yaml").write_text(f"max-file-size: {64 * 1024 * 1024 + 1}\n")
    (tmp_path / "a.yaml").write_text("a: 1\n")
    result = run_cli(str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "max-file-size" in result.stderr and "67108864" in result.stderr
    assert "Traceback" not in result.stderr


def _run_limited(tree: Path, memory: int, cpu: int) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    environment = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.run(
        [sys.executable, "-m", "cilium_lint", ".", "--no-cache", "-j1", "--format", "json"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        preexec_fn=limit,
    )


def _dense(path: Path, size: int) -> None:
    lines, total, i = [], 0, 0
    while total < size:
        line = f"- {{k{i}: v}}\n"
        lines.append(line)
        total += len(line)
        i += 1
    path.write_text("".join(lines[:-1]))


@pytest.mark.slow
def test_dense_files_under_a_memory_limit(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "bad.yaml").write_text(BAD)
    _dense(tmp_path / "dense-0.yaml", DEFAULT_MAX_BYTES)
    for number in range(1, 6):
        os.link(tmp_path / "dense-0.yaml", tmp_path / f"dense-{number}.yaml")
    (tmp_path / "documents.yaml").write_text("--- {a: 1}\n" * 700_000)
    result = _run_limited(tmp_path, int(1.5 * GIB), 120)
    assert result.returncode == 1, result.stderr[-2000:]
    found = {
        (f["location"]["path"], f["rule"], f["location"]["line"])
        for f in json.loads(result.stdout)["findings"]
    }
    expected = {(f"dense-{n}.yaml", "CL005", 1) for n in range(6)}
    expected |= {("documents.yaml", "CL005", 1), ("bad.yaml", "CL001", 3)}
    assert expected <= found
