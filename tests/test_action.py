"""The GitHub Action: ``action.yml`` against GitHub's schema, and its shell steps run here.

A small runner stands in for GitHub: it evaluates the ``${{ }}`` expressions the action uses
(``inputs``, ``github.action_path``, ``steps.<id>.outputs``), gives every step its own
``GITHUB_OUTPUT`` file, and runs each ``run:`` with ``bash --noprofile --norc -eo pipefail`` as
GitHub does, in ``GITHUB_WORKSPACE``. ``actions/setup-python`` is the one step it does not run:
its ``python-path`` output is this interpreter. The install step runs for real (a virtualenv and
``pip install`` of this checkout, from PyPI) once per module; every scenario then runs the lint
step with that virtualenv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from cilium_lint import __version__

REPO = Path(__file__).resolve().parent.parent
ACTION: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SHA = "0123456789abcdef0123456789abcdef01234567"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def readme_workflow_text() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL):
        if block.startswith("# .github/workflows/"):
            return str(block)
    raise AssertionError("README has no `# .github/workflows/...` snippet")


def readme_workflow() -> dict[str, Any]:
    data = yaml.safe_load(readme_workflow_text())
    assert isinstance(data, dict)
    return data


def readme_action_step() -> dict[str, Any]:
    (job,) = readme_workflow()["jobs"].values()
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("cilium-lint/")]
    return step


def parse_outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, as the runner reads GITHUB_OUTPUT."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for item in lines:
                if item == delimiter:
                    break
                value.append(item)
            else:
                raise AssertionError(f"unterminated {name}")
            outputs[name] = "\n".join(value)
        elif line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


@dataclass
class Runner:
    """Just enough of the Actions runner for a composite action."""

    workspace: Path
    temp: Path
    inputs: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    summary: Path = field(init=False)

    def __post_init__(self) -> None:
        self.summary = self.temp / "step_summary.md"
        self.summary.touch()
        declared = ACTION["inputs"]
        unknown = set(self.inputs) - set(declared)
        assert not unknown, f"inputs action.yml does not declare: {unknown}"
        self.inputs = {
            name: str(self.inputs.get(name, spec.get("default", "")))
            for name, spec in declared.items()
        }

    def evaluate(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            expression = match[1]
            if expression == "github.action_path":
                return str(REPO)
            if expression.startswith("inputs."):
                return self.inputs[expression.removeprefix("inputs.")]
            step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
            if step:
                return self.outputs.get(step[1], {}).get(step[2], "")
            raise AssertionError(f"the test runner does not know ${{{{ {expression} }}}}")

        return EXPRESSION.sub(value, text)

    def base_env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_")) and k != "VIRTUAL_ENV"
        }
        env.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_STEP_SUMMARY": str(self.summary),
                "GITHUB_ACTION_PATH": str(REPO),
                "RUNNER_TEMP": str(self.temp),
                "NO_COLOR": "1",
            }
        )
        env.update(self.env)
        return env

    def step(self, step: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        step_id = step["id"]
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@"), step["uses"]
            self.outputs[step_id] = {"python-path": sys.executable}
            return subprocess.CompletedProcess([], 0, "", "")
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], "expressions go through env:, never into the script"
        output = self.temp / f"output_{step_id}"
        output.write_text("", encoding="utf-8")
        env = self.base_env()
        env["GITHUB_OUTPUT"] = str(output)
        env.update({k: self.evaluate(str(v)) for k, v in step.get("env", {}).items()})
        script = self.temp / f"step_{step_id}.sh"
        script.write_text(step["run"], encoding="utf-8")
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        self.outputs[step_id] = parse_outputs(output)
        return proc

    def action_outputs(self) -> dict[str, str]:
        return {name: self.evaluate(spec["value"]) for name, spec in ACTION["outputs"].items()}


# What a pull request can add to the workspace to be imported by `python -m ...` run there:
# packages named as the modules the steps run or import, a startup hook, and a distribution
# whose entry point would join the rule packs. Each writes the marker and exits 0 (a green step).
HOSTILE_MODULES = (
    "cilium_lint/__init__.py",
    "cilium_lint/action.py",
    "pip/__init__.py",
    "pip/__main__.py",
    "venv/__init__.py",
    "venv/__main__.py",
    "yaml/__init__.py",
    "pydantic/__init__.py",
    "jsonschema/__init__.py",
    "sitecustomize.py",
    "usercustomize.py",
    "evilpack.py",
)


def plant_hostile_modules(workspace: Path, marker: Path) -> None:
    payload = f"import os\nopen({str(marker)!r}, 'a').write(__name__ + '\\n')\nos._exit(0)\n"
    for name in HOSTILE_MODULES:
        target = workspace / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(payload, encoding="utf-8")
    dist = workspace / "evilpack-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evilpack\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[cilium_lint.rules]\nevil = evilpack:rules\n")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The setup and install steps, once: the outputs later steps read.

    The workspace holds a pull request's `venv/` and `pip/`: the install step must not run them.
    """
    workspace = tmp_path_factory.mktemp("workspace")
    marker = tmp_path_factory.mktemp("marker") / "ran"
    plant_hostile_modules(workspace, marker)
    runner = Runner(workspace, tmp_path_factory.mktemp("runner-temp"), {})
    setup, install = STEPS[0], STEPS[1]
    assert runner.step(setup).returncode == 0
    proc = runner.step(install)
    assert not marker.exists(), f"the workspace's code ran: {marker.read_text()}"
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return runner.outputs


def lint(
    tmp_path: Path,
    installed: dict[str, dict[str, str]],
    tree: Path | dict[str, Path] | None,
    inputs: dict[str, str],
    env: dict[str, str] | None = None,
) -> tuple[Runner, subprocess.CompletedProcess[str]]:
    """Run the lint step in a fresh workspace holding ``tree`` (as kubernetes/, or placed)."""
    workspace, temp = tmp_path / "workspace", tmp_path / "runner-temp"
    workspace.mkdir(exist_ok=True)
    temp.mkdir()
    trees = {"kubernetes": tree} if isinstance(tree, Path) else tree or {}
    for target, source in trees.items():
        shutil.copytree(source, workspace / target)
    runner = Runner(workspace, temp, inputs, env=env or {})
    runner.outputs.update(installed)
    (last,) = STEPS[2:]
    return runner, runner.step(last)


# --- action.yml itself -------------------------------------------------------------------------


def test_action_matches_the_github_actions_schema() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-actions",
            "action.yml",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_workflow_matches_the_github_workflows_schema(tmp_path: Path) -> None:
    workflow = tmp_path / "cilium-lint.yaml"
    workflow.write_text(readme_workflow_text(), encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflow),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_workflow_uses_what_the_action_declares() -> None:
    workflow = readme_workflow()
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    step = readme_action_step()
    assert set(step.get("with", {})) <= set(ACTION["inputs"])
    (upload,) = [s for s in job["steps"] if "upload-sarif" in str(s.get("uses", ""))]
    assert upload["with"]["category"]
    referenced = re.findall(rf"steps\.{step['id']}\.outputs\.([\w-]+)", json.dumps(upload))
    assert referenced and set(referenced) <= set(ACTION["outputs"])
    assert "!cancelled()" in upload["if"], "SARIF is uploaded when the lint step fails"


def test_every_python_of_the_action_ignores_the_working_folder() -> None:
    """`python -m` puts the working folder first on sys.path; -P (3.11+) leaves it off."""
    for step in STEPS[1:]:
        assert step["env"]["PYTHONSAFEPATH"] == "1"
        calls = re.findall(r'"\$\w+" (-[^\s]+ )*-m ', step["run"])
        assert calls, step["run"]
        for line in step["run"].splitlines():
            if " -m " in line:
                assert re.search(r'^\s*"\$\w+" -P -m \w', line), line
    assert STEPS[1]["run"].lstrip().startswith('cd "$RUNNER_TEMP"'), "venv and pip run there"


def test_the_lint_step_runs_nothing_from_the_workspace(tmp_path: Path) -> None:
    """The lint step in a hostile checkout, this interpreter standing in for the virtualenv's.

    The real finding is reported (exit 1) and the pull request's modules never run.
    """
    marker = tmp_path / "ran"
    trees = {"kubernetes": REPO / "tests/golden/tree"}
    installed = {"install": {"python": sys.executable}}
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    plant_hostile_modules(workspace, marker)
    runner, proc = lint(tmp_path, installed, trees, {"paths": "kubernetes", "summary": "false"})
    assert not marker.exists(), f"the workspace's code ran: {marker.read_text()}"
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "::error file=kubernetes/cilium/helmrelease.yaml,line=40," in proc.stdout
    assert runner.action_outputs()["errors"] == "4"


def test_composite_steps_are_what_the_runner_simulates() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert [s["id"] for s in STEPS] == ["python", "install", "lint"]
    assert "update-environment" in STEPS[0]["with"], "the job's Python is left alone"
    assert '"$ACTION_PATH"' in STEPS[1]["run"], "installs the action's own checkout"
    for name, spec in ACTION["outputs"].items():
        assert spec["value"] == f"${{{{ steps.lint.outputs.{name} }}}}"


# --- the steps, run ----------------------------------------------------------------------------


def test_install_step_installs_this_version(installed: dict[str, dict[str, str]]) -> None:
    python = installed["install"]["python"]
    assert Path(python).is_file()
    proc = subprocess.run(
        [python, "-c", "import cilium_lint, sys; print(cilium_lint.__version__, sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    version, prefix = proc.stdout.split()
    assert version == __version__
    assert Path(prefix) != Path(sys.prefix), "its own virtualenv"


def test_readme_inputs_on_a_clean_tree(
    tmp_path: Path, installed: dict[str, dict[str, str]]
) -> None:
    inputs = readme_action_step()["with"]
    runner, proc = lint(tmp_path, installed, REPO / "examples/cluster/kubernetes", inputs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = runner.action_outputs()
    assert {k: outputs[k] for k in ("errors", "failed")} == {"errors": "0", "failed": "false"}
    assert int(outputs["findings"]) == int(outputs["warnings"]) + int(outputs["notes"])
    sarif = Path(outputs["sarif-file"])
    assert sarif == runner.temp / "cilium-lint.sarif"
    log = json.loads(sarif.read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0"
    assert len(log["runs"][0]["results"]) == int(outputs["findings"])
    summary = runner.summary.read_text(encoding="utf-8")
    assert summary.startswith("## cilium-lint\n")
    assert ":white_check_mark:" in summary
    written = {p.name for p in runner.workspace.iterdir()}
    assert written == {"kubernetes"}, "nothing written into the workspace"
    assert (runner.temp / "cilium-lint-cache").is_dir()


def test_findings_give_annotations_summary_and_outputs(
    tmp_path: Path, installed: dict[str, dict[str, str]]
) -> None:
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "owner/cluster",
        "GITHUB_SHA": SHA,
    }
    runner, proc = lint(
        tmp_path, installed, REPO / "tests/golden/tree", {"paths": "kubernetes"}, env
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    outputs = runner.action_outputs()
    assert {k: outputs[k] for k in ("errors", "warnings", "notes", "findings", "failed")} == {
        "errors": "4",
        "warnings": "1",
        "notes": "0",
        "findings": "5",
        "failed": "true",
    }
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 5
    assert any(
        line.startswith("::error file=kubernetes/cilium/helmrelease.yaml,line=40,")
        for line in annotations
    )
    assert any(line.startswith("::warning ") and "CL010" in line for line in annotations)
    summary = runner.summary.read_text(encoding="utf-8")
    assert ":x: Found 4 errors, 1 warning" in summary
    blob = f"https://github.com/owner/cluster/blob/{SHA}/"
    assert f"({blob}kubernetes/cilium/helmrelease.yaml#L40)" in summary
    results = json.loads(Path(outputs["sarif-file"]).read_text(encoding="utf-8"))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in results["runs"][0]["results"]
    }
    assert "kubernetes/cilium/helmrelease.yaml" in uris, "relative to the workspace"
    report = json.loads(Path(outputs["json-file"]).read_text(encoding="utf-8"))
    assert report["summary"]["error"] == 4


@pytest.mark.parametrize(
    ("fail_on", "args", "code", "failed"),
    [
        ("", "--select CL010", 0, "false"),  # a warning; the configuration fails on errors
        ("error", "--select CL010", 0, "false"),
        ("warning", "--select CL010", 1, "true"),
        ("note", "--select CL010", 1, "true"),
        ("never", "", 0, "true"),  # errors, but the step succeeds; `failed` still says so
        ("", "", 1, "true"),
    ],
)
def test_fail_on(
    tmp_path: Path,
    installed: dict[str, dict[str, str]],
    fail_on: str,
    args: str,
    code: int,
    failed: str,
) -> None:
    inputs = {"paths": "kubernetes", "fail-on": fail_on, "args": args, "summary": "false"}
    runner, proc = lint(tmp_path, installed, REPO / "tests/golden/tree", inputs)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert runner.action_outputs()["failed"] == failed
    assert runner.summary.read_text(encoding="utf-8") == "", "summary: false"


def test_sarif_file_input_and_paths_with_spaces(
    tmp_path: Path, installed: dict[str, dict[str, str]]
) -> None:
    inputs = {"paths": "'kubernetes/my apps'\nkubernetes/cilium", "sarif-file": "out/lint.sarif"}
    trees = {
        "kubernetes/my apps": REPO / "tests/golden/tree/apps",
        "kubernetes/cilium": REPO / "tests/golden/tree/cilium",
        "out": REPO / "tests/golden/tree/cilium",  # any existing folder
    }
    runner, proc = lint(tmp_path, installed, trees, inputs)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    outputs = runner.action_outputs()
    assert outputs["sarif-file"] == "out/lint.sarif"
    assert (runner.workspace / "out/lint.sarif").is_file()
    assert "kubernetes/my apps/mqtt/service.yaml" in proc.stdout


def test_a_configuration_error_exits_2_and_says_so(
    tmp_path: Path, installed: dict[str, dict[str, str]]
) -> None:
    inputs = {"paths": "kubernetes", "config": "missing.yaml"}
    runner, proc = lint(tmp_path, installed, REPO / "examples/cluster/kubernetes", inputs)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "missing.yaml" in proc.stderr
    assert "errors" not in runner.outputs["lint"]
    assert "exited with code 2" in runner.summary.read_text(encoding="utf-8")


def test_a_bad_input_exits_2_with_an_annotation(
    tmp_path: Path, installed: dict[str, dict[str, str]]
) -> None:
    _, proc = lint(tmp_path, installed, None, {"fail-on": "sometimes"})
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error title=cilium-lint::input fail-on")
