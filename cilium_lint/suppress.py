"""Inline suppressions: ``# cilium-lint: ignore[CL201] reason`` comments and the
``cilium-lint.io/ignore`` annotation, each with a mandatory reason.

A suppression that has no reason, names an unknown rule or suppresses nothing is itself a
finding, so silencing stays deliberate and never outlives the problem it hid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cilium_lint.document import MARKER, Location
from cilium_lint.flux.graph import base_document
from cilium_lint.sourcemap import Span
from cilium_lint.tree import KObject, Tree

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
    # Comment: lines it covers. Annotation: the written document of its object (path and
    # span), the object's identity as applied, and whether that identity names only it.
    lines: tuple[int, ...] = ()
    span: Span | None = None
    owner: str | None = None
    document_path: str | None = None
    unique: bool = False
    used: set[str] = field(default_factory=set)

    def covers(
        self, rule_id: str, location: Location, identity: str, related: Iterable[Location] = ()
    ) -> bool:
        """Whether this suppression silences a finding.

        A comment covers a finding reported on its line, or whose value was carried there (a
        ``${VAR}`` use, the other side of a duplicate: ``related``). An annotation covers
        every finding about its object, wherever the finding points (a values file the release
        pulls in, a variable's definition), and findings whose other side is that object. Its
        object is known by its whole identity as applied (kind, namespace, name); when two
        applied objects share that identity, only findings inside its own document count.
        """
        if rule_id not in self.rule_ids:
            return False
        places = (location, *related)
        if self.owner is not None:
            if self.unique and identity.split("#", 1)[0] == self.owner:
                return True
            span = self.span
            return span is not None and any(
                p.path == self.document_path and span.line <= p.span.line <= span.end_line
                for p in places
            )
        return any(p.path == self.location.path and p.span.line in self.lines for p in places)


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


def _annotation_suppressions(
    objects: Sequence[KObject],
) -> Iterable[Suppression | SuppressionProblem]:
    # An identity two written documents share (two clusters, or the same kind in two API
    # groups) does not say which one a finding is about.
    written: dict[str, set[int]] = {}
    for obj in objects:
        written.setdefault(obj.ref, set()).add(id(base_document(obj.doc)))
    for obj in objects:
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
        source = base_document(obj.doc)
        for entry in re.split(r"[;\n]", value):
            if not entry.strip():
                continue
            ids_text, _, reason = entry.partition(":")
            ids = tuple(p.strip().upper() for p in ids_text.split(",") if p.strip())
            yield Suppression(
                ids,
                reason.strip(),
                location,
                span=source.span,
                owner=obj.ref,
                document_path=source.path,
                unique=len(written[obj.ref]) == 1,
            )


def collect(
    tree: Tree, applied: Sequence[KObject] | None = None
) -> tuple[list[Suppression], list[SuppressionProblem]]:
    """Every suppression of the tree. Annotations count only on ``applied`` objects (as
    applied: patched, in their namespace), so one on a copy nothing applies (an archive
    folder) silences nothing; None: every object of the tree is applied (no Flux)."""
    suppressions: list[Suppression] = []
    problems: list[SuppressionProblem] = []
    objects = tree.objects if applied is None else applied
    sources: list[Iterable[Suppression | SuppressionProblem]] = [_annotation_suppressions(objects)]
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
