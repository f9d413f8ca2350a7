"""Flux post-build variable substitution (``spec.postBuild`` of a Flux ``Kustomization``).

kustomize-controller builds the overlay, serialises every resource to YAML, runs the text
through its envsubst (``github.com/fluxcd/pkg/envsubst``, a fork of ``drone/envsubst``) and
parses the result again. This module reproduces that on already-parsed data, string by string,
and records for every string which variables it used, so a finding can point at the place a
value was written and at the ConfigMap, Secret or ``substitute`` entry that supplied it.

Semantics (from ``fluxcd/pkg``: ``envsubst/parse/parse.go`` and ``parse/scan.go`` for the
syntax, ``envsubst/template.go`` ``evalFunc``/``lookupFunc`` and ``envsubst/funcs.go`` for the
operators, ``kustomize/kustomize_varsub.go`` for how the controller drives it):

* Only ``${...}`` is an expression; a bare ``$VAR`` is left alone. ``$$`` outside an
  expression is an escape for one ``$`` (so ``$${VAR}`` gives ``${VAR}`` and ``$$x`` gives
  ``$x``). Inside default values ``$$`` is *not* an escape; inside the pattern and replacement
  of ``${VAR/p/r}`` both ``$$`` and ``\\/``, ``\\\\`` are.
* A name is any run of Unicode letters, digits and ``_`` (``${1x}`` parses), but the variables
  given to Flux must match ``^[_[:alpha:]][_[:alpha:][:digit:]]*$`` (ASCII) or the whole
  substitution fails (:class:`InvalidVariableNameError`).
* ``${VAR}``; ``${VAR:=d}``, ``${VAR:-d}``, ``${VAR=d}`` and also ``${VAR:?d}``, ``${VAR:+d}``
  all mean the same: the default when the variable is unset *or empty* (unlike bash, ``=``
  does not distinguish empty from unset, ``:?`` does not fail and ``:+`` is not inverted).
  ``${VAR-d}``, ``${VAR+d}`` and ``${VAR?d}`` are syntax errors although the package README
  lists ``${var-default}``. A default may contain ``${...}`` expressions but no ``}``.
* ``${#VAR}`` (length in UTF-8 bytes), ``${VAR^}``, ``${VAR^^}``, ``${VAR,}``, ``${VAR,,}``,
  ``${VAR:pos}``, ``${VAR:pos:len}`` (byte offsets; negative ``pos`` counts from the end, a
  negative ``len`` stops that many bytes before the end, an unparsable number leaves the value
  whole), ``${VAR#glob}``, ``${VAR##glob}``, ``${VAR%glob}``, ``${VAR%%glob}`` (``*`` also
  matches ``/``), ``${VAR/str/repl}``, ``${VAR//str/repl}``, ``${VAR/#str/repl}``,
  ``${VAR/%str/repl}`` (plain substrings, not globs). The arguments of these take at most one
  ``${...}`` each and no text around it.
* An unset variable without a default becomes ``""`` (``${#VAR}`` gives ``0``). With strict
  substitution (the ``StrictPostBuildSubstitutions`` feature gate, on by default since
  kustomize-controller 1.9 / Flux 2.9) such a reference fails the build, also inside a default
  that is not taken (the controller evaluates every argument first). Since fluxcd/pkg#1167
  this covers the string operators too; before it only a bare ``${VAR}`` failed.
* The controller removes every ``\\n`` from variable values (ConfigMap, Secret and inline).
* Resources labelled or annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled`` are
  skipped (:func:`substitution_disabled`); nothing is substituted at all unless at least one
  variable is defined, unless ``spec.postBuild.substituteStrategy: Always``. Both are the
  caller's decision: these functions always substitute.

Differences that come from working on parsed data rather than on serialised YAML text, all
rare: an unclosed ``${`` in Flux can swallow text up to a ``}`` in a later line or key, here it
is an error in the one string; an expression written inside a double-quoted scalar is seen by
Flux with YAML's escapes (``"\\\\"`` reaches envsubst as two characters); a NUL character ends
the text for Flux's scanner but is ordinary here; nesting deeper than :data:`MAX_DEPTH` is an
error here only. Unicode case mapping uses Python's, reduced to one character per character
(Go uses the simple mapping; they differ for a handful of Greek letters).

Types: the controller parses the substituted text again, so ``enabled: ${FLAG}`` with
``FLAG=true`` becomes a boolean while ``ip: "${IP}"`` stays a string. :func:`retype` re-reads a
plain scalar's substituted text as the controller would; :func:`substitute_data` applies it
where the caller says a scalar was written plain. See :func:`retype` for the rule.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Any, NamedTuple, TypeAlias

import yaml

from cilium_lint.budget import NODE_BYTES, BudgetExceeded, WorkBudget
from cilium_lint.quoting import quote
from cilium_lint.sourcemap import Path
from cilium_lint.yamlload import MAX_EXPANDED_NODES, expanded_size

__all__ = [
    "DEFAULT_OPERATORS",
    "DISABLED",
    "MAX_DEPTH",
    "SUBSTITUTE_KEY",
    "VARIABLE_NAME",
    "InvalidVariableNameError",
    "ReparseError",
    "SubstitutedData",
    "Substitution",
    "SubstitutionError",
    "UnsetVariableError",
    "Variable",
    "invalid_names",
    "references",
    "retype",
    "substitute",
    "substitute_data",
    "substitution_disabled",
    "valid_name",
    "variables_from",
]

SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
DISABLED = "disabled"
# kustomize-controller's varsubRegex; [:alpha:] and [:digit:] are ASCII in Go's regexp.
VARIABLE_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*\Z")
# Operators that supply a value for an unset variable and so never fail in strict mode.
DEFAULT_OPERATORS = frozenset({"=", ":=", ":-", ":?", ":+"})
# Deeper nesting of ${...} than this is refused (Flux has no limit; nobody writes this).
MAX_DEPTH = 64
# Deeper data than this is refused rather than exhausting the stack (the YAML loader already
# refuses documents nested deeper than 400).
_MAX_DATA_DEPTH = 400

# Flux's error texts (fluxcd/pkg envsubst/parse/parse.go).
_BAD_SUBSTITUTION = "bad substitution"
_MISSING_BRACE = "missing closing brace"
_BAD_NAME = "unable to parse variable name"
_BAD_ARGUMENT = "unable to parse substitution within function"


class SubstitutionError(Exception):
    """Flux would refuse to substitute this text; nothing else is ever raised for text.

    ``position`` is the offset of the ``${`` whose expression failed (or of the failing
    expression in strict mode), ``offset`` where the parser gave up. :func:`substitute_data`
    sets ``path`` (and ``in_key`` when the text was a mapping key).
    """

    def __init__(self, message: str, position: int | None = None, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.offset = position if offset is None else offset
        self.path: Path | None = None
        self.in_key = False

    def __str__(self) -> str:
        text = self.message
        if self.position is not None:
            text += f" (at offset {self.position})"
        if self.path is not None:
            where = "/".join(str(step) for step in self.path)
            text += f" in {'the key ' if self.in_key else ''}{where or '<root>'}"
        return text


class UnsetVariableError(SubstitutionError):
    """Strict mode: variables referenced without a default are not defined."""

    def __init__(self, names: tuple[str, ...], position: int | None):
        quoted = ", ".join(f'"{name}"' for name in names)
        super().__init__(f"variable not set (strict mode): {quoted}", position)
        self.names = names


class InvalidVariableNameError(SubstitutionError):
    """A variable's name does not match Flux's rule; Flux substitutes nothing at all then."""

    def __init__(self, names: tuple[str, ...]):
        listed = ", ".join(quote(name) for name in names)
        super().__init__(
            f"{listed} var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
        )
        self.names = names


class ReparseError(SubstitutionError):
    """The substituted text of a plain scalar does not read back as YAML the controller accepts."""


@dataclass(frozen=True, slots=True)
class Variable:
    """A post-build variable. ``value`` is None when it exists but cannot be read (SOPS)."""

    name: str
    value: str | None
    origin: object = None  # the caller's Location of the value (opaque here)


@dataclass(frozen=True, slots=True)
class Substitution:
    """The outcome for one string.

    ``used``: variables that are defined and whose value decided the result (a default that
    was not taken does not make its own variables used). ``unknown``: the used variables whose
    value cannot be read; then the result is unknown and ``text`` keeps each undecidable
    ``${...}`` as written. ``missing``: unset variables referenced without a default (they gave
    ``""``). ``defaults_used``: variables whose default was taken (unset or empty).
    ``strict_missing``: the unset variables strict mode rejects, which also counts references
    inside defaults that were not taken. ``variables``: the :class:`Variable` of each name in
    ``used``, same order. ``expressions``: how many top-level ``${...}`` the text had.
    """

    original: str
    text: str
    used: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    defaults_used: tuple[str, ...] = ()
    strict_missing: tuple[str, ...] = ()
    variables: tuple[Variable, ...] = ()
    expressions: int = 0

    @property
    def changed(self) -> bool:
        return self.text != self.original

    @property
    def is_unknown(self) -> bool:
        return bool(self.unknown)


class SubstitutedData(NamedTuple):
    """New data plus records, keyed by paths in the *original* data.

    ``values`` holds a record for every string value that had an expression or changed;
    ``keys`` the same for mapping keys, under the path of their entry (as a source map's key
    span is addressed).
    """

    data: Any
    values: dict[Path, Substitution]
    keys: dict[Path, Substitution]


@lru_cache(maxsize=4096)  # every Kustomization checks the same cluster-wide names
def valid_name(name: str) -> bool:
    """Whether Flux accepts ``name`` as a variable name."""
    return VARIABLE_NAME.match(name) is not None


def invalid_names(names: Iterable[str]) -> tuple[str, ...]:
    """The names Flux refuses, in the given order."""
    return tuple(name for name in names if not valid_name(name))


def variables_from(values: Mapping[str, str | None], origin: object = None) -> dict[str, Variable]:
    """Variables for plain name -> value pairs, all with the same ``origin``."""
    return {name: Variable(name, value, origin) for name, value in values.items()}


def substitution_disabled(resource: Mapping[str, Any]) -> bool:
    """Whether a resource opts out via label or annotation ``...substitute: disabled``."""
    metadata = resource.get("metadata")
    if not isinstance(metadata, Mapping):
        return False
    for kind in ("labels", "annotations"):
        marks = metadata.get(kind)
        if isinstance(marks, Mapping) and marks.get(SUBSTITUTE_KEY) == DISABLED:
            return True
    return False


def substitute(
    text: str,
    variables: Mapping[str, Variable],
    *,
    strict: bool = False,
    limit: int | None = None,
) -> Substitution:
    """Substitute ``text`` as kustomize-controller would.

    Raises :class:`SubstitutionError` when Flux would fail: a malformed expression, an
    invalid variable name in ``variables``, or in ``strict`` mode an unset variable; and
    :class:`~cilium_lint.budget.BudgetExceeded` when the result (or a part of it) would be
    longer than ``limit`` bytes (``${A}${A}...``, ``${A//x/yyyy}``), before making it.
    """
    _check_names(variables)
    return _substitute(text, variables, strict, limit)


def references(text: str) -> set[str]:
    """Every variable name ``text`` refers to, defaults included; raises on malformed text."""
    if "$" not in text:
        return set()
    found: set[str] = set()
    pending: list[_Node] = list(_Parser(text).parse())
    while pending:
        node = pending.pop()
        if isinstance(node, _Func):
            found.add(node.param)
            pending.extend(node.args)
    return found


def substitute_data(
    data: Any,
    variables: Mapping[str, Variable],
    *,
    strict: bool = False,
    plain: Callable[[Path], bool] | None = None,
    names_checked: bool = False,
    budget: WorkBudget | None = None,
) -> SubstitutedData:
    """Substitute every string (mapping keys too) in plain data; the input is not modified, and
    the result shares with it every part that holds no ``$``.

    ``names_checked``: the caller has made sure that :func:`invalid_names` finds nothing in
    ``variables`` (it substitutes many documents with the same ones).

    ``plain(path)`` tells whether the scalar at ``path`` (original data) was written plain,
    not quoted and not a block scalar: such values are passed through :func:`retype` when
    substitution touched them and their result is known. Keys stay strings (the controller's
    YAML-to-JSON step turns every key into a string). When two keys substitute to the same
    text the later one wins, as in the controller's YAML decoder. Errors carry ``path``.

    ``budget``: the substituted text and re-read values are charged to it; going over raises
    :class:`~cilium_lint.budget.BudgetExceeded` (with ``path``) before the text is made.
    """
    if not names_checked:
        _check_names(variables)
    walker = _DataWalker(variables, strict, plain, budget)
    try:
        new = walker.walk(data, (), 0)
    except RecursionError:
        raise SubstitutionError("data nested too deeply") from None
    return SubstitutedData(new, walker.values, walker.keys)


def retype(text: str, budget: WorkBudget | None = None) -> Any:
    """Read the substituted text of a plain scalar back as the controller does.

    The controller parses the substituted YAML with go-yaml v2 rules (sigs.k8s.io/yaml
    ``YAMLToJSON``): ``true``/``yes``/``on``/``y`` and their capitalisations are booleans,
    ``~``/``null``/empty are null, integers may be ``0x``/``0o``/``0b``/leading-``0`` octal with
    ``_`` separators, floats need digits, ``.inf``/``.nan`` exist, timestamps stay strings.
    Surrounding spaces are dropped and a `` #`` starts a comment; a value that reads as a flow
    list or mapping becomes one. Text that does not read back as a single value in
    ``key: <text>`` (``a: b``, an unclosed quote, an unknown alias) or a non-finite float (not
    representable in JSON) raises :class:`ReparseError`, as the controller would fail.

    Rule for callers: apply this to the substituted text of every scalar that was written plain
    and had an expression or an escape (a record exists for it), whether the expression was
    the whole text or part of it (``port: 80${N}`` with ``N=80`` becomes the integer 8080).
    Never to quoted or block scalars, whose value stays a string, nor to unknown results.

    Aliases in the text are legal and expanded, within the bounds parsing keeps (CL005);
    past them, or past ``budget``, :class:`~cilium_lint.budget.BudgetExceeded` is raised.
    """
    if _SIMPLE_PLAIN.match(text):
        # Most results (an address, a name, a number) can only read back as one plain scalar:
        # resolve it without composing a document in pure Python.
        return _plain_scalar(text)
    return _retype_composed(text, budget)


def _retype_composed(text: str, budget: WorkBudget | None = None) -> Any:
    loader: _ReparseLoader | None = None
    try:
        loader = _ReparseLoader("k: " + text)  # checks the characters already
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ReparseError(f"substituted text is not valid YAML here: {problem}") from None
    except RecursionError:
        raise ReparseError("substituted text nests too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
        raise ReparseError("substituted text changes the structure of the document")
    if "*" in text:  # aliases: a billion laughs is as legal in a variable as in a file
        nodes = expanded_size(node)
        if nodes is None:
            raise BudgetExceeded(
                "a substituted value reads back as YAML whose aliases expand to more than "
                f"{MAX_EXPANDED_NODES:,} nodes, nest too deep or recurse (an alias bomb)"
            )
        if budget is not None:
            budget.charge(nodes * NODE_BYTES)
    try:
        return _construct(node.value[0][1])
    except RecursionError:
        raise ReparseError("substituted text nests too deeply") from None


# --- parsing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Text:
    value: str


@dataclass(frozen=True, slots=True)
class _Func:
    param: str
    op: str  # "" for ${VAR}; "#" with no args for ${#VAR}
    args: tuple[_Node, ...]
    start: int  # offset of "${"
    end: int  # offset after "}"


_Node: TypeAlias = "_Text | _Func"
_Accept: TypeAlias = Callable[[str, int], bool]

_ESCAPE_DOLLAR = 1
_ESCAPE_BACKSLASH = 2
_ESCAPE_ALL = _ESCAPE_DOLLAR | _ESCAPE_BACKSLASH


def _accept_any(char: str, index: int) -> bool:
    return True


def _accept_ident(char: str, index: int) -> bool:
    # Go's unicode.IsLetter / unicode.IsDigit (Nd) / '_'.
    return char == "_" or char.isalpha() or char.isdecimal()


def _accept_not_closing(char: str, index: int) -> bool:
    return char != "}"


def _accept_not_slash(char: str, index: int) -> bool:
    return char != "/"  # '}' included: ${A/x} runs on to the next '/'


def _accept_position(char: str, index: int) -> bool:
    return char not in ":}"


class _Parser:
    """Recursive descent over the text, mirroring fluxcd/pkg envsubst's scanner modes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.size = len(text)
        self.opened: list[int] = []

    def error(self, message: str, offset: int) -> SubstitutionError:
        start = self.opened[-1] if self.opened else offset
        return SubstitutionError(message, start, offset)

    def parse(self) -> list[_Node]:
        nodes: list[_Node] = []
        i = 0
        while i < self.size:
            if self.text.startswith("${", i):
                func, i = self.func(i)
                nodes.append(func)
                continue
            scanned = self.scan(i, _accept_any, _ESCAPE_DOLLAR, stop_at_open=True)
            if scanned is None:  # pragma: no cover - everything is accepted here
                raise self.error(_BAD_SUBSTITUTION, i)
            value, i = scanned
            nodes.append(_Text(value))
        return nodes

    def escaped(self, i: int, escapes: int) -> bool:
        if not escapes or i + 1 >= self.size:
            return False
        char, following = self.text[i], self.text[i + 1]
        if char == "$" and escapes & _ESCAPE_DOLLAR:
            return following == "$"
        if char == "\\" and escapes & _ESCAPE_BACKSLASH:
            return following in "/\\"
        return False

    def scan(
        self, i: int, accept: _Accept, escapes: int, *, stop_at_open: bool
    ) -> tuple[str, int] | None:
        """One token from ``i`` (not at the end): None if its first character is refused.

        An escape pair yields its second character, which is taken without asking ``accept``.
        ``accept`` gets the 1-based position in the token, which only matters for ASCII.
        """
        text = self.text
        out: list[str] = []
        if self.escaped(i, escapes):
            out.append(text[i + 1])
            i += 2
        elif accept(text[i], 1):
            out.append(text[i])
            i += 1
        else:
            return None
        while i < self.size:
            if stop_at_open and text.startswith("${", i):
                break
            if self.escaped(i, escapes):
                out.append(text[i + 1])
                i += 2
                continue
            if not accept(text[i], len(out) + 1):
                break
            out.append(text[i])
            i += 1
        return "".join(out), i

    def func(self, start: int) -> tuple[_Func, int]:
        if len(self.opened) >= MAX_DEPTH:
            raise SubstitutionError("expression nested too deeply", start, start)
        self.opened.append(start)
        try:
            return self.func_body(start)
        finally:
            self.opened.pop()

    def func_body(self, start: int) -> tuple[_Func, int]:
        text, size = self.text, self.size
        i = start + 2
        if i < size and text[i] == "#":
            return self.length(start, i + 1)
        scanned = self.scan(i, _accept_ident, 0, stop_at_open=False) if i < size else None
        if scanned is None:
            raise self.error(_BAD_NAME, i)
        name, i = scanned
        char = text[i] if i < size else ""
        if char == ":":
            if i + 1 < size and text[i + 1] in "=-?+":
                return self.default(name, text[i : i + 2], i + 2, start)
            return self.substring(name, i + 1, start)
        if char == "=":
            return self.default(name, "=", i + 1, start)
        if char in (",", "^"):
            return self.casing(name, i, start)
        if char == "/":
            return self.replace(name, i, start)
        if char in ("#", "%"):
            return self.remove(name, char, i, start)
        if char == "}":
            return _Func(name, "", (), start, i + 1), i + 1
        raise self.error(_MISSING_BRACE, i)

    def argument(self, i: int, accept: _Accept, escapes: int) -> tuple[_Node, int]:
        """One argument: a nested ``${...}`` or one run of text."""
        if self.text.startswith("${", i):
            return self.func(i)
        scanned = self.scan(i, accept, escapes, stop_at_open=True) if i < self.size else None
        if scanned is None:
            raise self.error(_BAD_ARGUMENT, i)
        value, i = scanned
        return _Text(value), i

    def close(self, i: int) -> int:
        if i < self.size and self.text[i] == "}":
            return i + 1
        raise self.error(_BAD_SUBSTITUTION, i)

    def default(self, name: str, op: str, i: int, start: int) -> tuple[_Func, int]:
        args: list[_Node] = []
        while not (i < self.size and self.text[i] == "}"):
            node, i = self.argument(i, _accept_not_closing, 0)
            args.append(node)
        return _Func(name, op, tuple(args), start, i + 1), i + 1

    def substring(self, name: str, i: int, start: int) -> tuple[_Func, int]:
        first, i = self.argument(i, _accept_position, 0)
        if i < self.size and self.text[i] == "}":
            return _Func(name, ":", (first,), start, i + 1), i + 1
        if not (i < self.size and self.text[i] == ":"):
            raise self.error(_BAD_SUBSTITUTION, i)
        while i < self.size and self.text[i] == ":":  # the delimiter takes every ':'
            i += 1
        second, i = self.argument(i, _accept_not_closing, 0)
        i = self.close(i)
        return _Func(name, ":", (first, second), start, i), i

    def remove(self, name: str, mark: str, i: int, start: int) -> tuple[_Func, int]:
        op = mark
        i += 1
        if i < self.size and self.text[i] == mark:
            op += mark
            i += 1
        pattern, i = self.argument(i, _accept_not_closing, 0)
        i = self.close(i)
        return _Func(name, op, (pattern,), start, i), i

    def casing(self, name: str, i: int, start: int) -> tuple[_Func, int]:
        op = self.text[i]
        i += 1
        if i < self.size and self.text[i] in (",", "^"):
            op += self.text[i]  # ",^" and "^," parse, and leave the value as it is
            i += 1
        i = self.close(i)
        return _Func(name, op, (), start, i), i

    def replace(self, name: str, i: int, start: int) -> tuple[_Func, int]:
        text, size = self.text, self.size
        op = "/"
        i += 1
        if i < size and text[i] in ("/", "#", "%"):
            op += text[i]
            i += 1
        args: list[_Node] = []
        if i < size and text[i] == "/":
            args.append(_Text(""))
        else:
            pattern, i = self.argument(i, _accept_not_slash, _ESCAPE_ALL)
            args.append(pattern)
        if not (i < size and text[i] == "/"):
            raise self.error(_BAD_SUBSTITUTION, i)
        while i < size and text[i] == "/":  # the delimiter takes every '/'
            i += 1
        if i < size and text[i] == "}":
            return _Func(name, op, tuple(args), start, i + 1), i + 1
        replacement, i = self.argument(i, _accept_not_closing, _ESCAPE_ALL)
        args.append(replacement)
        i = self.close(i)
        return _Func(name, op, tuple(args), start, i), i

    def length(self, start: int, i: int) -> tuple[_Func, int]:
        scanned = self.scan(i, _accept_ident, 0, stop_at_open=False) if i < self.size else None
        if scanned is None:
            raise self.error(_BAD_SUBSTITUTION, i)
        name, i = scanned
        i = self.close(i)
        return _Func(name, "#", (), start, i), i


# --- evaluation --------------------------------------------------------------------------


@dataclass
class _Record:
    used: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)

    def absorb(self, other: _Record) -> None:
        self.used += other.used
        self.unknown += other.unknown
        self.missing += other.missing
        self.defaults += other.defaults


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # a byte offset cut a character in two, as Go would
        return data.decode("utf-8", "replace")


def _check_names(variables: Mapping[str, Variable]) -> None:
    bad = invalid_names(variables)
    if bad:
        raise InvalidVariableNameError(bad)


def _check_length(size: int, limit: int | None) -> None:
    if limit is not None and size > limit:
        raise BudgetExceeded(f"a substituted text would be longer than {limit:,} bytes")


class _Evaluator:
    def __init__(self, variables: Mapping[str, Variable], limit: int | None = None) -> None:
        self.variables = variables
        self.limit = limit  # bytes a result may have, checked before it is made
        self.unset: list[tuple[int, str]] = []  # (offset, name) that strict mode rejects

    def node(self, node: _Node, record: _Record) -> bytes | None:
        if isinstance(node, _Text):
            return _encode(node.value)
        return self.func(node, record)

    def func(self, node: _Func, record: _Record) -> bytes | None:
        """The expression's bytes, or None when they depend on an unreadable value."""
        inner = _Record()
        # The controller evaluates every argument before looking at the variable.
        args = [self.node(arg, inner) for arg in node.args]
        name = node.param
        variable = self.variables.get(name)
        defaulting = node.op in DEFAULT_OPERATORS
        if variable is None:
            record.absorb(inner)
            if defaulting:
                record.defaults.append(name)
                return self.join(args)
            self.unset.append((node.start, name))
            record.missing.append(name)
            return self.apply(node.op, "", args)
        record.used.append(name)
        if variable.value is None:
            record.unknown.append(name)
            record.absorb(inner)
            return None
        value = variable.value.replace("\n", "")
        if defaulting:
            if value == "" and args:
                record.defaults.append(name)
                record.absorb(inner)
                return self.join(args)
            return _encode(value)
        record.absorb(inner)
        return self.apply(node.op, value, args)

    def join(self, args: list[bytes | None]) -> bytes | None:
        _check_length(sum(len(arg) for arg in args if arg is not None), self.limit)
        return _join(args)

    def apply(self, op: str, value: str, args: list[bytes | None]) -> bytes | None:
        if op in _REPLACING and len(args) > 1 and args[0] is not None and args[1] is not None:
            # The most a replacement can make: every match (every gap, for an empty pattern)
            # replaced; counted in C before Python builds it.
            data, old, new = _encode(value), args[0], args[1]
            matches = 1 if op != "//" else (data.count(old) if old else len(data) + 1)
            _check_length(len(data) + matches * len(new), self.limit)
        elif not value:
            _check_length(sum(len(arg) for arg in args if arg is not None), self.limit)
        return _apply(op, value, args)


def _substitute(
    text: str, variables: Mapping[str, Variable], strict: bool, limit: int | None = None
) -> Substitution:
    if "$" not in text:
        return Substitution(original=text, text=text)
    nodes = _Parser(text).parse()
    evaluator = _Evaluator(variables, limit)
    record = _Record()
    out = bytearray()
    expressions = 0
    for node in nodes:
        if isinstance(node, _Text):
            out += _encode(node.value)
            continue
        expressions += 1
        value = evaluator.func(node, record)
        out += _encode(text[node.start : node.end]) if value is None else value
        _check_length(len(out), limit)
    unset = sorted(evaluator.unset)
    if strict and unset:
        raise UnsetVariableError(_unique(name for _, name in unset), unset[0][0])
    used = _unique(record.used)
    return Substitution(
        original=text,
        text=_decode(bytes(out)),
        used=used,
        unknown=_unique(record.unknown),
        missing=_unique(record.missing),
        defaults_used=_unique(record.defaults),
        strict_missing=_unique(name for _, name in unset),
        variables=tuple(variables[name] for name in used),
        expressions=expressions,
    )


_REPLACING = frozenset({"/", "//", "/#", "/%"})


class _DataWalker:
    def __init__(
        self,
        variables: Mapping[str, Variable],
        strict: bool,
        plain: Callable[[Path], bool] | None,
        budget: WorkBudget | None = None,
    ) -> None:
        self.variables = variables
        self.strict = strict
        self.plain = plain
        self.budget = budget
        self.values: dict[Path, Substitution] = {}
        self.keys: dict[Path, Substitution] = {}

    def text(self, text: str, path: Path, in_key: bool) -> Substitution:
        budget = self.budget
        try:
            result = _substitute(
                text, self.variables, self.strict, budget.room() if budget else None
            )
            if budget is not None:
                budget.charge(len(result.text))
            return result
        except SubstitutionError as exc:
            exc.path, exc.in_key = path, in_key
            raise
        except BudgetExceeded as exc:
            exc.path = path
            raise

    def walk(self, node: Any, path: Path, depth: int) -> Any:
        if depth > _MAX_DATA_DEPTH:
            error = SubstitutionError("data nested too deeply")
            error.path = path
            raise error
        if isinstance(node, str):
            if "$" not in node:
                return node
            result = self.text(node, path, False)
            if not (result.changed or result.expressions):
                return node
            self.values[path] = result
            if self.plain is not None and not result.unknown and self.plain(path):
                try:
                    return retype(result.text, self.budget)
                except (SubstitutionError, BudgetExceeded) as exc:
                    exc.path = path
                    raise
            return result.text
        if isinstance(node, dict):
            # Copied from the first entry that changes; a mapping where nothing changes is
            # returned as it is, shared with the input.
            out: dict[Any, Any] | None = None
            for index, (key, value) in enumerate(node.items()):
                new_key = key
                if isinstance(key, str) and "$" in key:
                    result = self.text(key, (*path, key), True)
                    if result.changed or result.expressions:
                        self.keys[(*path, key)] = result
                        new_key = result.text
                new_value = value
                if isinstance(value, dict | list) or (isinstance(value, str) and "$" in value):
                    new_value = self.walk(value, (*path, key), depth + 1)
                if out is None and (new_key is not key or new_value is not value):
                    out = dict(islice(node.items(), index))
                if out is not None:
                    out[new_key] = new_value
            return node if out is None else out
        if isinstance(node, list):
            items: list[Any] | None = None
            for index, item in enumerate(node):  # a loop, not a comprehension: one frame a level
                new_item = item
                if isinstance(item, dict | list) or (isinstance(item, str) and "$" in item):
                    new_item = self.walk(item, (*path, index), depth + 1)
                if items is None and new_item is not item:
                    items = node[:index]
                if items is not None:
                    items.append(new_item)
            return node if items is None else items
        return node


# --- the string operators (fluxcd/pkg envsubst/funcs.go), on UTF-8 bytes as in Go --------


def _join(args: list[bytes | None]) -> bytes | None:
    if any(arg is None for arg in args):
        return None
    return b"".join(arg for arg in args if arg is not None)


def _apply(op: str, value: str, maybe_args: list[bytes | None]) -> bytes | None:
    if any(arg is None for arg in maybe_args):
        return None
    args = [arg for arg in maybe_args if arg is not None]
    if op == ",":
        return _encode(_lower_char(value[0]) + value[1:] if value else value)
    if op == ",,":
        return _encode("".join(map(_lower_char, value)))
    if op == "^":
        return _encode(_upper_char(value[0]) + value[1:] if value else value)
    if op == "^^":
        return _encode("".join(map(_upper_char, value)))
    data = _encode(value)
    if op == "#" and not args:
        return str(len(data)).encode()
    operator = _OPERATORS.get(op)
    if operator is not None:
        return operator(data, args)
    # ${VAR}, and names lookupFunc does not know (",^"): the value, or the joined arguments.
    return data if data or not args else b"".join(args)


def _upper_char(char: str) -> str:
    upper = char.upper()
    return upper if len(upper) == 1 else char  # no one-character mapping: Go keeps it


def _lower_char(char: str) -> str:
    return char.lower()[0]  # only U+0130 lowers to two characters; Go maps it to 'i'


_INT = re.compile(rb"[+-]?[0-9]+\Z")
_INT64 = 1 << 63


def _atoi(data: bytes) -> int | None:
    """Go's strconv.Atoi: ASCII decimal with an optional sign, within int64."""
    if not _INT.match(data):
        return None
    number = int(data)
    return number if -_INT64 <= number < _INT64 else None


def _substring(data: bytes, args: list[bytes]) -> bytes:
    if not args:
        return data
    pos = _atoi(args[0])
    if pos is None:
        return data  # like bash, an unparsable position leaves the value whole
    if pos < 0:
        pos = max(len(data) + pos, 0)
    if len(args) == 1:
        return data[pos:] if pos < len(data) else b""
    length = _atoi(args[1])
    if length is None:
        return data
    if length < 0:
        end = len(data) + length
        return b"" if end < pos else data[pos:end]
    if pos + length >= len(data):
        return data[pos:] if pos < len(data) else b""
    return data[pos : pos + length]


def _decode_rune(data: bytes, i: int) -> tuple[int, int]:
    """Go's utf8.DecodeRune: (code point, width), (U+FFFD, 1) for an invalid byte."""
    lead = data[i]
    if lead < 0x80:
        return lead, 1
    if 0xC2 <= lead <= 0xDF:
        width = 2
    elif 0xE0 <= lead <= 0xEF:
        width = 3
    elif 0xF0 <= lead <= 0xF4:
        width = 4
    else:
        return 0xFFFD, 1
    try:
        char = data[i : i + width].decode("utf-8")
    except UnicodeDecodeError:
        return 0xFFFD, 1
    return ord(char), width


def _reverse(data: bytes) -> bytes:
    runes: list[int] = []
    i = 0
    while i < len(data):
        rune, width = _decode_rune(data, i)
        runes.append(rune)
        i += width
    return "".join(chr(rune) for rune in reversed(runes)).encode("utf-8", "surrogatepass")


def _go_replace(data: bytes, old: bytes, new: bytes, count: int) -> bytes:
    """Go's strings.Replace; an empty ``old`` matches before every character and at the end."""
    if old == new or count == 0:
        return data
    if old:
        return data.replace(old, new, count)
    widths: list[int] = []
    i = 0
    while i < len(data):
        width = _decode_rune(data, i)[1]
        widths.append(width)
        i += width
    slots = len(widths) + 1
    if count < 0 or count > slots:
        count = slots
    out = bytearray()
    start = 0
    for index in range(count):
        end = start + (widths[index - 1] if index > 0 else 0)
        out += data[start:end] + new
        start = end
    return bytes(out + data[start:])


def _replace_first(data: bytes, args: list[bytes]) -> bytes:
    if not args:
        return data
    return _go_replace(data, args[0], args[1] if len(args) > 1 else b"", 1)


def _replace_all(data: bytes, args: list[bytes]) -> bytes:
    if not args:
        return data
    return _go_replace(data, args[0], args[1] if len(args) > 1 else b"", -1)


def _replace_prefix(data: bytes, args: list[bytes]) -> bytes:
    if len(args) != 2:  # ${VAR/#x/} leaves the value alone
        return data
    return _go_replace(data, args[0], args[1], 1) if data.startswith(args[0]) else data


def _replace_suffix(data: bytes, args: list[bytes]) -> bytes:
    if len(args) != 2:
        return data
    if data.endswith(args[0]):
        return data[: len(data) - len(args[0])] + args[1]
    return data


class _BadPattern(Exception):
    pass


def _glob(pattern: bytes, name: bytes) -> bool:
    """Go's path.Match as forked by envsubst: ``*`` and ``?`` also match ``/``.

    Errors in the pattern surface lazily, only when matching reaches them.
    """
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return True  # a trailing '*' takes the rest
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if not star:
            return False
        for skip in range(len(name)):
            rest = _match_chunk(chunk, name[skip + 1 :])
            if rest is not None and (pattern or not rest):
                name = rest
                break
        else:
            return False
    return not name


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    star = False
    while pattern[:1] == b"*":
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == 0x5C:  # backslash
            if i + 1 < len(pattern):
                i += 1
        elif char == 0x5B:  # [
            in_range = True
        elif char == 0x5D:  # ]
            in_range = False
        elif char == 0x2A and not in_range:  # *
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _match_chunk(chunk: bytes, name: bytes) -> bytes | None:
    """The rest of ``name`` after ``chunk`` matched its beginning, or None."""
    while chunk:
        if not name:
            return None
        char = chunk[0]
        if char == 0x5B:  # [ character class
            rune, width = _decode_rune(name, 0)
            name = name[width:]
            chunk = chunk[1:]
            negated = chunk[:1] == b"^"
            if negated:
                chunk = chunk[1:]
            matched = False
            ranges = 0
            while True:
                if chunk[:1] == b"]" and ranges > 0:
                    chunk = chunk[1:]
                    break
                low, chunk = _class_char(chunk)
                high = low
                if chunk[:1] == b"-":
                    high, chunk = _class_char(chunk[1:])
                if low <= rune <= high:
                    matched = True
                ranges += 1
            if matched == negated:
                return None
        elif char == 0x3F:  # ?
            name = name[_decode_rune(name, 0)[1] :]
            chunk = chunk[1:]
        else:
            if char == 0x5C:
                chunk = chunk[1:]
                if not chunk:
                    raise _BadPattern
            if chunk[0] != name[0]:
                return None
            name = name[1:]
            chunk = chunk[1:]
    return name


def _class_char(chunk: bytes) -> tuple[int, bytes]:
    if not chunk or chunk[0] in (0x2D, 0x5D):
        raise _BadPattern
    if chunk[0] == 0x5C:
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern
    rune, width = _decode_rune(chunk, 0)
    rest = chunk[width:]
    if (rune == 0xFFFD and width == 1) or not rest:
        raise _BadPattern
    return rune, rest


# envsubst tries the glob on every prefix of the value, and a `*` makes each try scan the
# prefix: steps grow with the square of the value's length. Flux would stall as long on a value
# made for it; here such a trim is refused as work over budget (CL016). Real trims (a domain,
# a file extension) take a few thousand steps.
TRIM_STEPS = 4_000_000


def _check_trim_cost(data: bytes, pattern: bytes) -> None:
    per_try = len(pattern) + 1
    if b"*" in pattern:
        per_try *= len(data) + 1
    steps = len(data) * per_try
    if steps > TRIM_STEPS:
        raise BudgetExceeded(
            f"trimming a {len(data):,}-byte value with the pattern "
            f"{quote(_decode(pattern), 40)} would take about {steps:,} steps "
            f"(limit {TRIM_STEPS:,})"
        )


def _trim_shortest(data: bytes, pattern: bytes) -> bytes:
    _check_trim_cost(data, pattern)
    shortest = b""
    for cut in range(len(data)):  # every non-empty prefix, longest first
        prefix = data[: len(data) - cut]
        try:
            if _glob(pattern, prefix):
                shortest = prefix
        except _BadPattern:
            return data
    return data[len(shortest) :]


def _trim_longest(data: bytes, pattern: bytes) -> bytes:
    _check_trim_cost(data, pattern)
    for cut in range(len(data)):
        prefix = data[: len(data) - cut]
        try:
            if _glob(pattern, prefix):
                return data[len(prefix) :]
        except _BadPattern:
            return data
    return data


def _trim_shortest_prefix(data: bytes, args: list[bytes]) -> bytes:
    return _trim_shortest(data, args[0]) if args else data


def _trim_longest_prefix(data: bytes, args: list[bytes]) -> bytes:
    return _trim_longest(data, args[0]) if args else data


def _trim_shortest_suffix(data: bytes, args: list[bytes]) -> bytes:
    if not args:
        return data
    return _reverse(_trim_shortest(_reverse(data), _reverse(args[0])))


def _trim_longest_suffix(data: bytes, args: list[bytes]) -> bytes:
    if not args:
        return data
    return _reverse(_trim_longest(_reverse(data), _reverse(args[0])))


_OPERATORS: dict[str, Callable[[bytes, list[bytes]], bytes]] = {
    "#": _trim_shortest_prefix,
    "##": _trim_longest_prefix,
    "%": _trim_shortest_suffix,
    "%%": _trim_longest_suffix,
    ":": _substring,
    "/": _replace_first,
    "//": _replace_all,
    "/#": _replace_prefix,
    "/%": _replace_suffix,
}


# --- reading a plain scalar back (go-yaml v2 resolve, as sigs.k8s.io/yaml uses it) -------

_PLAIN_TAG = "tag:cilium-lint:plain"
_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float", "null", "timestamp")
)


class _ReparseLoader(yaml.SafeLoader):
    """Composes nodes and marks plain scalars instead of resolving them PyYAML's way."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # Only called for nodes without an explicit tag.
        if kind is yaml.ScalarNode:
            return _PLAIN_TAG if implicit[0] else "tag:yaml.org,2002:str"
        if kind is yaml.SequenceNode:
            return "tag:yaml.org,2002:seq"
        return "tag:yaml.org,2002:map"


_RESOLVED: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE"), True),
    **dict.fromkeys(("on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE"), False),
    **dict.fromkeys(("off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_HINTS = {
    **dict.fromkeys("+-", "S"),
    **dict.fromkeys("0123456789", "D"),
    **dict.fromkeys("yYnNtTfFoO~", "M"),
    ".": ".",
}
# Text that ``k: <text>`` can only read as one plain scalar of that exact text: no indicator
# first, no space, no ": " or " #", no flow or quote characters anywhere.
_SIMPLE_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./+-]*\Z")
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?\Z")
_UINT64_MAX = (1 << 64) - 1


class _NumberError(Exception):
    def __init__(self, out_of_range: bool) -> None:
        super().__init__()
        self.out_of_range = out_of_range


def _digit(char: str) -> int:
    if "0" <= char <= "9":
        return ord(char) - 48
    lower = char.lower()
    if "a" <= lower <= "z":
        return ord(lower) - 87
    return 99


def _parse_uint(text: str, base: int, limit: int | None = _UINT64_MAX) -> int:
    """Go's strconv.ParseUint (``limit=None``: math/big's SetString magnitude)."""
    if not text:
        raise _NumberError(False)
    if base == 0:
        base = 10
        if text[0] == "0":
            prefix = text[1:2].lower()
            if len(text) >= 3 and prefix in ("b", "o", "x"):
                base = {"b": 2, "o": 8, "x": 16}[prefix]
                text = text[2:]
            else:
                base = 8
                text = text[1:]
    number = 0
    for char in text:
        digit = _digit(char)
        if digit >= base:
            raise _NumberError(False)
        number = number * base + digit
        if limit is not None and number > limit:
            raise _NumberError(True)
    return number


def _parse_int(text: str, base: int) -> int:
    """Go's strconv.ParseInt for 64 bits."""
    if not text:
        raise _NumberError(False)
    negative = text[0] == "-"
    if text[0] in "+-":
        text = text[1:]
    magnitude = _parse_uint(text, base)
    if magnitude > _INT64 - (0 if negative else 1):
        raise _NumberError(True)
    return -magnitude if negative else magnitude


def _parse_float(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None  # Go reports a range error


def _resolve_plain(value: str) -> Any:
    hint = _HINTS.get(value[:1]) if value else "N"
    if hint is None:
        return value
    if value in _RESOLVED:
        return _RESOLVED[value]
    if hint in ("M", "N"):
        return value
    if hint == ".":
        number = _parse_float(value) if _DOT_FLOAT.match(value) else None
        return value if number is None else number
    # Digits or a sign. Timestamps would be tried first, but go-yaml v2 gives them back as
    # strings, and everything shaped like one fails every numeric parse below anyway.
    plain = value.replace("_", "")
    try:
        return _parse_int(plain, 0)
    except _NumberError:
        pass
    out_of_range = False
    try:
        return _parse_uint(plain, 0)
    except _NumberError as exc:
        out_of_range = exc.out_of_range
    if _YAML_FLOAT.match(plain):
        number = _parse_float(plain)
        if number is not None:
            return number
    if plain.startswith("0b"):
        try:
            return _parse_int(plain[2:], 2)
        except _NumberError:
            pass
        try:
            return _parse_uint(plain[2:], 2)
        except _NumberError:
            pass
    elif plain.startswith("-0b"):
        try:
            return _parse_int("-" + plain[3:], 2)
        except _NumberError:
            pass
    if out_of_range:  # too large for 64 bits (never signed here): math/big's SetString
        try:
            return _parse_uint(plain, 0, None)
        except _NumberError:
            pass
    return value


def _plain_scalar(value: str) -> Any:
    resolved = _resolve_plain(value)
    if isinstance(resolved, float) and not math.isfinite(resolved):
        raise ReparseError(f"{value!r} is not representable in JSON")
    return resolved


def _construct(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value = str(node.value)
        if node.tag == _PLAIN_TAG or node.tag in _CORE_TAGS:
            return _plain_scalar(value)
        return value  # quoted, !!str, or a tag the decoder does not know
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _json_key(key_node)
            out[key] = _construct(value_node)
        return out
    raise ReparseError("unsupported YAML node")  # pragma: no cover


def _json_key(node: yaml.Node) -> str:
    """A mapping key as sigs.k8s.io/yaml's YAML-to-JSON conversion turns it into a string."""
    if not isinstance(node, yaml.ScalarNode):
        raise ReparseError("a mapping key must be a scalar")
    value = str(node.value)
    if node.tag != _PLAIN_TAG and node.tag not in _CORE_TAGS:
        return value
    key = _resolve_plain(value)
    if key is None:
        raise ReparseError("a mapping key cannot be null")
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _format_float32(key)
    return str(key)


def _float32(number: float) -> float:
    return float(struct.unpack("f", struct.pack("f", number))[0])


def _format_float32(number: float) -> str:
    """Go's strconv.FormatFloat(number, 'g', -1, 32), with YAML's names for the specials."""
    if math.isnan(number):
        return ".nan"
    try:
        single = _float32(number)
    except OverflowError:
        single = math.copysign(math.inf, number)
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1.0, single) < 0 else "0"
    for precision in range(9):
        shown = f"{single:.{precision}e}"
        if _float32(float(shown)) == single:
            break
    mantissa, exponent_text = shown.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exponent = int(exponent_text)
    if exponent < -4 or exponent >= 6:  # the shortest form decides at precision 6
        fraction = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{fraction}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    point = exponent + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"
