"""Globs compiled into one RE2 matcher mean exactly what fnmatch means, one by one."""

from __future__ import annotations

import fnmatch

from hypothesis import given, settings
from hypothesis import strategies as st

from cilium_lint.discover import _excluded_by, exclusion
from cilium_lint.globs import GlobTable, glob_matcher

GLOBS = st.text(alphabet="ab/-!]^[*?\\.z\n", max_size=8)
NAMES = st.text(alphabet="ab/-!]^[z.\\\n", max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(GLOBS, max_size=4), st.lists(NAMES, max_size=6))
def test_one_matcher_answers_as_every_glob_would(globs: list[str], names: list[str]) -> None:
    matcher = glob_matcher(globs)
    for name in names:
        assert matcher(name) == any(fnmatch.fnmatchcase(name, g) for g in globs), (globs, name)


@settings(max_examples=300, deadline=None)
@given(st.lists(GLOBS, max_size=4), st.lists(NAMES, max_size=6))
def test_exclusion_answers_as_every_pattern_would(patterns: list[str], names: list[str]) -> None:
    excluded = exclusion(patterns)
    for name in names:
        assert excluded(name) == any(_excluded_by(name, p) for p in patterns), (patterns, name)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(GLOBS, st.sampled_from(["CL1", "CL2"])), max_size=5), NAMES)
def test_table_gives_the_values_of_every_matching_glob(
    entries: list[tuple[str, str]], name: str
) -> None:
    wanted = {value for glob, value in entries if fnmatch.fnmatchcase(name, glob)}
    assert set(GlobTable(entries).values(name)) == wanted


def test_thousands_of_globs_are_one_matcher() -> None:
    excluded = exclusion([f"generated/part-{i}/**" for i in range(5000)] + ["*.bak"])
    assert excluded("generated/part-4999/x/y.yaml")
    assert excluded("apps/old.bak/config.yaml")
    assert not excluded("generated/part-5000/x.yaml")
