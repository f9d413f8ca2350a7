"""The Cilium release of a tree: its effective values, and the chart defaults behind unset keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cilium_lint.cilium.chart_facts import ChartDefault, ChartVersionFacts, facts_for
from cilium_lint.document import Location
from cilium_lint.flux.helmrelease import Release
from cilium_lint.flux.text import is_unknown
from cilium_lint.sourcemap import Path

CILIUM_CHART = "cilium"


@dataclass(frozen=True, slots=True)
class Setting:
    """One Helm key as the chart will see it."""

    path: Path
    written: bool  # set by some values source
    value: Any  # what is written, or the chart default's effective value when unset
    default: ChartDefault | None  # the chart default (None: the chart has none for this key)
    location: Location
    # An unreadable values source might set it: it is unset here, or only written by a source
    # that an unreadable one is merged over.
    unknown: bool

    @property
    def variable(self) -> bool:
        """Written as a Flux variable this run cannot resolve (``flux/text.py``: unknown)."""
        return self.written and is_unknown(self.value)

    @property
    def hidden(self) -> bool:
        """Its final value is not known here: an unreadable source or an unknown variable."""
        return self.unknown or self.variable

    @property
    def key(self) -> str:
        return ".".join(str(p) for p in self.path)


@dataclass(eq=False)
class CiliumRelease:
    release: Release
    chart: ChartVersionFacts

    @property
    def identity(self) -> str:
        return self.release.obj.ref

    @property
    def version_label(self) -> str:
        """The chart version as the tree states it, or the one assumed when it states none."""
        if self.release.chart_version:
            return self.release.chart_version.lstrip("v")
        return f"{self.chart.version} (assumed: the tree pins no chart version)"

    def setting(self, path: Path) -> Setting:
        values = self.release.values
        written, value = values.get(path)
        default = self.chart.default(tuple(str(p) for p in path))
        if not written and default is not None:
            value = default.effective
        return Setting(
            path=path,
            written=written,
            value=value,
            default=default,
            location=values.locate(path),
            unknown=bool(values.unknown_sources)
            and (not written or values.overridden(tuple(str(p) for p in path))),
        )


def cilium_releases(releases: list[Release]) -> list[CiliumRelease]:
    return [
        CiliumRelease(release, facts_for(release.chart_version))
        for release in releases
        if release.chart == CILIUM_CHART
    ]
