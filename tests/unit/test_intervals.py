"""The interval look-ups give what comparing every pair gives."""

from __future__ import annotations

import ipaddress
import random

from cilium_lint.lbipam import intervals


def _random_intervals(rng: random.Random, count: int) -> list[tuple[int, int]]:
    found = []
    for _ in range(count):
        low = rng.randrange(0, 60)
        found.append((low, low + rng.randrange(-2, 12)))  # some empty (low > high)
    return found


def test_first_overlaps_matches_pairwise() -> None:
    rng = random.Random(7)
    for _ in range(300):
        spans = _random_intervals(rng, rng.randrange(0, 25))
        items = [(low, high, rng.choice([None, "a", "b"])) for low, high in spans]
        expected: list[int | None] = []
        for i, (low, high, group) in enumerate(items):
            match = None
            for j, (other_low, other_high, other_group) in enumerate(items[:i]):
                if group and other_group and group != other_group:
                    continue
                if (
                    low <= high
                    and other_low <= other_high
                    and low <= other_high
                    and other_low <= high
                ):
                    match = j
                    break
            expected.append(match)
        assert intervals.first_overlaps(items) == expected


def test_first_cover_matches_pairwise() -> None:
    rng = random.Random(11)
    for _ in range(300):
        spans = _random_intervals(rng, rng.randrange(0, 15))
        cover = intervals.FirstCover([(low, high, n) for n, (low, high) in enumerate(spans)])
        union = intervals.Union(spans)
        for point in range(-1, 75):
            holding = [n for n, (low, high) in enumerate(spans) if low <= point <= high]
            assert cover.get(point) == (holding[0] if holding else None)
            assert (point in union) == bool(holding)


def test_disjoint_within_one_network() -> None:
    networks = [ipaddress.ip_network(n) for n in ("10.0.0.0/24", "10.0.1.0/24", "10.0.0.0/25")]
    within = intervals.Disjoint(intervals.network_span(n) for n in networks)
    key = intervals.key
    a, b = ipaddress.ip_address("10.0.0.10"), ipaddress.ip_address("10.0.1.10")
    assert within.within(key(a), key(a))
    assert not within.within(key(a), key(b))  # spans two networks: in no single one


def test_families_never_meet() -> None:
    v4 = ipaddress.ip_address("255.255.255.255")
    v6 = ipaddress.ip_address("::")
    assert intervals.key(v4) < intervals.key(v6)


def test_holders_match_pairwise() -> None:
    rng = random.Random(13)
    for _ in range(200):
        spans = _random_intervals(rng, rng.randrange(0, 15))
        holders = intervals.Holders([(low, high, n) for n, (low, high) in enumerate(spans)])
        for point in range(-1, 75):
            expected = [n for n, (low, high) in enumerate(spans) if low <= point <= high]
            assert holders.get(point) == expected
