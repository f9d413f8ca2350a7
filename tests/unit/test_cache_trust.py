"""The parse cache trusts nothing the linted tree could have put there (issue #11, attack 3).

A pull request controls every file of the tree, a committed ``.cilium-lint-cache/`` and
symlinks included. Whatever it commits, the real findings are reported, nothing outside the
cache is written or deleted, and reading the cache costs bounded memory.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import multiprocessing
import os
import re
import resource
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from clitools import run_cli

from cilium_lint import authstore
from cilium_lint import cache as cache_module
from cilium_lint.authstore import SealedStore, StoreRefused, read_bounded
from cilium_lint.cache import ParseCache, default_directory, pack, user_cache_home
from cilium_lint.config import Config
from cilium_lint.document import ParsedFile

BAD = "a: 1\nb: [1, 2\n"  # CL001 at line 3
MAX = Config().max_file_size


def make_repo(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "bad.yaml").write_text(BAD, encoding="utf-8")
    (root / "good.yaml").write_text("a: 1\n", encoding="utf-8")
    return root


def findings(stdout: str) -> list[tuple[str, int, str]]:
    report = json.loads(stdout)
    return [(f["location"]["path"], f["location"]["line"], f["rule"]) for f in report["findings"]]


def lint(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, list, str]:
    result = run_cli(".", "--format", "json", *args, cwd=repo, env=env)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, findings(result.stdout), result.stderr


REAL = [("bad.yaml", 3, "CL001")]


def entry_of(cache_dir: Path, name: str, text: str) -> Path:
    """The one entry file of ``name`` (holding ``text``) in the cache at ``cache_dir``."""
    key = ParseCache.key(name, text.encode()).hex()
    (entry,) = cache_dir.glob(f"tree-*/v*/{key[:2]}/{key[2:]}")
    return entry


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every path below ``root`` with its content (files) or kind."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            out[name] = "link:" + os.readlink(path)
        elif path.is_file():
            out[name] = path.read_bytes()
        else:
            out[name] = "dir"
    return out


def clean_payload() -> bytes:
    """A packed parse of ``bad.yaml`` that holds no problem: what a forger wants read back."""
    payload = pack(ParsedFile("bad.yaml"))
    assert payload is not None
    return payload


# Forged entries


@pytest.mark.parametrize("forgery", ["sha256", "foreign-key", "other-entry"])
def test_a_forged_entry_is_ignored_and_the_finding_reported(tmp_path: Path, forgery: str) -> None:
    repo = make_repo(tmp_path / "repo")
    cache_dir = tmp_path / "cache"
    assert lint(repo, "--cache-dir", str(cache_dir))[:2] == (1, REAL)
    entry = entry_of(cache_dir, "bad.yaml", BAD)
    key = bytes.fromhex(entry.parent.name + entry.name)
    context = entry.parent.parent.name.encode() + b"\x00" + key
    payload = clean_payload()
    if forgery == "sha256":  # the old format: a checksum anyone can compute
        entry.write_bytes(b"CLC1" + key + hashlib.sha256(payload).digest() + payload)
    elif forgery == "foreign-key":  # sealed right, but on another machine
        entry.write_bytes(SealedStore(cache_dir, os.urandom(32)).seal(context, payload))
    else:  # good.yaml's genuine entry, copied over bad.yaml's
        shutil.copyfile(entry_of(cache_dir, "good.yaml", "a: 1\n"), entry)
    assert lint(repo, "--cache-dir", str(cache_dir))[:2] == (1, REAL)
    # Ignored and rewritten: the entry is genuine again.
    store = SealedStore.open(cache_dir)
    assert store.read(entry, context, 1 << 20) is not None


def test_a_committed_cache_in_the_tree_is_never_used(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    # What an attacker commits: the old layout with a checksummed entry, and the new one with a
    # key of its own (checked out as an ordinary file) and entries sealed with it.
    committed = repo / ".cilium-lint-cache"
    key = ParseCache.key("bad.yaml", BAD.encode())
    payload = clean_payload()
    space = cache_module.namespace(MAX)
    assert space is not None
    old = committed / "v0123456789abcdef0123" / key.hex()[:2] / key.hex()[2:]
    old.parent.mkdir(parents=True)
    old.write_bytes(b"CLC1" + key + hashlib.sha256(payload).digest() + payload)
    forged_key = os.urandom(32)
    (committed / "key").write_bytes(forged_key)
    os.chmod(committed / "key", 0o644)
    new = committed / cache_module.tree_folder(repo) / space / key.hex()[:2] / key.hex()[2:]
    new.parent.mkdir(parents=True)
    new.write_bytes(SealedStore(committed, forged_key).seal(space.encode() + b"\0" + key, payload))
    before = snapshot(committed)

    xdg = tmp_path / "xdg"
    env = {"XDG_CACHE_HOME": str(xdg), "CILIUM_LINT_CACHE_DIR": "", "HOME": str(tmp_path)}
    assert lint(repo, env=env)[:2] == (1, REAL)
    assert lint(repo, env=env)[:2] == (1, REAL)  # warm: from the user's cache
    assert (xdg / "cilium-lint" / "key").is_file()
    # Even named explicitly, the committed folder's key is not private: no cache at all.
    code, found, err = lint(repo, "--cache-dir", str(committed), "--debug")
    assert (code, found) == (1, REAL)
    assert "parse cache off" in err and "not private" in err
    assert snapshot(committed) == before


def test_yaml_in_a_folder_named_like_the_old_cache_is_linted(tmp_path: Path) -> None:
    """The old in-tree cache folder is no hiding place for manifests any more."""
    repo = make_repo(tmp_path / "repo")
    (repo / ".cilium-lint-cache").mkdir()
    (repo / "bad.yaml").rename(repo / ".cilium-lint-cache" / "bad.yaml")
    assert lint(repo, "--no-cache")[:2] == (1, [(".cilium-lint-cache/bad.yaml", 3, "CL001")])


# Bounded reads


def limited_run(repo: Path, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    """The CLI under a 1 GiB address-space and 60 s CPU limit."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        resource.setrlimit(resource.RLIMIT_CPU, (60, 60))

    args = [".", "--format", "json", "--cache-dir", str(cache_dir)]
    return subprocess.run(
        [sys.executable, "-m", "cilium_lint", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=limit,
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("swap", ["dev-zero-symlink", "huge-sparse-file", "fifo"])
def test_an_entry_that_never_ends_is_not_read(tmp_path: Path, swap: str) -> None:
    repo = make_repo(tmp_path / "repo")
    cache_dir = tmp_path / "cache"
    assert lint(repo, "--cache-dir", str(cache_dir))[:2] == (1, REAL)
    entry = entry_of(cache_dir, "bad.yaml", BAD)
    entry.unlink()
    if swap == "dev-zero-symlink":
        entry.symlink_to("/dev/zero")
    elif swap == "huge-sparse-file":
        with open(entry, "wb") as handle:
            handle.truncate(8 << 30)  # sparse: 8 GiB that take no room
    else:
        os.mkfifo(entry)  # no writer: a blocking open would wait for ever
    result = limited_run(repo, cache_dir)
    assert result.returncode == 1, result.stderr
    assert findings(result.stdout) == REAL


def test_read_bounded_refuses_what_is_not_a_small_regular_file(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.write_bytes(b"x" * 100)
    assert read_bounded(small, 100) == b"x" * 100
    assert read_bounded(small, 99) is None
    link = tmp_path / "link"
    link.symlink_to(small)
    assert read_bounded(link, 1000) is None
    assert read_bounded(tmp_path, 1000) is None
    assert read_bounded(tmp_path / "missing", 1000) is None


def test_an_authentic_entry_of_the_wrong_shape_is_not_a_parse(tmp_path: Path) -> None:
    """Sealed by us but not what pack writes (a bug, an old format): refused, not half-built."""
    store = SealedStore.open(tmp_path / "store")
    fmt = cache_module.FORMAT
    wrong = [
        (fmt, "a.yaml", ((0, {}, (1, 2, 3, "x"), False, b"", (), (), True),), (), None),
        (fmt, "a.yaml", ((0, {}, (1, 2, 3, 4), 1, b"", (), (), True),), (), None),
        (fmt, "a.yaml", (), (("CL001", b"msg", "a.yaml", (1, 1, 1, 1)),), None),
        (fmt, "a.yaml", (), (), b"text"),
        (fmt, "a.yaml", [], (), None),
    ]
    for value in wrong:
        payload = marshal.dumps(value)
        sealed = store.unseal(b"ctx", store.seal(b"ctx", payload))
        assert sealed == payload
        assert cache_module.unpack(sealed, "a.yaml") is None, value


def test_an_entry_over_the_cap_is_neither_written_nor_read(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    cache = ParseCache.open(tmp_path / "cache", MAX, repo)
    assert cache is not None
    cache.cap = 10  # every packed parse is bigger
    parsed = ParsedFile("good.yaml")
    key = ParseCache.key("good.yaml", b"a: 1\n")
    cache.put(key, parsed)
    assert cache.writes == 0
    cache.cap = 1 << 20
    cache.put(key, parsed)
    assert cache.writes == 1
    assert cache.get(key, "good.yaml") is not None
    cache.cap = 10
    assert cache.get(key, "good.yaml") is None


def test_a_seal_is_bound_to_its_context(tmp_path: Path) -> None:
    store = SealedStore.open(tmp_path / "store")
    sealed = store.seal(b"ab", b"c")
    assert store.unseal(b"ab", sealed) == b"c"
    assert store.unseal(b"a", sealed) is None  # the same bytes split elsewhere
    assert store.unseal(b"ab", sealed[:-1] + b"d") is None
    assert store.unseal(b"ab", b"") is None
    again = SealedStore.open(tmp_path / "store")
    assert again.unseal(b"ab", sealed) == b"c"  # the key is kept


# Folders that are not ours


def namespace_like(root: Path) -> Path:
    """A folder outside the cache that looks like one of its namespaces, with a sentinel."""
    fake = root / "tree-0123456789abcdef" / "v0123456789abcdef0123"
    fake.mkdir(parents=True)
    (fake / "sentinel").write_text("keep me", encoding="utf-8")
    (root / "v0123456789abcdef0123").mkdir()
    return fake / "sentinel"


def test_a_symlinked_cache_root_writes_and_deletes_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    outside = tmp_path / "outside"
    sentinel = namespace_like(outside)
    before = snapshot(outside)
    # The old default place, committed as a symlink, and a symlink given explicitly.
    (repo / ".cilium-lint-cache").symlink_to(outside)
    link = tmp_path / "link"
    link.symlink_to(outside)
    assert lint(repo)[:2] == (1, REAL)
    code, found, err = lint(repo, "--cache-dir", str(link), "--debug")
    assert (code, found) == (1, REAL)
    assert "is a symlink" in err
    assert snapshot(outside) == before
    assert sentinel.read_text(encoding="utf-8") == "keep me"


def test_the_debug_note_escapes_control_characters(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    odd = tmp_path / "a\nb\x1b[31m"
    odd.symlink_to(tmp_path)
    code, found, err = lint(repo, "--cache-dir", str(odd), "--debug")
    assert (code, found) == (1, REAL)
    (note,) = [line for line in err.splitlines() if "parse cache off" in line]
    assert "\x1b" not in err and "a\\nb\\x1b[31m" in note


def test_a_symlinked_folder_inside_the_cache_is_not_followed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    cache_dir = tmp_path / "cache"
    outside = tmp_path / "outside"
    namespace_like(outside)
    before = snapshot(outside)
    # The repository's own folder swapped for a symlink: the cache is off.
    assert lint(repo, "--cache-dir", str(cache_dir))[:2] == (1, REAL)
    (tree,) = cache_dir.glob("tree-*")
    shutil.rmtree(tree)
    tree.symlink_to(outside / "tree-0123456789abcdef")
    assert lint(repo, "--cache-dir", str(cache_dir))[:2] == (1, REAL)
    assert snapshot(outside) == before
    # A namespace-like symlink beside a real namespace: pruning leaves it (and its target).
    tree.unlink()
    (cache_dir / tree.name).mkdir(mode=0o700)
    (tree / "v0123456789abcdef0123").symlink_to(outside / "v0123456789abcdef0123")
    (tree / "vfedcba9876543210fedc").symlink_to(outside / "tree-0123456789abcdef")
    assert lint(repo, "--cache-dir", str(cache_dir))[:2] == (1, REAL)
    assert snapshot(outside) == before
    assert (tree / "v0123456789abcdef0123").is_symlink()


def test_prune_removes_only_real_folders_that_match(tmp_path: Path) -> None:
    store = SealedStore.open(tmp_path / "store")
    folder = store.folder("t")
    for name in ("v1", "v2", "keep", "x1"):
        (folder / name).mkdir()
    (folder / "v3").write_text("a file", encoding="utf-8")
    store.prune(folder, "v2", re.compile(r"v\d"))
    assert sorted(p.name for p in folder.iterdir()) == ["keep", "v2", "v3", "x1"]


@pytest.mark.parametrize("damage", ["mode-644", "mode-660", "short", "long", "symlink", "folder"])
def test_a_key_file_that_is_not_private_turns_the_cache_off(tmp_path: Path, damage: str) -> None:
    root = tmp_path / "cache"
    SealedStore.open(root)
    key = root / authstore.KEY_NAME
    if damage == "mode-644":
        os.chmod(key, 0o644)
    elif damage == "mode-660":
        os.chmod(key, 0o660)
    elif damage in ("short", "long"):
        key.write_bytes(b"k" * (16 if damage == "short" else 64))
    elif damage == "symlink":
        real = tmp_path / "elsewhere"
        real.write_bytes(b"k" * 32)
        os.chmod(real, 0o600)
        key.unlink()
        key.symlink_to(real)
    else:
        key.unlink()
        key.mkdir()
    with pytest.raises(StoreRefused):
        SealedStore.open(root)
    repo = make_repo(tmp_path / "repo")
    assert ParseCache.open(root, MAX, repo) is None
    assert not list(root.glob("tree-*"))  # nothing written


def test_a_cache_root_others_may_write_turns_the_cache_off(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    os.chmod(root, 0o777)
    with pytest.raises(StoreRefused):
        SealedStore.open(root)
    assert not (root / authstore.KEY_NAME).exists()


@pytest.mark.skipif(getattr(os, "geteuid", lambda: 1)() != 0, reason="needs root to chown")
def test_a_cache_root_of_another_user_turns_the_cache_off(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    SealedStore.open(root)
    os.chown(root, 12345, 12345)
    with pytest.raises(StoreRefused, match="not owned"):
        SealedStore.open(root)


def _open_store(root: str) -> bytes:
    return SealedStore.open(Path(root)).seal(b"c", b"p")


def test_concurrent_first_runs_agree_on_one_key(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    with context.Pool(4) as pool:
        seals = pool.map(_open_store, [str(root)] * 8)
    assert len(set(seals)) == 1
    assert [p.name for p in root.iterdir() if p.name.startswith(".key")] == []


def test_concurrent_cli_runs_share_a_fresh_cache(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    cache_dir = tmp_path / "cache"
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda _: lint(repo, "--cache-dir", str(cache_dir)), range(3)))
    assert [run[:2] for run in runs] == [(1, REAL)] * 3
    store = SealedStore.open(cache_dir)
    for name, text in (("bad.yaml", BAD), ("good.yaml", "a: 1\n")):
        entry = entry_of(cache_dir, name, text)
        context = (
            entry.parent.parent.name.encode()
            + b"\x00"
            + bytes.fromhex(entry.parent.name + entry.name)
        )
        assert store.read(entry, context, 1 << 20) is not None
    assert not [p for p in cache_dir.rglob(".*") if p.name != ".gitignore"]  # no temporaries


# The default place


def test_default_directory_is_the_users_cache_folder(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    xdg = str(tmp_path / "xdg")
    assert default_directory({"HOME": home}, "linux") == Path(home, ".cache", "cilium-lint")
    assert default_directory({"HOME": home, "XDG_CACHE_HOME": xdg}, "linux") == Path(
        xdg, "cilium-lint"
    )
    relative = {"HOME": home, "XDG_CACHE_HOME": "relative"}
    assert default_directory(relative, "linux") == Path(home, ".cache", "cilium-lint")
    assert default_directory({"HOME": home}, "darwin") == Path(
        home, "Library", "Caches", "cilium-lint"
    )
    assert default_directory({"LOCALAPPDATA": xdg}, "win32") == Path(xdg, "cilium-lint")
    assert user_cache_home({}, "win32") is None
    chosen = {"HOME": home, "CILIUM_LINT_CACHE_DIR": str(tmp_path / "mine")}
    assert default_directory(chosen, "linux") == tmp_path / "mine"


def test_repositories_have_folders_of_their_own(tmp_path: Path) -> None:
    one, two = make_repo(tmp_path / "one"), make_repo(tmp_path / "two")
    (one / "apps").mkdir()
    assert cache_module.tree_folder(one / "apps") == cache_module.tree_folder(one)
    assert cache_module.tree_folder(one) != cache_module.tree_folder(two)
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "CILIUM_LINT_CACHE_DIR": ""}
    for repo in (one, two, one):
        assert lint(repo, env=env)[:2] == (1, REAL)
    folders = sorted(p.name for p in (tmp_path / "xdg" / "cilium-lint").glob("tree-*"))
    assert folders == sorted([cache_module.tree_folder(one), cache_module.tree_folder(two)])
    assert sorted(p.name for p in one.iterdir()) == [".git", "apps", "bad.yaml", "good.yaml"]
