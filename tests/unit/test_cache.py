"""The parse cache and the parallel parse: never a different answer, only a faster one."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cilium_lint import cache as cache_module
from cilium_lint import cli, loader
from cilium_lint.cache import ParseCache, pack, unpack
from cilium_lint.config import Config, load_config
from cilium_lint.discover import FoundFile, discover
from cilium_lint.document import ParsedFile
from cilium_lint.engine import Report, lint
from cilium_lint.loader import MAX_DEFAULT_JOBS, PARALLEL_FROM, load_files, workers_for
from cilium_lint.readfile import load_file
from cilium_lint.registry import load_registry

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "cluster"

TRICKY = {
    "anchors.yaml": (
        "base: &base {a: 1, b: [x, y]}\n"
        "other:\n  <<: *base\n  c: *base\n"
        "again: &base 2\nlast: *base\n"
    ),
    "dupe.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
    "broken.yaml": "a: [1, 2\nb: 3\n",
    "multi.yaml": "---\na: 1\n---\n- 1\n- 2.5\n- .inf\n- 0o17\n- ~\n- yes\n---\n",
    "bom.yaml": "\ufeffkind: Namespace\r\nmetadata:\r\n  name: x\r\n",
    "nul.yaml": "a: 1\x00\n",
    "tag.yaml": "a: !env_var FOO\nb: !!binary aGk=\nc: 2001-12-14\n",
}


def same(a: ParsedFile, b: ParsedFile) -> None:
    """Equal in every part, including the source maps' order."""
    assert (a.path, a.full_text(), a.problems) == (b.path, b.full_text(), b.problems)
    assert len(a.documents) == len(b.documents)
    for x, y in zip(a.documents, b.documents, strict=True):
        assert (x.path, x.index, x.data, x.span, x.encrypted) == (
            y.path,
            y.index,
            y.data,
            y.span,
            y.encrypted,
        )
        mine, theirs = x.source_map._read(), y.source_map._read()
        for part, ours in zip(mine, theirs, strict=True):
            assert list(ours.items() if isinstance(ours, dict) else ours) == list(
                part.items() if isinstance(part, dict) else part
            )


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return root


def found_in(root: Path) -> list[FoundFile]:
    found, _ = discover([root], root)
    return found


def test_pack_round_trip_is_exact(tmp_path: Path) -> None:
    write_tree(tmp_path, TRICKY)
    for item in [*found_in(tmp_path), *found_in(EXAMPLE)]:
        parsed = load_file(item)
        packed = pack(parsed, with_text=True)
        assert packed is not None, item.display
        unpacked = unpack(packed, item.display)
        assert unpacked is not None
        same(parsed, unpacked)


def test_pack_keeps_aliases_shared(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "x: &x {k: [1]}\ny: *x\n"})
    (item,) = found_in(tmp_path)
    parsed = load_file(item)
    packed = pack(parsed)
    assert packed is not None
    unpacked = unpack(packed, item.display)
    assert unpacked is not None
    data = unpacked.documents[0].data
    assert data["x"] is data["y"]


@pytest.mark.parametrize("blob", [b"", b"garbage", b"\xe3\x00\x00\x00\x00", b"N"])
def test_unpack_refuses_what_is_not_an_entry(blob: bytes) -> None:
    assert unpack(blob, "a.yaml") is None


def test_unpack_refuses_another_files_entry(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "a: 1\n"})
    (item,) = found_in(tmp_path)
    packed = pack(load_file(item))
    assert packed is not None
    assert unpack(packed, "b.yaml") is None


def cached_run(root: Path, directory: Path, max_bytes: int = 1 << 20) -> tuple[list, ParseCache]:
    cache = ParseCache.open(directory, max_bytes, root)
    assert cache is not None
    return load_files(found_in(root), max_bytes, cache, jobs=1), cache


def test_second_run_hits_and_gives_the_same_files(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "tree", TRICKY)
    expected = [load_file(item) for item in found_in(root)]
    first, cold = cached_run(root, tmp_path / "cache")
    # Unreadable or binary files are never cached; everything else is written once.
    assert cold.hits == 0
    assert cold.writes == len(TRICKY) - 1  # nul.yaml
    second, warm = cached_run(root, tmp_path / "cache")
    assert warm.hits == len(TRICKY) - 1
    assert warm.writes == 0
    for a, b, c in zip(expected, first, second, strict=True):
        same(a, b)
        same(a, c)


def test_a_changed_file_misses_exactly_its_own_entry(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "tree", TRICKY)
    cached_run(root, tmp_path / "cache")
    (root / "multi.yaml").write_text("changed: true\n", encoding="utf-8")
    files, cache = cached_run(root, tmp_path / "cache")
    assert (cache.hits, cache.writes) == (len(TRICKY) - 2, 1)
    changed = next(f for f in files if f.path == "multi.yaml")
    assert changed.documents[0].data == {"changed": True}


def test_same_bytes_at_another_path_is_another_entry(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "tree", {"a/x.yaml": "a: 1\n"})
    cached_run(root, tmp_path / "cache")
    shutil.move(root / "a", root / "b")
    files, cache = cached_run(root, tmp_path / "cache")
    assert cache.hits == 0
    assert files[0].path == "b/x.yaml"
    assert files[0].documents[0].path == "b/x.yaml"


def test_new_version_or_settings_invalidate_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_tree(tmp_path / "tree", TRICKY)
    directory = tmp_path / "cache"
    cached_run(root, directory)
    _, cache = cached_run(root, directory, max_bytes=1 << 21)  # another max-file-size
    assert cache.hits == 0
    monkeypatch.setattr(cache_module, "__version__", "99.0.0")
    _, cache = cached_run(root, directory)
    assert cache.hits == 0
    _, cache = cached_run(root, directory)
    assert cache.hits == len(TRICKY) - 1
    # Only the namespace in use is kept.
    spaces = [p for p in cache.root.parent.iterdir() if p.is_dir()]
    assert spaces == [cache.root]


def test_a_changed_parser_invalidates_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = cache_module.namespace(1000)
    monkeypatch.setattr(cache_module, "_PARSER_FINGERPRINT", "another parser")
    assert cache_module.namespace(1000) not in (None, before)


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: b"",
        lambda blob: blob[: len(blob) // 2],
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),
        lambda blob: b"\x80\x04garbage pickle" + blob,
    ],
)
def test_a_corrupt_entry_is_ignored_and_rewritten(tmp_path: Path, damage: object) -> None:
    root = write_tree(tmp_path / "tree", {"a.yaml": "a: [1, 2]\n"})
    cached_run(root, tmp_path / "cache")
    (entry,) = [
        p
        for p in (tmp_path / "cache").rglob("*")
        if p.is_file() and p.parent.parent.name.startswith("v")
    ]
    assert callable(damage)
    entry.write_bytes(damage(entry.read_bytes()))
    files, cache = cached_run(root, tmp_path / "cache")
    assert (cache.hits, cache.writes) == (0, 1)
    assert files[0].documents[0].data == {"a": [1, 2]}
    _, cache = cached_run(root, tmp_path / "cache")
    assert cache.hits == 1


def test_the_cache_folder_ignores_itself(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "tree", {"a.yaml": "a: 1\n"})
    cached_run(root, tmp_path / "cache")
    assert (tmp_path / "cache" / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert (tmp_path / "cache" / "CACHEDIR.TAG").is_file()


def test_an_unwritable_cache_never_fails_the_run(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "tree", TRICKY)
    blocker = tmp_path / "cache"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    assert ParseCache.open(blocker, 1 << 20, root) is None
    cache = ParseCache.open(tmp_path / "ok", 1 << 20, root)
    assert cache is not None
    shutil.rmtree(cache.root)
    cache.root.write_text("in the way", encoding="utf-8")
    files = load_files(found_in(root), 1 << 20, cache, jobs=1)
    assert not cache.enabled
    assert len(files) == len(TRICKY)


def test_cli_no_cache_and_cache_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    shutil.copytree(EXAMPLE, repo / "cluster")
    elsewhere = tmp_path / "elsewhere"
    assert run_cli(["cluster", "--no-cache", "--cache-dir", str(elsewhere)], repo, capsys) == 0
    assert not elsewhere.exists()
    assert run_cli(["cluster", "--cache-dir", str(elsewhere)], repo, capsys) == 0
    assert (elsewhere / ".gitignore").is_file()
    assert any(elsewhere.rglob("*/v*/*/*"))
    assert run_cli(["cluster", "--cache-dir", str(elsewhere)], repo, capsys) == 0
    assert sorted(p.name for p in repo.iterdir()) == [".git", "cluster"]


def run_cli(args: list[str], cwd: Path, capsys: pytest.CaptureFixture[str]) -> int:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return cli.main(args)
    finally:
        os.chdir(old)
        capsys.readouterr()


def test_cli_rejects_a_bad_jobs_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--jobs", "0", str(EXAMPLE)]) == 2
    assert "--jobs" in capsys.readouterr().err


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    load_generator().generate(root, 300, seed=3, duplicates=3)
    write_tree(root / "kubernetes" / "odd", TRICKY)  # parse problems in the tree too
    return root


def lint_generated(root: Path, **options: Any) -> Report:
    loaded = load_config(None, root)
    return lint([root], root, loaded.config, load_registry(), config_base=loaded.base, **options)


def test_parallel_cached_and_serial_runs_agree(generated: Path, tmp_path: Path) -> None:
    serial = lint_generated(generated, jobs=1)
    assert len(serial.findings) >= 3  # the duplicate IPs, the broken files
    assert {f.rule_id for f in serial.findings} >= {"CL001", "CL002", "CL204"}
    parallel = lint_generated(generated, jobs=2)
    cold = lint_generated(generated, jobs=2, cache_dir=tmp_path / "cache")
    warm = lint_generated(generated, jobs=1, cache_dir=tmp_path / "cache")
    for other in (parallel, cold, warm):
        assert other.findings == serial.findings
        assert other.files_checked == serial.files_checked


def test_parallel_parse_is_identical_and_ordered(generated: Path) -> None:
    found = found_in(generated)
    assert workers_for(len(found), 3) == 2
    serial = load_files(found, Config().max_file_size, jobs=1)
    parallel = load_files(found, Config().max_file_size, jobs=3)
    assert [p.path for p in parallel] == [f.display for f in found]
    for a, b in zip(serial, parallel, strict=True):
        same(a, b)


def test_workers_by_default_only_for_large_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "_usable_cores", lambda: 2)
    assert workers_for(PARALLEL_FROM - 1, None) == 0
    assert workers_for(10_000, None) == 1  # one per core, this process included
    monkeypatch.setattr(loader, "_usable_cores", lambda: 64)
    assert workers_for(10_000, None) == MAX_DEFAULT_JOBS - 1
    monkeypatch.setattr(loader, "_usable_cores", lambda: 1)
    assert workers_for(10_000, None) == 0
    assert workers_for(10_000, 1) == 0
    assert workers_for(3, 8) == 0  # not one chunk for a worker
    assert workers_for(1000, 2) == 1  # this process and one worker


def test_texts_without_a_suppression_are_let_go_and_read_again(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {"plain.yaml": "a: 1\n", "marked.yaml": "a: 1  # cilium-lint: disable=CL101 -- why\n"},
    )
    found = found_in(root)
    marked, plain = load_files(found, Config().max_file_size)
    assert marked.text is not None and plain.text is None  # let go: no "cilium-lint:" in it
    assert plain.full_text() == "a: 1\n"  # read again on demand
    _, plain_again = load_files(found, Config().max_file_size)
    (root / "plain.yaml").write_text("a: 2\n", encoding="utf-8")
    assert plain_again.full_text() is None  # changed since it was parsed: not trusted
