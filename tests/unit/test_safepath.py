"""One definition of where a file reference from the tree may lead (cilium_lint/safepath.py)."""

from __future__ import annotations

import os
from pathlib import Path

from cilium_lint.safepath import ABSOLUTE, LEAVES, SYMLINK_OUT, Refused, RepositoryRoots


def _repo(tmp_path: Path) -> tuple[Path, RepositoryRoots]:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "apps" / "cilium").mkdir(parents=True)
    (repo / "base").mkdir()
    (repo / "base" / "values.yaml").write_text("a: 1\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("s\n")
    # Linting a subfolder: the root is still the repository (the nearest .git above).
    return repo, RepositoryRoots([repo / "apps"])


def test_relative_references_inside_the_repository_resolve(tmp_path: Path) -> None:
    repo, roots = _repo(tmp_path)
    folder = str(repo / "apps" / "cilium")
    assert roots.resolve("../../base/values.yaml", folder) == str(repo / "base" / "values.yaml")
    assert roots.resolve("./values.yaml", folder) == str(repo / "apps/cilium/values.yaml")


def test_absolute_and_escaping_references_are_refused(tmp_path: Path) -> None:
    repo, roots = _repo(tmp_path)
    folder = str(repo / "apps" / "cilium")
    assert roots.resolve("/etc/passwd", folder) is ABSOLUTE
    assert roots.resolve("/proc/self/environ", folder) is ABSOLUTE
    assert roots.resolve("C:/Windows/win.ini", folder) is ABSOLUTE
    assert roots.resolve("../../../outside/secret", folder) is LEAVES
    assert roots.resolve("../../../../../../../../../../../etc/passwd", folder) is LEAVES
    assert roots.resolve("a/../../../../.git/config", folder) is LEAVES
    assert isinstance(roots.resolve("", folder), Refused)
    assert isinstance(roots.resolve("x\x00y", folder), Refused)


def test_symlinks_out_of_the_repository_are_refused_and_inside_ones_followed(
    tmp_path: Path,
) -> None:
    repo, roots = _repo(tmp_path)
    cilium = repo / "apps" / "cilium"
    (cilium / "file").symlink_to(tmp_path / "outside" / "secret")
    (cilium / "folder").symlink_to(tmp_path / "outside", target_is_directory=True)
    (cilium / "relative").symlink_to(Path("../../..") / "outside" / "secret")
    (cilium / "inside").symlink_to(repo / "base", target_is_directory=True)
    (cilium / "dangling").symlink_to(tmp_path / "nowhere")
    folder = str(cilium)
    assert roots.resolve("file", folder) is SYMLINK_OUT
    assert roots.resolve("folder/secret", folder) is SYMLINK_OUT
    assert roots.resolve("relative", folder) is SYMLINK_OUT
    assert roots.resolve("dangling", folder) is SYMLINK_OUT
    assert roots.resolve("inside/values.yaml", folder) == str(repo / "base" / "values.yaml")


def test_without_git_the_linted_folder_is_the_root(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "app").mkdir(parents=True)
    roots = RepositoryRoots([tree])
    assert roots.roots == [str(tree)]
    assert roots.resolve("../x", str(tree / "app")) == str(tree / "x")
    assert roots.resolve("../../x", str(tree / "app")) is LEAVES
    assert roots.contains(str(tree / "app"))
    assert not roots.contains(str(tmp_path))


def test_spec_path_leaves_only_with_dot_dot() -> None:
    roots = RepositoryRoots([Path(os.sep)])
    assert roots.leaves_root("./clusters/main") is None
    assert roots.leaves_root("/clusters/main") is None
    assert roots.leaves_root("") is None
    assert roots.leaves_root("../..") is LEAVES
    assert roots.leaves_root("/../outside") is LEAVES
    assert roots.leaves_root("clusters/../../x") is LEAVES
