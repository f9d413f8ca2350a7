"""The example tree is clean; each way a pull request could change the Cilium values through a
step cilium-lint did not model now fails the run, at the line a reviewer must read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.clitools import REPO, run_cli

APP = Path("kubernetes/apps/kube-system/cilium/app")
GENERATOR = "configMapGenerator:\n"


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "cluster"
    shutil.copytree(REPO / "examples" / "cluster", root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _findings(root: Path) -> tuple[int, set[tuple[str, int, str, str]]]:
    result = run_cli(str(root), "--format", "json", cwd=root.parent)
    report = json.loads(result.stdout)
    return result.returncode, {
        (
            f["location"]["path"].removeprefix("cluster/"),
            f["location"]["line"],
            f["rule"],
            f["severity"],
        )
        for f in report["findings"]
    }


def _replacement(root: Path) -> None:
    _edit(
        root / APP / "kustomization.yaml",
        GENERATOR,
        GENERATOR + "  - name: mode\n    literals:\n      - mode=tunnel\n",
    )
    with (root / APP / "kustomization.yaml").open("a") as out:
        out.write(
            "replacements:\n  - source:\n      kind: ConfigMap\n      name: mode\n"
            "      fieldPath: data.mode\n    targets:\n      - select:\n"
            "          kind: HelmRelease\n          name: cilium\n        fieldPaths:\n"
            "          - spec.values.routingMode\n        options:\n          create: true\n"
        )


def _transformer(root: Path) -> None:
    with (root / APP / "kustomization.yaml").open("a") as out:
        out.write("transformers:\n  - ./defaults.yaml\n")
    (root / APP / "defaults.yaml").write_text(
        "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: defaults\n"
        "patch: |-\n  - op: add\n    path: /spec/values/routingMode\n    value: tunnel\n"
        "target:\n  kind: HelmRelease\n"
    )


def _plugin_transformer(root: Path) -> None:
    _transformer(root)
    _edit(
        root / APP / "defaults.yaml",
        "apiVersion: builtin\nkind: PatchTransformer",
        "apiVersion: example.com/v1\nkind: ValuesInjector",
    )


def _post_renderer(root: Path) -> None:
    _edit(
        root / APP / "helmrelease.yaml",
        "  valuesFrom:\n",
        "  postRenderers:\n    - kustomize:\n        patches:\n          - target:\n"
        "              kind: ConfigMap\n              name: cilium-config\n"
        "            patch: |\n              - op: replace\n"
        "                path: /data/routing-mode\n                value: tunnel\n"
        "  valuesFrom:\n",
    )


def _values_files(root: Path) -> None:
    _edit(
        root / APP / "helmrelease.yaml",
        "  chartRef:\n    kind: OCIRepository\n    name: cilium\n",
        "  chart:\n    spec:\n      chart: cilium\n      version: 1.19.6\n"
        "      sourceRef:\n        kind: HelmRepository\n        name: cilium\n"
        "      valuesFiles:\n        - values-production.yaml\n",
    )


def _target_path(root: Path) -> None:
    _edit(
        root / APP / "helmrelease.yaml",
        "      name: cilium-values\n",
        "      name: cilium-values\n    - kind: ConfigMap\n      name: cluster-settings\n"
        "      valuesKey: name\n      targetPath: cluster.name\n",
    )
    _edit(
        root / APP / "kustomization.yaml",
        GENERATOR,
        GENERATOR + "  - name: cluster-settings\n    literals:\n"
        "      - name=home,routingMode=tunnel,kubeProxyReplacement=false\n",
    )


KS = str(APP / "kustomization.yaml")
HR = str(APP / "helmrelease.yaml")


@pytest.mark.parametrize(
    ("attack", "expected"),
    [
        # The value is reported where `tunnel` is written: the generator literal.
        (_replacement, {(KS, 10, "CL102", "error")}),
        # kustomize's own PatchTransformer is applied: the value is where the patch writes it.
        (_transformer, {(str(APP / "defaults.yaml"), 8, "CL102", "error")}),
        (_plugin_transformer, {(KS, 14, "CL020", "error")}),
        (_post_renderer, {(HR, 19, "CL020", "error")}),
        (_values_files, {(HR, 15, "CL020", "error")}),
        (
            _target_path,
            {
                (KS, 10, "CL101", "error"),
                (KS, 10, "CL102", "error"),
                (HR, 25, "CL020", "warning"),
            },
        ),
    ],
    ids=[
        "replacements",
        "transformers",
        "plugin",
        "postRenderers",
        "valuesFiles",
        "targetPath-commas",
    ],
)
def test_attack_fails_the_run(tmp_path: Path, attack: object, expected: set[object]) -> None:
    root = _tree(tmp_path)
    code, before = _findings(root)
    assert (code, before) == (0, set())
    assert callable(attack)
    attack(root)
    code, after = _findings(root)
    assert code == 1
    assert expected <= after
