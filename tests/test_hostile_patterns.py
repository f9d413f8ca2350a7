"""Regular expressions from the tree run in linear time (RE2), and a refused one is a finding.

``(a+)+b`` against a long run of ``a`` takes exponential time in a backtracking engine; each
place that matches a pattern from the tree gets one here, under a CPU-time limit.
"""

from __future__ import annotations

import json
from pathlib import Path

from clitools import run_cli
from cpu_limits import finished, run_cli_limited

from cilium_lint.rules.schema_patterns import validator_class

EVIL = "(a+)+b"
LONG = "a" * 64  # 2**64 backtracking steps: never ends in Python's re

RELEASE = f"""\
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
    cluster:
      name: {LONG}
    devices:
      - {LONG}
    ipam:
      mode: kubernetes
    l2announcements:
      enabled: true
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: cilium
  namespace: kube-system
spec:
  interval: 15m
  ref:
    tag: 1.19.6
  url: oci://quay.io/cilium/charts/cilium
"""
RELEASE_CLUSTER_NAME_LINE = 18

POLICY = f"""\
apiVersion: cilium.io/v2alpha1
kind: CiliumL2AnnouncementPolicy
metadata:
  name: l2
spec:
  loadBalancerIPs: true
  interfaces:
    - "{EVIL}"
    - "^(?=bond)"
"""
POLICY_EVIL_LINE, POLICY_LOOKAHEAD_LINE = 8, 9

KUSTOMIZATION = f"""\
resources:
  - deployment.yaml
  - release.yaml
  - l2-policy.yaml
patches:
  - patch: |
      - op: add
        path: /metadata/labels/team
        value: web
    target:
      name: "{EVIL}"
  - patch: |
      - op: add
        path: /metadata/labels/zone
        value: a
    target:
      name: "{LONG}(?!x)"
"""
KUSTOMIZATION_REFUSED_LINE = 17

DEPLOYMENT = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {LONG}
  namespace: default
"""

FLUX = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

RULE = f"""\
id: ACME900
name: cluster-name-shape
summary: The cluster name has the house shape.
rationale: Tools parse it.
fix: Rename the cluster.
key: cluster.name
assert:
  type: string
  pattern: "^{EVIL}$"
  patternProperties:
    "{EVIL}": {{type: string}}
"""


def _tree(root: Path) -> Path:
    files = {
        "flux/apps.yaml": FLUX,
        "apps/release.yaml": RELEASE,
        "apps/l2-policy.yaml": POLICY,
        "apps/kustomization.yaml": KUSTOMIZATION,
        "apps/deployment.yaml": DEPLOYMENT,
        "rules/ACME900.yaml": RULE,
        ".cilium-lint.yaml": "select: [CL017, CL302, ACME900]\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")
    return root


def test_backtracking_patterns_finish_with_their_findings(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "tree")
    result = run_cli_limited(
        str(tree),
        "--config",
        str(tree / ".cilium-lint.yaml"),
        "--rule-dir",
        str(tree / "rules"),
        "--format",
        "json",
        "--no-cache",
    )
    assert finished(result), result.stderr[-2000:]
    assert result.returncode == 1, result.stderr[-2000:]
    found = {
        (f["rule"], f["location"]["path"].split("tree/")[-1], f["location"]["line"])
        for f in json.loads(result.stdout)["findings"]
    }
    assert found == {
        ("CL302", "apps/l2-policy.yaml", POLICY_EVIL_LINE),  # matches no device, in time
        ("CL302", "apps/l2-policy.yaml", POLICY_LOOKAHEAD_LINE),  # Go refuses lookahead
        ("CL017", "apps/kustomization.yaml", KUSTOMIZATION_REFUSED_LINE),
        ("ACME900", "apps/release.yaml", RELEASE_CLUSTER_NAME_LINE),
    }


def test_a_rule_schema_pattern_go_refuses_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ACME901.yaml").write_text(
        RULE.replace("ACME900", "ACME901").replace(f'"^{EVIL}$"', '"^(?!x)"'), "utf-8"
    )
    (tmp_path / "empty.yaml").write_text("a: 1\n", "utf-8")
    result = run_cli(str(tmp_path / "empty.yaml"), "--rule-dir", str(tmp_path / "rules"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "ACME901.yaml:9:" in result.stderr
    assert "lookahead is not supported" in result.stderr


def test_rule_schema_regex_keywords_keep_their_meaning() -> None:
    validator = validator_class()
    schema = {
        "type": "object",
        "properties": {"name": {"pattern": "^web-[0-9]+$"}, "re": {"format": "regex"}},
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }
    check = validator(schema, format_checker=validator.FORMAT_CHECKER)
    assert check.is_valid({"name": "web-12", "x-a": 1, "re": "^a+$"})
    messages = sorted(e.message for e in check.iter_errors({"name": "web", "x-a": "s", "y": 1}))
    assert messages == [
        "'s' is not of type 'integer'",
        "'web' does not match '^web-[0-9]+$'",
        "'y' do not match any of the regexes: '^x-'",
    ]
    assert not check.is_valid({"re": "(?<=a)b"})  # the regex format is RE2's too
