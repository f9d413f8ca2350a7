"""Small helpers the LB-IPAM, Service and L2 rules share: naming things in messages, versions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cilium_lint.cilium.cluster import release_for
from cilium_lint.cilium.release import CiliumRelease
from cilium_lint.document import Location
from cilium_lint.sourcemap import Path
from cilium_lint.tree import KObject

if TYPE_CHECKING:
    from cilium_lint.facts import Facts


def key_location(obj: KObject, *path: str | int) -> Location:
    """The key of ``path`` when written (a finding about a whole field points at its name)."""
    return obj.doc.locate_key(path)


def release_of(facts: Facts, path: str) -> CiliumRelease | None:
    return release_for(facts.cilium, path)


def chart_minor(release: CiliumRelease) -> tuple[int, int]:
    """Major and minor of the chart version the facts were chosen for (e.g. (1, 19))."""
    parts = re.findall(r"\d+", release.chart.version)
    return (int(parts[0]), int(parts[1])) if len(parts) >= 2 else (0, 0)


def pinned_minor(release: CiliumRelease) -> tuple[int, int] | None:
    """Major and minor of the version the tree pins, when it is a plain version."""
    written = release.release.chart_version
    match = re.fullmatch(r"\s*v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?\s*", written or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def values_key_location(release: CiliumRelease, path: Path) -> Location:
    """Where a values key is written (its key, not its value), else its nearest written parent."""
    values = release.release.values
    origin = values.provenance(path)
    if origin is not None and values.written_prefix(path) == path:
        return origin.document.locate_key(origin.path)
    return values.locate(path)
