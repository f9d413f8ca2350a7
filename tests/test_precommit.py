"""The pre-commit hook, exercised by the real ``pre-commit``.

A snapshot of this checkout (committed code plus the working tree's changes, as ``try-repo``
would take) is the hook repository; a temporary git repository with the example cluster is the
user's. pre-commit builds the hook's virtualenv once (``PRE_COMMIT_HOME`` is shared by the
module; it needs PyPI for the build backend and dependencies), then every run reuses it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "cluster"
# home-assistant asks for echo's address: a duplicate only the whole tree shows (CL204).
HOME_ASSISTANT = "kubernetes/apps/default/home-assistant/app/helmrelease.yaml"
GOOD_IP, BAD_IP = "10.0.6.32", "10.0.6.30"

pytestmark = pytest.mark.skipif(
    not (REPO / ".git").exists() or shutil.which("git") is None,
    reason="needs a git checkout of cilium-lint and git",
)


def _env(home: Path, pre_commit_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    config = home / "gitconfig"
    if not config.exists():
        config.write_text("", encoding="utf-8")
    env.update(
        {
            "PRE_COMMIT_HOME": str(pre_commit_home),
            "GIT_CONFIG_GLOBAL": str(config),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "cilium-lint tests",
            "GIT_AUTHOR_EMAIL": "tests@example.invalid",
            "GIT_COMMITTER_NAME": "cilium-lint tests",
            "GIT_COMMITTER_EMAIL": "tests@example.invalid",
            "NO_COLOR": "1",
            # pre-commit's hook script finds pre-commit through the interpreter that ran it.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        }
    )
    return env


def _run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = _run(["git", *args], cwd, env)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def _pre_commit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "pre_commit", *args], cwd, env)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    return _env(home, tmp_path_factory.mktemp("pre-commit-home"))


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """This checkout as a repository of one commit: HEAD plus the working tree's changes."""
    snapshot = tmp_path_factory.mktemp("hook-repo")
    _git(REPO, env, "clone", "--quiet", "--no-checkout", str(REPO), str(snapshot))
    _git(snapshot, env, "checkout", "--quiet", _git(REPO, env, "rev-parse", "HEAD"))
    changed = _git(REPO, env, "diff", "--name-only", "HEAD").splitlines()
    untracked = _git(REPO, env, "ls-files", "--others", "--exclude-standard").splitlines()
    for name in [*changed, *untracked]:
        source, target = REPO / name, snapshot / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()
    _git(snapshot, env, "add", "--all")
    _git(snapshot, env, "commit", "--quiet", "--allow-empty", "-m", "working tree snapshot")
    return snapshot, _git(snapshot, env, "rev-parse", "HEAD")


def _user_repo(path: Path, env: dict[str, str]) -> Path:
    shutil.copytree(EXAMPLE, path)
    _git(path, env, "init", "--quiet", "--initial-branch=main")
    _git(path, env, "add", "--all")
    _git(path, env, "commit", "--quiet", "-m", "cluster")
    return path


def _set_ip(repo: Path, ip: str) -> None:
    target = repo / HOME_ASSISTANT
    text = target.read_text(encoding="utf-8")
    target.write_text(re.sub(r"10\.0\.6\.3[0-2]\b", ip, text), encoding="utf-8")


def readme_hook_config() -> dict[str, Any]:
    """The `.pre-commit-config.yaml` snippet of the README."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL):
        if block.startswith("# .pre-commit-config.yaml"):
            data = yaml.safe_load(block)
            assert isinstance(data, dict)
            return data
    raise AssertionError("README has no `# .pre-commit-config.yaml` snippet")


def _point_at(config: dict[str, Any], hook_repo: tuple[Path, str]) -> dict[str, Any]:
    (repo,) = config["repos"]
    assert repo["repo"] == "https://github.com/cilium-lint/cilium-lint"
    assert [hook["id"] for hook in repo["hooks"]] == ["cilium-lint"]
    repo["repo"], repo["rev"] = str(hook_repo[0]), hook_repo[1]
    return config


def test_manifest_is_valid() -> None:
    proc = _run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
        REPO,
        dict(os.environ),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "cilium-lint" and hook["entry"] == "cilium-lint"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False and hook["require_serial"] is True
    assert re.search(hook["files"], "a/b.yaml") and re.search(hook["files"], "c.yml")
    assert not re.search(hook["files"], "README.md")


@pytest.fixture(scope="module")
def try_repo(hook_repo: tuple[Path, str], env: dict[str, str]) -> Iterator[Any]:
    def run(user: Path) -> subprocess.CompletedProcess[str]:
        return _pre_commit(
            user, env, "try-repo", str(hook_repo[0]), "cilium-lint", "--all-files", "--ref",
            hook_repo[1],
        )  # fmt: skip

    yield run


def test_try_repo_rejects_a_bad_tree_and_passes_a_good_one(
    tmp_path: Path, env: dict[str, str], try_repo: Any
) -> None:
    user = _user_repo(tmp_path / "cluster", env)
    _set_ip(user, BAD_IP)
    _git(user, env, "commit", "--quiet", "--all", "-m", "bad")
    bad = try_repo(user)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"cilium-lint\.+Failed", bad.stdout)
    assert f"{HOME_ASSISTANT}:55:33: CL204 {BAD_IP}" in bad.stdout, bad.stdout
    _set_ip(user, GOOD_IP)
    _git(user, env, "commit", "--quiet", "--all", "-m", "good")
    good = try_repo(user)
    assert good.returncode == 0, good.stdout + good.stderr
    assert re.search(r"cilium-lint\.+Passed", good.stdout)


def test_readme_config_rejects_a_bad_commit(
    tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]
) -> None:
    user = _user_repo(tmp_path / "cluster", env)
    config = _point_at(readme_hook_config(), hook_repo)
    (user / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _git(user, env, "add", ".pre-commit-config.yaml")
    _git(user, env, "commit", "--quiet", "-m", "pre-commit")
    installed = _pre_commit(user, env, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # A commit without YAML does not run the hook at all (`files`).
    (user / "notes.txt").write_text("hello\n", encoding="utf-8")
    _git(user, env, "add", "notes.txt")
    skipped = _run(["git", "commit", "-m", "notes"], user, env)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "(no files to check)Skipped" in skipped.stdout + skipped.stderr
    head = _git(user, env, "rev-parse", "HEAD")

    _set_ip(user, BAD_IP)
    rejected = _run(["git", "commit", "--all", "-m", "duplicate address"], user, env)
    assert rejected.returncode != 0, rejected.stdout + rejected.stderr
    output = rejected.stdout + rejected.stderr
    assert f"{HOME_ASSISTANT}:55:33: CL204 {BAD_IP}" in output, output
    assert "kubernetes/apps/default/echo/app/helmrelease.yaml:55:33:" in output, "related"
    assert _git(user, env, "rev-parse", "HEAD") == head, "nothing was committed"

    _set_ip(user, GOOD_IP)
    accepted = _run(["git", "commit", "--all", "-m", "own address"], user, env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert re.search(r"cilium-lint\.+Passed", accepted.stdout + accepted.stderr)


def test_args_point_the_hook_at_a_folder(
    tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]
) -> None:
    user = _user_repo(tmp_path / "cluster", env)
    # Broken YAML outside kubernetes/ fails the default (whole repository) but not `args`.
    (user / "scratch").mkdir()
    (user / "scratch" / "broken.yaml").write_text("a: [b\n", encoding="utf-8")
    config = _point_at(readme_hook_config(), hook_repo)
    (user / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _git(user, env, "add", "--all")
    whole = _pre_commit(user, env, "run", "--all-files")
    assert whole.returncode == 1 and "scratch/broken.yaml:2:1: CL001" in whole.stdout, whole.stdout
    config["repos"][0]["hooks"][0]["args"] = ["kubernetes/"]
    (user / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _git(user, env, "add", "--all")
    only = _pre_commit(user, env, "run", "--all-files")
    assert only.returncode == 0, only.stdout + only.stderr
