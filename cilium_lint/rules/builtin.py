"""The built-in rule pack, registered through the ``cilium_lint.rules`` entry point."""

from __future__ import annotations

from cilium_lint.resources import data_dir
from cilium_lint.rules.addresses import address_rules
from cilium_lint.rules.announcements import announcement_rules
from cilium_lint.rules.api import Rule
from cilium_lint.rules.bootstrap import bootstrap_rules
from cilium_lint.rules.chart_keys import chart_key_rules
from cilium_lint.rules.declarative import load_rule_dir
from cilium_lint.rules.dependencies import dependency_rules
from cilium_lint.rules.graph import graph_rules
from cilium_lint.rules.hidden_values import hidden_value_rules
from cilium_lint.rules.patch_targets import pattern_rules
from cilium_lint.rules.pools import pool_rules
from cilium_lint.rules.reading import reading_rules
from cilium_lint.rules.services import service_rules
from cilium_lint.rules.suppression import suppression_rules
from cilium_lint.rules.unmodelled import unmodelled_rules
from cilium_lint.rules.values import CiliumReleaseMissing, CiliumValue

BUILTIN_PACK = "builtin"


def builtin_rules() -> list[Rule]:
    rules: list[object] = [
        *reading_rules(),
        *graph_rules(),
        *pattern_rules(),
        *hidden_value_rules(),
        *unmodelled_rules(),
        *bootstrap_rules(),
        *suppression_rules(),
        CiliumReleaseMissing(),
        *load_rule_dir(data_dir("rules"), BUILTIN_PACK, "rules"),
        CiliumValue(),
        *dependency_rules(),
        *chart_key_rules(),
        *address_rules(),
        *pool_rules(),
        *service_rules(),
        *announcement_rules(),
    ]
    return [r for r in rules if isinstance(r, Rule)]
