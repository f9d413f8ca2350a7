"""Address ranges as integer intervals, looked up in logarithmic time.

A hostile tree can hold tens of thousands of pool blocks and requested IPs: every question
"which block holds this IP" or "which earlier block overlaps this one" is answered here by
sorting once and bisecting, never by comparing every pair.

Both IP families share one number line: an IPv6 address is shifted past every IPv4 one
(:func:`key`), so ranges of different families never meet.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Sequence
from typing import Generic, TypeVar

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

T = TypeVar("T")

_V6 = 1 << 32  # IPv4 keys are below this, IPv6 keys from it on


def key(ip: IPAddress) -> int:
    """``ip`` as a point of the shared number line."""
    return int(ip) if ip.version == 4 else _V6 + int(ip)


def network_span(network: IPNetwork) -> tuple[int, int]:
    return key(network.network_address), key(network.broadcast_address)


class Union:
    """The union of intervals (inclusive ends), for membership tests."""

    __slots__ = ("_highs", "_lows")

    def __init__(self, intervals: Iterable[tuple[int, int]]) -> None:
        lows: list[int] = []
        highs: list[int] = []
        for low, high in sorted(i for i in intervals if i[0] <= i[1]):
            if highs and low <= highs[-1] + 1:
                highs[-1] = max(highs[-1], high)
            else:
                lows.append(low)
                highs.append(high)
        self._lows, self._highs = lows, highs

    def __contains__(self, point: int) -> bool:
        index = bisect_right(self._lows, point) - 1
        return index >= 0 and point <= self._highs[index]

    def __bool__(self) -> bool:
        return bool(self._lows)


class Disjoint:
    """Intervals each of which lies inside or outside every other (the blocks of CIDRs):
    ``within(low, high)`` says whether one of them holds the whole of ``[low, high]``."""

    __slots__ = ("_highs", "_lows")

    def __init__(self, intervals: Iterable[tuple[int, int]]) -> None:
        lows: list[int] = []
        highs: list[int] = []
        # Widest first at each start: a nested interval is dropped, only outermost ones stay.
        for low, high in sorted(intervals, key=lambda i: (i[0], -i[1])):
            if highs and high <= highs[-1]:
                continue
            lows.append(low)
            highs.append(high)
        self._lows, self._highs = lows, highs

    def within(self, low: int, high: int) -> bool:
        index = bisect_right(self._lows, low) - 1
        return index >= 0 and high <= self._highs[index]


class FirstCover(Generic[T]):
    """For a point, the payload of the first interval (in the given order) that holds it."""

    __slots__ = ("_payloads", "_starts")

    def __init__(self, intervals: Sequence[tuple[int, int, T]]) -> None:
        # Elementary segments between every start and every end + 1; each is painted by the
        # first interval that reaches it, and skipped over once painted (a union-find "next
        # unpainted segment"), so the whole painting is near linear.
        starts = sorted(
            {low for low, high, _ in intervals if low <= high}
            | {high + 1 for low, high, _ in intervals if low <= high}
        )
        payloads: list[T | None] = [None] * len(starts)
        following = list(range(len(starts) + 1))

        def unpainted(index: int) -> int:
            root = index
            while following[root] != root:
                root = following[root]
            while following[index] != root:  # path compression
                following[index], index = root, following[index]
            return root

        position = {value: index for index, value in enumerate(starts)}
        for low, high, payload in intervals:
            if low > high:
                continue
            index, end = unpainted(position[low]), position[high + 1]
            while index < end:
                payloads[index] = payload
                following[index] = index + 1
                index = unpainted(index + 1)
        self._starts, self._payloads = starts, payloads

    def get(self, point: int) -> T | None:
        index = bisect_right(self._starts, point) - 1
        return self._payloads[index] if index >= 0 else None


class _Remaining:
    """Intervals not yet taken, to find those overlapping a range (and take them out).

    A segment tree over the intervals sorted by start, each node holding the highest end below
    it: those that start at or before ``high`` form a prefix, and one of them ending at or
    after ``low`` is found by descending where the highest end is large enough.
    """

    def __init__(self, members: list[tuple[int, int, int]]) -> None:
        members.sort()
        self._starts = [low for low, _, _ in members]
        self._ids = [ident for _, _, ident in members]
        self._where = {ident: place for place, (_, _, ident) in enumerate(members)}
        size = 1
        while size < max(1, len(members)):
            size *= 2
        self._size = size
        tree = [-1] * (2 * size)
        for place, (_, high, _) in enumerate(members):
            tree[size + place] = high
        for node in range(size - 1, 0, -1):
            tree[node] = max(tree[2 * node], tree[2 * node + 1])
        self._tree = tree

    def remove(self, ident: int) -> None:
        place = self._where.get(ident)
        if place is None:
            return
        node = self._size + place
        self._tree[node] = -1
        node //= 2
        while node:
            self._tree[node] = max(self._tree[2 * node], self._tree[2 * node + 1])
            node //= 2

    def take_overlapping(self, low: int, high: int) -> list[int]:
        """Every remaining interval that overlaps ``[low, high]``, taken out."""
        limit = bisect_right(self._starts, high)  # places [0, limit) start at or before high
        found: list[int] = []
        while True:
            place = self._find(1, 0, self._size, limit, low)
            if place is None:
                return found
            ident = self._ids[place]
            found.append(ident)
            self.remove(ident)

    def overlapping(self, low: int, high: int) -> list[int]:
        """Every remaining interval that overlaps ``[low, high]``, left in place."""
        found: list[int] = []
        self._collect(1, 0, self._size, bisect_right(self._starts, high), low, found)
        return found

    def _collect(
        self, node: int, left: int, right: int, limit: int, low: int, found: list[int]
    ) -> None:
        if left >= limit or self._tree[node] < low:
            return
        if node >= self._size:
            found.append(self._ids[node - self._size])
            return
        middle = (left + right) // 2
        self._collect(2 * node, left, middle, limit, low, found)
        self._collect(2 * node + 1, middle, right, limit, low, found)

    def _find(self, node: int, left: int, right: int, limit: int, low: int) -> int | None:
        if left >= limit or self._tree[node] < low:
            return None
        if node >= self._size:
            return node - self._size
        middle = (left + right) // 2
        found = self._find(2 * node, left, middle, limit, low)
        return found if found is not None else self._find(2 * node + 1, middle, right, limit, low)


class Holders(Generic[T]):
    """For a point, the payloads of every interval that holds it, in the given order; the cost
    is logarithmic plus the number found."""

    def __init__(self, intervals: Sequence[tuple[int, int, T]]) -> None:
        self._payloads = [payload for _, _, payload in intervals]
        self._tree = _Remaining(
            [(low, high, n) for n, (low, high, _) in enumerate(intervals) if low <= high]
        )

    def get(self, point: int) -> list[T]:
        return [self._payloads[n] for n in sorted(self._tree.overlapping(point, point))]


def first_overlaps(items: Sequence[tuple[int, int, Hashable | None]]) -> list[int | None]:
    """For each interval ``(low, high, group)``, the position of the first earlier one that
    overlaps it and may meet it, or None. Groups meet when equal or when either is None.

    Each interval is taken out of the search once, by the first one that overlaps it, so the
    cost is O(n log n) however many pairs overlap.
    """
    first: list[int | None] = [None] * len(items)
    # An empty interval (low > high: a block that cannot be read) meets nothing.
    members = [(low, high, i) for i, (low, high, _) in enumerate(items) if low <= high]
    everyone = _Remaining(list(members))
    grouped: dict[Hashable | None, list[tuple[int, int, int]]] = {None: []}
    for low, high, i in members:
        grouped.setdefault(items[i][2], []).append((low, high, i))
    by_group = {group: _Remaining(members) for group, members in grouped.items()}
    for position, (low, high, group) in enumerate(items):
        # Later intervals only: this one and every earlier one are already out.
        everyone.remove(position)
        if low > high:
            continue
        by_group[group].remove(position)
        searched = [everyone] if group is None else [by_group[group], by_group[None]]
        for remaining in searched:
            for taken in remaining.take_overlapping(low, high):
                first[taken] = position
                everyone.remove(taken)
                by_group[items[taken][2]].remove(taken)
    return first
