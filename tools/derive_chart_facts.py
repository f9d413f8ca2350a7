#!/usr/bin/env python3
"""Derive ``cilium_lint/cilium/data/chart_facts.json`` from the Cilium reference data.

Usage::

    python tools/derive_chart_facts.py [REFERENCE_DIR] [--check]

``REFERENCE_DIR`` defaults to ``../shared/reference/cilium`` relative to the repository root. It
must hold the chart schemas ``cilium-helm-chart-<version>__values.schema.json``, the derived
table ``derived__cilium-helm-chart-key-facts__*.json`` and ``MANIFEST.tsv``. Those files are
never copied into the project; only the compact table written here is. ``--check`` writes
nothing and exits with status 1 when the committed table is stale.

Output format (``format`` 1), JSON with sorted keys and no whitespace:

``versions``
    chart versions, oldest first. Per-version lists below are indexed like this list.
``kinds``
    table of node kinds: ``t`` = JSON-schema types of the key (absent = no schema entry,
    e.g. a key that is only a comment in values.yaml), ``o`` = 1 when the key is an open map
    (any child key allowed), ``n`` = 1 when the key has no entry in values.schema.json.
``keys``
    the values tree as the union over all versions. A node is either ``K`` (a leaf) or
    ``{"k": K, "c": {child: node}}``. ``K`` is an index into ``kinds`` when the node is the same
    in every version, else a list with one entry per version (an index, or null when the key
    does not exist in that version).
``defaults``
    ``{version: {dotted key: {"value": v, "written": bool[, "effective": e]}}}`` for the keys of
    the derived key-facts table. ``written`` is false when the key is only a comment in
    values.yaml; ``value`` then holds the parsed commented example (or null). ``effective``
    is given only where what Cilium does when the key is unset differs from ``value``.
``source``
    the reference files read, with their sha256 from MANIFEST.tsv.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference" / "cilium"
OUTPUT = REPO_ROOT / "cilium_lint" / "cilium" / "data" / "chart_facts.json"
FORMAT = 1

SCHEMA_RE = re.compile(r"^cilium-helm-chart-(\d+\.\d+\.\d+)__values\.schema\.json$")
KEY_FACTS_GLOB = "derived__cilium-helm-chart-key-facts__*.json"

# What Cilium does when a key is unset (absent, null or ""), where that differs from what
# values.yaml shows. Hand-kept; every entry cites the team's Cilium fact sheet
# (cilium-facts.md, section 1 "Helm values: defaults, types, accepted values").
EFFECTIVE_WHEN_UNSET: dict[str, tuple[object, str]] = {
    "routingMode": ("tunnel", "§1: empty -> tunnel (native when gke.enabled, or eni.enabled 1.19)"),
    "tunnelProtocol": ("vxlan", "§1: empty -> vxlan"),
    "loadBalancer.algorithm": ("random", "§1: commented; agent default random"),
    "loadBalancer.mode": ("snat", "§1: commented; agent default snat"),
    "loadBalancer.dsrDispatch": ("opt", "§1: commented; agent default opt"),
    "devices": ("auto-detected", "§1/§4: unset -> devices are auto-detected by the agent"),
    "kubeProxyReplacement": ("false", '§1.1: unset -> "false"'),
    "enableIPv4Masquerade": (True, "§1: null -> true (false when eni.enabled), 1.18+"),
    "bpf.masquerade": (False, "§1: ~ (null; effective false)"),
    "maglev.tableSize": (16381, "§1: commented; agent default 16381"),
    "k8sClientRateLimit.qps": (10, "§1: null; agent default 10 in 1.17+"),
    "k8sClientRateLimit.burst": (20, "§1: null; agent default 20 in 1.17+"),
    "k8sClientRateLimit.operator.qps": (100, "§1: null; operator default 100"),
    "k8sClientRateLimit.operator.burst": (200, "§1: null; operator default 200"),
}

# Objects the chart hands to Kubernetes as they are (toYaml): the schema lists only the
# children that happen to have a default, so any other valid Kubernetes field must not be
# reported as unknown. Such nodes are marked open. (cilium-facts.md §2: the schema is
# generated from the defaults in values.yaml.)
OPEN_BY_NAME = frozenset(
    {
        "affinity",
        "nodeSelector",
        "podSecurityContext",
        "resources",
        "securityContext",
        "updateStrategy",
    }
)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


@dataclass
class Node:
    """One key of the values tree for one chart version."""

    kind: dict[str, Any]
    children: dict[str, Node] = field(default_factory=dict)


def schema_types(node: dict[str, Any]) -> list[str] | None:
    """JSON types a schema node allows; None when it does not say (any type)."""
    t = node.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [str(x) for x in t]
    found: list[str] = []
    if "enum" in node:
        for value in node["enum"]:
            found.append(json_type(value))
    for combinator in ("oneOf", "anyOf"):
        for branch in node.get(combinator, []):
            found.extend(schema_types(branch) or [])
    return list(dict.fromkeys(found)) or None


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def from_schema(name: str, node: dict[str, Any]) -> Node:
    types = schema_types(node)
    props: dict[str, Any] = node.get("properties") or {}
    kind: dict[str, Any] = {}
    if types is not None:
        kind["t"] = types
    objectish = types is None or "object" in types
    if objectish and not props:
        kind["o"] = 1
    if name in OPEN_BY_NAME or any("/" in c or "." in c for c in props):
        kind["o"] = 1
    return Node(kind, {c: from_schema(c, sub) for c, sub in props.items()})


def find(root: Node, path: tuple[str, ...]) -> Node | None:
    node = root
    for name in path:
        child = node.children.get(name)
        if child is None:
            return None
        node = child
    return node


def parse_example(raw: object) -> object:
    """Parse a commented example the way YAML would read it once uncommented."""
    if raw is None or not isinstance(raw, str):
        return raw
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return raw


def read_manifest(ref: Path) -> dict[str, str]:
    lines = (ref / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    file_col, sha_col = header.index("file"), header.index("sha256")
    out: dict[str, str] = {}
    for line in lines[1:]:
        cols = line.split("\t")
        if len(cols) > max(file_col, sha_col):
            out[cols[file_col]] = cols[sha_col]
    return out


def checked_sha(ref: Path, name: str, manifest: dict[str, str]) -> str:
    actual = hashlib.sha256((ref / name).read_bytes()).hexdigest()
    listed = manifest.get(name)
    if listed != actual:
        raise SystemExit(f"{name}: sha256 {actual} does not match MANIFEST.tsv ({listed})")
    return actual


def classify(entry: dict[str, Any] | None, seen_elsewhere: bool) -> str:
    """'written', 'commented' or 'absent' for one key in one version of the key-facts table.

    The table says ``present: false`` both for a key that is commented out in values.yaml and
    for one that is not there at all. An entry with a ``commented_example`` is commented. One
    without is taken as absent when the key is written or has an example in another version
    (it was added or removed: externalIPs.enabled, hostPort.enabled, nodePort.enabled,
    l2podAnnouncements.interface, k8sServiceHostRef.* in 1.17, cf. cilium-facts.md §1), and as
    commented without an example otherwise (maglev.tableSize, maglev.hashSeed, ...).
    """
    if entry is None:
        return "absent"
    if entry.get("present"):
        return "written"
    if "commented_example" in entry or not seen_elsewhere:
        return "commented"
    return "absent"


def add_commented(root: Node, path: tuple[str, ...]) -> None:
    node = root
    for i, name in enumerate(path):
        child = node.children.get(name)
        if child is None:
            last = i == len(path) - 1
            # A parent that only exists as a comment: its other children are unknown too.
            child = Node({"n": 1} if last else {"n": 1, "o": 1})
            node.children[name] = child
        node = child


def build(ref: Path) -> str:
    manifest = read_manifest(ref)
    schemas = {
        m.group(1): p.name for p in ref.iterdir() if (m := SCHEMA_RE.match(p.name)) is not None
    }
    key_facts_files = sorted(p.name for p in ref.glob(KEY_FACTS_GLOB))
    if len(key_facts_files) != 1:
        raise SystemExit(f"expected one {KEY_FACTS_GLOB} in {ref}, found {key_facts_files}")
    key_facts_name = key_facts_files[0]
    key_facts: dict[str, dict[str, Any]] = json.loads(
        (ref / key_facts_name).read_text(encoding="utf-8")
    )["keys"]

    versions = sorted(schemas, key=version_key)
    fact_versions = {v for per_key in key_facts.values() for v in per_key}
    if fact_versions != set(versions):
        raise SystemExit(
            f"schema versions {versions} != key-facts versions {sorted(fact_versions)}"
        )

    trees: list[Node] = []
    defaults: dict[str, dict[str, dict[str, object]]] = {}
    for version in versions:
        schema = json.loads((ref / schemas[version]).read_text(encoding="utf-8"))
        root = from_schema("", schema)
        root.kind = {"t": ["object"]}
        per_version: dict[str, dict[str, object]] = {}
        for dotted, per_key in key_facts.items():
            path = tuple(dotted.split("."))
            entry = per_key.get(version)
            seen_elsewhere = any(
                e.get("present") or "commented_example" in e
                for v, e in per_key.items()
                if v != version and e is not None
            )
            state = classify(entry, seen_elsewhere)
            if state == "absent" or entry is None:
                if find(root, path) is not None:
                    raise SystemExit(f"{version} {dotted}: absent from values but in the schema")
                continue
            if state == "written":
                if find(root, path) is None:
                    raise SystemExit(f"{version} {dotted}: written in values but not in the schema")
                value = entry.get("default")
            else:
                if find(root, path) is None:
                    add_commented(root, path)
                value = parse_example(entry.get("commented_example"))
            item: dict[str, object] = {"value": value, "written": state == "written"}
            rule = EFFECTIVE_WHEN_UNSET.get(dotted)
            unset = state != "written" or value is None or value == ""
            if rule is not None and unset and rule[0] != value:
                item["effective"] = rule[0]
            per_version[dotted] = item
        trees.append(root)
        defaults[version] = per_version

    kinds: dict[str, dict[str, Any]] = {}

    def collect(node: Node) -> None:
        kinds[json.dumps(node.kind, sort_keys=True)] = node.kind
        for child in node.children.values():
            collect(child)

    for tree in trees:
        collect(tree)
    kind_list = [kinds[k] for k in sorted(kinds)]
    kind_index = {k: i for i, k in enumerate(sorted(kinds))}

    def encode(nodes: list[Node | None]) -> object:
        ids = [None if n is None else kind_index[json.dumps(n.kind, sort_keys=True)] for n in nodes]
        k: object = ids[0] if all(i == ids[0] for i in ids) and ids[0] is not None else ids
        names = sorted({c for n in nodes if n is not None for c in n.children})
        if not names:
            return k
        children = {
            c: encode([None if n is None else n.children.get(c) for n in nodes]) for c in names
        }
        return {"k": k, "c": children}

    encoded_root = encode(list(trees))
    assert isinstance(encoded_root, dict)

    source_files = [schemas[v] for v in versions] + [key_facts_name]
    data = {
        "format": FORMAT,
        "versions": versions,
        "kinds": kind_list,
        "keys": encoded_root["c"],
        "defaults": defaults,
        "source": {
            "generator": "tools/derive_chart_facts.py",
            "reference_dir": "shared/reference/cilium",
            "files": {name: checked_sha(ref, name, manifest) for name in source_files},
            "notes": (
                "Derived from the cilium/charts values.schema.json of each version and the "
                "key-facts table (default / commented example per key); effective values for "
                "unset keys from the fact sheet cilium-facts.md section 1."
            ),
        },
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("reference_dir", nargs="?", type=Path, default=DEFAULT_REFERENCE_DIR)
    parser.add_argument("--check", action="store_true", help="only report whether it is stale")
    args = parser.parse_args(list(argv) if argv is not None else None)
    text = build(args.reference_dir)
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else None
    if args.check:
        if current != text:
            print(f"{OUTPUT.relative_to(REPO_ROOT)} is stale; run tools/derive_chart_facts.py")
            return 1
        return 0
    if current != text:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(text, encoding="utf-8")
    print(f"{OUTPUT.relative_to(REPO_ROOT)}: {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
