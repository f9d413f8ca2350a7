"""How a ``${...}`` left in applied data is to be read.

After the resolve stage, a string that still holds ``${`` is one of two things:

* *unknown*: its value is decided by something this run cannot see (a SOPS-encrypted Secret, a
  ConfigMap or Secret outside the linted tree, a Kustomization applied from outside the tree,
  or no Flux at all in the tree). Checks skip it. This is the default for any plain ``str``.
* *literal*: Flux is known to apply it as written (escaped as ``$${VAR}``, substitution
  disabled on the resource, or a Kustomization without ``postBuild``), so the object really
  gets the text ``${VAR}``. The substitution step marks such strings as :class:`LiteralText`,
  which says why.
"""

from __future__ import annotations

from typing import Any


class LiteralText(str):
    """A string holding ``${`` that Flux applies as written; ``reason`` says why."""

    reason: str

    def __new__(cls, text: str, reason: str) -> LiteralText:
        made = super().__new__(cls, text)
        made.reason = reason
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (LiteralText, (str(self), self.reason))

    def __copy__(self) -> LiteralText:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> LiteralText:
        return self


def literal_reason(value: object) -> str | None:
    """Why ``value`` reaches the cluster with ``${`` as written (None: it does not, or it is
    not known)."""
    return value.reason if isinstance(value, LiteralText) else None


def is_unknown(value: object) -> bool:
    """A string whose final value this run cannot know (a ``${`` not known to be literal)."""
    return isinstance(value, str) and "${" in value and not isinstance(value, LiteralText)


__all__ = ["LiteralText", "is_unknown", "literal_reason"]
