"""kustomize ``replacements``: one field of an object of the build copied into fields of others.

Modelled on kustomize's replacement filter (api/filters/replacement): the source is the one
object the selector picks among the build's objects and generated ConfigMaps/Secrets (none or
several fail the build), or a literal ``sourceValue``; the source's ``fieldPath`` (default
``metadata.name``) must hold a value, and ``options.delimiter``/``index`` pick one part of a
scalar. Each target selects objects by group, version, kind, name, namespace and
label/annotation selectors, minus its ``reject`` entries; a target field that is missing is
skipped unless ``options.create``; a delimiter on the target replaces the part at ``index`` (a
negative index prepends, one past the end appends). A scalar target keeps its type, as
kustomize keeps the node's tag. Field paths split on dots outside ``[...]``; ``\\.`` is a
literal dot; ``[name=value]`` picks a list element and ``*`` every element (not with
``create``).

A copied value keeps its provenance: it is located where the source writes it, reached through
the replacement (``Location.via``), so a finding about it points at the text a reviewer must
change.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cilium_lint.budget import WorkBudget
from cilium_lint.document import Document, Location, Via
from cilium_lint.kustomize import DerivedDocument, TreeFiles, selector_matches
from cilium_lint.quoting import quote
from cilium_lint.sourcemap import Path
from cilium_lint.tree import ConfigSource
from cilium_lint.unmodelled import Unmodelled

_ID_KEYS = ("group", "version", "kind", "name", "namespace")
_MAX_STEPS = 64  # a field path longer than any real object is refused, not walked
# Objects looked at (per source selection and per target) by one kustomization's replacements:
# far above real trees, low enough that a tree cannot multiply replacements by objects.
MAX_WORK = 1_000_000


class ReplacementError(Exception):
    """What kustomize would fail the build with."""


class _TooMuchWork(Exception):
    """The replacements of one kustomization went over ``MAX_WORK``."""


def split_field_path(text: str) -> list[str]:
    """kustomize's field path: dots outside brackets separate steps; ``\\.`` is a literal dot."""
    steps: list[str] = []
    current: list[str] = []
    depth = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] == ".":
            current.append(".")
            index += 2
            continue
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        if char == "." and not depth:
            steps.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    steps.append("".join(current))
    if len(steps) > _MAX_STEPS:
        raise ReplacementError(f"field path {quote(text)} is too long")
    return [step for step in steps if step]


def _list_selector(step: str) -> tuple[str, str] | None:
    """``[name=value]`` -> (name, value); ``[=value]`` matches a scalar element."""
    if step.startswith("[") and step.endswith("]") and "=" in step:
        key, _, value = step[1:-1].partition("=")
        return key, value
    return None


def _matches(element: Any, selector: tuple[str, str]) -> bool:
    key, value = selector
    if key == "":
        return _text(element) == value
    return isinstance(element, dict) and key in element and _text(element[key]) == value


def lookup(data: Any, steps: list[str], here: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every node ``steps`` reach from ``data`` (several through ``*``), with its path."""
    if not steps:
        yield here, data
        return
    step, rest = steps[0], steps[1:]
    selector = _list_selector(step)
    if step == "*":
        items: Iterator[tuple[Any, Any]] = (
            iter(enumerate(data))
            if isinstance(data, list)
            else iter(data.items())
            if isinstance(data, dict)
            else iter(())
        )
        for key, value in items:
            yield from lookup(value, rest, (*here, key))
    elif selector is not None:
        if isinstance(data, list):
            for position, element in enumerate(data):
                if _matches(element, selector):
                    yield from lookup(element, rest, (*here, position))
    elif isinstance(data, dict) and step in data:
        yield from lookup(data[step], rest, (*here, step))
    elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
        yield from lookup(data[int(step)], rest, (*here, int(step)))


def lookup_create(data: dict[str, Any], steps: list[str], leaf: Any) -> Path:
    """The path of ``steps``, creating missing mappings, list elements and the leaf."""
    node: Any = data
    here: Path = ()
    for depth, step in enumerate(steps):
        last = depth == len(steps) - 1
        selector = _list_selector(step)
        if step == "*":
            raise ReplacementError("cannot support create option in a multi-value target")
        if selector is not None:
            if not isinstance(node, list):
                raise ReplacementError(f"{quote(step)} selects in a field that is not a list")
            position = next((i for i, e in enumerate(node) if _matches(e, selector)), None)
            if position is None:
                key, value = selector
                node.append({key: value} if key else value)
                position = len(node) - 1
            here = (*here, position)
            node = node[position]
            continue
        if not isinstance(node, dict):
            raise ReplacementError(f"cannot create field {quote(step)} in a non-mapping")
        if step not in node or (node[step] is None and not last):
            node[step] = copy.deepcopy(leaf) if last else _container_for(steps[depth + 1])
        here = (*here, step)
        node = node[step]
    return here


def _container_for(next_step: str) -> Any:
    return [] if _list_selector(next_step) is not None else {}


def _text(value: Any) -> str:
    """A scalar as YAML writes it (kustomize works on the node's text)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def _retyped(text: str, like: Any) -> Any:
    """``text`` written into a scalar that held ``like``: the node keeps its type (tag)."""
    if isinstance(like, bool):
        lowered = text.lower()
        return lowered == "true" if lowered in ("true", "false") else text
    if isinstance(like, int):
        try:
            return int(text)
        except ValueError:
            return text
    if isinstance(like, float):
        try:
            return float(text)
        except ValueError:
            return text
    return text


@dataclass(frozen=True, slots=True)
class _Value:
    data: Any
    location: Location  # where the source writes it


def _object_id(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        return {}
    api = data.get("apiVersion") if isinstance(data.get("apiVersion"), str) else ""
    group, _, version = str(api).rpartition("/")
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    return {
        "group": group,
        "version": version,
        "kind": str(data.get("kind") or ""),
        "name": str(metadata.get("name") or ""),
        "namespace": str(metadata.get("namespace") or ""),
    }


def _selected(selector: dict[str, Any], object_id: dict[str, str]) -> bool:
    """kustomize's ``IsSelectedBy``: every field the selector sets is equal."""
    for key in _ID_KEYS:
        wanted = selector.get(key)
        if isinstance(wanted, str) and wanted and object_id.get(key) != wanted:
            return False
    return True


def _marks_selected(selector: dict[str, Any], data: Any) -> bool:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    return selector_matches(selector.get("labelSelector"), metadata.get("labels")) and (
        selector_matches(selector.get("annotationSelector"), metadata.get("annotations"))
    )


def _has_id(selector: dict[str, Any]) -> bool:
    return any(isinstance(selector.get(k), str) and selector.get(k) for k in _ID_KEYS)


def _has_marks(selector: dict[str, Any]) -> bool:
    return bool(selector.get("labelSelector") or selector.get("annotationSelector"))


def _generated_id(source: ConfigSource) -> dict[str, str]:
    return {
        "group": "",
        "version": "v1",
        "kind": source.kind,
        "name": source.name,
        "namespace": source.namespace or "",
    }


class Replacer:
    """Applies the ``replacements`` of one kustomization to the documents of its build."""

    def __init__(
        self,
        owner: Document,
        files: TreeFiles,
        folder: str,
        generated: list[ConfigSource],
        problems: list[Unmodelled],
        budget: WorkBudget | None = None,
    ) -> None:
        self.owner = owner
        self.budget = budget  # the build's: the copies replacements make count against it
        self.files = files
        self.folder = folder
        self.generated = generated
        self.problems = problems
        self.work = 0
        # Documents this replacer derived, by id (held, so that no other takes a freed id):
        # written in place by later targets instead of copied again.
        self._mine: dict[int, DerivedDocument] = {}

    def _spend(self, units: int) -> None:
        self.work += units
        if self.work > MAX_WORK:
            raise _TooMuchWork

    def apply(self, documents: list[Document]) -> list[Document]:
        entries = self.owner.data.get("replacements")
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            where: Path = ("replacements", index)
            try:
                documents = self._entry(documents, where, entry)
            except _TooMuchWork:
                self.problems.append(
                    Unmodelled(
                        self.owner.locate(where),
                        f"the replacements of this kustomization look at more than {MAX_WORK:,} "
                        "objects in all; this one and the rest were not applied",
                        f"{self.owner.path}#/replacements/{index}#too-much-work",
                        tuple(documents),
                    )
                )
                break
        return documents

    def _entry(self, documents: list[Document], where: Path, entry: Any) -> list[Document]:
        index = where[-1]
        for document, at, replacement in self._read(where, entry):
            try:
                documents = self._one(documents, document, at, replacement)
            except ReplacementError as error:
                self.problems.append(
                    Unmodelled(
                        document.locate(at),
                        f"kustomize fails this build: replacement {error}; Flux applies "
                        "nothing of it",
                        f"{self.owner.path}#/replacements/{index}"
                        + "".join(f"/{step}" for step in at),
                        failed=True,
                    )
                )
        return documents

    def _read(self, where: Path, entry: Any) -> Iterator[tuple[Document, Path, dict[str, Any]]]:
        """The replacements of one entry: inline, or every one of a ``path`` file."""
        if not isinstance(entry, dict):
            return
        name = entry.get("path")
        if not isinstance(name, str):
            yield self.owner, where, entry
            return
        if not self.files.reachable(name, self.folder):
            return  # CL008 reports the reference; nothing outside the repository is read
        absolute = posixpath.normpath(posixpath.join(self.folder, name))
        if not self.files.is_file(absolute):
            self.problems.append(
                Unmodelled(
                    self.owner.locate((*where, "path")),
                    f"kustomize fails this build: replacement file {quote(name)} is not in "
                    "the tree",
                    f"{self.owner.path}#/{'/'.join(str(s) for s in where)}",
                    failed=True,
                )
            )
            return
        for document in self.files.documents(absolute):
            if isinstance(document.data, dict):
                yield document, (), document.data
            elif isinstance(document.data, list):
                for position, item in enumerate(document.data):
                    if isinstance(item, dict):
                        yield document, (position,), item

    def _one(
        self, documents: list[Document], document: Document, at: Path, replacement: dict[str, Any]
    ) -> list[Document]:
        source = replacement.get("source")
        targets = replacement.get("targets")
        literal = replacement.get("sourceValue")  # newer kustomize: a value written here
        if not isinstance(targets, list) or (
            not isinstance(source, dict) and not isinstance(literal, str)
        ):
            raise ReplacementError("must specify a source and at least one target")
        if isinstance(source, dict):
            value = self._source_value(documents, source)
        else:
            value = _Value(literal, document.locate((*at, "sourceValue")))
        via = Via(document.locate(at), "copied here by kustomize replacements")
        value = _Value(value.data, value.location.with_via(via))
        changed = list(documents)
        for target in targets:
            if not isinstance(target, dict) or not isinstance(target.get("select"), dict):
                raise ReplacementError("target must specify resources to select")
            self._spend(len(changed))
            for position, doc in enumerate(changed):
                if self._targets(target, doc.data):
                    changed[position] = self._write(doc, target, value)
        return changed

    def _source_value(self, documents: list[Document], source: dict[str, Any]) -> _Value:
        field_path = source.get("fieldPath")
        field_path = field_path if isinstance(field_path, str) and field_path else "metadata.name"
        steps = split_field_path(field_path)
        found: list[_Value] = []
        matches = 0
        self._spend(len(documents) + len(self.generated))
        for doc in documents:
            if _selected(source, _object_id(doc.data)):
                matches += 1
                reached = next(lookup(doc.data, steps), None)
                if reached is not None and reached[1] not in (None, "", {}, []):
                    found.append(_Value(reached[1], doc.locate(reached[0])))
        for generated in self.generated:
            if _selected(source, _generated_id(generated)):
                matches += 1
                value = _generated_value(generated, steps)
                if value is not None:
                    found.append(value)
        label = "/".join(str(source[k]) for k in _ID_KEYS if isinstance(source.get(k), str))
        if matches == 0:
            raise ReplacementError(f"source {quote(label)} selects nothing")
        if matches > 1:
            raise ReplacementError(f"source {quote(label)} selects more than one object")
        if not found:
            raise ReplacementError(
                f"fieldPath {quote(field_path)} is missing in source {quote(label)}"
            )
        return _refined(found[0], source.get("options"))

    def _targets(self, target: dict[str, Any], data: Any) -> bool:
        select = target["select"]
        object_id = _object_id(data)
        if not object_id.get("kind") or not _selected(select, object_id):
            return False
        if not _marks_selected(select, data):
            return False
        rejects = target.get("reject")
        for reject in rejects if isinstance(rejects, list) else []:
            if not isinstance(reject, dict):
                continue
            if _has_id(reject) and _selected(reject, object_id):
                return False
            if _has_marks(reject) and _marks_selected(reject, data):
                return False
        return True

    def _write(self, doc: Document, target: dict[str, Any], value: _Value) -> Document:
        options = target.get("options") if isinstance(target.get("options"), dict) else {}
        assert isinstance(options, dict)
        paths = target.get("fieldPaths")
        paths = paths if isinstance(paths, list) and paths else ["metadata.name"]
        mine = self._mine.get(id(doc))
        if mine is not None:
            derived, data = mine, mine.data  # derived here already: no copy per target
        else:
            if self.budget is not None:
                self.budget.copy(doc, value.location)
            data = copy.deepcopy(doc.data)
            derived = DerivedDocument.of(doc, data)
            self._mine[id(derived)] = derived
        for field_path in paths:
            if not isinstance(field_path, str):
                continue
            if self.budget is not None and isinstance(value.data, dict | list):
                self.budget.charge(self.budget.size(value.data), value.location)
            steps = split_field_path(field_path)
            if not steps:
                continue
            if options.get("create") is True:
                written = lookup_create(data, steps, value.data)
                reached = [(written, _get(data, written))]
            else:
                reached = list(lookup(data, steps))
            for path, current in reached:
                if not path:
                    continue
                _put(data, path, _combined(current, value.data, options))
                derived.record(path, value.location)
        return derived


def _get(data: Any, path: Path) -> Any:
    for step in path:
        data = data[step]
    return data


def _put(data: Any, path: Path, value: Any) -> None:
    parent = _get(data, path[:-1])
    parent[path[-1]] = value


def _generated_value(source: ConfigSource, steps: list[str]) -> _Value | None:
    """A field of a generated ConfigMap/Secret: ``data.KEY`` / ``stringData.KEY`` (or its
    ``metadata.name``)."""
    if steps == ["metadata", "name"]:
        return _Value(source.name, source.location)
    if len(steps) == 2 and steps[0] in ("data", "stringData"):
        entry = source.entries.get(steps[1])
        if entry is not None and entry.text:
            return _Value(entry.text, entry.location)
    return None


def _refined(value: _Value, options: Any) -> _Value:
    """The source's ``options.delimiter``/``index``: one part of a scalar."""
    if not isinstance(options, dict) or not options.get("delimiter"):
        return value
    if isinstance(value.data, dict | list):
        raise ReplacementError("delimiter option can only be used with scalar nodes")
    parts = _text(value.data).split(str(options["delimiter"]))
    index = options.get("index", 0)
    index = index if isinstance(index, int) else 0
    if index < 0 or index >= len(parts):
        raise ReplacementError(
            f"options.index {index} is out of bounds for value {quote(_text(value.data))}"
        )
    return _Value(parts[index], value.location)


def _combined(current: Any, value: Any, options: dict[str, Any]) -> Any:
    """What a target field holds after the replacement."""
    delimiter = options.get("delimiter")
    if isinstance(delimiter, str) and delimiter:
        if isinstance(current, dict | list):
            raise ReplacementError("delimiter option can only be used with scalar nodes")
        parts = _text(current).split(delimiter) if current is not None else [""]
        index = options.get("index", 0)
        index = index if isinstance(index, int) else 0
        if index < 0:
            parts.insert(0, _text(value))
        elif index >= len(parts):
            parts.append(_text(value))
        else:
            parts[index] = _text(value)
        return _retyped(delimiter.join(parts), current)
    if isinstance(value, dict | list) or isinstance(current, dict | list) or current is None:
        return copy.deepcopy(value)
    return _retyped(_text(value), current)


__all__ = ["ReplacementError", "Replacer", "lookup", "lookup_create", "split_field_path"]
