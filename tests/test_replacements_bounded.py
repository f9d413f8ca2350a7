"""Replacements cost at most a fixed amount of work per kustomization: a tree that multiplies
replacements by objects gets a CL020 finding for what was not applied, within a CPU limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cpu_limits import finished, run_cli_limited

LIMIT = 60  # CPU seconds; the bounded run needs a few

pytestmark = pytest.mark.slow

FLUX = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster
  namespace: flux-system
spec:
  interval: 1h
  path: ./app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def test_replacements_times_objects_is_cut_and_said(tmp_path: Path) -> None:
    (tmp_path / "flux").mkdir()
    (tmp_path / "flux" / "ks.yaml").write_text(FLUX)
    app = tmp_path / "app"
    app.mkdir()
    objects = 2_000
    (app / "maps.yaml").write_text(
        "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m{i}\ndata:\n  k: v{i}\n"
            for i in range(objects)
        )
    )
    replacements = 2_000  # each looks at every object twice: 8 million without a bound
    entry = (
        "  - source:\n      kind: ConfigMap\n      name: m0\n      fieldPath: data.k\n"
        "    targets:\n      - select:\n          kind: ConfigMap\n"
        "        fieldPaths: [data.k]\n"
    )
    (app / "kustomization.yaml").write_text(
        "resources: [maps.yaml]\nreplacements:\n" + entry * replacements
    )
    result = run_cli_limited(
        str(tmp_path), "--format", "json", "--no-cache", "-j1", cwd=tmp_path, cpu_seconds=LIMIT
    )
    assert finished(result), result.stderr[-2000:]
    findings = json.loads(result.stdout)["findings"]
    cut = [f for f in findings if f["rule"] == "CL020" and "were not applied" in f["message"]]
    assert len(cut) == 1
    assert cut[0]["location"]["path"] == "app/kustomization.yaml"
    assert cut[0]["severity"] == "warning"
