"""Tree values in finding messages: escaped and bounded at the source (cilium_lint/quoting.py)."""

from __future__ import annotations

import json
from pathlib import Path

from clitools import run_cli

from cilium_lint.cilium.expect import show
from cilium_lint.quoting import ELLIPSIS, LIMIT, clean, quote


def test_control_and_invisible_characters_are_escaped() -> None:
    assert clean("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert clean("\x1b[31mred") == "\\x1b[31mred"
    assert clean("evil\u202etxt.yaml") == "evil\\u202etxt.yaml"
    assert clean("zero\u200bwidth\u2028line") == "zero\\u200bwidth\\u2028line"
    assert clean("\x7f\x85") == "\\x7f\\x85"
    assert clean("plain-value ünïcode ok") == "plain-value ünïcode ok"


def test_long_values_are_cut_with_an_ellipsis() -> None:
    assert clean("x" * LIMIT) == "x" * LIMIT
    cut = clean("x" * (LIMIT + 1))
    assert len(cut) == LIMIT and cut.endswith(ELLIPSIS)
    assert len(clean("y" * 10_000_000)) == LIMIT
    # An escape is never cut in half: it is kept whole or replaced by the ellipsis.
    cut = clean("a" * (LIMIT - 3) + "\n" * 5)
    assert cut == "a" * (LIMIT - 3) + "\\n" + ELLIPSIS or cut == "a" * (LIMIT - 3) + ELLIPSIS
    assert len(cut) <= LIMIT


def test_quote_wraps_and_non_strings_are_shown() -> None:
    assert quote("name") == "'name'"
    assert quote(42) == "'42'"
    assert quote("a\nb", limit=5) == "'a\\nb'"


def test_show_renders_tree_values_bounded_and_escaped() -> None:
    assert show("native") == "native"
    assert show("true") == '"true"'
    assert show("\x1b]8;;evil\x07") == "\\x1b]8;;evil\\x07"
    assert len(show(list(range(100_000)))) == LIMIT


RELEASE = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: cilium
  namespace: kube-system
spec:
  url: oci://quay.io/cilium/charts/cilium
  ref:
    tag: 1.19.6
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cilium
  namespace: kube-system
spec:
  chartRef:
    kind: OCIRepository
    name: cilium
  values:
    routingMode: "tunnel\\n::error file=x::forged\\u202e{padding}"
"""


def test_a_policy_value_message_quotes_the_value_bounded_and_escaped(tmp_path: Path) -> None:
    (tmp_path / "release.yaml").write_text(RELEASE.format(padding="z" * 5000))
    result = run_cli(".", "--format", "json", "--select", "CL102", "--exit-zero", cwd=tmp_path)
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["location"]["line"]) for f in findings] == [("CL102", 21)]
    message = findings[0]["message"]
    assert "\n" not in message and "\u202e" not in message
    assert "\\n::error file=x::forged" in message
    assert len(message) < 300 and ELLIPSIS in message


def test_a_duplicate_key_message_escapes_the_key() -> None:
    from cilium_lint.yamlload import parse_yaml

    parsed = parse_yaml(b'"a\\u001b[2J": 1\n"a\\u001b[2J": 2\n', "x.yaml")
    assert [p.rule_id for p in parsed.problems] == ["CL002"]
    assert "'a\\x1b[2J'" in parsed.problems[0].message
    assert "\x1b" not in parsed.problems[0].message
