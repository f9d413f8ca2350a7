"""Write (or with --check, verify) the generated files: schemas/*.schema.json, docs/rules.md."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from cilium_lint.docgen import config_schema, rule_schema, rules_markdown
from cilium_lint.registry import Registry, load_registry

ROOT = Path(__file__).resolve().parent.parent


def builtin_registry() -> Registry:
    registry = load_registry()
    builtin = {rid: r for rid, r in registry.rules.items() if registry.packs[rid] == "builtin"}
    return Registry(builtin, {rid: "builtin" for rid in builtin})


TARGETS: dict[str, Callable[[], str]] = {
    "schemas/config.schema.json": config_schema,
    "schemas/rule.schema.json": rule_schema,
    "docs/rules.md": lambda: rules_markdown(builtin_registry()),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args()
    stale = []
    for relative, produce in TARGETS.items():
        path = ROOT / relative
        text = produce()
        current = path.read_text("utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(relative)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            print(f"wrote {relative}")
    if stale:
        print("stale: " + ", ".join(stale) + " (run: python tools/generate.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
