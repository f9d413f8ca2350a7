"""Where a file reference written in the tree may lead: a file of the repository, or nowhere.

The linted tree may come from a hostile pull request, so a name it writes (a generator's
``files:``, a values file, a ``resources`` entry) is never opened as written: it must be
relative, stay inside the repository root once normalised, and still be inside it after every
symlink on the way is resolved. Anything else is refused with the reason, and is never read.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_DRIVE = re.compile(r"^[A-Za-z]:")


def repository_root(start: Path) -> Path | None:
    """The nearest folder holding ``.git`` at or above ``start``."""
    directory = (start if start.is_dir() else start.parent).absolute()
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _norm(path: str) -> str:
    return posixpath.normpath(path.replace(os.sep, "/"))


def inside(path: str, folder: str) -> bool:
    """Whether the normalised absolute ``path`` is ``folder`` or below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def is_absolute(reference: str) -> bool:
    """Absolute on any system a tree may be written for (``/x``, ``\\x``, ``C:x``)."""
    return reference.startswith(("/", "\\")) or bool(_DRIVE.match(reference))


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a reference is not followed; says nothing about what it points at."""

    reason: str


ABSOLUTE = Refused("it is an absolute path")
LEAVES = Refused("it leads out of the repository")
SYMLINK_OUT = Refused("a symlink on its way leads out of the repository")
UNUSABLE = Refused("it is not a usable file name")


class RepositoryRoots:
    """The repository root of each linted path: the nearest folder with ``.git`` at or above
    it, else the linted folder itself (a tree that is not a git checkout)."""

    def __init__(self, linted: Iterable[Path]) -> None:
        roots: list[str] = []
        for path in linted:
            found = repository_root(path)
            if found is None:
                absolute = path.absolute()
                found = absolute if absolute.is_dir() else absolute.parent
            roots.append(_norm(str(found)))
        # Innermost first, so a file is judged against the repository it belongs to.
        self.roots = sorted(set(roots), key=len, reverse=True)
        self._real: dict[str, str] = {}
        # (reference, folder) -> answer: a folder's kustomization is read by several stages.
        self._resolved: dict[tuple[str, str], str | Refused] = {}

    def root_of(self, absolute: str) -> str | None:
        """The root holding the normalised absolute path ``absolute``."""
        for root in self.roots:
            if inside(absolute, root):
                return root
        return None

    def _real_root(self, root: str) -> str:
        known = self._real.get(root)
        if known is None:
            known = self._real[root] = _norm(os.path.realpath(root))
        return known

    def resolve(self, reference: str, folder: str) -> str | Refused:
        """The real path of ``reference`` written in ``folder`` (absolute), or why not.

        The path returned has every symlink resolved, so opening it cannot leave the
        repository through a link the check did not see.
        """
        key = (reference, folder)
        known = self._resolved.get(key)
        if known is None:
            known = self._resolved[key] = self._resolve(reference, folder)
        return known

    def _resolve(self, reference: str, folder: str) -> str | Refused:
        if not reference or "\x00" in reference:
            return UNUSABLE
        if is_absolute(reference):
            return ABSOLUTE
        base = _norm(folder)
        root = self.root_of(base)
        target = _norm(posixpath.join(base, reference))
        if root is None or not inside(target, root):
            return LEAVES
        return self._real_inside(target, root)

    def contains(self, absolute: str) -> bool:
        """Whether the absolute path ``absolute`` is inside a root, symlinks resolved."""
        target = _norm(absolute)
        root = self.root_of(target)
        return root is not None and not isinstance(self._real_inside(target, root), Refused)

    def _real_inside(self, target: str, root: str) -> str | Refused:
        try:
            real = _norm(os.path.realpath(target))
        except (OSError, ValueError):
            return UNUSABLE
        if not inside(real, self._real_root(root)):
            return SYMLINK_OUT
        return real

    def leaves_root(self, reference: str) -> Refused | None:
        """Why a path relative to the repository root (Flux's ``spec.path``) leaves it; Flux
        reads a leading ``/`` as the root, so only ``..`` can."""
        relative = _norm(reference.strip().lstrip("/") or ".")
        if relative == ".." or relative.startswith("../"):
            return LEAVES
        return None


__all__ = [
    "ABSOLUTE",
    "LEAVES",
    "SYMLINK_OUT",
    "Refused",
    "RepositoryRoots",
    "inside",
    "is_absolute",
    "repository_root",
]
