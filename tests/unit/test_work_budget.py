"""Trees made to explode while Flux's view is built (issue 11, attack 5): kustomize diamonds,
JSON 6902 copy chains, alias bombs and huge texts through post-build variables. Each ends as a
CL016 finding at the place that caused it, within bounded time and memory, and the rest of
the run is still reported."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cilium_lint.budget import BudgetExceeded, Overrun, WorkBudget, weight
from cilium_lint.document import Location
from cilium_lint.flux.substitute import Variable, retype, substitute, substitute_data
from cilium_lint.sourcemap import Span

REPO = Path(__file__).resolve().parents[2]
MEMORY = 1 << 30  # bytes of address space for the CLI under attack
CPU_SECONDS = 30

FLUX_ROOT = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: ./{path}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

POOL = """\
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata:
  name: pool
spec:
  blocks:
    - cidr: 10.0.6.0/24
"""

# The real finding that must survive beside every attack: an LB IP that is a CIDR (CL201).
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: default
  annotations:
    lbipam.cilium.io/ips: 10.0.6.10/32
spec:
  type: LoadBalancer
  ports:
    - port: 80
"""
SERVICE_LINE = 7


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def base_tree(root: Path, attack_path: str) -> None:
    """A cluster whose root applies ``attack_path`` and an app with a real finding."""
    write(
        root,
        {
            "flux/cluster.yaml": FLUX_ROOT.format(name="cluster", path="flux")
            + "---\n"
            + FLUX_ROOT.format(name="apps", path="apps")
            + "---\n"
            + FLUX_ROOT.format(name="attack", path=attack_path),
            "apps/kustomization.yaml": "resources: [pool.yaml, service.yaml]\n",
            "apps/pool.yaml": POOL,
            "apps/service.yaml": SERVICE,
        },
    )


def diamond(root: Path, levels: int) -> None:
    """``attack/lvl0`` includes ``left`` and ``right``, each with its own namePrefix, both of
    which include ``lvl1``, and so on: 2^levels copies of the ConfigMap at the bottom."""
    files = {}
    for level in range(levels):
        here = f"attack/lvl{level}"
        files[f"{here}/kustomization.yaml"] = "resources: [left, right]\n"
        for side in ("left", "right"):
            files[f"{here}/{side}/kustomization.yaml"] = (
                f"namePrefix: {side[0]}{level}-\nresources: [../../lvl{level + 1}]\n"
            )
    files[f"attack/lvl{levels}/kustomization.yaml"] = "resources: [configmap.yaml]\n"
    files[f"attack/lvl{levels}/configmap.yaml"] = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leaf\ndata:\n  a: b\n"
    )
    write(root, files)


def copy_chain(copies: int, item: str) -> tuple[str, str]:
    """A kustomization whose JSON 6902 patch copies a list into itself ``copies`` times (it
    doubles each time), and the custom resource with that one-item list."""
    ops = "        from: /spec/items\n        path: /spec/items/-\n"
    kustomization = (
        "resources: [widget.yaml]\n"
        "patches:\n"
        "  - target:\n      kind: Widget\n"
        "    patch: |\n" + ("      - op: copy\n" + ops) * copies
    )
    widget = (
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
        f"spec:\n  items: [{item}]\n"
    )
    return kustomization, widget


def run_limited(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    """The CLI on ``root`` in a fresh process under memory and CPU limits; with its JSON."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))

    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    result = subprocess.run(
        [sys.executable, "-m", "cilium_lint", "--format", "json", "--no-cache", *args, "."],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limits,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return result, json.loads(result.stdout)


def found(report: Any, rule: str) -> list[tuple[str, int, str]]:
    return [
        (f["location"]["path"], f["location"]["line"], f["message"])
        for f in report["findings"]
        if f["rule"] == rule
    ]


def assert_real_finding_kept(report: Any) -> None:
    assert [(p, line) for p, line, _ in found(report, "CL201")] == [
        ("apps/service.yaml", SERVICE_LINE)
    ]


# --- the budget itself ------------------------------------------------------------------


def _where(line: int = 1) -> Location:
    return Location("k.yaml", Span(line, 1, line, 2))


def test_a_unit_stops_past_its_share_and_the_run_goes_on() -> None:
    budget = WorkBudget(unit_bytes=100, total_bytes=1000)
    with pytest.raises(BudgetExceeded) as caught, budget.unit():
        budget.charge(60)
        budget.charge(60)
    budget.stopped(_where(), "the build of a/", caught.value)
    with budget.unit():
        budget.charge(90)  # a new unit has its own share
    assert [o.reason for o in budget.overruns] == ["it would produce more than 0 MiB of data"]
    assert "the build of a/ stopped" in budget.overruns[0].message


def test_the_run_budget_used_up_stops_every_later_unit_with_one_finding() -> None:
    budget = WorkBudget(unit_bytes=100, total_bytes=150)
    for index in range(5):
        try:
            with budget.unit():
                budget.charge(80)
        except BudgetExceeded as exc:
            budget.stopped(_where(index + 1), f"unit {index}", exc)
    assert len(budget.overruns) == 1
    overrun = budget.overruns[0]
    assert overrun.unit == "unit 1"
    assert "work budget" in overrun.reason
    assert overrun.skipped_after == 3
    assert "3 later unit(s) were not resolved" in overrun.message


def test_an_overrun_names_the_cause_when_known() -> None:
    budget = WorkBudget(unit_bytes=10, total_bytes=1000)
    with pytest.raises(BudgetExceeded) as caught, budget.unit():
        budget.charge(20, _where(7))
    budget.stopped(_where(1), "the build of a/", caught.value)
    assert budget.overruns == [Overrun(_where(7), "the build of a/", caught.value.reason)]


def test_weight_counts_containers() -> None:
    assert weight(repr("ab")) == 4
    assert weight(repr({"a": [1]})) == len("{'a': [1]}") + 2 * 64


def test_a_document_costs_its_unit_its_size_and_the_run_a_reference() -> None:
    from cilium_lint.budget import REFERENCE_BYTES
    from cilium_lint.yamlload import parse_yaml

    doc = parse_yaml(b"a: " + b"x" * 1000 + b"\n", "a.yaml").documents[0]
    budget = WorkBudget(unit_bytes=1500, total_bytes=10_000)
    with pytest.raises(BudgetExceeded), budget.unit():
        budget.document(doc)
        budget.document(doc)
    assert budget.spent == 2 * REFERENCE_BYTES


# --- substitution -------------------------------------------------------------------------


def _vars(**values: str) -> dict[str, Variable]:
    return {name: Variable(name, value) for name, value in values.items()}


def test_repeated_references_stop_at_the_limit() -> None:
    variables = _vars(A="x" * 1000)
    assert len(substitute("${A}" * 10, variables, limit=10_000).text) == 10_000
    with pytest.raises(BudgetExceeded, match="longer than 9,999 bytes"):
        substitute("${A}" * 10, variables, limit=9_999)


def test_a_replacement_is_measured_before_it_is_made() -> None:
    variables = _vars(A="a" * 1_000_000)
    # 10^6 matches times 10^4 bytes: 10 GB, refused without building it.
    with pytest.raises(BudgetExceeded):
        substitute("${A//a/" + "b" * 10_000 + "}", variables, limit=64 << 20)
    with pytest.raises(BudgetExceeded):
        substitute("${A///" + "b" * 100 + "}", variables, limit=64 << 20)  # every gap
    assert substitute("${A/a/bb}", variables, limit=2_000_000).text.startswith("bba")


def test_defaults_joined_are_measured() -> None:
    variables = _vars(A="y" * 1000)
    with pytest.raises(BudgetExceeded):
        substitute("${UNSET:=" + "${A}" * 100 + "}", variables, limit=50_000)


def test_aliases_in_a_substituted_value_are_expanded_within_bounds() -> None:
    assert retype("{a: &a [p, q], b: *a}") == {"a": ["p", "q"], "b": ["p", "q"]}
    budget = WorkBudget()
    retype("{a: &a [p, q], b: *a}", budget)
    assert budget.spent > 0


def billion_laughs(levels: int = 9) -> str:
    parts = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        parts.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "{" + ", ".join(parts) + "}"


def test_an_alias_bomb_in_a_variable_is_refused() -> None:
    with pytest.raises(BudgetExceeded, match="alias bomb"):
        retype(billion_laughs())
    with pytest.raises(BudgetExceeded, match="alias bomb"):
        retype("&a [*a]")


def test_substitute_data_says_where_it_went_over() -> None:
    data = {"spec": {"ok": "${A}", "big": "${A}${A}${A}"}}
    budget = WorkBudget(unit_bytes=2500, total_bytes=10_000)
    with pytest.raises(BudgetExceeded) as caught, budget.unit():
        substitute_data(data, _vars(A="z" * 1000), budget=budget)
    assert caught.value.path == ("spec", "big")


# --- whole trees, in a process under limits ------------------------------------------------


@pytest.mark.slow
def test_a_kustomize_diamond_is_cut_off(tmp_path: Path) -> None:
    base_tree(tmp_path, "attack/lvl0")
    diamond(tmp_path, 40)
    result, report = run_limited(tmp_path)
    assert result.returncode == 1
    overruns = found(report, "CL016")
    # The first folder whose build goes over (its two halves just fit), at its file's start.
    assert len(overruns) == 1, overruns
    path, line, _ = overruns[0]
    assert path.startswith("attack/lvl") and path.endswith("/kustomization.yaml")
    assert "/left/" not in path and "/right/" not in path
    assert line == 1
    assert "more than 64 MiB of data" in overruns[0][2]
    assert_real_finding_kept(report)


@pytest.mark.slow
def test_a_json6902_copy_chain_is_cut_off_at_the_copy(tmp_path: Path) -> None:
    base_tree(tmp_path, "attack")
    kustomization, widget = copy_chain(60, "x" * 100)
    write(tmp_path, {"attack/kustomization.yaml": kustomization, "attack/widget.yaml": widget})
    result, report = run_limited(tmp_path)
    assert result.returncode == 1
    overruns = found(report, "CL016")
    assert len(overruns) == 1, overruns
    path, line, message = overruns[0]
    assert path == "attack/kustomization.yaml"
    # Copy n doubles 2^(n-1) items of ~100 bytes: the 20th brings the build past 64 MiB.
    ops_start = 6  # the line of the first "- op: copy"
    assert ops_start < line < ops_start + 3 * 60
    assert (line - ops_start) % 3 == 0
    assert "the build of attack/ stopped" in message
    assert_real_finding_kept(report)


@pytest.mark.slow
def test_a_copy_chain_in_flux_spec_patches_is_cut_off(tmp_path: Path) -> None:
    base_tree(tmp_path, "attack")
    _, widget = copy_chain(0, "x" * 100)
    ops = "".join(
        "          - op: copy\n            from: /spec/items\n            path: /spec/items/-\n"
        for _ in range(60)
    )
    flux = (tmp_path / "flux/cluster.yaml").read_text()
    flux += "  patches:\n    - target:\n        kind: Widget\n      patch: |\n" + ops
    write(tmp_path, {"flux/cluster.yaml": flux, "attack/widget.yaml": widget})
    result, report = run_limited(tmp_path)
    assert result.returncode == 1
    overruns = found(report, "CL016")
    assert len(overruns) == 1, overruns
    path, line, message = overruns[0]
    assert path == "flux/cluster.yaml"
    assert line > 40  # in the patch, not the Kustomization's first line
    assert "Kustomization/flux-system/attack stopped" in message
    assert_real_finding_kept(report)


def _substituted_tree(root: Path, value: str, reference: str) -> None:
    base_tree(root, "attack")
    flux = (root / "flux/cluster.yaml").read_text()
    flux += "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: vars\n"
    write(
        root,
        {
            "flux/cluster.yaml": flux,
            "flux/vars.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\n"
                "  namespace: flux-system\ndata:\n  BOMB: " + json.dumps(value) + "\n"
            ),
            "attack/widget.yaml": (
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
                f"spec:\n  value: {reference}\n"
            ),
        },
    )


def test_a_billion_laughs_through_a_variable_is_refused(tmp_path: Path) -> None:
    _substituted_tree(tmp_path, billion_laughs(), "${BOMB}")
    result, report = run_limited(tmp_path)
    assert result.returncode == 1
    overruns = found(report, "CL016")
    assert len(overruns) == 1, overruns
    path, line, message = overruns[0]
    assert (path, line) == ("attack/widget.yaml", 6)
    assert "alias bomb" in message
    assert "Kustomization/flux-system/attack" in message
    assert_real_finding_kept(report)


def test_a_huge_replacement_is_refused_before_it_is_made(tmp_path: Path) -> None:
    _substituted_tree(tmp_path, "a" * 200_000, "${BOMB//a/" + "b" * 1000 + "}")
    result, report = run_limited(tmp_path)
    assert result.returncode == 1
    overruns = found(report, "CL016")
    assert [(p, line) for p, line, _ in overruns] == [("attack/widget.yaml", 6)]
    assert "longer than" in overruns[0][2]
    assert_real_finding_kept(report)


@pytest.mark.parametrize("operator", ["##", "#", "%%", "%"])
def test_a_glob_trim_made_to_stall_is_refused(tmp_path: Path, operator: str) -> None:
    # Every prefix (or suffix) is tried against the glob and each '*' scans it: the square of
    # 50,000 bytes times the pattern would take hours.
    _substituted_tree(tmp_path, "a" * 50_000, "${BOMB" + operator + "*a*a*a*b}")
    result, report = run_limited(tmp_path)
    assert result.returncode == 1
    overruns = found(report, "CL016")
    assert [(p, line) for p, line, _ in overruns] == [("attack/widget.yaml", 6)]
    assert "trimming a 50,000-byte value" in overruns[0][2]
    assert_real_finding_kept(report)


def test_ordinary_glob_trims_stay_within_the_limit() -> None:
    variables = {
        "HOST": Variable("HOST", "gateway.internal.example.com" * 8),
        "FILE": Variable("FILE", "values." + "x" * 200 + ".yaml"),
    }
    assert substitute("${HOST%%.*}", variables).text == "gateway"
    assert substitute("${FILE##*.}", variables).text == "yaml"
    with pytest.raises(BudgetExceeded, match="steps"):
        substitute("${FILE##*" + "a*" * 10 + "}", {"FILE": Variable("FILE", "a" * 5000)})


def test_a_normal_tree_is_far_below_the_limits() -> None:
    from cilium_lint.budget import TOTAL_BYTES, UNIT_BYTES
    from cilium_lint.config import Config
    from cilium_lint.engine import build_tree
    from cilium_lint.flux.graph import build_graph

    example = REPO / "examples" / "cluster"
    tree, _ = build_tree([example], example, Config(), None)
    budget = WorkBudget()
    graph = build_graph(tree, [example], (), budget)
    assert graph.overruns == []
    assert budget.spent < TOTAL_BYTES / 1000
    assert budget.spent < UNIT_BYTES / 100
