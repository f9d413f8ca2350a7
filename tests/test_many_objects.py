"""Thousands of objects of one shape cost linear work, not quadratic.

Each tree here is large enough that a step comparing every pair would need minutes of CPU,
while the whole run takes a few seconds; the CLI runs under a CPU-time limit and must finish
with its real finding. ``bench/adversarial.py`` measures the same shapes at n and 4n.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from cpu_limits import finished, run_cli_limited

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import adversarial

LIMIT = 60  # CPU seconds; a linear run needs well under 15 on a slow shared runner

pytestmark = pytest.mark.slow


def _lint(tree: Path) -> list[dict[str, Any]]:
    result = run_cli_limited(
        str(tree), "--format", "json", "--no-cache", "-j1", cwd=tree, cpu_seconds=LIMIT
    )
    assert finished(result), result.stderr[-2000:]
    assert result.returncode in (0, 1), result.stderr[-2000:]
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


def _where(findings: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(f["rule"], f["location"]["path"], f["location"]["line"]) for f in findings]


def test_ten_thousand_configmaps_in_one_file(tmp_path: Path) -> None:
    adversarial.configmaps(tmp_path, 9_998)  # under the 10,000-document cap (CL005)
    with (tmp_path / "big" / "configmaps.yaml").open("a", encoding="utf-8") as file:
        file.write("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: last\n")
        file.write("data:\n  a: b\n  a: c\n")
    found = _where(_lint(tmp_path))
    assert ("CL002", "big/configmaps.yaml", 9_998 * 8 + 7) in found  # the duplicate key


def test_three_thousand_flux_kustomizations(tmp_path: Path) -> None:
    adversarial.flux_kustomizations(tmp_path, 3_000)
    (tmp_path / "apps" / "app-2999" / "service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n"
        "  annotations:\n    lbipam.cilium.io/ips: 10.0.6.300\nspec:\n  type: LoadBalancer\n",
        "utf-8",
    )
    found = _where(_lint(tmp_path))
    assert ("CL201", "apps/app-2999/service.yaml", 7) in found


def test_three_thousand_flux_roots_as_fifteen_hundred_clusters(tmp_path: Path) -> None:
    adversarial.flux_roots(tmp_path, 3_000)
    (tmp_path / "clusters" / "c7" / "app" / "bad.yaml").write_text("a: [\n", "utf-8")
    found = _where(_lint(tmp_path))
    assert ("CL001", "clusters/c7/app/bad.yaml", 2) in found


def test_four_thousand_services_on_one_ip(tmp_path: Path) -> None:
    adversarial.shared_ip(tmp_path, 4_000)
    duplicates = [f for f in _lint(tmp_path) if f["rule"] == "CL204"]
    # every Service may share with every other but the last, on the first one's port
    assert [(f["location"]["line"], f["related"][0]["location"]["line"]) for f in duplicates] == [
        (3_999 * 13 + 7, 7)
    ]


def test_five_thousand_exclude_globs(tmp_path: Path) -> None:
    adversarial.exclude_globs(tmp_path, 5_000)
    (tmp_path / "generated" / "part-7").mkdir(parents=True)
    (tmp_path / "generated" / "part-7" / "bad.yaml").write_text("a: [\n", "utf-8")
    (tmp_path / "apps" / "app-0" / "bad.yaml").write_text("a: [\n", "utf-8")
    found = _where(_lint(tmp_path))
    assert [f for f in found if f[0] == "CL001"] == [("CL001", "apps/app-0/bad.yaml", 2)]
