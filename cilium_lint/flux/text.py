"""How a ``${...}`` left in applied data is to be read.

After the resolve stage, a string that still holds ``${`` is *unknown*: its value is decided
by something this run cannot see (a SOPS-encrypted Secret, a ConfigMap or Secret outside the
linted tree, a Kustomization applied from outside the tree, or no Flux at all in the tree).
Checks skip it rather than judge the text.
"""

from __future__ import annotations


def is_unknown(value: object) -> bool:
    """A string whose final value this run cannot know."""
    return isinstance(value, str) and "${" in value


__all__ = ["is_unknown"]
