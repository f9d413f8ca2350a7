"""JSON Schema validation of rule schemas with regular expressions run by RE2, never by ``re``.

A rule schema (a declarative rule's ``assert``) may come from a ``--rule-dir`` the linted
repository holds. jsonschema runs ``pattern``, ``patternProperties`` (and the
``additionalProperties`` that depends on them) and the ``regex`` format with Python's
backtracking ``re``; here they run with RE2 (:mod:`cilium_lint.patterns`), in linear time.
``unevaluatedProperties`` also reads ``patternProperties`` through ``re``, deep inside
jsonschema, so a schema combining the two is refused when the rule is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from cilium_lint.patterns import go_pattern
from cilium_lint.sourcemap import Path

# Keywords whose values are data, not schemas: a "pattern" key there is not a regex.
DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})


def schema_problems(schema: Any, at: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every pattern of ``schema`` RE2 refuses, and a refused keyword combination, by path."""
    found_pattern_properties = False
    found_unevaluated: Path | None = None
    stack: list[tuple[Path, Any]] = [(at, schema)]
    while stack:  # a loop, not recursion: a rule file may nest deeply
        path, node = stack.pop()
        if isinstance(node, list):
            stack.extend(((*path, i), item) for i, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            where = (*path, key)
            if key in DATA_KEYWORDS:
                continue
            if key == "pattern" and isinstance(value, str):
                yield from _check(where, value)
            elif key == "patternProperties" and isinstance(value, dict):
                found_pattern_properties = True
                for name in value:
                    yield from _check((*where, name), str(name))
            elif key == "unevaluatedProperties":
                found_unevaluated = found_unevaluated or where
            stack.append((where, value))
    if found_pattern_properties and found_unevaluated is not None:
        yield (
            found_unevaluated,
            "unevaluatedProperties together with patternProperties is not supported",
        )


def _check(where: Path, text: str) -> Iterator[tuple[Path, str]]:
    compiled = go_pattern(text)
    if compiled.error is not None:
        yield where, f"pattern {text[:60]!r} is refused: {compiled.error}"


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not go_pattern(pattern).search(instance):
        shown = instance if len(instance) <= 60 else instance[:57] + "..."
        yield ValidationError(f"{shown!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, properties: dict[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        compiled = go_pattern(pattern)
        for key, value in instance.items():
            if compiled.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    properties = schema.get("properties", {})
    patterns = [go_pattern(p) for p in schema.get("patternProperties", {})]
    return [
        key
        for key in instance
        if key not in properties and not any(p.search(key) for p in patterns)
    ]


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[Any]:
    from jsonschema import ValidationError

    if not validator.is_type(instance, "object"):
        return
    extras = _additional(instance, schema)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        joined = ", ".join(repr(each) for each in sorted(extras))
        if "patternProperties" in schema:
            patterns = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield ValidationError(f"{joined} do not match any of the regexes: {patterns}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({joined} unexpected)")


def _is_regex(instance: object) -> bool:
    return not isinstance(instance, str) or go_pattern(instance).valid


@cache
def validator_class() -> Any:
    """Draft 2020-12 with the regex keywords and the ``regex`` format run by RE2."""
    import jsonschema  # costly to import; only rules with a schema pay
    from jsonschema import validators

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("regex")(_is_regex)
    return validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator,
        validators={
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
        format_checker=checker,
    )
