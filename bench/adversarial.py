"""Time cilium-lint on hostile tree shapes at two sizes, n and 4n, and print the ratios.

    python bench/adversarial.py [--scale 1.0] [--shape NAME ...] [--workdir DIR] [--code DIR]
                                  [--limit SECONDS]

Each shape is a tree a pull request could write to make one step of the pipeline grow faster
than the number of objects. A linear step takes about 4x the time at 4n; a quadratic one 16x.
Every run is its own ``python -m cilium_lint TREE --no-cache -j1`` process; the CPU time of
that process (user + system) is reported, so a busy neighbour inflates wall time only.

Shapes (n at scale 1):

* ``configmaps``: n = 5,000 ConfigMaps in one file (then 20,000);
* ``flux-kustomizations``: n = 750 Flux Kustomizations, each with its own folder and
  ``postBuild.substituteFrom`` a shared settings ConfigMap, applied by one root;
* ``flux-roots``: n = 300 Flux Kustomizations that are roots, every other one with its own
  pool, so a cluster each: per-cluster work must not scan the whole tree;
* ``shared-ip``: n = 1,000 LoadBalancer Services asking for one IP with one sharing key, each
  on its own port (all may share), but the last on the first one's port;
* ``exclude-globs``: n = 1,250 ``exclude`` patterns and 2n files, plus as many
  ``per-file-ignores`` patterns;
* ``pool-blocks``: n = 1,250 ``/30`` blocks in one pool, the last overlapping one (CL215);
* ``requests-blocks``: n = 750 IPs in one Service annotation and n blocks, one IP unserved
  (CL203, CL202, CL217);
* ``ips-reserved``: ``cilium-lint ips`` over n = 1,250 ``/30`` blocks of a pool with
  ``allowFirstLastIPs: "No"``;
* ``documents``: n = 25,000 one-line documents in one file (past the 10,000-document cap).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

POOL = """\
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata:
  name: pool
spec:
  blocks:
    - cidr: 10.0.6.0/24
"""


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def configmaps(root: Path, n: int) -> None:
    docs = [
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: ns-{i % 50}\n"
        f"data:\n  KEY_{i}: value-{i}\n"
        for i in range(n)
    ]
    _write(root, "big/configmaps.yaml", "---\n".join(docs))


def flux_kustomizations(root: Path, n: int) -> None:
    _write(
        root,
        "flux/cluster.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
        "  name: cluster\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./flux/apps\n"
        "  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: settings\n",
    )
    _write(
        root,
        "flux/apps/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: flux-system\n"
        "data:\n  DOMAIN: example.org\n",
    )
    for i in range(n):
        _write(
            root,
            f"flux/apps/ks-{i}.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
            f"  name: app-{i}\n  namespace: flux-system\nspec:\n  interval: 10m\n"
            f"  path: ./apps/app-{i}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n"
            "    name: flux-system\n  postBuild:\n    substituteFrom:\n"
            "      - kind: ConfigMap\n        name: settings\n"
            f"      - kind: ConfigMap\n        name: app-{i}-settings\n        optional: true\n",
        )
        _write(
            root,
            f"apps/app-{i}/config.yaml",
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{i}\n  namespace: default\n"
            "data:\n  host: app.${DOMAIN}\n",
        )


def flux_roots(root: Path, n: int) -> None:
    for i in range(n):
        _write(
            root,
            f"clusters/c{i}/ks.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
            f"  name: c{i}\n  namespace: flux-system\nspec:\n  interval: 10m\n"
            f"  path: ./clusters/c{i}/app\n  prune: true\n  sourceRef:\n"
            "    kind: GitRepository\n    name: flux-system\n",
        )
        pool = "---\n" + POOL if i % 2 else ""  # every other root runs LB-IPAM: a cluster
        _write(
            root,
            f"clusters/c{i}/app/config.yaml",
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a{i}\n  namespace: default\n"
            "data:\n  a: b\n" + pool,
        )


def shared_ip(root: Path, n: int) -> None:
    _write(root, "pool.yaml", POOL)
    docs = []
    for i in range(n):
        port = 1000 if i == n - 1 else 1000 + i  # all share; the last takes the first's port
        docs.append(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: apps\n"
            f"  annotations:\n    lbipam.cilium.io/ips: 10.0.6.10\n"
            f"    lbipam.cilium.io/sharing-key: web\n"
            f"spec:\n  type: LoadBalancer\n  ports:\n    - port: {port}\n"
        )
    _write(root, "services.yaml", "---\n".join(docs))


def exclude_globs(root: Path, n: int) -> None:
    excludes = [f"generated/part-{i}/**" for i in range(n)]
    ignores = [f"apps/app-{i}/never-{i}.yaml" for i in range(n)]
    config = ["exclude:"] + [f"  - {p}" for p in excludes] + ["per-file-ignores:"]
    config += [f"  {p}: [CL2]" for p in ignores]
    _write(root, ".cilium-lint.yaml", "\n".join(config) + "\n")
    for i in range(2 * n):
        _write(
            root,
            f"apps/app-{i}/config.yaml",
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{i}\n"
            "  namespace: default\ndata:\n  a: b\n",
        )


def _cidr(n: int) -> str:
    return str(ipaddress.IPv4Network((int(ipaddress.IPv4Address("10.0.0.0")) + 4 * n, 30)))


def _pool(blocks: list[str], spec: str = "") -> str:
    return (
        "apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: big\n"
        f"spec:\n{spec}  blocks:\n" + "".join(f"    - cidr: {b}\n" for b in blocks)
    )


POLICY = "lb-ipam:\n  pools:\n    - 10.0.0.0/8\n"


def pool_blocks(root: Path, n: int) -> None:
    _write(root, ".cilium-lint.yaml", POLICY)
    _write(root, "pool.yaml", _pool([_cidr(i) for i in range(n)] + [_cidr(n // 2)]))


def requests_blocks(root: Path, n: int) -> None:
    _write(root, ".cilium-lint.yaml", POLICY)
    _write(root, "pool.yaml", _pool([_cidr(i) for i in range(n)]))
    base = int(ipaddress.IPv4Address("10.0.0.0"))
    ips = [str(ipaddress.IPv4Address(base + 4 * i + 1)) for i in range(n)] + ["10.200.0.1"]
    _write(
        root,
        "service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: many\n  namespace: apps\n"
        f'  annotations:\n    lbipam.cilium.io/ips: "{",".join(ips)}"\n'
        "spec:\n  type: LoadBalancer\n  ports:\n    - port: 80\n",
    )


def ips_reserved(root: Path, n: int) -> None:
    _write(root, ".cilium-lint.yaml", POLICY)
    _write(root, "pool.yaml", _pool([_cidr(i) for i in range(n)], '  allowFirstLastIPs: "No"\n'))


def documents(root: Path, n: int) -> None:
    _write(root, "documents.yaml", "--- {a: 1}\n" * n)


# Shapes run through another subcommand than the lint.
COMMANDS = {"ips-reserved": ["ips"]}

SHAPES: dict[str, tuple[Callable[[Path, int], None], int]] = {
    "configmaps": (configmaps, 5000),
    "flux-kustomizations": (flux_kustomizations, 750),
    "flux-roots": (flux_roots, 300),
    "shared-ip": (shared_ip, 1000),
    "exclude-globs": (exclude_globs, 1250),
    "pool-blocks": (pool_blocks, 1250),
    "requests-blocks": (requests_blocks, 750),
    "ips-reserved": (ips_reserved, 1250),
    "documents": (documents, 25_000),
}


def cpu_seconds(tree: Path, code: Path, limit: int, command: list[str] | None = None) -> float:
    """CPU time of one lint run in a fresh process (its children's rusage delta); a run past
    ``limit`` CPU seconds is stopped by the kernel and counts as ``limit``."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "cilium_lint", *(command or [str(tree), "-j1"]), "--no-cache"]
        + ([str(tree)] if command else []),
        cwd=code,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        env={**os.environ, "PYTHONPATH": str(code)},
        preexec_fn=cap,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=300, help="CPU seconds per run at most")
    parser.add_argument(
        "--code", type=Path, default=REPO, help="checkout whose cilium_lint runs (before/after)"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cilium-lint-adversarial-"))
    print("| shape | n | CPU s at n | CPU s at 4n | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name in args.shape or list(SHAPES):
        make, base = SHAPES[name]
        n = max(1, int(base * args.scale))
        times = []
        for size in (n, 4 * n):
            tree = workdir / f"{name}-{size}"
            shutil.rmtree(tree, ignore_errors=True)
            tree.mkdir(parents=True)
            make(tree, size)
            command = COMMANDS.get(name)
            spent = cpu_seconds(tree, args.code.resolve(), args.limit, command)
            times.append(min(spent, args.limit))
            shutil.rmtree(tree, ignore_errors=True)
        ratio = times[1] / times[0] if times[0] else float("inf")
        shown = [f">{t:.0f}" if t >= args.limit else f"{t:.2f}" for t in times]
        more = ">" if times[1] >= args.limit else ""
        print(f"| {name} | {n:,} | {shown[0]} | {shown[1]} | {more}{ratio:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
