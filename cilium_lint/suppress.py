"""Inline suppressions: ``# cilium-lint: ignore[CL201] reason`` comments and the
``cilium-lint.io/ignore`` annotation, each with a mandatory reason.

A suppression that has no reason, names an unknown rule or suppresses nothing is itself a
finding, so silencing stays deliberate and never outlives the problem it hid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cilium_lint.document import MARKER, Location
from cilium_lint.sourcemap import Span
from cilium_lint.tree import Tree

ANNOTATION = "cilium-lint.io/ignore"
# The comment must start a line or follow whitespace, so a "#" inside a value is not one.
_COMMENT = re.compile(
    r"(?:^|\s)#\s*cilium-lint:\s*(?P<verb>[a-z-]+)(?P<ids>\[[^\]]*\])?(?P<rest>.*)$"
)
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")


@dataclass(eq=False)
class Suppression:
    rule_ids: tuple[str, ...]
    reason: str
    location: Location  # where the suppression is written
    # Comment: lines it covers; annotation: the object's document span and identity prefix.
    lines: tuple[int, ...] = ()
    span: Span | None = None
    owner: str | None = None
    used: set[str] = field(default_factory=set)

    def covers(
        self, rule_id: str, location: Location, identity: str, related: Iterable[Location] = ()
    ) -> bool:
        """Whether this suppression silences a finding.

        A comment covers a finding reported on its line, or whose value was carried there (a
        ``${VAR}`` use, the other side of a duplicate: ``related``). An annotation covers
        every finding about its object, wherever the finding points (a values file the release
        pulls in, a variable's definition), and findings whose other side is that object.
        """
        if rule_id not in self.rule_ids:
            return False
        places = (location, *related)
        if self.owner is not None:
            if _same_object(self.owner, identity.split("#", 1)[0]):
                return True
            span = self.span
            return span is not None and any(
                p.path == self.location.path and span.line <= p.span.line <= span.end_line
                for p in places
            )
        return any(p.path == self.location.path and p.span.line in self.lines for p in places)


def _same_object(owner: str, other: str) -> bool:
    """``Kind/namespace/name`` or ``Kind/name``; a namespace only one side knows still matches
    (kustomize or Flux may set it after the annotation's file was written)."""
    mine, theirs = owner.split("/"), other.split("/")
    if mine[0] != theirs[0] or mine[-1] != theirs[-1]:
        return False
    return len(mine) < 3 or len(theirs) < 3 or mine[1] == theirs[1]


@dataclass(frozen=True)
class SuppressionProblem:
    rule_id: str  # CL006 invalid, CL007 unused
    message: str
    location: Location
    identity: str


def _comment_suppressions(path: str, text: str) -> Iterable[Suppression | SuppressionProblem]:
    for number, line in enumerate(text.splitlines(), start=1):
        if "cilium-lint:" not in line:
            continue
        match = _COMMENT.search(line)
        if match is None:
            continue
        column = match.start() + (1 if line[match.start()] != "#" else 0) + 1
        location = Location(path, Span(number, column, number, len(line) + 1))
        identity = f"{path}#comment:{line.strip()}"
        if match.group("verb") != "ignore" or match.group("ids") is None:
            yield SuppressionProblem(
                "CL006",
                "malformed suppression; write `# cilium-lint: ignore[CL201] reason`",
                location,
                identity,
            )
            continue
        ids = tuple(p.strip().upper() for p in match.group("ids")[1:-1].split(",") if p.strip())
        # A comment alone on its line covers the next line; at the end of a line, that line.
        own_line = line[: match.start()].strip() == ""
        lines = (number + 1,) if own_line else (number,)
        yield Suppression(ids, match.group("rest").strip(" :-\t"), location, lines=lines)


def _annotation_suppressions(tree: Tree) -> Iterable[Suppression | SuppressionProblem]:
    for obj in tree.objects:
        value = obj.get("metadata", "annotations", ANNOTATION)
        if value is None:
            continue
        location = obj.locate("metadata", "annotations", ANNOTATION)
        identity = f"{obj.ref}#annotation"
        if not isinstance(value, str):
            yield SuppressionProblem(
                "CL006", f'{ANNOTATION} must be a string like "CL201: reason"', location, identity
            )
            continue
        for entry in re.split(r"[;\n]", value):
            if not entry.strip():
                continue
            ids_text, _, reason = entry.partition(":")
            ids = tuple(p.strip().upper() for p in ids_text.split(",") if p.strip())
            yield Suppression(ids, reason.strip(), location, span=obj.doc.span, owner=obj.ref)


def collect(tree: Tree) -> tuple[list[Suppression], list[SuppressionProblem]]:
    suppressions: list[Suppression] = []
    problems: list[SuppressionProblem] = []
    sources: list[Iterable[Suppression | SuppressionProblem]] = [_annotation_suppressions(tree)]
    for path, parsed in tree.files.items():
        # A text that was let go after loading holds no marker (ParsedFile.release_text).
        if parsed.text and MARKER in parsed.text:
            sources.append(_comment_suppressions(path, parsed.text))
    for source in sources:
        for item in source:
            if isinstance(item, SuppressionProblem):
                problems.append(item)
            else:
                suppressions.append(item)
    return suppressions, problems


def validate(
    suppressions: Iterable[Suppression], known_rules: set[str]
) -> list[SuppressionProblem]:
    problems: list[SuppressionProblem] = []
    for item in suppressions:
        identity = f"{item.location.path}#suppression:{','.join(item.rule_ids)}"
        bad = [r for r in item.rule_ids if not _RULE_ID.match(r) or r not in known_rules]
        if not item.rule_ids:
            problems.append(
                SuppressionProblem("CL006", "suppression names no rule", item.location, identity)
            )
        if bad:
            problems.append(
                SuppressionProblem(
                    "CL006",
                    f"suppression names unknown rule {', '.join(bad)} (see `cilium-lint rules`)",
                    item.location,
                    identity,
                )
            )
        if not item.reason:
            problems.append(
                SuppressionProblem(
                    "CL006",
                    f"suppression of {', '.join(item.rule_ids) or 'nothing'} gives no reason; "
                    "say why the finding is acceptable",
                    item.location,
                    identity,
                )
            )
    return problems


def unused(suppressions: Iterable[Suppression], ran: set[str]) -> list[SuppressionProblem]:
    """Suppressions of rules that ran and found nothing to suppress."""
    problems: list[SuppressionProblem] = []
    for item in suppressions:
        idle = [r for r in item.rule_ids if r in ran and r not in item.used]
        if idle and item.reason:
            problems.append(
                SuppressionProblem(
                    "CL007",
                    f"suppression of {', '.join(idle)} matches no finding; remove it",
                    item.location,
                    f"{item.location.path}#unused:{','.join(idle)}",
                )
            )
    return problems
