"""Rules about reading the tree: files Flux would refuse, and values it cannot find."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cilium_lint.rules.api import Hit, NoParams, RuleMeta, Severity

if TYPE_CHECKING:
    from cilium_lint.facts import Facts

_DIGITS = re.compile(r"\d+")


class ProblemRule:
    """Reports the parse problems carrying this rule's id."""

    params = NoParams

    def __init__(self, meta: RuleMeta) -> None:
        self.meta = meta

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for problem in facts.tree.problems():
            if problem.rule_id == self.meta.id:
                # Line numbers inside messages must not change the fingerprint.
                identity = f"{problem.location.path}#{_DIGITS.sub('N', problem.message)}"
                yield Hit(problem.message, problem.location, identity)


class MissingValuesSource:
    params = NoParams
    meta = RuleMeta(
        id="CL010",
        name="values-source-missing",
        summary="Every valuesFrom source of a HelmRelease is in the tree and readable.",
        rationale=(
            "Flux fails a release whose non-optional valuesFrom ConfigMap, Secret or key does "
            "not exist. When the source lives outside the linted tree, the values it carries "
            "cannot be checked, so invariants that depend on them are not verified."
        ),
        fix=(
            "Add the ConfigMap or Secret (or its kustomize generator) to the tree, fix the name "
            "or valuesKey, or mark the entry `optional: true` if the release works without it."
        ),
        severity=Severity.WARNING,
        example_fail=(
            "spec:\n  valuesFrom:\n    - kind: ConfigMap\n      name: cilium-valuez  # typo\n"
        ),
        example_pass=("spec:\n  valuesFrom:\n    - kind: ConfigMap\n      name: cilium-values\n"),
    )

    def check(self, facts: Facts, params: BaseModel) -> Iterator[Hit]:
        for release in facts.releases:
            for missing in release.missing_sources:
                yield Hit(missing.message, missing.location, f"{release.obj.ref}#{missing.message}")


def _meta(rule_id: str, name: str, summary: str, rationale: str, fix: str, fail: str) -> RuleMeta:
    return RuleMeta(
        id=rule_id,
        name=name,
        summary=summary,
        rationale=rationale,
        fix=fix,
        severity=Severity.ERROR,
        example_fail=fail,
    )


READING_RULES = (
    _meta(
        "CL001",
        "yaml-syntax",
        "Every YAML file in the tree parses.",
        "kustomize and Flux refuse a file that is not valid YAML, and the whole Kustomization "
        "that contains it stops reconciling: every app in it keeps its old state or goes dark.",
        "Fix the syntax at the reported position. Template sources belong in *.j2, *.tmpl or "
        "*.gotmpl files, which are not linted.",
        "metadata:\n  annotations: [a, b\n",
    ),
    _meta(
        "CL002",
        "duplicate-key",
        "No mapping has the same key twice.",
        "Flux (sigs.k8s.io/yaml) refuses a mapping with a duplicate key. Tools that accept it keep "
        "only the last value, so a second `loadBalancer:` silently replaces the first.",
        "Merge the two entries into one key.",
        "loadBalancer:\n  algorithm: maglev\nloadBalancer:\n  mode: dsr\n",
    ),
    _meta(
        "CL003",
        "unreadable-file",
        "Every YAML file can be read as UTF-8 text.",
        "A file that cannot be opened, is binary or is not UTF-8 cannot be applied by Flux; "
        "its objects are missing from the cluster.",
        "Fix the permissions or the encoding (save as UTF-8), or remove the file from the tree.",
        "",
    ),
    _meta(
        "CL004",
        "file-too-large",
        "YAML files stay under the size limit (max-file-size, 8 MiB by default, at most "
        "64 MiB), and all files of a run under 256 MiB together.",
        "A manifest this large is almost always a mistake (a dump, a binary), and reading it "
        "would slow every run. A file read after the run's budget is used up is not read.",
        "Remove the file from the tree, exclude it, or raise max-file-size in the configuration.",
        "",
    ),
    _meta(
        "CL005",
        "yaml-too-complex",
        "YAML documents do not nest, alias or grow beyond reason.",
        "Aliases that expand exponentially (a 'billion laughs' document) or recursive aliases "
        "exhaust memory in the tools that read the file; such a document is never a real "
        "manifest. Nor is a file of more than 10,000 documents or 500,000 YAML nodes; and a "
        "run reads at most 2,000,000 nodes in all. What is over a limit is not read, and says "
        "so here.",
        "Write the values out instead of aliasing them, and remove recursive anchors; split or "
        "exclude large generated files.",
        "a: &a [x, x, x]\nb: &b [*a, *a, *a]\n# ... ten levels deep\n",
    ),
    _meta(
        "CL008",
        "file-reference-outside-repository",
        "Every file a kustomization, helmfile or Flux Kustomization names lies inside the "
        "repository.",
        "Flux builds a Kustomization with nothing outside its source within reach, so a file "
        "named by an absolute path, by a path climbing out of the repository or through a "
        "symlink leading out of it fails the build (kustomize alone reads whatever the machine "
        "holds there). A tree from a pull request must not make a linter copy a file of the "
        "machine it runs on (a token, an environment) into its report: such a reference is not "
        "read, its generated key is missing and whatever it would set is not checked.",
        "Name a file of the repository by a relative path from the kustomization's folder "
        "(from the repository root for spec.path), and replace a symlink that leads out of "
        "the repository with the file itself.",
        "configMapGenerator:\n  - name: cilium-values\n    files:\n"
        "      - values.yaml=/etc/cilium/values.yaml\n",
    ),
)


def reading_rules() -> list[object]:
    return [*(ProblemRule(meta) for meta in READING_RULES), MissingValuesSource()]
