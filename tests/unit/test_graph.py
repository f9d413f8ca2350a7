"""The Flux graph: what each Flux Kustomization applies, the roots, and what nothing applies."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from cilium_lint.cli import main
from cilium_lint.config import Config
from cilium_lint.engine import build_tree
from cilium_lint.flux.graph import Graph, build_graph
from cilium_lint.kustomize import KustomizeBuilder, TreeFiles
from cilium_lint.tree import Tree

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cluster"


def ks(name: str, path: str, source: str = "GitRepository/flux-system", extra: str = "") -> str:
    kind, _, source_name = source.partition("/")
    return (
        textwrap.dedent(
            f"""\
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: {name}
          namespace: flux-system
        spec:
          interval: 1h
          path: {path}
          sourceRef:
            kind: {kind}
            name: {source_name}
        """
        )
        + extra
    )


def cm(name: str) -> str:
    return f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"


def kustomization(*resources: str) -> str:
    listed = "".join(f"  - {r}\n" for r in resources)
    return f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{listed}"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


def load(root: Path) -> tuple[Tree, Graph]:
    tree, _ = build_tree([root], root, Config(), None)
    return tree, build_graph(tree, [root])


def applied_names(tree: Tree, graph: Graph) -> set[str]:
    return {o.name for o in graph.restrict(tree).objects}


def test_a_tree_without_flux_kustomizations_counts_everything(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": cm("a"), "archive/b.yaml": cm("b")})
    tree, graph = load(tmp_path)
    assert not graph.active
    assert graph.restrict(tree) is tree
    assert graph.unreferenced == []


def test_flux_generates_a_kustomization_for_a_folder_without_one(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("apps", "./apps"),
            "apps/a.yaml": cm("a"),
            "apps/deep/b.yaml": cm("b"),
            # A folder with its own kustomization is one unit: only what it lists.
            "apps/unit/kustomization.yaml": kustomization("./c.yaml"),
            "apps/unit/c.yaml": cm("c"),
            "apps/unit/left-out.yaml": cm("left-out"),
            "elsewhere/d.yaml": cm("d"),
        },
    )
    tree, graph = load(tmp_path)
    assert graph.active
    assert [r.name for r in graph.roots] == ["apps"]
    assert applied_names(tree, graph) == {"apps", "a", "b", "c"}
    unreferenced = {loc.path for loc in graph.unreferenced}
    assert unreferenced == {"apps/unit/left-out.yaml", "elsewhere/d.yaml"}


def test_commented_out_and_shelved_entries_are_not_applied(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("cluster-apps", "./apps"),
            "apps/kustomization.yaml": "resources:\n  - ./echo/ks.yaml\n  # - ./plex/ks.yaml\n",
            "apps/echo/ks.yaml": ks("echo", "./apps/echo/app"),
            "apps/echo/app/cm.yaml": cm("echo"),
            "apps/plex/ks.yaml": ks("plex", "./apps/plex/app"),
            "apps/plex/app/cm.yaml": cm("plex"),
            ".archive/old/ks.yaml": ks("old", "./.archive/old/app"),
            ".archive/old/app/cm.yaml": cm("old"),
        },
    )
    tree, graph = load(tmp_path)
    assert [r.name for r in graph.roots] == ["cluster-apps"]
    assert applied_names(tree, graph) == {"cluster-apps", "echo"}
    root = graph.roots[0]
    assert [c.name for c in root.children] == ["echo"]
    assert root.children[0].parent is root
    assert {loc.path for loc in graph.unreferenced} == {
        "apps/plex/ks.yaml",
        "apps/plex/app/cm.yaml",
        ".archive/old/ks.yaml",
        ".archive/old/app/cm.yaml",
    }


def test_a_self_applying_bootstrap_kustomization_is_the_root(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "clusters/main/flux-system/gotk-sync.yaml": ks("flux-system", "./clusters/main"),
            "clusters/main/flux-system/kustomization.yaml": kustomization("./gotk-sync.yaml"),
            "clusters/main/apps.yaml": ks("apps", "./apps/main"),
            "apps/main/kustomization.yaml": kustomization("../base/echo"),
            "apps/base/echo/kustomization.yaml": kustomization("./cm.yaml"),
            "apps/base/echo/cm.yaml": cm("echo"),
            "apps/base/unused/cm.yaml": cm("unused"),
        },
    )
    tree, graph = load(tmp_path)
    assert [r.name for r in graph.roots] == ["flux-system"]
    assert applied_names(tree, graph) == {"flux-system", "apps", "echo"}
    assert {loc.path for loc in graph.unreferenced} == {"apps/base/unused/cm.yaml"}


def test_other_sources_are_noted_and_never_resolved(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("apps", "./apps"),
            "apps/kustomization.yaml": kustomization("./bucket.yaml", "./other.yaml"),
            "apps/bucket.yaml": ks("from-bucket", "./apps", source="Bucket/b"),
            "apps/other.yaml": ks("upstream", "./does/not/exist", source="GitRepository/cilium"),
        },
    )
    _tree, graph = load(tmp_path)
    notes = {k.name: k.note for k in graph.kustomizations}
    assert notes["apps"] is None
    assert notes["from-bucket"] is not None and "Bucket/b" in notes["from-bucket"]
    assert notes["upstream"] is not None and "not a folder" in notes["upstream"]
    assert {n.message for n in graph.notes} >= {notes["from-bucket"], notes["upstream"]}


def test_a_partial_tree_uses_its_top_kustomization_as_entry_point(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "network/kustomization.yaml": kustomization("./namespace.yaml", "./dns/ks.yaml"),
            "network/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n",
            "network/dns/ks.yaml": ks("dns", "./network/dns/app"),
            "network/dns/app/cm.yaml": cm("dns"),
        },
    )
    tree, graph = load(tmp_path)
    assert applied_names(tree, graph) == {"n", "dns"}
    assert graph.unreferenced == []


def test_strict_graph_on_the_command_line_reports_unreferenced_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("apps", "./apps"),
            "apps/kustomization.yaml": kustomization("./a.yaml"),
            "apps/a.yaml": cm("a"),
            "apps/b.yaml": cm("b"),
        },
    )
    monkeypatch.chdir(tmp_path)
    assert main(["--select", "CL011", "."]) == 0
    assert "CL011" not in capsys.readouterr().out
    assert main(["--select", "CL011", "--strict-graph", "."]) == 0
    out = capsys.readouterr().out
    assert "apps/b.yaml:3:7: CL011" in out and "apps/a.yaml" not in out


def test_resource_cycles_and_missing_entries_do_not_fail(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("apps", "./a"),
            "a/kustomization.yaml": kustomization("../b", "./missing.yaml", "https://x/y"),
            "b/kustomization.yaml": kustomization("../a", "./cm.yaml"),
            "b/cm.yaml": cm("b"),
        },
    )
    tree, graph = load(tmp_path)
    assert applied_names(tree, graph) == {"apps", "b"}
    messages = " ".join(n.message for n in graph.notes)
    assert "missing.yaml" in messages and "remote" in messages


# --- cross-check with kubectl kustomize -------------------------------------------------------

_HASHED = re.compile(r"-[a-z0-9]{10}$")
KUBECTL = shutil.which("kubectl")
EXAMPLE_FOLDERS = sorted(p.parent for p in EXAMPLE.rglob("kustomization.yaml"))
Identity = tuple[str, str | None, str]  # kind, namespace, name


@pytest.fixture(scope="module")
def kubectl_builds() -> dict[Path, set[Identity]]:
    """``kubectl kustomize`` of every example folder, run side by side (each takes a second)."""
    assert KUBECTL is not None
    running = {
        folder: subprocess.Popen(
            [KUBECTL, "kustomize", str(folder)], stdout=subprocess.PIPE, text=True
        )
        for folder in EXAMPLE_FOLDERS
    }
    built: dict[Path, set[Identity]] = {}
    for folder, process in running.items():
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0, f"kubectl kustomize {folder} failed"
        found = set()
        for doc in yaml.safe_load_all(out):
            if isinstance(doc, dict):
                name = doc["metadata"]["name"]
                namespace = doc["metadata"].get("namespace")
                if doc["kind"] in ("ConfigMap", "Secret"):
                    name = _HASHED.sub("", name)  # generated names carry a content hash
                    namespace = None  # compared by name: the tree indexes generators apart
                found.add((doc["kind"], namespace, name))
        built[folder] = found
    return built


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
@pytest.mark.parametrize("folder", EXAMPLE_FOLDERS, ids=lambda p: p.relative_to(EXAMPLE).as_posix())
def test_example_folders_build_what_kubectl_kustomize_builds(
    folder: Path, kubectl_builds: dict[Path, set[Identity]]
) -> None:
    tree, _ = build_tree([EXAMPLE], EXAMPLE, Config(), None)
    files = TreeFiles(tree)
    build = KustomizeBuilder(files).build(files.absolute(folder.relative_to(EXAMPLE).as_posix()))
    ours: set[Identity] = set()
    for doc in build.documents:
        if isinstance(doc.data, dict) and "kind" in doc.data:
            metadata = doc.data["metadata"]
            ours.add((doc.data["kind"], metadata.get("namespace"), metadata["name"]))
    for source in tree.sources:
        if source.location.path in build.kustomization_files:
            ours.add((source.kind, None, source.name))
    assert ours == kubectl_builds[folder]


# --- post-build substitution and Flux patches --------------------------------------------------

POSTBUILD = """\
  postBuild:
    substitute:
      CLUSTER: main
      REPLICAS: "3"
      PLEX_IP: 10.0.6.30
"""


def objects(tree: Tree, graph: Graph) -> dict[str, dict[str, object]]:
    return {o.name: o.data for o in graph.restrict(tree).objects}


def test_a_parent_substitutes_the_path_of_its_children(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("apps", "./apps", extra=POSTBUILD),
            "apps/kustomization.yaml": kustomization("./child.yaml"),
            "apps/child.yaml": ks("child", "./clusters/${CLUSTER}", extra=POSTBUILD),
            "clusters/main/cm.yaml": cm("main-settings"),
            "clusters/lab/cm.yaml": cm("lab-settings"),
        },
    )
    tree, graph = load(tmp_path)
    assert applied_names(tree, graph) == {"apps", "child", "main-settings"}
    child = next(k for k in graph.kustomizations if k.name == "child")
    assert child.path == "./clusters/main" and child.folder == "clusters/main"


def test_substituted_values_are_retyped_and_located_at_their_definition(tmp_path: Path) -> None:
    deployment = textwrap.dedent(
        """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: plex
          annotations:
            quoted: "${REPLICAS}"
            escaped: $${REPLICAS}
        spec:
          replicas: ${REPLICAS}
        """
    )
    disabled = (
        cm("untouched")
        .replace(
            "metadata:\n",
            "metadata:\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n",
        )
        .replace("a: b", "a: ${REPLICAS}")
    )
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("apps", "./apps", extra=POSTBUILD),
            "apps/deployment.yaml": deployment,
            "apps/disabled.yaml": disabled,
        },
    )
    tree, graph = load(tmp_path)
    found = objects(tree, graph)
    plex = found["plex"]
    assert plex["spec"] == {"replicas": 3}
    assert plex["metadata"]["annotations"] == {"quoted": "3", "escaped": "${REPLICAS}"}  # type: ignore[index]
    assert found["untouched"]["data"] == {"a": "${REPLICAS}"}
    obj = next(o for o in graph.restrict(tree).objects if o.name == "plex")
    location = obj.locate("spec", "replicas")
    assert (location.path, location.span.line) == ("flux/ks.yaml", 16)
    assert location.via is not None
    assert (location.via.location.path, location.via.location.span.line) == (
        "apps/deployment.yaml",
        9,
    )
    assert "${REPLICAS}" in location.via.message


def test_flux_patches_and_target_namespace_apply_to_what_it_builds(tmp_path: Path) -> None:
    patches = """\
  targetNamespace: media
  patches:
    - patch: |-
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: any
        data:
          a: patched
      target:
        kind: ConfigMap
        name: "plex.*"
    - patch: |-
        - op: add
          path: /data/added
          value: by-json6902
      target:
        kind: ConfigMap
        name: plex-extra
"""
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("apps", "./apps", extra=patches),
            "apps/cm.yaml": cm("plex-settings") + cm("plex-extra") + cm("other"),
        },
    )
    tree, graph = load(tmp_path)
    by_name = {o.name: o for o in graph.restrict(tree).objects}
    assert by_name["plex-settings"].data["data"] == {"a": "patched"}
    assert by_name["plex-extra"].data["data"] == {"a": "patched", "added": "by-json6902"}
    assert by_name["other"].data["data"] == {"a": "b"}
    assert {by_name[n].namespace for n in ("plex-settings", "other")} == {"media"}
    where = by_name["plex-extra"].locate("data", "a")
    assert (where.path, where.span.line) == ("flux/ks.yaml", 21)
    added = by_name["plex-extra"].locate("data", "added")
    assert (added.path, added.span.line) == ("flux/ks.yaml", 28)


def test_findings_on_substituted_ips_carry_the_reference_as_related_location() -> None:
    case = Path(__file__).resolve().parents[1] / "cases/CL204/fail-substituted-ip-collides"
    from casetools import run_case

    report = run_case(case)
    (finding,) = report.findings
    assert finding.location.path == "apps/cluster-settings.yaml"
    related = [(r.location.path, r.location.span.line) for r in finding.related]
    assert related == [("apps/plex/app/service.yaml", 7), ("apps/adguard/app/service.yaml", 7)]


# --- clusters ---------------------------------------------------------------------------------

POOL = (
    "apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: pool\n"
    "spec:\n  blocks:\n    - cidr: 10.0.6.0/24\n"
)


def test_two_flux_roots_running_lb_ipam_are_two_clusters(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kubernetes/main/flux/ks.yaml": ks("cluster", "./kubernetes/main/apps"),
            "kubernetes/main/apps/pool.yaml": POOL,
            "kubernetes/staging/flux/ks.yaml": ks("cluster", "./kubernetes/staging/apps"),
            "kubernetes/staging/apps/pool.yaml": POOL,
            # A root without an IPAM joins the cluster it shares most of its path with.
            "kubernetes/staging/extra/ks.yaml": ks("extra", "./kubernetes/staging/more"),
            "kubernetes/staging/more/cm.yaml": cm("more"),
        },
    )
    tree, graph = load(tmp_path)
    scopes = {s.name: s for s in graph.scopes}
    assert set(scopes) == {"main", "staging"}
    assert {o.name for o in graph.restrict(tree, scopes["staging"]).objects} == {
        "cluster",
        "pool",
        "extra",
        "more",
    }
    assert len(graph.restrict(tree, scopes["main"]).objects) == 2


def test_app_roots_of_a_partial_tree_are_one_cluster(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kube-system/cilium/ks.yaml": ks("cilium", "./kube-system/cilium/app"),
            "kube-system/cilium/app/pool.yaml": POOL,
            "network/dns/ks.yaml": ks("dns", "./network/dns/app"),
            "network/dns/app/cm.yaml": cm("dns"),
        },
    )
    _tree, graph = load(tmp_path)
    assert [s.name for s in graph.scopes] == [None]
    assert {k.name for k in graph.roots} == {"cilium", "dns"}


def test_configured_clusters_without_flux_take_every_file_below_them(tmp_path: Path) -> None:
    write(tmp_path, {"a/cm.yaml": cm("a"), "b/cm.yaml": cm("b"), "c/cm.yaml": cm("c")})
    tree, _ = build_tree([tmp_path], tmp_path, Config(), None)
    graph = build_graph(tree, [tmp_path], [("one", tmp_path / "a"), ("two", tmp_path / "b")])
    assert [s.name for s in graph.scopes] == ["one", "two"]
    assert [{o.name for o in graph.restrict(tree, s).objects} for s in graph.scopes] == [
        {"a"},
        {"b"},
    ]


def test_substitute_from_takes_a_source_of_another_namespace_rather_than_none(
    tmp_path: Path,
) -> None:
    settings = (
        cm("cluster-settings")
        .replace("name: cluster-settings", "name: cluster-settings\n  namespace: flux-system")
        .replace("a: b", "PLEX_IP: 10.0.6.30")
    )
    child = ks(
        "plex",
        "./apps/plex",
        extra=(
            "  postBuild:\n    substituteFrom:\n"
            "      - kind: ConfigMap\n        name: cluster-settings\n"
        ),
    ).replace("namespace: flux-system", "namespace: media", 1)
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("apps", "./apps/flux"),
            "apps/flux/kustomization.yaml": kustomization("./settings.yaml", "./plex.yaml"),
            "apps/flux/settings.yaml": settings,
            "apps/flux/plex.yaml": child,
            "apps/plex/cm.yaml": cm("plex").replace("a: b", "ip: ${PLEX_IP}"),
        },
    )
    tree, graph = load(tmp_path)
    assert objects(tree, graph)["plex"]["data"] == {"ip": "10.0.6.30"}


def test_flux_components_add_their_resources_and_patch_what_came_before(tmp_path: Path) -> None:
    component = (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n"
        "  - ./extra.yaml\npatches:\n  - patch: |-\n      apiVersion: v1\n      kind: ConfigMap\n"
        "      metadata:\n        name: app\n      data:\n        a: from-component\n"
    )
    write(
        tmp_path,
        {
            "flux/ks.yaml": ks("apps", "./apps", extra="  components:\n    - ../common\n"),
            "apps/cm.yaml": cm("app"),
            "common/kustomization.yaml": component,
            "common/extra.yaml": cm("extra"),
        },
    )
    tree, graph = load(tmp_path)
    found = objects(tree, graph)
    assert set(found) == {"apps", "app", "extra"}
    assert found["app"]["data"] == {"a": "from-component"}
