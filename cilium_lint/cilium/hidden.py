"""Policy keys of a Cilium release whose value this run cannot see.

The value rules skip a key whose value may come from an unreadable ``valuesFrom`` source (a
SOPS-encrypted Secret, one outside the tree) or that holds an unknown Flux variable, rather
than guess. Skipping silently would let a pull request hide every unset key behind one
encrypted Secret, so the keys are gathered here, with the facts, for CL018 to name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cilium_lint.cilium.release import CiliumRelease
from cilium_lint.document import Location
from cilium_lint.flux.values import UnknownSource
from cilium_lint.sourcemap import Path


@dataclass(frozen=True, slots=True)
class HiddenValues:
    release: CiliumRelease
    sources: tuple[UnknownSource, ...]  # the values sources that cannot be read
    by_source: tuple[str, ...]  # policy keys one of those sources may set
    by_variable: tuple[tuple[str, Location], ...]  # policy keys holding an unknown variable


def hidden_values(releases: Iterable[CiliumRelease], keys: Iterable[Path]) -> list[HiddenValues]:
    """Per release, the policy ``keys`` (in the given order) whose value is not known here."""
    ordered = list(dict.fromkeys(tuple(str(p) for p in key) for key in keys))
    found: list[HiddenValues] = []
    for release in releases:
        by_source: list[str] = []
        by_variable: list[tuple[str, Location]] = []
        for path in ordered:
            setting = release.setting(path)
            if setting.variable:
                by_variable.append((setting.key, setting.location))
            elif setting.unknown:
                by_source.append(setting.key)
        if by_source or by_variable:
            sources = tuple(release.release.values.unknown_sources)
            found.append(HiddenValues(release, sources, tuple(by_source), tuple(by_variable)))
    return found
