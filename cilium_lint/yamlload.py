"""Read YAML the way Kubernetes and Flux read it, keeping where every key and value was written.

libyaml (``CSafeLoader``) tokenises and composes nodes when it is installed; this module builds
plain Python data from the nodes itself, because it must differ from PyYAML's constructor:

* an anchor defined again later in a file is legal (the later one wins), as in go-yaml;
* unknown tags (``!env_var``), the ``=`` value key and timestamps load as plain strings;
* duplicate keys are reported (Flux refuses them), never silently resolved;
* nothing is ever constructed from a ``!!python/...`` tag;
* alias bombs and runaway nesting are refused with a finding, not with memory or a traceback.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Iterator
from itertools import chain
from sys import intern
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cilium_lint.document import Document, Location, ParsedFile, ParseProblem
from cilium_lint.parse_budget import MAX_DOCUMENTS_PER_FILE, MAX_NODES_PER_FILE
from cilium_lint.quoting import quote
from cilium_lint.sourcemap import Numbers, Path, SourceMap, Span

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """libyaml's loader with a faster resolver: the composer calls it for every node."""

    # Path resolvers are never registered, so descending and ascending have nothing to track;
    # a C function that accepts the same arguments spares a Python call per node.
    descend_resolver = staticmethod(operator.is_)
    ascend_resolver = staticmethod(tuple)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # The tag of a plain scalar depends on its text alone; a tree repeats the same few
        # thousand texts (true, 80, names), so each is resolved once per process.
        if kind is ScalarNode and implicit[0]:
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(value) <= _SHARED_TEXT and len(_PLAIN_TAGS) < _PLAIN_TAGS_KEPT:
                    _PLAIN_TAGS[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_KEPT = 50_000

# A document whose aliases expand to more nodes than this is an alias bomb.
MAX_EXPANDED_NODES = 1_000_000
# Deeper nesting than this is never a real manifest; it only exhausts the stack.
MAX_DEPTH = 400

_TAG = "tag:yaml.org,2002:"
_SHARED_TEXT = 64  # scalars up to this length are interned
_INT_DIGITS = re.compile(r"^[-+]?[0-9_]+$")


class _TooComplex(Exception):
    """A document that expands too far or nests too deep."""


class _EventComposer(Composer):
    """Python composer over a loader's events that accepts anchors defined twice.

    Only used for files where libyaml's composer refused a redefined anchor.
    """

    def __init__(self, source: bytes) -> None:
        self._events = _Loader(source)
        Composer.__init__(self)

    def check_event(self, *choices: Any) -> bool:
        return bool(self._events.check_event(*choices))

    def peek_event(self) -> Any:
        return self._events.peek_event()

    def get_event(self) -> Any:
        return self._events.get_event()

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        return str(self._events.resolve(kind, value, implicit))

    def descend_resolver(self, parent: Any, index: Any) -> None:
        self._events.descend_resolver(parent, index)

    def ascend_resolver(self) -> None:
        self._events.ascend_resolver()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None and not isinstance(event, yaml.AliasEvent):
            # The later definition wins, as in go-yaml.
            self.anchors.pop(anchor, None)
        return super().compose_node(parent, index)

    def dispose(self) -> None:
        self._events.dispose()


def _span(node: Node) -> Span:
    return Span(*_numbers(node))


def _numbers(node: Node) -> Numbers:
    start, end = node.start_mark, node.end_mark
    return (start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _expanded_size(root: Node) -> int:
    """Nodes the document holds once aliases are expanded; refuses cycles, bombs and depth.

    Depth counts through aliases: an anchor nested 300 deep, aliased inside another anchor
    nested 300 deep, builds data 600 deep however shallow each written part looks.
    """
    # node id -> (expanded size, height below it); and the nodes being measured.
    # (A module-level function rather than a closure: a closure that calls itself is a reference
    # cycle, which keeps all it measured until the cyclic garbage collector runs.)
    return _measure(root, 0, {}, set())[0]


def expanded_size(root: Node) -> int | None:
    """Nodes ``root`` holds once aliases are expanded, or None past the bounds parsing keeps
    (:data:`MAX_EXPANDED_NODES`, :data:`MAX_DEPTH`, no recursive alias): for YAML composed
    elsewhere (a substituted value read again)."""
    try:
        return _expanded_size(root)
    except (_TooComplex, RecursionError):
        return None


def _too_deep() -> _TooComplex:
    return _TooComplex(f"nesting deeper than {MAX_DEPTH} levels (counting through aliases)")


def _measure(
    node: Node, depth: int, measured: dict[int, tuple[int, int]], in_progress: set[int]
) -> tuple[int, int]:
    key = id(node)
    known = measured.get(key)
    if known is not None:
        if depth + known[1] > MAX_DEPTH:
            raise _too_deep()
        return known
    if depth > MAX_DEPTH:
        raise _too_deep()
    if key in in_progress:
        raise _TooComplex("a recursive alias (an anchor that contains itself)")
    in_progress.add(key)
    children: Iterable[Node] = ()
    if isinstance(node, SequenceNode):
        children = node.value
    elif isinstance(node, MappingNode):
        children = chain.from_iterable(node.value)
    total, height = 1, 0
    for child in children:
        if isinstance(child, ScalarNode):
            # What measuring a scalar would give, without the call: most nodes are scalars.
            if depth + 1 > MAX_DEPTH:
                raise _too_deep()
            total += 1
            height = height or 1
            continue
        child_size, child_height = _measure(child, depth + 1, measured, in_progress)
        total += child_size
        height = max(height, child_height + 1)
    in_progress.discard(key)
    if total > MAX_EXPANDED_NODES:
        raise _TooComplex(
            f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb)"
        )
    measured[key] = (total, height)
    return total, height


def _scalar(node: ScalarNode) -> Any:
    tag, value = node.tag, node.value
    if not tag.startswith(_TAG):
        return value  # unknown local tags such as !env_var load as plain text
    kind = tag[len(_TAG) :]
    if kind == "null":
        return None
    if kind == "bool":
        return value.lower() in ("yes", "true", "on", "y")
    if kind == "int":
        return _to_int(value)
    if kind == "float":
        return _to_float(value)
    # str, timestamp, value ("="), merge, binary: kept as written; short ones shared, as
    # names, kinds and versions recur all over a tree.
    return intern(value) if len(value) <= _SHARED_TEXT else value


def _to_int(text: str) -> Any:
    if ":" in text:
        return text  # YAML 1.1 sexagesimal; go-yaml keeps it a string
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    body = digits.lstrip("+-")
    try:
        if body.startswith("0b"):
            return sign * int(body[2:], 2)
        if body.startswith("0x"):
            return sign * int(body[2:], 16)
        if body.startswith("0o"):
            return sign * int(body[2:], 8)
        if body != "0" and body.startswith("0") and _INT_DIGITS.match(body):
            return sign * int(body, 8)
        return sign * int(body)
    except ValueError:
        return text


def _to_float(text: str) -> Any:
    lowered = text.lower().replace("_", "")
    if lowered in (".inf", "+.inf"):
        return float("inf")
    if lowered == "-.inf":
        return float("-inf")
    if lowered == ".nan":
        return float("nan")
    try:
        return float(lowered)
    except ValueError:
        return text


class _Builder:
    """Builds data and a source map for one document."""

    def __init__(self, path: str, line_offset: int = 0, aliased: bool = True) -> None:
        self.path = path
        self.line_offset = line_offset  # for messages: lines above an embedded document
        self.source_map = SourceMap()
        self.problems: list[ParseProblem] = []
        # Where each node was first built, for aliases to find; a file without a "*" has none.
        self._home: dict[int, tuple[Path, Any]] = {}
        self._aliased = aliased
        # The source map's lists, appended to directly: this runs for every node of the tree.
        self._vpaths, self._vnums, self._owners, self._knums = self.source_map.lists()

    def build(self, root: Node) -> Any:
        return self._node(root, (), None)

    @property
    def nodes(self) -> int:
        """The nodes built so far (an alias not counted again)."""
        return len(self._vpaths)

    def _node(self, node: Node, path: Path, key_span: Numbers | None) -> Any:
        if len(path) > MAX_DEPTH:
            raise _too_deep()
        aliased = self._aliased
        if aliased:
            seen = self._home.get(id(node))
            if seen is not None:
                # An alias: same data, and positions redirect to where the anchor was written.
                self.source_map.add_redirect_numbers(path, seen[0], key_span)
                return seen[1]
        start, end = node.start_mark, node.end_mark
        self._vpaths.append(path)
        self._vnums.extend((start.line + 1, start.column + 1, end.line + 1, end.column + 1))
        if key_span is not None:
            self._owners.append(len(self._vpaths) - 1)
            self._knums.extend(key_span)
        if isinstance(node, ScalarNode):
            value: Any = _scalar(node)
            if node.style and "$" in node.value:
                self.source_map.note_quoted(path)
            if aliased:
                self._home[id(node)] = (path, value)
            return value
        if isinstance(node, SequenceNode):
            items: list[Any] = []
            if aliased:
                self._home[id(node)] = (path, items)
            for index, item in enumerate(node.value):
                items.append(self._node(item, (*path, index), None))
            return items
        assert isinstance(node, MappingNode)
        mapping: dict[str, Any] = {}
        if aliased:
            self._home[id(node)] = (path, mapping)
        self._mapping(node, path, mapping)
        return mapping

    def _mapping(self, node: MappingNode, path: Path, mapping: dict[str, Any]) -> None:
        explicit: dict[str, Numbers] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merges.append(value_node)
                continue
            key = self._key(key_node)
            key_span = _numbers(key_node)
            first = explicit.get(key)
            if first is not None:
                self.problems.append(
                    ParseProblem(
                        "CL002",
                        f"duplicate key {quote(key)} (first defined on line "
                        f"{first[0] + self.line_offset}); "
                        "Flux refuses the file, other tools keep only the last value",
                        Location(self.path, Span(*key_span)),
                    )
                )
            explicit.setdefault(key, key_span)  # a third copy still names the first
            mapping[key] = self._node(value_node, (*path, key), key_span)
        for merge in merges:
            self._merge(merge, path, mapping, explicit)

    def _merge(
        self, merge: Node, path: Path, mapping: dict[str, Any], explicit: dict[str, Numbers]
    ) -> None:
        sources = merge.value if isinstance(merge, SequenceNode) else [merge]
        for source in sources:
            if not isinstance(source, MappingNode):
                continue
            home = self._home.get(id(source))
            data = home[1] if home else self._node(source, (*path, "<<"), None)
            base = home[0] if home else (*path, "<<")
            if not isinstance(data, dict):
                continue
            for key, value in data.items():
                if key in explicit or key in mapping:
                    continue  # explicit keys and earlier merges win
                mapping[key] = value
                self.source_map.add_redirect_numbers((*path, key), (*base, key), None)

    def _key(self, node: Node) -> str:
        if isinstance(node, ScalarNode):
            # Interned: a tree repeats the same few hundred keys in every document, and one
            # shared string for each is the largest memory saving of all (and makes paths
            # share their parts in the packed source maps).
            return intern(str(node.value))
        # Complex keys do not occur in Kubernetes objects; keep them distinguishable.
        return f"<complex key on line {node.start_mark.line + 1}>"


def _compose(source: bytes, tolerant_anchors: bool) -> Iterator[Node]:
    loader: Any = _EventComposer(source) if tolerant_anchors else _Loader(source)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()


def _mark_location(path: str, error: yaml.MarkedYAMLError) -> Location:
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return Location(path, Span(1, 1, 1, 1))
    return Location(path, Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2))


def _syntax_message(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        parts = [p for p in (error.context, error.problem) if p]
        return "invalid YAML: " + "; ".join(parts)
    return f"invalid YAML: {error}"


def _marked_problem(path: str, error: yaml.MarkedYAMLError) -> ParseProblem:
    location = _mark_location(path, error)
    if "maximum nesting depth" in str(error.problem or ""):
        # libyaml's own depth guard: the same refusal as MAX_DEPTH, not a syntax error.
        return ParseProblem("CL005", f"nesting too deep to read ({error.problem})", location)
    return ParseProblem("CL001", _syntax_message(error), location)


# From this size on, a file's documents and nodes are counted on the event stream (which holds
# one event at a time) before any is composed: a composed node costs about a kilobyte until
# its document is built, so a file over the caps must be refused before that.
PRESCAN_FROM = 1024 * 1024

_NODE_EVENTS = (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)


def _over_caps(documents: int, nodes: int) -> str | None:
    if documents > MAX_DOCUMENTS_PER_FILE:
        return f"more than {MAX_DOCUMENTS_PER_FILE:,} documents in one file"
    if nodes > MAX_NODES_PER_FILE:
        return f"more than {MAX_NODES_PER_FILE:,} YAML nodes in one file"
    return None


def _refused(path: str, reason: str) -> ParsedFile:
    result = ParsedFile(path)
    result.problems.append(
        ParseProblem(
            "CL005",
            f"file not read: {reason} (never a real set of manifests); its objects are not checked",
            Location(path, Span(1, 1, 1, 1)),
        )
    )
    return result


def _prescan(source: bytes) -> str | None:
    """Why the file is over the per-file caps, counted without composing it; None if it is
    not (or is not valid YAML, which the parse then reports)."""
    loader: Any = _Loader(source)
    documents = nodes = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, _NODE_EVENTS):
                nodes += 1
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
            else:
                continue
            reason = _over_caps(documents, nodes)
            if reason is not None:
                return reason
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return None


def parse_yaml(source: bytes, path: str) -> ParsedFile:
    """Every document of ``source``; problems become findings, never exceptions."""
    return _parse(source, path, 0)


def _parse(source: bytes, path: str, line_offset: int) -> ParsedFile:
    if len(source) >= PRESCAN_FROM:
        reason = _prescan(source)
        if reason is not None:
            return _refused(path, reason)
    result = ParsedFile(path)
    tolerant = False
    # Without a "*" there is no alias: the document is as big and as deep as it is written (the
    # size cap bounds the one, the builder the other), and measuring it would be wasted.
    aliased = b"*" in source
    while True:
        documents: list[Document] = []
        problems: list[ParseProblem] = []
        nodes = 0
        try:
            for index, root in enumerate(_compose(source, tolerant)):
                reason = _over_caps(index + 1, nodes)
                if reason is not None:
                    return _refused(path, reason)
                builder = _Builder(path, line_offset, aliased)
                try:
                    if aliased:
                        _expanded_size(root)
                    data = builder.build(root)
                except (_TooComplex, RecursionError) as exc:
                    reason = str(exc) if isinstance(exc, _TooComplex) else "nesting too deep"
                    problems.append(
                        ParseProblem(
                            "CL005",
                            f"document {index + 1} skipped: {reason}",
                            Location(path, _span(root)),
                        )
                    )
                    continue
                nodes += builder.nodes
                reason = _over_caps(index + 1, nodes)
                if reason is not None:
                    return _refused(path, reason)
                builder.source_map.seal()
                documents.append(Document(path, index, data, builder.source_map, _span(root)))
                problems.extend(builder.problems)
        except yaml.composer.ComposerError as exc:
            if not tolerant and "duplicate anchor" in str(exc.context or ""):
                tolerant = True
                continue
            problems.append(_marked_problem(path, exc))
        except yaml.reader.ReaderError as exc:
            problems.append(
                ParseProblem(
                    "CL003",
                    f"not readable as UTF-8/UTF-16 text: {exc.reason} at byte {exc.position}",
                    Location(path, Span(1, 1, 1, 1)),
                )
            )
        except yaml.MarkedYAMLError as exc:
            problems.append(_marked_problem(path, exc))
        except yaml.YAMLError as exc:
            problems.append(
                ParseProblem("CL001", _syntax_message(exc), Location(path, Span(1, 1, 1, 1)))
            )
        except RecursionError:
            problems.append(
                ParseProblem("CL005", "nesting too deep to read", Location(path, Span(1, 1, 1, 1)))
            )
        result.documents = documents
        result.problems = problems
        return result


def parse_embedded(text: str, path: str, first_line: int, indent: int) -> ParsedFile:
    """Parse YAML held in a literal block scalar, with positions in the enclosing file.

    ``first_line`` is the 1-based file line of the block's first content line and ``indent`` the
    number of columns the block is indented by.
    """
    parsed = _parse(text.encode("utf-8"), path, first_line - 1)

    def shift(span: Span) -> Span:
        return Span(
            span.line + first_line - 1,
            span.column + indent,
            span.end_line + first_line - 1,
            span.end_column + indent,
        )

    for document in parsed.documents:
        document.span = shift(document.span)
        document.source_map = document.source_map.shifted(shift)
    parsed.problems = [
        ParseProblem(p.rule_id, p.message, Location(path, shift(p.location.span)))
        for p in parsed.problems
    ]
    return parsed
