"""`cilium-lint ips`: the address plan on the command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from clitools import run_cli

ROOT = Path(__file__).resolve().parent.parent


def _ips(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_cli("ips", "--no-cache", *args, cwd=cwd)


def test_text_plan_lists_requests_usage_and_next_free() -> None:
    result = _ips("examples/cluster")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "10.0.6.53  Service/network/adguard-home-dns" in out
    assert "[shared]" in out
    assert "used 5 of 254 usable; next free: 10.0.6.1, 10.0.6.2" in out
    assert "examples/cluster/kubernetes/apps/default/echo/app/helmrelease.yaml:55" in out


def test_duplicates_and_requests_outside_every_pool_are_marked() -> None:
    dup = _ips(cwd=ROOT / "tests" / "cases" / "CL204" / "fail-three-occurrences")
    assert dup.stdout.count("[duplicate]") >= 3
    outside = _ips(cwd=ROOT / "tests" / "cases" / "CL202" / "fail-outside-policy-pool")
    assert "requests in no pool" in outside.stdout
    assert "10.0.7.10  Service/default/echo  service.yaml:8" in outside.stdout


def test_json_plan_is_the_same_data() -> None:
    result = _ips("examples/cluster", "--format", "json")
    plan = json.loads(result.stdout)
    pool = next(p for p in plan["pools"] if p["kind"] == "CiliumLoadBalancerIPPool")
    assert pool["used"] == 5 and pool["usable"] == 254
    assert {e["ip"] for e in pool["entries"]} == {
        "10.0.6.20",
        "10.0.6.21",
        "10.0.6.30",
        "10.0.6.31",
        "10.0.6.53",
    }
    assert pool["next_free"][0] == "10.0.6.1"


def test_missing_path_is_a_usage_error() -> None:
    result = _ips("no/such/folder")
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
