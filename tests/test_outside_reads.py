"""A tree never makes the linter read a file outside its repository (issue #11, attack 2).

Each attack names a secret file outside the repository from a ``configMapGenerator`` whose key
feeds a policy value through ``valuesFrom`` + ``targetPath``: had the file been read, its
content would be quoted by CL102 ("routingMode is ..."). The secret must appear in no output
format, and CL008 must be reported at the line that names it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from clitools import run_cli

SECRET = "S3CRET-7f1c2d9a-outside-the-repository"
FORMATS = ("text", "json", "sarif", "github", "markdown")

HELMRELEASE = """\
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
  valuesFrom:
    - kind: ConfigMap
      name: cilium-values
      valuesKey: leak
      targetPath: routingMode
"""

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: kube-system
resources:
  - helmrelease.yaml
configMapGenerator:
  - name: cilium-values
    {field}:
      - {entry}
"""
REFERENCE_LINE = 9  # the line of {entry} above


def _tree(tmp_path: Path, field: str, entry: str) -> tuple[Path, Path]:
    """A repository (with .git) and, beside it, an outside folder holding the secret."""
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / ".git").mkdir(parents=True)
    (repo / "cilium").mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    (outside / "secret.env").write_text(f"leak={SECRET}\n")
    (repo / "cilium" / "helmrelease.yaml").write_text(HELMRELEASE)
    text = KUSTOMIZATION.format(field=field, entry=entry.format(outside=outside))
    (repo / "cilium" / "kustomization.yaml").write_text(text)
    return repo, outside


def _link(target: str, name: str, directory: bool = False) -> Callable[[Path, Path], None]:
    def make(repo: Path, outside: Path) -> None:
        (repo / "cilium" / name).symlink_to(outside / target, target_is_directory=directory)

    return make


def _nothing(repo: Path, outside: Path) -> None:
    return None


ATTACKS = {
    "absolute": ("files", "leak={outside}/secret.txt", _nothing, "absolute path"),
    "dot-dot": ("files", "leak=../../outside/secret.txt", _nothing, "out of the repository"),
    "proc-environ": ("files", "leak=/proc/self/environ", _nothing, "absolute path"),
    "env-absolute": ("envs", "{outside}/secret.env", _nothing, "absolute path"),
    "symlink-file": ("files", "leak=link.txt", _link("secret.txt", "link.txt"), "symlink"),
    "symlink-folder": (
        "files",
        "leak=linked/secret.txt",
        _link(".", "linked", directory=True),
        "symlink",
    ),
    "symlink-env": ("envs", "link.env", _link("secret.env", "link.env"), "symlink"),
    "symlink-env-folder": (
        "envs",
        "linked/secret.env",
        _link(".", "linked", directory=True),
        "symlink",
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_file_outside_the_repository_is_never_read(tmp_path: Path, attack: str) -> None:
    field, entry, prepare, reason = ATTACKS[attack]
    repo, outside = _tree(tmp_path, field, entry)
    prepare(repo, outside)
    reports = tmp_path / "reports"
    reports.mkdir()
    extra = [f"--report={fmt}:{reports / fmt}" for fmt in FORMATS]
    # The secret is in the environment too, for /proc/self/environ.
    result = run_cli("repo", "--exit-zero", *extra, cwd=tmp_path, env={"LEAKED": SECRET})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for fmt in FORMATS:
        assert SECRET not in (reports / fmt).read_text(), fmt
    assert SECRET not in result.stdout + result.stderr

    report = json.loads((reports / "json").read_text())
    refused = [f for f in report["findings"] if f["rule"] == "CL008"]
    assert [(f["location"]["path"], f["location"]["line"]) for f in refused] == [
        ("repo/cilium/kustomization.yaml", REFERENCE_LINE)
    ]
    assert reason in refused[0]["message"]
    # The run goes on without the file: the generated ConfigMap lacks the key, as CL010 says.
    missing = [f for f in report["findings"] if f["rule"] == "CL010"]
    assert [f["location"]["path"] for f in missing] == ["repo/cilium/helmrelease.yaml"]


def test_an_in_tree_reference_still_feeds_the_release(tmp_path: Path) -> None:
    """Control for the attacks above: the same path through the tree is read and judged."""
    repo, _ = _tree(tmp_path, "files", "leak=value.txt")
    (repo / "cilium" / "value.txt").write_text("tunnel-from-the-tree")
    (repo / "shared").mkdir()
    (repo / "cilium" / "inside").symlink_to(repo / "shared", target_is_directory=True)
    result = run_cli("repo", "--format", "json", "--exit-zero", cwd=tmp_path)
    report = json.loads(result.stdout)
    messages = [f["message"] for f in report["findings"]]
    assert not [f for f in report["findings"] if f["rule"] == "CL008"]
    assert any("tunnel-from-the-tree" in m for m in messages), messages


def test_a_symlink_to_another_place_inside_the_repository_is_followed(tmp_path: Path) -> None:
    repo, _ = _tree(tmp_path, "files", "leak=inside/value.txt")
    (repo / "shared").mkdir()
    (repo / "shared" / "value.txt").write_text("tunnel-through-a-link")
    (repo / "cilium" / "inside").symlink_to(Path("..") / "shared", target_is_directory=True)
    result = run_cli("repo", "--format", "json", "--exit-zero", cwd=tmp_path)
    report = json.loads(result.stdout)
    assert not [f for f in report["findings"] if f["rule"] == "CL008"]
    assert any("tunnel-through-a-link" in f["message"] for f in report["findings"])


def test_without_git_the_linted_folder_is_the_repository(tmp_path: Path) -> None:
    repo, _ = _tree(tmp_path, "files", "leak=../../outside/secret.txt")
    os.rmdir(repo / ".git")
    result = run_cli("repo", "--format", "json", "--exit-zero", cwd=tmp_path)
    assert SECRET not in result.stdout
    report = json.loads(result.stdout)
    assert [f["location"]["line"] for f in report["findings"] if f["rule"] == "CL008"] == [
        REFERENCE_LINE
    ]


def test_values_files_resources_and_flux_paths_outside_are_refused(tmp_path: Path) -> None:
    """The parts already right stay right, and now say so: helm values files, ``resources``
    and ``spec.path`` outside the repository are not read, each is CL008 at its line."""
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / ".git").mkdir(parents=True)
    outside.mkdir()
    (outside / "values.yaml").write_text(f"routingMode: {SECRET}\n")
    (outside / "cm.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {SECRET}\n"
    )
    (repo / "helmfile.yaml").write_text(
        "releases:\n"
        "  - name: cilium\n"
        "    chart: cilium/cilium\n"
        "    version: 1.19.6\n"
        "    values:\n"
        f"      - {outside}/values.yaml\n"  # line 6
        "      - ../outside/values.yaml\n"  # line 7
    )
    (repo / "kustomization.yaml").write_text(
        "resources:\n"
        "  - /etc\n"  # line 2
        "  - ../outside/cm.yaml\n"  # line 3
        "helmCharts:\n"
        "  - name: cilium\n"
        "    valuesFile: ../outside/values.yaml\n"  # line 6
    )
    (repo / "flux.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
        "kind: Kustomization\n"
        "metadata:\n  name: apps\n"
        "spec:\n"
        "  path: ../outside\n"  # line 6
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
    reports = tmp_path / "reports"
    reports.mkdir()
    extra = [f"--report={fmt}:{reports / fmt}" for fmt in FORMATS]
    result = run_cli("repo", "--exit-zero", *extra, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    for fmt in FORMATS:
        assert SECRET not in (reports / fmt).read_text(), fmt
    assert SECRET not in result.stdout + result.stderr
    report = json.loads((reports / "json").read_text())
    refused = {
        (f["location"]["path"], f["location"]["line"])
        for f in report["findings"]
        if f["rule"] == "CL008"
    }
    assert refused == {
        ("repo/helmfile.yaml", 6),
        ("repo/helmfile.yaml", 7),
        ("repo/kustomization.yaml", 2),
        ("repo/kustomization.yaml", 3),
        ("repo/kustomization.yaml", 6),
        ("repo/flux.yaml", 6),
    }


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_by_a_generator_is_never_opened_for_reading(tmp_path: Path) -> None:
    repo, _ = _tree(tmp_path, "files", "leak=pipe")
    os.mkfifo(repo / "cilium" / "pipe")
    result = run_cli("repo", "--format", "json", "--exit-zero", cwd=tmp_path)
    report = json.loads(result.stdout)
    unreadable = [
        (f["location"]["path"], f["location"]["line"])
        for f in report["findings"]
        if f["rule"] == "CL003"
    ]
    assert unreadable == [("repo/cilium/kustomization.yaml", REFERENCE_LINE)]
