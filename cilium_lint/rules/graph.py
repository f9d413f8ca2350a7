"""Rules about the Flux graph: what Flux applies, and what it does not."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cilium_lint.document import Location
from cilium_lint.lbipam.requests import IPS_KEY, LEGACY_IPS_KEY
from cilium_lint.quoting import quote
from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity
from cilium_lint.tree import KUSTOMIZATION_NAMES, Tree

if TYPE_CHECKING:
    from cilium_lint.facts import Facts
    from cilium_lint.flux.postbuild import Misplaced, Use

_IP_KEYS = frozenset({IPS_KEY, LEGACY_IPS_KEY, "loadBalancerIP"})
_BLOCK_KEYS = frozenset({"cidr", "start", "stop"})


class KustomizeTooDeep:
    params = NoParams
    meta = RuleMeta(
        id="CL009",
        name="kustomize-too-deep",
        summary=(
            "Kustomizations nest at most 100 deep (a kustomization.yaml whose resources hold a "
            "folder whose kustomization.yaml holds another, and so on)."
        ),
        rationale=(
            "Real trees nest a handful of kustomizations. A chain hundreds deep is a mistake "
            "or an attempt to exhaust the linter; cilium-lint stops following it at depth 100, "
            "so the objects below that reference are not checked at all, and an error says so "
            "instead of a silent pass."
        ),
        fix=(
            "Flatten the chain: list the folders in one kustomization.yaml instead of nesting "
            "each in the previous one."
        ),
        severity=Severity.ERROR,
        example_fail=(
            "# a/kustomization.yaml: resources: [b]; a/b/kustomization.yaml: resources: [c]; "
            "... 101 levels\nresources:\n  - b\n"
        ),
        example_pass="# apps/kustomization.yaml\nresources:\n  - ./echo\n  - ./plex\n",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        graph = facts.graph
        if graph is None:
            return
        for note in graph.too_deep:
            yield Hit(note.message, note.location, f"{note.location.path}#{note.message}")


class UnreferencedFile:
    params = NoParams
    meta = RuleMeta(
        id="CL011",
        name="unreferenced-file",
        summary=(
            "Every manifest in the tree is applied by some Flux Kustomization "
            "(reported only with --strict-graph or `strict-graph: true`)."
        ),
        rationale=(
            "Flux applies what its Kustomizations build: a kustomization.yaml lists what a "
            "folder contributes, and a folder without one contributes every manifest below it. "
            "A file nothing applies (an archive folder, a commented-out resource, a ks.yaml "
            "left out of its parent) never reaches the cluster; cilium-lint leaves it out of "
            "the cross-resource checks, so a stale IP there is neither a duplicate nor served. "
            "Such files tend to mislead the next person who reads the tree."
        ),
        fix=(
            "Add the file to the kustomization.yaml that should apply it, or delete it (git "
            "keeps the history), or exclude the folder (`exclude:` in the configuration)."
        ),
        severity=Severity.WARNING,
        example_fail=(
            "# apps/kustomization.yaml\nresources:\n  - ./echo\n  # - ./plex   <- plex/ is "
            "applied by nothing\n"
        ),
        example_pass="# apps/kustomization.yaml\nresources:\n  - ./echo\n  - ./plex\n",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        graph = facts.graph
        if graph is None or not graph.active or not facts.config.strict_graph:
            return
        for location in graph.unreferenced:
            yield Hit(
                "no Flux Kustomization applies this file: its objects never reach the cluster "
                "and are left out of the cross-resource checks",
                location,
                location.path,
            )


def _object_label(data: Any) -> str:
    if not isinstance(data, dict):
        return "values"
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    parts = [str(data.get("kind") or "object"), metadata.get("namespace"), metadata.get("name")]
    return "/".join(str(p) for p in parts if p)


def _where(use: Use, facts: Facts) -> tuple[str, str] | None:
    """What the substituted string is, when it is an LB IP ("address"), a pool block ("block")
    or a Cilium value ("value"): (that kind, a description); else None."""
    path, data = use.path, use.document.data
    kind = data.get("kind") if isinstance(data, dict) else None
    dotted = ".".join(str(p) for p in path)
    if path and path[-1] in _IP_KEYS:
        return "address", f"{path[-1]} of {_object_label(data)}"
    if kind == "Gateway" and path[:2] == ("spec", "addresses") and path[-1:] == ("value",):
        return "address", f"{dotted} of {_object_label(data)}"
    in_blocks = kind == "CiliumLoadBalancerIPPool" and path[:2] == ("spec", "blocks")
    if in_blocks and path[-1:] and path[-1] in _BLOCK_KEYS:
        return "block", f"{dotted} of {_object_label(data)}"
    for release in facts.cilium:
        values = release.release.values
        if use.document is release.release.obj.doc and path[:2] == ("spec", "values"):
            return "value", "Cilium value " + ".".join(str(p) for p in path[2:])
        if any(origin.document is use.document for origin in values.origins.values()):
            return "value", f"Cilium value {dotted}"
    return None


def _uses(facts: Facts) -> list[tuple[Use, str, str]]:
    graph = facts.graph
    if graph is None or not graph.active:
        return []
    found: list[tuple[Use, str, str]] = []
    for scope in graph.scopes:
        for use in scope.uses:
            where = _where(use, facts)
            if where is not None:
                found.append((use, *where))
    found.sort(key=lambda item: (item[0].location.path, item[0].location.span))
    return found


class SubstitutionUnresolved:
    params = NoParams
    meta = RuleMeta(
        id="CL012",
        name="substitution-unresolved",
        summary=(
            "Every ${VAR} Flux substitutes into a LoadBalancer IP, a pool block or a Cilium "
            "value is defined, and every substituteFrom source is in its Kustomization's "
            "namespace."
        ),
        rationale=(
            "Flux's post-build substitution replaces a variable that no substitute entry, "
            "ConfigMap or Secret defines with an empty string (or fails the whole Kustomization "
            "with strict substitution), and leaves ${VAR} as written when the Kustomization has "
            "no postBuild (reported here for a Cilium value; for an LB IP or a pool block, "
            "CL201 and CL214 report the text the object gets). An empty lbipam.cilium.io/ips "
            "makes LB-IPAM pick any free address; an empty Cilium value falls back to the chart "
            "default. Flux reads a substituteFrom ConfigMap or Secret from the Kustomization's "
            "own namespace: when a kustomization.yaml `namespace:` moves the Kustomization "
            "objects (or they are written in another namespace) while the source stays in "
            "flux-system, Flux fails the whole Kustomization, so that is reported too (the "
            "variables are still taken from the source the tree has, to check the rest)."
        ),
        fix=(
            "Define the variable in the Kustomization's postBuild.substitute or in a ConfigMap "
            "or Secret of its substituteFrom, give it a default (${VAR:=10.0.6.30}), or add the "
            "substituteFrom to the Kustomization (or to the root Kustomization's patches that "
            "give every app the cluster settings). For a source in another namespace, keep "
            "the Kustomization objects in the source's namespace (no `namespace:` in the "
            "kustomization.yaml that lists them; put the apps' namespace in "
            "spec.targetNamespace) or create the source in that namespace."
        ),
        severity=Severity.ERROR,
        example_fail=(
            "# cluster-settings has no PLEX_IP\nmetadata:\n  annotations:\n"
            "    lbipam.cilium.io/ips: ${PLEX_IP}\n"
        ),
        example_pass=(
            "# cluster-settings: PLEX_IP: 10.0.6.30\nmetadata:\n  annotations:\n"
            "    lbipam.cilium.io/ips: ${PLEX_IP}\n"
        ),
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for use, kind, where in _uses(facts):
            owner = use.variables.owner
            original = use.record.original.strip() if use.record is not None else ""
            if use.error is not None:
                message = f"{where} is not substituted: {use.error}"
            elif use.literal is not None:
                if kind != "value":
                    continue  # CL201 and CL214 judge the text an address or block gets
                message = (
                    f"{where} is not substituted: {use.literal}, so Flux applies the reference "
                    "as written"
                )
            elif use.missing:
                names = ", ".join(f"${{{n}}}" for n in use.missing)
                verb = "is" if len(use.missing) == 1 else "are"
                result = use.record.text if use.record is not None else ""
                state = "empty" if not result.strip() else quote(result)
                message = (
                    f"{where} is {state} after substitution: {names} {verb} not defined for {owner}"
                )
            else:
                continue
            identity = f"{owner}#{_object_label(use.document.data)}#{use.path}#{original}"
            yield Hit(message, use.location, identity)
        yield from _misplaced(facts)


def _namespaced_inputs(tree: Tree) -> set[str]:
    """Files and folders that a kustomization.yaml with ``namespace:`` takes in: kustomize moves
    what they hold into that namespace whatever the file says (the common per-namespace copy of
    the cluster settings, from a shared component)."""
    moved: set[str] = set()
    for path, parsed in tree.files.items():
        if posixpath.basename(path) not in KUSTOMIZATION_NAMES:
            continue
        for document in parsed.documents:
            data = document.data
            if not isinstance(data, dict) or not isinstance(data.get("namespace"), str):
                continue
            base = posixpath.dirname(path)
            for field_name in ("resources", "components", "bases"):
                entries = data.get(field_name)
                for entry in entries if isinstance(entries, list) else []:
                    if isinstance(entry, str) and "://" not in entry:
                        moved.add(posixpath.normpath(posixpath.join(base, entry)))
    return moved


def _misplaced(facts: Facts) -> Iterator[Hit]:
    """substituteFrom sources Flux looks for in the Kustomization's namespace while the tree
    has them only in another: one hit per substituteFrom entry (a root's patch may give it to
    many Kustomizations)."""
    graph = facts.graph
    if graph is None or not graph.active:
        return
    grouped: dict[tuple[Location, str, str, str], list[Misplaced]] = {}
    movable = facts.tree.memo("namespaced-inputs", lambda: _namespaced_inputs(facts.tree))
    inside_movable: dict[str, bool] = {}  # many Kustomizations read the same few sources
    for scope in graph.scopes:
        for kustomization in scope.kustomizations:
            variables = kustomization.variables
            for item in variables.misplaced if variables is not None else []:
                path = item.source_path
                if path not in inside_movable:
                    inside_movable[path] = any(
                        path == m or path.startswith(m + "/") for m in movable
                    )
                if inside_movable[path]:
                    continue  # a kustomization namespace may put a copy where Flux looks
                key = (item.location, item.source, item.namespace, item.found_in)
                grouped.setdefault(key, []).append(item)
    for (location, source, namespace, found_in), items in grouped.items():
        first = items[0]
        owners = first.owner + (f" and {len(items) - 1} more" if len(items) > 1 else "")
        moved = (
            f" (written in {first.written_namespace}; a kustomization namespace or a parent "
            f"moved it to {namespace})"
            if first.written_namespace is not None
            else ""
        )
        yield Hit(
            f"substituteFrom {source} is read from namespace {namespace}, the namespace of "
            f"{owners}{moved}, but the tree has it only in namespace {found_in}: Flux fails "
            "the Kustomization unless it exists there",
            location,
            f"{first.owner}#substituteFrom#{source}#{namespace}",
        )


class SubstitutionUnknown:
    params = NoParams
    meta = RuleMeta(
        id="CL013",
        name="substitution-unknown",
        summary=(
            "A ${VAR} that sets a LoadBalancer IP, a pool block or a Cilium value can be read "
            "here (reported once per variable)."
        ),
        rationale=(
            "When a variable comes from a SOPS-encrypted Secret, or from a ConfigMap or Secret "
            "that is not in the linted tree, or the Kustomization is applied from outside the "
            "linted tree (an app folder linted on its own, whose parent may give it a "
            "postBuild), its value cannot be known here: the IP, pool block or value it sets "
            "is not checked at all, and no false error is reported either (a pool block that "
            "is not known may serve any IP, so CL203 calls no IP unserved)."
        ),
        fix=(
            "Keep addresses and Cilium settings in a plain ConfigMap (they are not secret), or "
            "lint the tree that holds the source; or accept the gap and ignore this rule."
        ),
        severity=Severity.WARNING,
        example_fail=(
            "# PLEX_IP is in cluster-secrets.sops.yaml\nmetadata:\n  annotations:\n"
            "    lbipam.cilium.io/ips: ${PLEX_IP}\n"
        ),
        example_pass=(
            "# PLEX_IP is in the cluster-settings ConfigMap\nmetadata:\n  annotations:\n"
            "    lbipam.cilium.io/ips: ${PLEX_IP}\n"
        ),
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        reported: set[tuple[str, str]] = set()  # once per variable (per cluster)
        for use, _kind, where in _uses(facts):
            for name in use.unknown:
                key = ("", name)
                if key in reported:
                    continue
                reported.add(key)
                secret = use.variables.encrypted.get(name)
                if secret is not None:
                    why = f"comes from {secret}, which is encrypted (SOPS)"
                elif not use.variables.enabled:
                    why = (
                        f"is not substituted by {use.variables.owner}, which has no postBuild "
                        "here, but what applies it is not in the linted tree and may give it one"
                    )
                else:
                    sources = ", ".join(use.variables.unreadable)
                    why = f"is not defined here and may come from {sources}, not in the linted tree"
                yield Hit(
                    f"${{{name}}} {why}: {where} (and any other value using it) is not checked",
                    use.location,
                    f"{use.variables.owner}#{name}",
                )


class WorkBudgetExceeded:
    params = NoParams
    meta = RuleMeta(
        id="CL016",
        name="work-budget-exceeded",
        summary="Building what Flux applies stays within a bounded amount of work.",
        rationale=(
            "kustomize builds, patches and post-build substitution can multiply data: a folder "
            "reached through several paths at each of many levels (a diamond) emits its "
            "documents 2^levels times, each JSON 6902 `copy` of a list into itself doubles it, "
            "and a variable whose value holds YAML aliases expands like a billion-laughs file. "
            "cilium-lint gives every build and every Flux Kustomization a share of a fixed "
            "budget (64 MiB of data each, 256 MiB for the run) so that such a tree cannot "
            "exhaust its time or memory. A unit that goes over is left out of every check, "
            "and no real tree comes near the limits."
        ),
        fix=(
            "Remove the repetition: include a folder once, give a copied list its items "
            "instead of copying it into itself, write the variable's value out instead of "
            "aliasing it. The limits are fixed; a tree that needs more is not one Flux could "
            "apply either."
        ),
        severity=Severity.ERROR,
        example_fail=(
            "# k0/kustomization.yaml, and so on for k1 ... k39\nresources: [../k1a, ../k1b]"
            "\n# k1a and k1b both: resources: [../k2], with their own namePrefix\n"
        ),
        example_pass="# k0/kustomization.yaml\nresources: [../k1a, ../k1b]\n",
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        graph = facts.graph
        if graph is None:
            return
        for overrun in graph.overruns:
            yield Hit(
                overrun.message,
                overrun.location,
                f"{overrun.location.path}#{overrun.unit}",
            )


def graph_rules() -> list[object]:
    return [
        KustomizeTooDeep(),
        UnreferencedFile(),
        SubstitutionUnresolved(),
        SubstitutionUnknown(),
        WorkBudgetExceeded(),
    ]
