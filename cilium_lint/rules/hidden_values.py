"""CL018: say which policy keys of the Cilium release could not be checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cilium_lint.rules.api import Hit, NoParams, Related, RuleMeta, Severity

if TYPE_CHECKING:
    from cilium_lint.cilium.hidden import HiddenValues
    from cilium_lint.facts import Facts

_SHOWN_KEYS = 20  # a message names at most this many keys; the rest are counted


def _keys(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOWN_KEYS])
    more = len(keys) - _SHOWN_KEYS
    return shown + (f" and {more} more" if more > 0 else "")


class ValuesHidden:
    params = NoParams
    meta = RuleMeta(
        id="CL018",
        name="values-hidden",
        summary=(
            "Every policy key of the Cilium release can be checked: none is hidden by an "
            "unreadable valuesFrom source or an unknown Flux variable (reported once per release)."
        ),
        rationale=(
            "A key that a SOPS-encrypted Secret (or a ConfigMap or Secret outside the linted "
            "tree) may set, or that holds a `${VAR}` whose value cannot be read here, is not "
            "checked by CL101-CL109: its final value is unknown, and guessing would give false "
            "errors. Helm merges `valuesFrom` in order and inline `values` last, so a key is "
            "hidden when it is unset, or only written by a source merged before the unreadable "
            "one. One encrypted Secret added to the release would otherwise make every unset "
            "key pass in silence. This finding names the keys that went unchecked. It is a "
            "warning, not an error: encrypted values are a legitimate practice and nothing is "
            "known to be wrong, but a reviewer must see what the run could not vouch for (set "
            "`rules: {CL018: {severity: error}}` to fail on it)."
        ),
        fix=(
            "Write the policy keys in the release's inline `values` (they win over every "
            "`valuesFrom` source) or in a plain ConfigMap in the tree; keep only secrets in "
            "the encrypted Secret. For a variable, define it in a ConfigMap the linted tree "
            "holds. Or accept the gap and ignore this rule."
        ),
        severity=Severity.WARNING,
        example_fail=(
            "valuesFrom:\n  - kind: Secret          # SOPS-encrypted\n    name: cilium-values\n"
            "values:\n  routingMode: native   # every other policy key is hidden\n"
        ),
        example_pass=(
            "valuesFrom:\n  - kind: Secret          # SOPS-encrypted: only secrets\n"
            "    name: cilium-values\nvalues:\n  kubeProxyReplacement: true\n"
            "  routingMode: native\n  # ... every key of the policy\n"
        ),
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for hidden in facts.hidden:
            yield _hit(hidden)


def _hit(hidden: HiddenValues) -> Hit:
    release = hidden.release
    values = release.release.values
    placed = [s for s in hidden.sources if s.location is not None]
    location = placed[0].location if placed and hidden.by_source else values.fallback
    assert location is not None
    parts: list[str] = []
    related: list[Related] = []
    if hidden.by_source:
        labels = ", ".join(dict.fromkeys(s.label for s in hidden.sources))
        parts.append(
            f"{_keys(list(hidden.by_source))} may be set by {labels}, which cannot be read here "
            "(encrypted or not in the linted tree)"
        )
        related += [
            Related(s.location, f"{s.label} cannot be read here")
            for s in placed[1:]
            if s.location is not None
        ]
    if hidden.by_variable:
        keys = [key for key, _ in hidden.by_variable]
        verb = "holds" if len(keys) == 1 else "hold"
        parts.append(f"{_keys(keys)} {verb} a Flux variable whose value is unknown here (CL013)")
        related += [
            Related(where, f"{key} holds an unknown variable")
            for key, where in hidden.by_variable
            if where != location
        ]
    every = sorted({*hidden.by_source, *(key for key, _ in hidden.by_variable)})
    return Hit(
        f"policy keys of {release.identity} not checked: {'; '.join(parts)}",
        location,
        identity=f"{release.identity}#values-hidden#{','.join(every)}",
        related=tuple(related),
    )


def hidden_value_rules() -> list[object]:
    return [ValuesHidden()]
