"""Example plug-in: HelmReleases must reconcile at least as often as a configurable interval."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cilium_lint.rules.api import Hit, RuleMeta, Severity

_UNITS = {"h": 3600, "m": 60, "s": 1}


def _seconds(text: str) -> int | None:
    parts = re.findall(r"(\d+)([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(int(n) * _UNITS[u] for n, u in parts)


class IntervalParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    max_interval: str = Field("1h", alias="max-interval", pattern=r"^(\d+[hms])+$")


class ReleaseInterval:
    params = IntervalParams
    meta = RuleMeta(
        id="ACME001",
        name="helmrelease-interval",
        summary="HelmReleases reconcile at least every max-interval (1h by default).",
        rationale="Drift is corrected no later than the interval.",
        fix="Lower spec.interval.",
        severity=Severity.WARNING,
        pack="example",
    )

    def check(self, facts: Any, params: BaseModel) -> Iterator[Hit]:
        assert isinstance(params, IntervalParams)
        limit = _seconds(params.max_interval) or 3600
        for release in facts.releases:
            interval = release.obj.get("spec", "interval")
            seconds = _seconds(interval) if isinstance(interval, str) else None
            if seconds is not None and seconds > limit:
                yield Hit(
                    f"spec.interval is {interval}; expected at most {params.max_interval}",
                    release.obj.locate("spec", "interval"),
                    f"{release.obj.ref}#/spec/interval",
                )


def rules() -> list[object]:
    return [ReleaseInterval()]
