"""Tests for cilium_lint.discover: which files of a tree are linted, and what is skipped and why."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from fifo_guard import finishes

from cilium_lint import discover as discover_module
from cilium_lint.discover import FoundFile, SkippedPath, discover, display_path, is_yaml_name

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


def write(root: Path, *names: str, text: str = "a: 1\n") -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


def run(
    roots: Iterable[Path], cwd: Path, exclude: Iterable[str] = ()
) -> tuple[list[str], dict[str, str]]:
    found, skipped = discover(list(roots), cwd, exclude)
    return [f.display for f in found], {s.display: s.reason for s in skipped}


def test_yaml_and_yml_are_found_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, "z.yaml", "b/a.yml", "a/c.YAML", "a/b.yaml", "notes.txt", "a/README.md")
    names, skipped = run([tmp_path], tmp_path)
    assert names == ["a/b.yaml", "a/c.YAML", "b/a.yml", "z.yaml"]
    assert skipped == {}
    # Stable: a second run gives the same list.
    assert run([tmp_path], tmp_path)[0] == names


def test_version_control_dependency_and_own_config_are_skipped(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".git/config.yaml",
        ".hg/x.yaml",
        "node_modules/pkg/x.yaml",
        "sub/node_modules/y.yaml",
        ".cilium-lint.yaml",
        ".github/workflows/ci.yaml",
        "ok.yaml",
    )
    names, _ = run([tmp_path], tmp_path)
    assert names == [".github/workflows/ci.yaml", "ok.yaml"]


def test_template_sources_are_skipped(tmp_path: Path) -> None:
    write(
        tmp_path,
        "x.yaml.j2",
        "values.yaml.gotmpl",
        "x.tmpl",
        "y.yaml.tmpl",
        "z.yml.jinja2",
        "w.yaml.tpl",
        "kept.yaml",
    )
    names, skipped = run([tmp_path], tmp_path)
    assert names == ["kept.yaml"]
    assert skipped == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.yaml", True),
        ("a.yml", True),
        ("A.YML", True),
        ("a.yaml.j2", False),
        ("values.yaml.gotmpl", False),
        ("a.tmpl", False),
        ("a.json", False),
        ("yaml", False),
        ("a.sops.yaml", True),
    ],
)
def test_is_yaml_name(name: str, expected: bool) -> None:
    assert is_yaml_name(name) is expected


def test_helm_chart_templates_are_skipped_but_other_templates_dirs_are_not(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "charts/app/Chart.yaml",
        "charts/app/values.yaml",
        "charts/app/templates/deployment.yaml",
        "charts/app/templates/sub/x.yaml",
        "kubernetes/templates/service.yaml",
        "kubernetes/templates/nested/templates/x.yaml",
    )
    names, _ = run([tmp_path], tmp_path)
    assert names == [
        "charts/app/Chart.yaml",
        "charts/app/values.yaml",
        "kubernetes/templates/nested/templates/x.yaml",
        "kubernetes/templates/service.yaml",
    ]


def test_explicit_file_is_linted_whatever_its_name(tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", "x.yaml.j2", "dir/a.yaml")
    names, skipped = run(
        [tmp_path / "notes.txt", tmp_path / "x.yaml.j2", tmp_path / "dir"], tmp_path
    )
    assert names == ["dir/a.yaml", "notes.txt", "x.yaml.j2"]
    assert skipped == {}


def test_same_file_through_two_roots_is_listed_once(tmp_path: Path) -> None:
    write(tmp_path, "a/b.yaml")
    found, _ = discover([tmp_path, tmp_path / "a", tmp_path / "a" / "b.yaml"], tmp_path)
    assert [f.display for f in found] == ["a/b.yaml"]


def test_missing_root_is_reported(tmp_path: Path) -> None:
    names, skipped = run([tmp_path / "nope"], tmp_path)
    assert names == []
    assert "nope" in skipped and "cannot read" in skipped["nope"]


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        pytest.param(
            ["archive/**"], ["apps/a.yaml", "apps/archive/x.yaml", "z.sops.yaml"], id="slash"
        ),
        pytest.param(["archive"], ["apps/a.yaml", "z.sops.yaml"], id="name-any-depth"),
        pytest.param(["archive/"], ["apps/a.yaml", "z.sops.yaml"], id="dir-trailing-slash"),
        pytest.param(
            ["*.sops.yaml"],
            ["apps/a.yaml", "apps/archive/x.yaml", "archive/old.yaml"],
            id="glob-any-depth",
        ),
        pytest.param(
            ["apps/a.yaml"],
            ["apps/archive/x.yaml", "archive/old.yaml", "z.sops.yaml"],
            id="exact-path",
        ),
        pytest.param(
            ["apps/archive"],
            ["apps/a.yaml", "archive/old.yaml", "z.sops.yaml"],
            id="dir-path",
        ),
        pytest.param(
            ["nothing"],
            ["apps/a.yaml", "apps/archive/x.yaml", "archive/old.yaml", "z.sops.yaml"],
            id="none",
        ),
    ],
)
def test_exclude_globs(tmp_path: Path, patterns: list[str], expected: list[str]) -> None:
    write(tmp_path, "apps/a.yaml", "apps/archive/x.yaml", "archive/old.yaml", "z.sops.yaml")
    names, skipped = run([tmp_path], tmp_path, patterns)
    assert names == expected
    assert skipped == {}  # excluded paths are not "skipped" noise


def test_display_paths_are_relative_to_cwd_with_slashes(tmp_path: Path) -> None:
    write(tmp_path, "tree/apps/a.yaml")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    found, _ = discover([tmp_path / "tree"], cwd)
    assert [f.display for f in found] == ["../tree/apps/a.yaml"]
    assert found[0].path == tmp_path / "tree" / "apps" / "a.yaml"
    assert display_path(tmp_path / "tree" / "apps", tmp_path) == "tree/apps"
    assert display_path(tmp_path, tmp_path) == "."


def test_relative_root_given_from_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "tree/a.yaml")
    monkeypatch.chdir(tmp_path)
    found, _ = discover([Path("tree")], tmp_path)
    assert found == [FoundFile(Path("tree/a.yaml"), "tree/a.yaml")]


def test_odd_file_names(tmp_path: Path) -> None:
    names = [
        "with space.yaml",
        "dir with space/x.yaml",
        "\u200fmirror.yaml",  # right-to-left mark
        "\u200eltr.yaml",  # left-to-right mark
        "caf\u00e9/\u00f1and\u00fa.yaml",
        "\u65e5\u672c.yml",
        "emoji-\U0001f680.yaml",
    ]
    write(tmp_path, *names)
    found, skipped = discover([tmp_path], tmp_path)
    assert sorted(f.display for f in found) == sorted(names)
    assert [f.display for f in found] == sorted(f.display for f in found)
    assert skipped == []
    for item in found:
        assert item.path.read_text("utf-8") == "a: 1\n"


def test_directory_named_like_yaml_is_walked(tmp_path: Path) -> None:
    write(tmp_path, "x.yaml/inner.yaml", "x.yaml/deeper.yml/leaf.yaml")
    names, skipped = run([tmp_path], tmp_path)
    assert names == ["x.yaml/deeper.yml/leaf.yaml", "x.yaml/inner.yaml"]
    assert skipped == {}


@needs_fifo
def test_fifo_named_yaml_is_skipped_never_opened(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml")
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    names, skipped = finishes(lambda: run([tmp_path], tmp_path), [fifo])
    assert names == ["a.yaml"]
    assert skipped == {"x.yaml": "not a regular file"}


@needs_fifo
def test_fifo_given_explicitly_is_skipped(tmp_path: Path) -> None:
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    names, skipped = finishes(lambda: run([fifo], tmp_path), [fifo])
    assert names == []
    assert skipped == {"x.yaml": "not a regular file or directory"}


def test_symlink_to_a_file_inside_the_tree_is_followed(tmp_path: Path) -> None:
    write(tmp_path, "real/a.yaml")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "real" / "a.yaml")
    (tmp_path / "rel.yaml").symlink_to(Path("real") / "a.yaml")
    found, skipped = discover([tmp_path], tmp_path)
    assert [f.display for f in found] == ["link.yaml", "real/a.yaml", "rel.yaml"]
    assert skipped == []


def test_symlink_to_a_directory_inside_the_tree_is_walked_once(tmp_path: Path) -> None:
    write(tmp_path, "real/a.yaml")
    (tmp_path / "zlink").symlink_to(tmp_path / "real", target_is_directory=True)
    names, skipped = run([tmp_path], tmp_path)
    assert names == ["real/a.yaml"]
    assert skipped == {}


def test_symlinks_leading_out_of_the_tree_are_skipped_with_a_reason(tmp_path: Path) -> None:
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    write(outside, "secret.yaml", "dir/b.yaml")
    write(tree, "a.yaml")
    (tree / "out.yaml").symlink_to(outside / "secret.yaml")
    (tree / "outdir").symlink_to(outside / "dir", target_is_directory=True)
    (tree / "up").symlink_to(Path(".."), target_is_directory=True)
    names, skipped = run([tree], tmp_path)
    assert names == ["tree/a.yaml"]
    assert skipped == {
        "tree/out.yaml": "symlink leading out of the tree",
        "tree/outdir": "symlink leading out of the tree",
        "tree/up": "symlink leading out of the tree",
    }


def test_symlink_loops_terminate(tmp_path: Path) -> None:
    write(tmp_path, "a/x.yaml")
    (tmp_path / "a" / "self").symlink_to(Path("."), target_is_directory=True)
    (tmp_path / "a" / "parent").symlink_to(Path(".."), target_is_directory=True)
    (tmp_path / "one.yaml").symlink_to(tmp_path / "two.yaml")
    (tmp_path / "two.yaml").symlink_to(tmp_path / "one.yaml")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "missing.yaml")
    names, skipped = finishes(lambda: run([tmp_path], tmp_path))
    assert names == ["a/x.yaml"]
    assert skipped == {
        "dangling.yaml": "broken symlink or symlink loop",
        "one.yaml": "broken symlink or symlink loop",
        "two.yaml": "broken symlink or symlink loop",
    }


def _root_ignores_permissions(path: Path) -> bool:
    return os.access(path, os.R_OK)


def test_unreadable_directory_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "ok.yaml", "locked/x.yaml")
    locked = tmp_path / "locked"
    locked.chmod(0)
    try:
        if _root_ignores_permissions(locked):
            pytest.skip("running with privileges that read a mode-000 directory")
        names, skipped = run([tmp_path], tmp_path)
    finally:
        locked.chmod(0o755)
    assert names == ["ok.yaml"]
    assert skipped == {"locked": "cannot list: Permission denied"}


def test_directory_that_cannot_be_listed_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same as above without relying on permissions (which root ignores)."""
    write(tmp_path, "ok.yaml", "locked/x.yaml", "locked/sub/y.yaml")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discover_module.os, "scandir", scandir)
    names, skipped = run([tmp_path], tmp_path)
    assert names == ["ok.yaml"]
    assert skipped == {"locked": "cannot list: Permission denied"}


def test_skipped_entries_are_plain_data() -> None:
    skipped = SkippedPath("a.yaml", "why")
    assert (skipped.display, skipped.reason) == ("a.yaml", "why")
