"""Flux post-build substitution applied to what one Flux Kustomization builds, with provenance.

A Flux Kustomization's variables come from ``spec.postBuild.substituteFrom`` (ConfigMaps and
Secrets, later entries win) and ``spec.postBuild.substitute`` (wins over both). Every document
it builds is substituted (:mod:`cilium_lint.flux.substitute` holds the semantics) unless marked
``kustomize.toolkit.fluxcd.io/substitute: disabled``; Flux does nothing at all for a
Kustomization without ``postBuild``.

A substituted copy keeps the written document's positions; a scalar that was one variable
reference is located where the variable's value is written, with the reference as a related
place (:class:`cilium_lint.document.Via`). Every substituted string is kept as a :class:`Use`
so rules can report a reference that resolves to nothing, or to a value that cannot be read.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cilium_lint.budget import BudgetExceeded, WorkBudget
from cilium_lint.document import Document, Location, ParsedFile, Via
from cilium_lint.flux.substitute import (
    SUBSTITUTE_KEY,
    Substitution,
    SubstitutionError,
    Variable,
    invalid_names,
    references,
    substitute,
    substitute_data,
    substitution_disabled,
)
from cilium_lint.flux.text import LiteralText
from cilium_lint.kustomize import DerivedDocument
from cilium_lint.quoting import quote
from cilium_lint.sourcemap import Path
from cilium_lint.tree import ConfigSource, DataEntry, Tree, dig

SourceFinder = Callable[[str, str, str | None], ConfigSource | None]


@dataclass(eq=False)
class Variables:
    """The post-build variables of one Flux Kustomization."""

    owner: str  # e.g. Kustomization/flux-system/plex, for messages
    enabled: bool  # Flux substitutes at all (``spec.postBuild`` is set)
    values: Mapping[str, Variable] = field(default_factory=dict)
    # Sources Flux reads that cannot be read here (not in the tree): any undefined variable
    # might come from one of them.
    unreadable: list[str] = field(default_factory=list)
    encrypted: dict[str, str] = field(default_factory=dict)  # variable -> the Secret it is in
    problems: list[tuple[Location, str]] = field(default_factory=list)
    # substituteFrom sources the tree has only in another namespace than the Kustomization's,
    # where Flux looks: Flux fails the Kustomization (CL012).
    misplaced: list[Misplaced] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Misplaced:
    """A ``substituteFrom`` source the tree has only in another namespace than the one Flux
    reads it from (the Kustomization's own)."""

    location: Location  # the substituteFrom entry
    source: str  # e.g. ConfigMap 'cluster-settings'
    namespace: str  # where Flux looks: the Kustomization's namespace as applied
    found_in: str  # where the tree has it
    owner: str  # the Kustomization
    written_namespace: str | None  # the Kustomization's namespace as written, when it differs
    source_path: str = ""  # the file that holds the source


@dataclass(frozen=True, slots=True)
class Use:
    """One string Flux substitutes in a document of ``variables.owner``."""

    variables: Variables
    document: Document  # the substituted document
    path: Path
    location: Location  # where the ``${...}`` is written
    record: Substitution | None
    error: str | None = None  # Flux refuses the whole document (and Kustomization)
    # Flux applies the string as written (its Kustomization has no postBuild), and why.
    literal: str | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        """Variables that give nothing here (unset, no default), unless they may be unknown."""
        if self.record is None or self.variables.unreadable:
            return ()
        return self.record.missing

    @property
    def unknown(self) -> tuple[str, ...]:
        """Variables whose value cannot be read here."""
        if self.record is None:
            return ()
        unknown = list(self.record.unknown)
        if self.variables.unreadable:
            unknown.extend(self.record.missing)
        return tuple(dict.fromkeys(unknown))


def _flat(text: str) -> str:
    return text.replace("\n", "")  # the controller drops newlines from every value


# Many Kustomizations read the same cluster-settings: its variables are made once per source,
# with whether any of them cannot be read.
_VARIABLES: weakref.WeakKeyDictionary[ConfigSource, tuple[dict[str, Variable], bool]] = (
    weakref.WeakKeyDictionary()
)


def _source_variables(source: ConfigSource) -> tuple[dict[str, Variable], bool]:
    known = _VARIABLES.get(source)
    if known is None:
        variables = {
            key: Variable(
                key,
                None if source.encrypted or entry.text is None else _flat(entry.text),
                entry.location,
            )
            for key, entry in source.entries.items()
        }
        unreadable = any(variable.value is None for variable in variables.values())
        known = _VARIABLES[source] = (variables, unreadable)
    return known


def variables_of(
    document: Document, owner: str, find: SourceFinder, written_namespace: str | None = None
) -> Variables:
    """The variables of the Flux Kustomization ``document`` (as applied; ``written_namespace``:
    its namespace as written, when a kustomization ``namespace:`` or a parent moved it)."""
    data = document.data
    postbuild = dig(data, ("spec", "postBuild"))
    if not isinstance(postbuild, dict):
        return Variables(owner, enabled=False)
    found = Variables(owner, enabled=True)
    from_sources: dict[str, Variable] = {}
    shared = False  # from_sources is a source's own (cached) mapping
    namespace = dig(data, ("metadata", "namespace"))
    namespace = namespace if isinstance(namespace, str) else None
    refs = postbuild.get("substituteFrom")
    for index, ref in enumerate(refs if isinstance(refs, list) else []):
        if not isinstance(ref, dict):
            continue
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        label = f"{kind} {quote(name)}"
        source = find(kind, name, namespace)
        if source is None:
            if ref.get("optional") is not True:
                found.unreadable.append(label)
                found.problems.append(
                    (
                        document.locate(("spec", "postBuild", "substituteFrom", index)),
                        f"substituteFrom {label} is not in the linted tree",
                    )
                )
            continue
        if namespace is not None and source.namespace not in (None, namespace):
            found.misplaced.append(
                Misplaced(
                    document.locate(("spec", "postBuild", "substituteFrom", index)),
                    label,
                    namespace,
                    source.namespace,
                    owner,
                    written_namespace if written_namespace != namespace else None,
                    source.location.path,
                )
            )
        variables, unreadable = _source_variables(source)
        if not from_sources:
            # Shared with every Kustomization that reads the same source (copied before another
            # source is added): thousands of them read one cluster-settings.
            from_sources, shared = variables, True
        else:
            if shared:
                from_sources, shared = dict(from_sources), False
            from_sources.update(variables)
        if unreadable or found.encrypted:
            for key, variable in variables.items():
                if variable.value is None:
                    found.encrypted[key] = label
                else:
                    found.encrypted.pop(key, None)
    inline = postbuild.get("substitute")
    own: dict[str, Variable] = {}
    for key, value in (inline if isinstance(inline, dict) else {}).items():
        text = "" if value is None else str(value).lower() if isinstance(value, bool) else value
        location = document.locate(("spec", "postBuild", "substitute", key))
        own[str(key)] = Variable(str(key), _flat(str(text)), location)
        found.encrypted.pop(str(key), None)
    # Inline variables win over the sources'; layered rather than copied into them.
    found.values = ChainMap(own, from_sources) if own and from_sources else own or from_sources
    return found


class Substituter:
    """Substitutes documents for one Flux Kustomization and records every use."""

    def __init__(
        self,
        variables: Variables,
        tree: Tree,
        uses: list[Use],
        literal_note: str | None = None,
        budget: WorkBudget | None = None,
    ) -> None:
        self.variables = variables
        self.tree = tree
        self.uses = uses
        # Every document is this Kustomization's output; copies and substituted text are new
        # data. Going over raises BudgetExceeded, located where the document says.
        self.budget = budget if budget is not None else WorkBudget()
        # Without postBuild Flux applies ``${...}`` as written; when the caller knows the whole
        # chain of Kustomizations, that is worth saying (else None: say nothing).
        self.literal_note = literal_note
        self._names_valid: bool | None = None

    def document(self, doc: Document) -> Document:
        """``doc`` as Flux applies it: substituted, or with every ``${`` marked literal when
        Flux is known to leave it (see :mod:`cilium_lint.flux.text`)."""
        if not isinstance(doc.data, dict | list):
            return doc
        self.budget.document(doc)
        if isinstance(doc.data, dict) and substitution_disabled(doc.data):
            return _literal(doc, f"it is marked {SUBSTITUTE_KEY}: disabled", self.budget)
        if not self.variables.enabled:
            if not self.budget.holds_dollar(doc.data, type(doc) is Document):
                return doc  # no ${ to note, and no walk for every Kustomization that applies it
            self.budget.copy(doc)  # the walk below
            note = self.literal_note
            for path in _expressions(doc.data, ()):
                if note is not None:
                    use = Use(self.variables, doc, path, doc.locate(path), None, literal=note)
                else:
                    # Applied from outside the linted tree, which may give it a postBuild.
                    record = _unknown_record(_get(doc.data, path))
                    if record is None:
                        continue
                    use = Use(self.variables, doc, path, doc.locate(path), record)
                self.uses.append(use)
            return doc if note is None else _literal(doc, note, self.budget)
        return self._data(doc)

    def _data(self, doc: Document) -> Document:
        if self._names_valid is None:
            self._names_valid = not invalid_names(self.variables.values)
        if self._names_valid and not self.budget.holds_dollar(doc.data, type(doc) is Document):
            # Most documents hold no expression: nothing to substitute, copy or record. repr is
            # one pass in C over plain data, where the walk below is Python per node; the
            # budget keeps the answer for a written document, which many Kustomizations share.
            return doc
        try:
            self.budget.copy(doc)  # the walk, and the copies of what changes
            result = substitute_data(
                doc.data,
                self.variables.values,
                plain=doc.source_map.is_plain,
                names_checked=self._names_valid,
                budget=self.budget,
            )
        except BudgetExceeded as exc:
            if exc.where is None and exc.path is not None:
                exc.where = doc.locate(exc.path)
            raise
        except SubstitutionError as exc:
            path = exc.path or ()
            self.uses.append(Use(self.variables, doc, path, doc.locate(path), None, exc.message))
            return doc
        if not result.values and not result.keys:
            return doc
        derived = DerivedDocument.of(doc, result.data)
        for path, record in result.values.items():
            if record.missing and self.variables.unreadable and not record.unknown:
                # The variable may come from a source not in the tree: unknown, as written.
                _set(result.data, path, record.original)
            elif "${" in record.text and not record.unknown:
                why = (
                    "it is escaped as $${...}, which Flux writes as ${...}"
                    if "$${" in record.original
                    else "a variable's value holds ${, which Flux does not substitute again"
                )
                _set(result.data, path, LiteralText(record.text, why))
            usage = doc.locate(path)
            self.uses.append(Use(self.variables, derived, path, usage, record))
            origin = _definition(record)
            if origin is not None:
                message = (
                    f"written as {record.original.strip()} and substituted by Flux "
                    f"(postBuild of {self.variables.owner})"
                )
                derived.record(path, origin.with_via(Via(_bare(usage), message)))
        return derived

    def source(self, source: ConfigSource, namespace: str | None) -> ConfigSource:
        """A ConfigMap or Secret as this Kustomization applies it (for ``valuesFrom``)."""
        copy = ConfigSource(
            source.kind,
            source.name,
            source.namespace or namespace,
            source.location,
            encrypted=source.encrypted,
        )
        enabled = self.variables.enabled and not self._source_disabled(source)
        for key, entry in source.entries.items():
            copy.entries[key] = self._entry(entry) if enabled else entry
        return copy

    def _entry(self, entry: DataEntry) -> DataEntry:
        if entry.text is None or "$" not in entry.text:
            return entry
        budget = self.budget
        try:
            text = substitute(entry.text, self.variables.values, limit=budget.room()).text
            budget.charge(len(text), entry.location)
        except SubstitutionError:
            text = entry.text

        def load() -> ParsedFile | None:
            parsed = entry.parse()
            if parsed is None:
                return None
            # Read later, when a check asks: a unit of its own.
            try:
                with budget.unit():
                    documents = [self._data(d) for d in parsed.documents]
            except BudgetExceeded as exc:
                owner = f"the substitution of {entry.key} for {self.variables.owner}"
                budget.stopped(entry.location, owner, exc)
                return None
            return dataclasses.replace(parsed, documents=documents)

        return DataEntry(entry.key, text, entry.location, load)

    def _source_disabled(self, source: ConfigSource) -> bool:
        """The written object, or its generator's ``options``, opts out."""
        parsed = self.tree.files.get(source.location.path)
        for doc in parsed.documents if parsed is not None else []:
            data = doc.data
            if not isinstance(data, dict):
                continue
            if data.get("kind") == source.kind and dig(data, ("metadata", "name")) == source.name:
                return substitution_disabled(data)
            for field_name in ("configMapGenerator", "secretGenerator"):
                generators = data.get(field_name)
                for generator in generators if isinstance(generators, list) else []:
                    if isinstance(generator, dict) and generator.get("name") == source.name:
                        options = generator.get("options")
                        return isinstance(options, dict) and substitution_disabled(
                            options_as_object(options)
                        )
        return False


def options_as_object(options: dict[str, Any]) -> dict[str, Any]:
    """A generator's ``options`` (labels, annotations) read like an object's metadata."""
    return {"metadata": {k: options.get(k) for k in ("labels", "annotations")}}


def _expressions(data: Any, path: Path, escaped: bool = False) -> list[Path]:
    """Paths of the strings that hold a ``${`` (where a reference would be; with ``escaped``
    also those holding ``$${``)."""
    found: list[Path] = []
    stack: list[tuple[Any, Path]] = [(data, path)]
    while stack:
        node, here = stack.pop()
        if isinstance(node, str):
            if "${" in node and (escaped or "$${" not in node):
                found.append(here)
        elif isinstance(node, dict):
            stack.extend((v, (*here, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*here, i)) for i, v in enumerate(node))
    return found


def _get(data: Any, path: Path) -> Any:
    for step in path:
        data = data[step]
    return data


def _set(data: Any, path: Path, value: Any) -> None:
    """Replace the value at ``path`` (a path of the original data: skipped when a substituted
    key moved it)."""
    if not path:
        return
    node = data
    for step in path:
        parent = node
        if not _has(node, step):
            return
        node = node[step]
    parent[path[-1]] = value


def _has(node: Any, step: Any) -> bool:
    if isinstance(node, dict):
        return step in node
    return isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)


def _literal(doc: Document, reason: str, budget: WorkBudget | None = None) -> Document:
    """``doc`` with every string holding ``${`` marked as applied as written."""
    paths = _expressions(doc.data, (), escaped=True)
    if not paths:
        return doc
    if budget is not None:
        budget.copy(doc)
    data = _copy(doc.data)
    for path in paths:
        _set(data, path, LiteralText(_get(doc.data, path), reason))
    return DerivedDocument.of(doc, data)


def _copy(data: Any) -> Any:
    """Containers copied, scalars shared."""
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _unknown_record(text: Any) -> Substitution | None:
    """The outcome for ``text`` when every variable it names is unknown."""
    if not isinstance(text, str):
        return None
    try:
        names = references(text)
        return substitute(text, {n: Variable(n, None) for n in names})
    except SubstitutionError:
        return None


def _bare(location: Location) -> Location:
    return location.with_via(None)


def _definition(record: Substitution) -> Location | None:
    """Where the value came from, when the string was one reference to one defined variable."""
    text = record.original.strip()
    if record.unknown or len(record.variables) != 1 or record.expressions != 1:
        return None
    if not (text.startswith("${") and text.endswith("}")):
        return None
    origin = record.variables[0].origin
    return origin if isinstance(origin, Location) else None


__all__ = ["SUBSTITUTE_KEY", "Misplaced", "Substituter", "Use", "Variables", "variables_of"]
