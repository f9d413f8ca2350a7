"""L2 announcement policies: Go regex acceptance and which devices an interfaces regex reaches."""

from __future__ import annotations

import pytest

from cilium_lint.lbipam.l2 import candidates, reachable
from cilium_lint.patterns import go_pattern


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        (r"^bond[0-9]+$", True),
        (r"^eth\d+\z", True),  # \z is Go's end of text; Python spells it \Z
        (r"^bond[[:digit:]]+$", True),  # POSIX class inside brackets, as Go accepts it
        (r"^bond(?!0)", False),  # lookahead: RE2 has none
        (r"^(?<=x)bond", False),
        (r"(bond)\1", False),  # backreference
        (r"^bond[0-9+$", False),  # unterminated class
        (r"eth0++", False),  # possessive quantifier
        (r"\++", True),  # an escaped plus, repeated
        (r"^eth\Z", False),  # Python's end of text; Go has only \z
        (r"^eth\C", False),  # any byte: RE2 has it, Go does not
        (r"^(?P<nic>eth)[0-9]$", True),
        ("e" * 1001, False),  # longer than any real pattern
    ],
)
def test_go_regex_acceptance(text: str, valid: bool) -> None:
    compiled = go_pattern(text)
    assert compiled.valid is valid
    assert (compiled.error is None) is valid


def test_prefix_entries_stand_for_typical_names() -> None:
    names = candidates("bond+")
    assert {"bond", "bond0", "bond1", "bond15", "bond0.100"} <= set(names)
    assert candidates("eth0") == ["eth0"]


def test_names_spelled_in_the_regex_count_when_the_prefix_selects_them() -> None:
    assert "bond7.42" in candidates("bond+", r"^bond7\.42$")
    assert "eth7" not in candidates("bond+", r"^eth7$")


@pytest.mark.parametrize(
    ("pattern", "devices", "reached"),
    [
        (r"^bond[0-9]+$", ["bond+"], True),
        (r"bond0", ["bond+"], True),  # unanchored: also bond0.100
        (r"^eth[0-9]+$", ["bond+"], False),
        (r"^eth2$", ["eth0", "eth1"], False),
        (r"^eth1$", ["eth0", "eth1"], True),
        (r"^enp3s0$", ["en+"], True),
        (r"^bond10\.200$", ["bond+"], True),
    ],
)
def test_reachable(pattern: str, devices: list[str], reached: bool) -> None:
    assert bool(reachable(go_pattern(pattern), devices)) is reached
