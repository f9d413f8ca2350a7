"""A configuration that silences checks says so, in every report format (issue #11).

The configuration may come with the pull request it lints: excluding every file, ignoring every
rule everywhere, or hiding (or lowering below fail-on) every finding that would fail the run
must not end in a plain "All checks passed". Each tree here has one failing finding (CL104);
each configuration hides it in its own way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from clitools import REPO, run_cli
from sarif_tools import format_results, multitool_available, run_multitool, sarif_schema

RELEASE = """\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: cilium
  namespace: kube-system
spec:
  interval: 1h
  url: oci://quay.io/cilium/charts/cilium
  ref:
    tag: 1.19.6
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cilium
  namespace: kube-system
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: cilium
  values:
    kubeProxyReplacement: true
    k8sServiceHost: 127.0.0.1
    k8sServicePort: 7445
    routingMode: native
    ipv4NativeRoutingCIDR: 10.42.0.0/16
    devices: bond+
    cni:
      exclusive: false
    ipam:
      mode: kubernetes
    l2announcements:
      enabled: true
    loadBalancer:
      algorithm: maglev
      mode: snat
    dashboards:
      enabled: true
    prometheus:
      enabled: true
      serviceMonitor:
        enabled: true
        trustCRDsExist: true
    operator:
      dashboards:
        enabled: true
      prometheus:
        enabled: true
        serviceMonitor:
          enabled: true
"""
MODE_LINE = RELEASE.splitlines().index("      mode: snat") + 1
SCHEMA = json.loads((REPO / "schemas" / "report.schema.json").read_text("utf-8"))

# (configuration, the key the notice names, the line of the configuration it points at)
SILENCING = {
    "exclude-star": ("exclude: ['*']\n", "exclude", 1),
    "exclude-globstar": ("fail-on: error\nexclude: ['**']\n", "exclude", 2),
    "per-file-ignores-everything": ("per-file-ignores:\n  '**': [CL]\n", "per-file-ignores", 2),
    "per-file-ignores-the-rule": (
        "per-file-ignores:\n  '*.yaml': [CL104]\n",
        "per-file-ignores",
        2,
    ),
    "ignore-family": ("ignore: [CL1]\n", "ignore", 1),
    "select-elsewhere": ("select: [CL4]\n", "select", 1),
    "severity-below-fail-on": (
        "fail-on: error\nrules:\n  CL104: {severity: note}\n",
        "rules.CL104.severity",
        3,
    ),
}


def _tree(tmp_path: Path, config: str | None) -> Path:
    (tmp_path / "helmrelease.yaml").write_text(RELEASE, "utf-8")
    if config is not None:
        (tmp_path / ".cilium-lint.yaml").write_text(config, "utf-8")
    return tmp_path


def _run_all_formats(tree: Path) -> tuple[int, dict[str, str]]:
    result = run_cli(
        "--no-cache",
        "--format",
        "text",
        "--report",
        "json:out.json",
        "--report",
        "sarif:out.sarif",
        "--report",
        "github:out.github",
        "--report",
        "markdown:out.md",
        ".",
        cwd=tree,
    )
    assert "Traceback" not in result.stderr
    outputs = {"text": result.stdout}
    for fmt, name in (("json", "out.json"), ("sarif", "out.sarif"), ("github", "out.github")):
        outputs[fmt] = (tree / name).read_text("utf-8")
    outputs["markdown"] = (tree / "out.md").read_text("utf-8")
    return result.returncode, outputs


def _notifications(sarif: dict[str, Any]) -> list[dict[str, Any]]:
    run = sarif["runs"][0]
    return [n for i in run.get("invocations", []) for n in i["toolConfigurationNotifications"]]


def test_without_the_configuration_the_finding_fails_the_run(tmp_path: Path) -> None:
    code, out = _run_all_formats(_tree(tmp_path, None))
    assert code == 1
    assert f"helmrelease.yaml:{MODE_LINE}:13: CL104 " in out["text"]
    assert json.loads(out["json"])["notices"] == []
    assert "invocations" not in json.loads(out["sarif"])["runs"][0]
    assert "configuration" not in out["github"]
    assert "Configuration notice" not in out["markdown"]


@pytest.mark.parametrize("name", sorted(SILENCING))
def test_silencing_configuration_is_said_in_every_format(tmp_path: Path, name: str) -> None:
    config, key, line = SILENCING[name]
    code, out = _run_all_formats(_tree(tmp_path, config))
    assert code == 0  # the configuration still decides the exit code; the notice says why
    where = f".cilium-lint.yaml:{line}"
    # text: a notice line naming the file and key, and no "All checks passed"
    notices = [t for t in out["text"].splitlines() if ": notice: " in t]
    assert any(t.startswith(where) and f"`{key}`" in t for t in notices), out["text"]
    assert "All checks passed" not in out["text"]
    assert "configuration notice" in out["text"].splitlines()[-1]
    # json: a notice with the key and where it is written, valid against the schema
    data = json.loads(out["json"])
    jsonschema.validate(data, SCHEMA)
    assert {(n["key"], n.get("path"), n.get("line")) for n in data["notices"]} >= {
        (key, ".cilium-lint.yaml", line)
    }
    assert data["summary"]["notices"] == len(data["notices"]) >= 1
    # sarif: a tool configuration notification on the configuration file
    found = _notifications(json.loads(out["sarif"]))
    assert any(
        n["properties"]["configurationKey"] == key
        and n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == ".cilium-lint.yaml"
        and n["locations"][0]["physicalLocation"]["region"]["startLine"] == line
        for n in found
    ), found
    # github: a ::warning:: workflow command on the configuration file
    assert any(
        t.startswith(
            f"::warning file=.cilium-lint.yaml,line={line},title=cilium-lint configuration"
        )
        for t in out["github"].splitlines()
    ), out["github"]
    # markdown: a visible line
    assert f"**Configuration notice** ({where}" in out["markdown"]


def test_hidden_findings_are_named(tmp_path: Path) -> None:
    _, out = _run_all_formats(_tree(tmp_path, SILENCING["per-file-ignores-the-rule"][0]))
    notice = next(n for n in json.loads(out["json"])["notices"] if n["key"] == "per-file-ignores")
    assert "CL104" in notice["message"] and "'*.yaml'" in notice["message"]


def test_unknown_rule_id_in_per_file_ignores_is_a_notice(tmp_path: Path) -> None:
    code, out = _run_all_formats(_tree(tmp_path, "per-file-ignores:\n  '*.yaml': [CL9]\n"))
    assert code == 1  # nothing is hidden: CL104 still fails the run
    assert f"helmrelease.yaml:{MODE_LINE}:13: CL104 " in out["text"]
    notices = json.loads(out["json"])["notices"]
    assert [(n["key"], n["line"]) for n in notices] == [("per-file-ignores", 2)]
    assert "'CL9'" in notices[0]["message"]


def test_select_naming_no_rule_is_a_configuration_error(tmp_path: Path) -> None:
    result = run_cli("--no-cache", ".", cwd=_tree(tmp_path, "select: [CL9]\n"))
    assert result.returncode == 2
    assert ".cilium-lint.yaml:1" in result.stderr and "'CL9'" in result.stderr


def test_silencing_that_hides_nothing_failing_gives_no_notice(tmp_path: Path) -> None:
    # CL405 has no finding here: ignoring it changes nothing, so nothing is said.
    code, out = _run_all_formats(
        _tree(tmp_path, "ignore: [CL405]\nrules:\n  CL103: {severity: note}\n")
    )
    assert code == 1
    assert json.loads(out["json"])["notices"] == []


def test_command_line_choices_are_not_configuration_notices(tmp_path: Path) -> None:
    # --ignore is the CI owner's choice, not the pull request's.
    result = run_cli("--no-cache", "--ignore", "CL104", ".", cwd=_tree(tmp_path, None))
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1].startswith("All checks passed")


def test_notice_quotes_configuration_text_on_one_line(tmp_path: Path) -> None:
    # A glob whose character class holds a newline and a workflow command still matches.
    config = 'per-file-ignores:\n  "*[l\\n::error ::x]": [CL104]\n'
    code, out = _run_all_formats(_tree(tmp_path, config))
    assert code == 0
    for fmt in ("text", "github", "markdown"):
        assert not any(t.startswith("::error ::x") for t in out[fmt].splitlines()), out[fmt]
    notices = json.loads(out["json"])["notices"]
    assert any("\\x0a::error ::x" in n["message"] for n in notices), notices


@pytest.mark.skipif(not multitool_available(), reason="node/npm not installed")
def test_sarif_with_notifications_is_valid(tmp_path: Path) -> None:
    _, out = _run_all_formats(_tree(tmp_path, SILENCING["ignore-family"][0]))
    log = json.loads(out["sarif"])
    validator = jsonschema.Draft202012Validator(sarif_schema())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(log)]
    assert not errors, "\n".join(errors)
    found = run_multitool(tmp_path / "out.sarif", tmp_path / "mt", rule_kind="Sarif;Gh")
    assert not found, format_results(found)


def test_statistics_text_lists_the_notices(tmp_path: Path) -> None:
    tree = _tree(tmp_path, SILENCING["ignore-family"][0])
    result = run_cli("--no-cache", "--statistics", ".", cwd=tree)
    assert result.returncode == 0
    assert any(
        t.startswith(".cilium-lint.yaml:1") and ": notice: " in t
        for t in result.stdout.splitlines()
    ), result.stdout
