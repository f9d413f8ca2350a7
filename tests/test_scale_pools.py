"""Pools and requests at scale: no step compares every block with every block or request.

Each tree here took a minute or more when CL215, CL203 and ``cilium-lint ips`` compared every
pair; under a CPU-time limit well above what a linear pass needs, the run must finish and still
report the one real problem planted in it.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from cpu_limits import finished, run_cli_limited

LIMIT = 20  # CPU seconds; comparing every pair needs 40 s and more for these trees
BASE = int(ipaddress.IPv4Address("10.0.0.0"))
CONFIG = "lb-ipam:\n  pools:\n    - 10.0.0.0/8\n"


def _cidr(n: int) -> str:
    return str(ipaddress.IPv4Network((BASE + 4 * n, 30)))


def _pool(name: str, blocks: list[str], spec: str = "") -> str:
    head = f"apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: {name}\n"
    return head + f"spec:\n{spec}  blocks:\n" + "".join(f"    - cidr: {b}\n" for b in blocks)


def _findings(result_stdout: str) -> list[dict[str, Any]]:
    findings = json.loads(result_stdout)["findings"]
    assert isinstance(findings, list)
    return findings


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(needle)


@pytest.mark.slow
def test_many_blocks_one_overlap(tmp_path: Path) -> None:
    blocks = [_cidr(n) for n in range(5000)]
    blocks.append(_cidr(1234))  # the one overlap, at the end of the file
    text = _pool("big", blocks)
    (tmp_path / "pool.yaml").write_text(text)
    (tmp_path / ".cilium-lint.yaml").write_text(CONFIG)
    result = run_cli_limited(
        str(tmp_path), "--no-cache", "-j1", "--format", "json", cwd=tmp_path, cpu_seconds=LIMIT
    )
    assert finished(result), result.stderr[-2000:]
    overlaps = [f for f in _findings(result.stdout) if f["rule"] == "CL215"]
    assert len(overlaps) == 1
    assert overlaps[0]["location"]["line"] == _line_of(text, _cidr(1234), 2)
    assert f"overlaps block {_cidr(1234)} of the same pool" in str(overlaps[0]["message"])


@pytest.mark.slow
def test_many_requests_many_blocks(tmp_path: Path) -> None:
    count = 3000
    (tmp_path / "pool.yaml").write_text(_pool("big", [_cidr(n) for n in range(count)]))
    (tmp_path / ".cilium-lint.yaml").write_text(CONFIG)
    # Every IP served (the first usable one of each block) but one, which no block holds.
    ips = [str(ipaddress.IPv4Address(BASE + 4 * n + 1)) for n in range(count)] + ["10.200.0.1"]
    service = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: many\n  namespace: apps\n"
        f'  annotations:\n    lbipam.cilium.io/ips: "{",".join(ips)}"\n'
        "spec:\n  type: LoadBalancer\n  ports:\n    - port: 80\n"
    )
    (tmp_path / "service.yaml").write_text(service)
    result = run_cli_limited(
        str(tmp_path), "--no-cache", "-j1", "--format", "json", cwd=tmp_path, cpu_seconds=LIMIT
    )
    assert finished(result), result.stderr[-2000:]
    unserved = [f for f in _findings(result.stdout) if f["rule"] == "CL203"]
    assert [str(f["message"]).split()[0] for f in unserved] == ["10.200.0.1"]
    assert unserved[0]["location"] == {**unserved[0]["location"], "path": "service.yaml", "line": 7}


@pytest.mark.slow
def test_ips_many_blocks_first_last_reserved(tmp_path: Path) -> None:
    count = 5000
    (tmp_path / "pool.yaml").write_text(
        _pool("big", [_cidr(n) for n in range(count)], '  allowFirstLastIPs: "No"\n')
    )
    (tmp_path / ".cilium-lint.yaml").write_text(CONFIG)
    result = run_cli_limited(
        "ips", str(tmp_path), "--format", "json", cwd=tmp_path, cpu_seconds=LIMIT
    )
    assert finished(result), result.stderr[-2000:]
    pools = {p["name"]: p for p in json.loads(result.stdout)["pools"]}
    # A /30 with its first and last address reserved hands out two.
    assert pools["big"]["usable"] == 2 * count
    assert pools["big"]["next_free"][:2] == ["10.0.0.1", "10.0.0.2"]


def test_ips_huge_ranges_are_counted_not_enumerated(tmp_path: Path) -> None:
    spec = "  blocks:\n    - cidr: 0.0.0.0/0\n    - cidr: ::/0\n"
    spec += "    - start: '2001::'\n      stop: '2001:10::'\n"  # 2**100 addresses
    (tmp_path / "pool.yaml").write_text(
        "apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: all\n"
        f'spec:\n  allowFirstLastIPs: "No"\n{spec}'
    )
    (tmp_path / ".cilium-lint.yaml").write_text("lb-ipam:\n  pools:\n    - 0.0.0.0/0\n    - ::/0\n")
    (tmp_path / "service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: one\n  namespace: apps\n"
        "  annotations:\n    lbipam.cilium.io/ips: 0.0.0.1,::1\nspec:\n  type: LoadBalancer\n"
    )
    result = run_cli_limited(
        "ips", str(tmp_path), "--format", "json", cwd=tmp_path, cpu_seconds=LIMIT
    )
    assert finished(result), result.stderr[-2000:]
    pools = {p["name"]: p for p in json.loads(result.stdout)["pools"]}
    assert pools["all"]["usable"] == 2**32 - 2 + 2**128 - 2
    assert pools["all"]["used"] == 2
    assert pools["all"]["next_free"] == ["0.0.0.2", "0.0.0.3", "0.0.0.4", "0.0.0.5", "0.0.0.6"]
    assert pools["::/0"]["next_free"][:2] == ["::2", "::3"]
    lint = run_cli_limited(
        str(tmp_path), "--no-cache", "--format", "json", cwd=tmp_path, cpu_seconds=LIMIT
    )
    assert finished(lint), lint.stderr[-2000:]
