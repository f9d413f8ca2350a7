"""Build the facts of a small tree written into a temporary folder, for the LB-IPAM unit tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from cilium_lint.config import Config
from cilium_lint.engine import build_tree
from cilium_lint.facts import Facts, gather


def facts_of(root: Path, files: dict[str, str], config: Config | None = None) -> Facts:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
    config = config or Config()
    tree, _ = build_tree([root], root, config, None)
    return gather(tree, config)


def cilium_release(tag: str, values: str) -> str:
    """A Cilium HelmRelease with its OCIRepository; ``values`` is YAML at column 0."""
    body = textwrap.indent(textwrap.dedent(values).strip("\n"), "    ")
    return (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n"
        "  name: cilium\n  namespace: kube-system\nspec:\n  ref:\n"
        f"    tag: {tag}\n  url: oci://quay.io/cilium/charts/cilium\n---\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
        "  name: cilium\n  namespace: kube-system\nspec:\n  chartRef:\n"
        "    kind: OCIRepository\n    name: cilium\n  values:\n" + body + "\n"
    )
