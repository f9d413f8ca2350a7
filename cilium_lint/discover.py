"""Find the YAML files of a tree, as a person would expect from a linter run on a folder."""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cilium_lint.globs import GlobMatcher, glob_regex

YAML_SUFFIXES = (".yaml", ".yml")
# Template sources are not manifests until rendered; their YAML is often invalid by design.
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".gotmpl")
# Not .cilium-lint-cache: the cache lives outside the tree now, so a folder of that name is
# whatever the tree's author put there, and YAML in it is linted like any other.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules"})
# The linter's own configuration is not part of the cluster.
SKIPPED_FILES = frozenset({".cilium-lint.yaml", ".cilium-lint.yml"})


@dataclass(frozen=True, slots=True)
class FoundFile:
    path: Path  # as given or found, not resolved
    display: str  # relative to the working directory, "/"-separated


@dataclass(frozen=True, slots=True)
class SkippedPath:
    display: str
    reason: str


def display_path(path: Path, cwd: Path) -> str:
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        relative = str(path)
    return relative.replace(os.sep, "/")


def is_yaml_name(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(YAML_SUFFIXES) and not any(
        lowered.endswith(suffix + yaml) for suffix in TEMPLATE_SUFFIXES for yaml in YAML_SUFFIXES
    )


def _excluded_by(display: str, pattern: str) -> bool:
    bare = pattern.rstrip("/")
    if fnmatch.fnmatchcase(display, bare) or fnmatch.fnmatchcase(display, bare + "/*"):
        return True
    # A pattern without "/" matches a name at any depth, like .gitignore.
    return "/" not in bare and any(fnmatch.fnmatchcase(part, bare) for part in display.split("/"))


def exclusion(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Whether a display path is excluded: what :func:`_excluded_by` says for any pattern,
    with every pattern compiled into one matcher (a configuration may list thousands)."""
    regexes: list[str] = []
    untranslated: list[str] = []
    for pattern in patterns:
        bare = pattern.rstrip("/")
        whole, below = glob_regex(bare), glob_regex(bare + "/*")
        part = glob_regex(bare, segment=True) if "/" not in bare else ""
        if whole is None or below is None or part is None:
            untranslated.append(pattern)
            continue
        regexes += [whole, below]
        if "/" not in bare:
            regexes.append(f"(?:.*/)?{part}(?:/.*)?")

    def slow(display: str) -> bool:
        return any(_excluded_by(display, p) for p in untranslated)

    return GlobMatcher(regexes, slow if untranslated else None)


def _is_chart_templates(directory: Path) -> bool:
    """Helm chart templates are Go templates, not manifests."""
    return directory.name == "templates" and (directory.parent / "Chart.yaml").is_file()


def discover(
    roots: Iterable[Path],
    cwd: Path,
    exclude: Iterable[str] = (),
    left_out: list[str] | None = None,
) -> tuple[list[FoundFile], list[SkippedPath]]:
    """YAML files below ``roots`` in a stable order, and what was skipped and why.

    Symlinks are followed only while they stay inside the root they were found under, so a
    link out of the tree (or a loop) is never read. Only regular files are returned: a FIFO or a
    device named ``x.yaml`` is skipped, never opened. ``left_out`` (when given) receives the
    paths ``exclude`` left out, so that a run that checks nothing because of it can say so.
    """
    excluded = exclusion(exclude)
    found: dict[str, FoundFile] = {}
    skipped: list[SkippedPath] = []
    for root in roots:
        for item in _walk_root(root, cwd, excluded, skipped, left_out):
            found.setdefault(item.display, item)
    return sorted(found.values(), key=lambda f: f.display), skipped


def _walk_root(
    root: Path,
    cwd: Path,
    excluded: Callable[[str], bool],
    skipped: list[SkippedPath],
    left_out: list[str] | None,
) -> Iterator[FoundFile]:
    try:
        info = root.stat()
    except OSError as exc:
        skipped.append(SkippedPath(display_path(root, cwd), f"cannot read: {exc.strerror}"))
        return
    if stat.S_ISREG(info.st_mode):
        # A file named explicitly is linted whatever its name.
        yield FoundFile(root, display_path(root, cwd))
        return
    if not stat.S_ISDIR(info.st_mode):
        skipped.append(SkippedPath(display_path(root, cwd), "not a regular file or directory"))
        return
    real_root = root.resolve()
    visited: set[str] = set()
    # (folder, its real path, its display path): both paths are extended by one name per
    # level, never recomputed from the root (realpath and relpath cost the folder's depth, so
    # a deep tree would cost its depth squared).
    stack = [(root, str(real_root), display_path(root, cwd))]
    while stack:
        directory, real, shown = stack.pop()
        if real in visited:
            continue
        visited.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(SkippedPath(shown, f"cannot list: {exc.strerror}"))
            continue
        subdirs: list[tuple[Path, str, str]] = []
        prefix = "" if shown == "." else shown + "/"
        for entry in entries:
            path = Path(entry.path)
            display = prefix + entry.name
            if excluded(display):
                if left_out is not None:
                    left_out.append(display)
                continue
            try:
                linked = entry.is_symlink()
                if linked:
                    problem = _symlink_problem(path, real_root)
                    if problem is not None:
                        skipped.append(SkippedPath(display, problem))
                        continue
                if entry.is_dir():
                    if entry.name in SKIPPED_DIRS or _is_chart_templates(path):
                        continue
                    real_dir = os.path.realpath(path) if linked else os.path.join(real, entry.name)
                    subdirs.append((path, real_dir, display))
                elif is_yaml_name(entry.name) and entry.name not in SKIPPED_FILES:
                    if entry.is_file():
                        yield FoundFile(path, display)
                    else:
                        skipped.append(SkippedPath(display, "not a regular file"))
            except OSError as exc:
                skipped.append(SkippedPath(display, f"cannot read: {exc.strerror}"))
        stack.extend(reversed(subdirs))


def _symlink_problem(path: Path, real_root: Path) -> str | None:
    """Why the symlink ``path`` is not followed, or None when it stays inside the tree."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken symlink or symlink loop"
    if target == real_root or real_root in target.parents:
        return None
    return "symlink leading out of the tree"
