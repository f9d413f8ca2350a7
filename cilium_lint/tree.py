"""The tree as an index: Kubernetes objects by kind, ConfigMaps and Secrets (written or generated
by kustomize), and which files are data pulled into ConfigMaps rather than manifests."""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from cilium_lint.discover import FoundFile, display_path
from cilium_lint.document import Document, Location, ParsedFile, ParseProblem
from cilium_lint.quoting import quote
from cilium_lint.readfile import DEFAULT_MAX_BYTES, decode_text, read_bytes
from cilium_lint.safepath import Refused, RepositoryRoots
from cilium_lint.sourcemap import Span
from cilium_lint.yamlload import parse_embedded, parse_yaml

_T = TypeVar("_T")

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _in_group(group: str, wanted: str) -> bool:
    """Whether an API group is ``wanted`` or below it (``source.toolkit.fluxcd.io`` is in
    ``toolkit.fluxcd.io``)."""
    return group == wanted or group.endswith("." + wanted)


def api_group(api_version: str | None) -> str:
    if not api_version or "/" not in api_version:
        return ""
    return api_version.split("/", 1)[0]


@dataclass(eq=False)
class KObject:
    """A Kubernetes object written in the tree."""

    doc: Document
    kind: str
    group: str
    name: str
    namespace: str | None

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.doc.data
        return data

    @property
    def ref(self) -> str:
        return (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else (f"{self.kind}/{self.name}")
        )

    def get(self, *path: str | int) -> Any:
        return dig(self.data, path)

    def locate(self, *path: str | int) -> Location:
        return self.doc.locate(path)


def dig(data: Any, path: Iterable[str | int]) -> Any:
    """The value at ``path`` or None, never raising on a wrong shape."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or not -len(data) <= step < len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[step] if isinstance(step, int) else data.get(step)
    return data


@dataclass(eq=False)
class DataEntry:
    """One key of a ConfigMap or Secret, and where its text was written."""

    key: str
    text: str | None  # None: not readable (SOPS-encrypted, binary)
    location: Location
    # Parsed lazily when the entry is used as Helm values: positions point into the file or the
    # block scalar the text came from.
    _loader: Any = None
    _parsed: ParsedFile | None = None

    def parse(self) -> ParsedFile | None:
        if self._parsed is None and self._loader is not None:
            self._parsed = self._loader()
        return self._parsed


@dataclass(eq=False)
class ConfigSource:
    """A ConfigMap or Secret as Flux would read it for ``valuesFrom`` or ``substituteFrom``."""

    kind: str
    name: str
    namespace: str | None
    location: Location
    entries: dict[str, DataEntry] = field(default_factory=dict)
    encrypted: bool = False


@dataclass
class Tree:
    cwd: Path
    files: dict[str, ParsedFile]
    objects: list[KObject]
    sources: list[ConfigSource]
    data_files: set[str]
    # Data files whose content was consumed as YAML (Helm values), so their syntax matters.
    used_data_files: set[str] = field(default_factory=set)
    extra_problems: list[ParseProblem] = field(default_factory=list)
    # Where file references written in the tree may lead (cilium_lint/safepath.py).
    roots: RepositoryRoots | None = None
    # Answers that depend only on the files, shared by the per-cluster copies of the tree
    # (dataclasses.replace keeps this dict): a tree of a thousand clusters scans its files
    # once, not once per cluster.
    shared: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, compute: Callable[[], _T]) -> _T:
        """``compute()``, once for this tree and every copy of it."""
        if key not in self.shared:
            self.shared[key] = compute()
        found: _T = self.shared[key]
        return found

    @cached_property
    def _by_kind(self) -> dict[str, list[KObject]]:
        index: dict[str, list[KObject]] = defaultdict(list)
        for obj in self.objects:
            index[obj.kind].append(obj)
        return index

    @cached_property
    def _by_kind_group(self) -> dict[tuple[str, str], list[KObject]]:
        return {}

    def of_kind(self, kind: str, group: str | None = None) -> list[KObject]:
        found = self._by_kind.get(kind, [])
        if group is None:
            return found
        # Remembered: rules and resolvers ask for the same kind once per object they look at.
        key = (kind, group)
        known = self._by_kind_group.get(key)
        if known is None:
            known = [o for o in found if _in_group(o.group, group)]
            self._by_kind_group[key] = known
        return known

    def named(self, kind: str, group: str, name: str) -> list[KObject]:
        """Objects of a kind with that name, by index rather than by scanning the tree."""
        found = self._by_name.get((kind, name), [])
        return [o for o in found if _in_group(o.group, group)]

    @cached_property
    def _by_name(self) -> dict[tuple[str, str], list[KObject]]:
        index: dict[tuple[str, str], list[KObject]] = defaultdict(list)
        for obj in self.objects:
            index[(obj.kind, obj.name)].append(obj)
        return index

    @cached_property
    def _sources_by_name(self) -> dict[tuple[str, str], list[ConfigSource]]:
        index: dict[tuple[str, str], list[ConfigSource]] = defaultdict(list)
        for source in self.sources:
            index[(source.kind, source.name)].append(source)
        return index

    def sources_named(self, kind: str, name: str) -> list[ConfigSource]:
        """ConfigMaps or Secrets of that name in any namespace, in tree order."""
        return self._sources_by_name.get((kind, name), [])

    def find_source(self, kind: str, name: str, namespace: str | None) -> ConfigSource | None:
        candidates = self.sources_named(kind, name)
        same_ns = [s for s in candidates if namespace is None or s.namespace in (None, namespace)]
        if same_ns:
            return same_ns[-1]
        return None

    def problems(self) -> list[ParseProblem]:
        # Gathering facts may add problems and used data files: both only grow.
        key = f"problems/{len(self.extra_problems)}/{len(self.used_data_files)}"
        return list(self.memo(key, self._problems))

    def _problems(self) -> list[ParseProblem]:
        found: list[ParseProblem] = []
        for path, parsed in self.files.items():
            if path in self.data_files and path not in self.used_data_files:
                continue  # a data file is data: kustomize copies it whatever it holds
            found.extend(parsed.problems)
        found.extend(self.extra_problems)
        return found

    def documents(self) -> Iterable[Document]:
        for path, parsed in self.files.items():
            if path not in self.data_files:
                yield from parsed.documents


def _is_kustomization(doc: Document, path: str) -> bool:
    name = posixpath.basename(path)
    if name in KUSTOMIZATION_NAMES:
        return True
    return api_group(doc.api_version) == "kustomize.config.k8s.io"


class TreeBuilder:
    """Indexes parsed files. Kept separate from discovery and parsing so each stays one job."""

    def __init__(
        self,
        cwd: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        roots: RepositoryRoots | None = None,
    ) -> None:
        self.cwd = cwd
        self.max_bytes = max_bytes
        self.roots = roots if roots is not None else RepositoryRoots([cwd])
        self._base = posixpath.normpath(str(cwd.absolute()).replace("\\", "/"))
        self.files: dict[str, ParsedFile] = {}
        self.paths: dict[str, Path] = {}

    def add(self, found: FoundFile, parsed: ParsedFile) -> None:
        self.files[found.display] = parsed
        self.paths[found.display] = found.path

    def build(self) -> Tree:
        kustomizations = [
            (path, doc)
            for path, parsed in self.files.items()
            for doc in parsed.documents
            if isinstance(doc.data, dict) and _is_kustomization(doc, path)
        ]
        namespaces = {
            posixpath.dirname(path): doc.data["namespace"]
            for path, doc in kustomizations
            if isinstance(doc.data.get("namespace"), str)
        }
        sources: list[ConfigSource] = []
        data_files: set[str] = set()
        problems: list[ParseProblem] = []
        for path, doc in kustomizations:
            sources.extend(self._generated(path, doc, namespaces, data_files, problems))
        objects: list[KObject] = []
        for path, parsed in self.files.items():
            if path in data_files:
                continue
            lines: list[str] | None = None  # split once per file: a file may hold 20,000 sources
            for doc in parsed.documents:
                obj = _as_object(doc, _namespace_for(path, namespaces))
                if obj is None or _is_kustomization(doc, path):
                    continue
                if isinstance(doc.data.get("sops"), dict):
                    doc.encrypted = True
                objects.append(obj)
                if obj.kind in ("ConfigMap", "Secret") and obj.group == "":
                    if lines is None:
                        whole = parsed.full_text()
                        lines = whole.splitlines() if whole else []
                    sources.append(_written_source(obj, lines))
        return Tree(
            self.cwd,
            self.files,
            objects,
            sources,
            data_files,
            extra_problems=problems,
            roots=self.roots,
        )

    def _generated(
        self,
        path: str,
        doc: Document,
        namespaces: dict[str, str],
        data_files: set[str],
        problems: list[ParseProblem],
    ) -> Iterable[ConfigSource]:
        base = posixpath.dirname(path)
        # References are resolved from the kustomization's real folder; a refused one is never
        # read (the references rule, CL008, says why) and its key is simply missing.
        folder = posixpath.normpath(posixpath.join(self._base, base))
        for field_name, kind in (
            ("configMapGenerator", "ConfigMap"),
            ("secretGenerator", "Secret"),
        ):
            generators = doc.data.get(field_name)
            if not isinstance(generators, list):
                continue
            for index, gen in enumerate(generators):
                if not isinstance(gen, dict) or not isinstance(gen.get("name"), str):
                    continue
                gen_path = (field_name, index)
                namespace = (
                    gen.get("namespace") or namespaces.get(base) or _namespace_for(path, namespaces)
                )
                source = ConfigSource(kind, gen["name"], namespace, doc.locate((*gen_path, "name")))
                for i, spec in enumerate(_strings(gen.get("files"))):
                    key, _, rel = spec.rpartition("=")
                    real = self.roots.resolve(rel, folder)
                    if isinstance(real, Refused):
                        continue
                    display = posixpath.normpath(posixpath.join(base, rel))
                    key = key or posixpath.basename(rel)
                    data_files.add(display)
                    entry = self._file_entry(key, display, real)
                    if entry is None:
                        problems.append(
                            ParseProblem(
                                "CL003",
                                f"{field_name} {quote(gen['name'])} names file {quote(rel)}, "
                                "which cannot be read",
                                doc.locate((*gen_path, "files", i)),
                            )
                        )
                        continue
                    source.entries[key] = entry
                for i, literal in enumerate(_strings(gen.get("literals"))):
                    key, sep, value = literal.partition("=")
                    if sep:
                        location = doc.locate((*gen_path, "literals", i))
                        source.entries[key] = _text_entry(key, value, location)
                for env in _env_files(gen):
                    real = self.roots.resolve(env, folder)
                    if isinstance(real, Refused):
                        continue
                    display = posixpath.normpath(posixpath.join(base, env))
                    data_files.add(display)
                    self._env_entries(source, display, real)
                yield source

    def _read_text(self, display: str, real: str) -> str | None:
        """The text of a referenced file: ``real`` is its path checked by ``RepositoryRoots``."""
        parsed = self.files.get(display)
        text = parsed.full_text() if parsed is not None else None
        if text is not None:
            return text
        raw = read_bytes(FoundFile(Path(real), display), self.max_bytes)
        return None if isinstance(raw, str) else decode_text(raw)

    def _file_entry(self, key: str, display: str, real: str) -> DataEntry | None:
        text = self._read_text(display, real)
        if text is None:
            return None

        def load() -> ParsedFile:
            parsed = self.files.get(display)
            if parsed is None:
                assert text is not None
                parsed = parse_yaml(text.encode("utf-8"), display)
                parsed.text = text
            return parsed

        return DataEntry(key, text, Location(display, Span(1, 1, 1, 1)), load)

    def _env_entries(self, source: ConfigSource, display: str, real: str) -> None:
        text = self._read_text(display, real)
        if text is None:
            return
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or "=" not in stripped:
                continue
            key, _, value = stripped.partition("=")
            location = Location(display, Span(number, 1, number, len(line) + 1))
            source.entries[key.strip()] = _text_entry(key.strip(), value, location)


def _env_files(generator: dict[str, Any]) -> list[str]:
    """``envs`` entries, then the older single ``env``, as kustomize reads them."""
    single = generator.get("env")
    return [*_strings(generator.get("envs")), *([single] if isinstance(single, str) else [])]


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _text_entry(key: str, text: str, location: Location) -> DataEntry:
    def load() -> ParsedFile:
        span = location.span
        return parse_embedded(text, location.path, span.line, span.column - 1)

    return DataEntry(key, text, location, load)


def _namespace_for(path: str, namespaces: dict[str, str]) -> str | None:
    directory = posixpath.dirname(path)
    while True:
        if directory in namespaces:
            return namespaces[directory]
        if not directory:
            return None
        directory = posixpath.dirname(directory)


def _as_object(doc: Document, default_namespace: str | None) -> KObject | None:
    data = doc.data
    if not isinstance(data, dict):
        return None
    kind, api = data.get("kind"), data.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api, str):
        return None
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = metadata.get("name")
    namespace = metadata.get("namespace")
    return KObject(
        doc,
        kind,
        api_group(api),
        name if isinstance(name, str) else "",
        namespace if isinstance(namespace, str) else default_namespace,
    )


def _written_source(obj: KObject, lines: list[str]) -> ConfigSource:
    source = ConfigSource(
        obj.kind,
        obj.name,
        obj.namespace,
        obj.locate("metadata", "name"),
        encrypted=obj.doc.encrypted,
    )
    for field_name in ("data", "stringData"):
        data = obj.get(field_name)
        if not isinstance(data, dict):
            continue
        for key, value in data.items():
            location = obj.locate(field_name, key)
            text: str | None = value if isinstance(value, str) else None
            if text is not None and field_name == "data" and obj.kind == "Secret":
                text = _b64(text)
            if source.encrypted or (text is not None and text.startswith("ENC[")):
                text = None
            source.entries[key] = _block_entry(key, text, location, lines, obj.doc.path)
    return source


def _b64(text: str) -> str | None:
    try:
        return base64.b64decode(text, validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _block_entry(
    key: str, text: str | None, location: Location, lines: list[str], path: str
) -> DataEntry:
    """An entry whose text is a block scalar keeps positions inside the enclosing file."""
    span = location.span
    header = lines[span.line - 1][span.column - 1 :] if 0 < span.line <= len(lines) else ""
    if text is None or not header.startswith(("|", ">")):
        return DataEntry(key, text, location, _fixed_position_loader(text, location))
    # The block's text starts on the line after its header, blank lines included; its
    # indentation is that of the first line with content.
    first = span.line + 1
    content = first
    while content <= len(lines) and not lines[content - 1].strip():
        content += 1
    line = lines[content - 1] if content <= len(lines) else ""
    indent = len(line) - len(line.lstrip(" "))
    start = Location(path, Span(content, indent + 1, content, indent + 1))

    def load() -> ParsedFile:
        return parse_embedded(text, path, first, indent)

    return DataEntry(key, text, start, load)


def _fixed_position_loader(text: str | None, location: Location) -> Any:
    if text is None:
        return None

    def load() -> ParsedFile:
        # Quoted or base64 text: inner positions mean nothing in the file, so pin them all to
        # the entry itself.
        parsed = parse_yaml(text.encode("utf-8"), location.path)
        for document in parsed.documents:
            document.span = location.span
            document.source_map = document.source_map.shifted(lambda _s: location.span)
        parsed.problems = [ParseProblem(p.rule_id, p.message, location) for p in parsed.problems]
        return parsed

    return load


__all__ = [
    "ConfigSource",
    "DataEntry",
    "KObject",
    "Tree",
    "TreeBuilder",
    "api_group",
    "dig",
    "display_path",
]
