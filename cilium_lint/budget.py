"""The work one run may spend resolving what Flux applies, so that a tree made to explode
(kustomize diamonds, JSON 6902 ``copy`` chains, alias bombs in variables, huge substitutions)
ends as a finding instead of exhausting time or memory.

Work is measured in bytes of data: the length of its ``repr`` (one pass in C) plus
:data:`CONTAINER_BYTES` for each mapping or list in it, which is what a copy of it costs in
memory. Parse already bounds each written document (CL005); this bounds what builds, patches
and substitution make of them.

A *unit* is one kustomize build of a folder, or what one Flux Kustomization applies. Its output
(the documents it emits, each at its size) may reach :data:`UNIT_BYTES`. The run as a whole
may make :data:`TOTAL_BYTES` of new data (patched copies, substituted text, re-read values),
plus :data:`REFERENCE_BYTES` for every document a unit passes on, as a reference to a shared
document costs little however large the document. A unit that goes over stops, its output is
dropped, and the overrun is kept for CL016.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cilium_lint.document import Document, Location
from cilium_lint.sourcemap import Path

__all__ = [
    "CONTAINER_BYTES",
    "NODE_BYTES",
    "REFERENCE_BYTES",
    "TARGET_CHECK_BYTES",
    "TOTAL_BYTES",
    "UNIT_BYTES",
    "BudgetExceeded",
    "Overrun",
    "WorkBudget",
    "weight",
]

# Far above real trees (see the tests' measurements): the benchmark tree of 13,000 files weighs
# about 30 MiB in all, a folder of vendored CRDs a few MiB, and a Kubernetes object is at most
# 1.5 MiB in etcd. Low enough that a tree made to reach them stays within a GiB of memory.
UNIT_BYTES = 64 * 1024 * 1024
TOTAL_BYTES = 256 * 1024 * 1024
CONTAINER_BYTES = 64
REFERENCE_BYTES = 64
# Matching one patch's target against one document: no data, but work all the same (a million
# documents times thousands of patches).
TARGET_CHECK_BYTES = 16
# A value read again from substituted text: each node (aliases expanded) counts this much.
NODE_BYTES = 16


def weight(text: str) -> int:
    """The bytes data stands for, from its ``repr``: every ``{`` or ``[`` counts as a container
    (one inside a string too: an overestimate only)."""
    return len(text) + CONTAINER_BYTES * (text.count("{") + text.count("["))


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MiB"


class BudgetExceeded(Exception):
    """A unit of work went over its share, or the run's budget is used up.

    ``where``: the patch or value that made it go over, when the code that raised knows it
    better than the unit does (the unit's own location otherwise).
    """

    def __init__(self, reason: str, where: Location | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where
        self.path: Path | None = None  # the place in a document's data, when that is known


@dataclass(slots=True)
class Overrun:
    """One unit that stopped: where, what it is, and why."""

    location: Location
    unit: str  # "the build of apps/kustomization.yaml", "Kustomization/flux-system/apps"
    reason: str
    skipped_after: int = 0  # units not run because the run's budget was used up here

    @property
    def message(self) -> str:
        text = (
            f"{self.unit} stopped: {self.reason}; what it applies is left out of every check. "
            "No real tree comes near this limit: look for a kustomize diamond (the same folder "
            "reached by several paths), JSON 6902 copy chains or aliases in variable values"
        )
        if self.skipped_after:
            text += (
                f" ({self.skipped_after:,} later unit(s) were not resolved either, the run's "
                "budget being used up)"
            )
        return text


class WorkBudget:
    """Counts the bytes of data builds, patches and substitution produce in one run."""

    def __init__(self, unit_bytes: int = UNIT_BYTES, total_bytes: int = TOTAL_BYTES) -> None:
        self.unit_bytes = unit_bytes
        self.total_bytes = total_bytes
        self.spent = 0
        self.overruns: list[Overrun] = []
        self._units: list[int] = []  # bytes spent by each open unit, innermost last
        self._exhausted: Overrun | None = None  # the unit that used the run's budget up
        # id -> (the object, kept alive so that the id stays its own; its size; whether its
        # text holds a "$", which substitution asks of every document).
        self._sizes: dict[int, tuple[object, int, bool]] = {}

    @property
    def exhausted(self) -> bool:
        return self.spent > self.total_bytes

    def room(self) -> int:
        """Bytes the current unit may still produce."""
        left = self.total_bytes - self.spent
        if self._units:
            left = min(left, self.unit_bytes - self._units[-1])
        return max(left, 0)

    def charge(self, size: int, where: Location | None = None) -> None:
        """Count ``size`` bytes of new data; raises :class:`BudgetExceeded` past a limit."""
        self._count(size, size, where)

    def document(self, doc: Document, where: Location | None = None) -> None:
        """One more document in the current unit's output."""
        self._count(self.size(doc.data, type(doc) is Document), REFERENCE_BYTES, where)

    def copy(self, doc: Document, where: Location | None = None) -> None:
        """A copy of ``doc``'s data made (to patch or substitute it): new data."""
        self.charge(self.size(doc.data, type(doc) is Document), where)

    def _count(self, size: int, run_size: int, where: Location | None) -> None:
        self.spent += run_size
        if self._units:
            self._units[-1] += size
            if self._units[-1] > self.unit_bytes:
                raise BudgetExceeded(
                    f"it would produce more than {_mib(self.unit_bytes)} of data", where
                )
        if self.spent > self.total_bytes:
            raise BudgetExceeded(
                f"the run's work budget ({_mib(self.total_bytes)} of data) is used up", where
            )

    def size(self, data: Any, keep: bool = True) -> int:
        """The bytes ``data`` stands for. ``keep``: remember it (and keep ``data`` alive), for
        what lives as long as the run anyway (written documents, patches)."""
        return self._measure(data, keep)[1]

    def holds_dollar(self, data: Any, keep: bool = True) -> bool:
        """Whether a string of ``data`` (keys included) holds a ``$``; measured with its size."""
        return self._measure(data, keep)[2]

    def _measure(self, data: Any, keep: bool) -> tuple[object, int, bool]:
        key = id(data)
        known = self._sizes.get(key)
        if known is None:
            text = repr(data)
            known = (data, weight(text), "$" in text)
            if keep:
                self._sizes[key] = known
        return known

    @contextmanager
    def unit(self) -> Iterator[None]:
        """A unit of work: its charges count against its own share and the run's."""
        if self.exhausted:
            raise BudgetExceeded("not resolved: the run's work budget is used up")
        self._units.append(0)
        try:
            yield
        finally:
            self._units.pop()

    def stopped(self, location: Location, unit: str, error: BudgetExceeded) -> None:
        """Keep an overrun for CL016: once per place; after the run's budget is used up, the
        unit that used it up counts the others instead of each having its own finding."""
        if self._exhausted is not None:
            self._exhausted.skipped_after += 1
            return
        where = error.where or location
        if any(o.location == where and o.unit == unit for o in self.overruns):
            return
        overrun = Overrun(where, unit, error.reason)
        self.overruns.append(overrun)
        if self.exhausted:
            self._exhausted = overrun
