"""Which Cilium release governs an object: the cluster a manifest belongs to.

A repository may hold several clusters, each with its own Cilium HelmRelease. Flux gives no
link from a Service or a pool to the Cilium release of its cluster, but GitOps layouts keep a
cluster's files under one folder, so the release written nearest to the object (longest common
folder) is taken. A tie means the object is shared between clusters: no single answer.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from cilium_lint.cilium.release import CiliumRelease


def _folders(path: str) -> list[str]:
    folder = posixpath.dirname(path)
    return [part for part in folder.split("/") if part and part != "."]


def _shared(a: list[str], b: list[str]) -> int:
    count = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        count += 1
    return count


def release_for(releases: Sequence[CiliumRelease], path: str) -> CiliumRelease | None:
    """The release for an object written in ``path``; None when there is none or no single one."""
    if len(releases) <= 1:
        return releases[0] if releases else None
    here = _folders(path)
    scored = sorted(
        ((_shared(here, _folders(r.release.obj.doc.path)), i) for i, r in enumerate(releases)),
        reverse=True,
    )
    if scored[0][0] == scored[1][0]:
        return None
    return releases[scored[0][1]]
