"""The pre-commit hook's entry point never imports from the repository it lints.

pre-commit runs hooks from the root of the user's repository, which a pull request writes. The
hook's ``entry: cilium-lint`` is the console script of its own virtualenv: its ``sys.path``
starts with the script's folder, not the working folder, so a ``cilium_lint/`` in the tree is
never imported. (The Action's steps are covered in ``test_action.py``.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(sysconfig.get_path("scripts")) / "cilium-lint"


def test_the_hook_runs_the_console_script() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["language"] == "python"
    assert hook["entry"] == "cilium-lint", "a console script, never `python -m` in the repo"


@pytest.mark.skipif(not SCRIPT.is_file(), reason="cilium-lint is not installed")
def test_the_console_script_ignores_the_working_folder(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "tests/golden/tree", repo)
    payload = f"import os\nopen({str(marker)!r}, 'a').write(__name__)\nos._exit(0)\n"
    for name in ("cilium_lint/__init__.py", "cilium_lint/cli.py", "yaml/__init__.py"):
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text(payload, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSAFEPATH", "NO_COLOR")}
    proc = subprocess.run(
        [str(SCRIPT), "--no-cache", "."],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert not marker.exists(), f"the repository's code ran: {marker.read_text()}"
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "cilium/helmrelease.yaml:40:" in proc.stdout
