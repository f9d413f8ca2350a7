"""Generate a realistic Flux/Kustomize tree of about N YAML files, deterministically.

    python bench/generate.py OUT --files 10000 [--seed 7] [--duplicates 0]

The tree looks like a home-ops repository grown large:

* ``flux/cluster/ks.yaml``: the root Flux Kustomization, with ``postBuild.substituteFrom`` the
  ``cluster-settings`` ConfigMap;
* ``kubernetes/components/settings/``: the ``cluster-settings`` ConfigMap (``APP_IP_*`` variables);
* ``kubernetes/apps/kube-system/cilium/``: one Cilium release (OCIRepository, HelmRelease with
  ``valuesFrom`` a ``configMapGenerator`` values file) and one ``CiliumLoadBalancerIPPool``;
* ``kubernetes/apps/<namespace>/<app>/``: per app a Flux Kustomization ``ks.yaml`` (with
  ``postBuild.substituteFrom``), ``app/kustomization.yaml``, an app-template HelmRelease (some
  with ``service.app.annotations.lbipam.cilium.io/ips``, a literal IP or ``${APP_IP_...}``) and,
  for some apps, a share ``Service`` of type LoadBalancer with its own IP.

Every LoadBalancer IP is unique within 10.0.6.0/24 (only 254 exist, so only some apps get one);
``--duplicates K`` deliberately reuses K addresses. The same seed always yields the same bytes.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

POOL = ipaddress.ip_network("10.0.6.0/24")
APPS_PER_NAMESPACE = 24
FIXED_FILES = 13  # root ks, cluster settings (2), kube-system kustomization, Cilium (9)
WORDS = (
    "atlas",
    "bazarr",
    "cobalt",
    "dashy",
    "echo",
    "flame",
    "gitea",
    "homer",
    "immich",
    "jellyfin",
    "kavita",
    "lidarr",
    "mealie",
    "navidrome",
    "ombi",
    "paperless",
    "qbittorrent",
    "radarr",
    "sonarr",
    "tautulli",
    "unifi",
    "vaultwarden",
    "wikijs",
    "xbrowser",
    "yarr",
    "zigbee2mqtt",
    "grafana",
    "loki",
    "mosquitto",
    "nextcloud",
    "overseerr",
    "plex",
    "prowlarr",
    "readarr",
    "recyclarr",
    "sabnzbd",
    "searxng",
    "syncthing",
    "thelounge",
    "uptime",
    "whoogle",
    "actual",
    "audiobookshelf",
)
IMAGES = (
    "ghcr.io/home-operations/{name}",
    "docker.io/library/{name}",
    "ghcr.io/onedr0p/{name}",
    "quay.io/{name}/{name}",
)


@dataclass
class App:
    name: str
    namespace: str
    index: int
    ip_style: str  # "literal", "variable" or "none"
    ip: str | None
    share_ip: str | None
    port: int
    replicas: int
    env: dict[str, str] = field(default_factory=dict)
    volumes: int = 1


class IPs:
    """Hands out the addresses of the pool, each once (unless duplicates are asked for)."""

    def __init__(self, rng: random.Random, duplicates: int) -> None:
        hosts = [str(h) for h in POOL.hosts()][9:]  # .1-.9 stay free for infrastructure
        rng.shuffle(hosts)
        self._free = hosts
        self._given: list[str] = []
        self._duplicates = duplicates
        self._rng = rng

    def take(self) -> str | None:
        if self._duplicates and self._given and self._rng.random() < 0.3:
            self._duplicates -= 1
            return self._rng.choice(self._given)
        if not self._free:
            return None
        ip = self._free.pop()
        self._given.append(ip)
        return ip

    @property
    def left(self) -> int:
        return len(self._free)


def plan(files: int, seed: int, duplicates: int) -> tuple[list[App], dict[str, str]]:
    rng = random.Random(seed)
    ips = IPs(rng, duplicates)
    # Spread the addresses over the whole tree rather than the first apps only.
    ip_chance = min(1.0, 200 / max(files / 3.2, 1))
    apps: list[App] = []
    settings: dict[str, str] = {}
    written = FIXED_FILES
    i = -1
    while written < files or not apps:
        i += 1
        written += 3 + (2 if i % APPS_PER_NAMESPACE == 0 else 0)
        ns = f"{WORDS[(i // APPS_PER_NAMESPACE) % len(WORDS)]}-{i // APPS_PER_NAMESPACE:04d}"
        name = f"{rng.choice(WORDS)}-{i:05d}"
        style, ip = "none", None
        if rng.random() < ip_chance:
            ip = ips.take()
            if ip is not None:
                style = "variable" if rng.random() < 0.35 else "literal"
        share_ip = None
        if i % 4 == 0 and rng.random() < ip_chance:
            share_ip = ips.take()
            written += share_ip is not None
        if style == "variable" and ip is not None:
            settings[f"APP_IP_{i:05d}"] = ip
        apps.append(
            App(
                name=name,
                namespace=ns,
                index=i,
                ip_style=style,
                ip=ip,
                share_ip=share_ip,
                port=rng.choice((80, 3000, 8080, 8096, 8123, 9000)),
                replicas=rng.choice((1, 1, 1, 2)),
                env={
                    f"SETTING_{k}": f"value-{rng.randrange(1000)}" for k in range(rng.randrange(4))
                },
                volumes=rng.randrange(0, 3),
            )
        )
    return apps, settings


def _write(path: Path, text: str, counter: list[int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    counter[0] += 1


def root_ks() -> str:
    return """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 1h
  path: ./kubernetes/apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  decryption:
    provider: sops
    secretRef:
      name: sops-age
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-settings
"""


def settings_configmap(settings: dict[str, str]) -> str:
    lines = [
        "---",
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: cluster-settings",
        "  namespace: flux-system",
        "data:",
        '  TIMEZONE: "Etc/UTC"',
        '  CLUSTER_DOMAIN: "example.internal"',
        '  LB_POOL_CIDR: "10.0.6.0/24"',
    ]
    lines += [f'  {key}: "{value}"' for key, value in sorted(settings.items())]
    return "\n".join(lines) + "\n"


def simple_kustomization(resources: list[str], namespace: str | None = None) -> str:
    lines = ["---", "apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization"]
    if namespace:
        lines.append(f"namespace: {namespace}")
    lines.append("resources:")
    lines += [f"  - {r}" for r in resources]
    return "\n".join(lines) + "\n"


def namespace_yaml(name: str) -> str:
    return f"""---
apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  annotations:
    kustomize.toolkit.fluxcd.io/prune: disabled
"""


def app_ks(app: App) -> str:
    return f"""---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: &app {app.name}
spec:
  commonMetadata:
    labels:
      app.kubernetes.io/name: *app
  dependsOn:
    - name: cilium-config
      namespace: kube-system
  interval: 1h
  path: ./kubernetes/apps/{app.namespace}/{app.name}/app
  postBuild:
    substitute:
      APP: *app
    substituteFrom:
      - kind: ConfigMap
        name: cluster-settings
  prune: true
  retryInterval: 2m
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  targetNamespace: {app.namespace}
  timeout: 5m
  wait: false
"""


def app_helmrelease(app: App, rng: random.Random) -> str:
    image = rng.choice(IMAGES).format(name=app.name.rsplit("-", 1)[0])
    tag = f"{rng.randrange(1, 5)}.{rng.randrange(0, 30)}.{rng.randrange(0, 10)}"
    env = "".join(f"\n              {k}: {v}" for k, v in app.env.items())
    annotations = ""
    if app.ip_style == "literal":
        annotations = f"\n        annotations:\n          lbipam.cilium.io/ips: {app.ip}"
    elif app.ip_style == "variable":
        annotations = (
            f'\n        annotations:\n          lbipam.cilium.io/ips: "${{APP_IP_{app.index:05d}}}"'
        )
    service_type = "LoadBalancer" if app.ip_style != "none" else "ClusterIP"
    persistence = ""
    if app.volumes:
        persistence = "\n    persistence:"
        for v in range(app.volumes):
            persistence += f"""
      data{v}:
        existingClaim: {app.name}-data{v}
        globalMounts:
          - path: /data/{v}"""
    return f"""---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {app.name}
spec:
  interval: 15m
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  ref:
    tag: 4.4.0
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: &app {app.name}
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: {app.name}
  install:
    remediation:
      retries: -1
  upgrade:
    cleanupOnFail: true
    remediation:
      retries: 3
  values:
    controllers:
      {app.name}:
        replicas: {app.replicas}
        annotations:
          reloader.stakater.com/auto: "true"
        containers:
          app:
            image:
              repository: {image}
              tag: {tag}
            env:
              TZ: ${{TIMEZONE}}{env}
            probes:
              liveness: &probes
                enabled: true
                custom: true
                spec:
                  httpGet:
                    path: /healthz
                    port: &port {app.port}
                  initialDelaySeconds: 0
                  periodSeconds: 10
                  timeoutSeconds: 1
                  failureThreshold: 3
              readiness: *probes
            securityContext:
              allowPrivilegeEscalation: false
              readOnlyRootFilesystem: true
              capabilities: {{drop: ["ALL"]}}
            resources:
              requests:
                cpu: {rng.choice((5, 10, 50, 100))}m
              limits:
                memory: {rng.choice((128, 256, 512, 1024))}Mi
    defaultPodOptions:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 1000
        fsGroup: 1000
        fsGroupChangePolicy: OnRootMismatch
    service:
      app:
        controller: *app
        type: {service_type}{annotations}
        ports:
          http:
            port: *port
    route:
      app:
        hostnames: ["{{{{ .Release.Name }}}}.${{CLUSTER_DOMAIN}}"]
        parentRefs:
          - name: internal
            namespace: network
            sectionName: https{persistence}
"""


def share_service(app: App) -> str:
    return f"""---
# The share: file access from outside the cluster, on its own address.
apiVersion: v1
kind: Service
metadata:
  name: {app.name}-share
  annotations:
    lbipam.cilium.io/ips: {app.share_ip}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Cluster
  selector:
    app.kubernetes.io/name: {app.name}
    app.kubernetes.io/controller: {app.name}
  ports:
    - name: smb
      port: 445
      protocol: TCP
      targetPort: 445
"""


L2_POLICY = """---
apiVersion: cilium.io/v2alpha1
kind: CiliumL2AnnouncementPolicy
metadata:
  name: l2-policy
spec:
  loadBalancerIPs: true
  interfaces:
    - ^bond[0-9]+$
  nodeSelector:
    matchLabels:
      kubernetes.io/os: linux
"""

CILIUM_VALUES = """---
# Read by Flux (configMapGenerator -> valuesFrom) and by the bootstrap helmfile.
autoDirectNodeRoutes: true
bandwidthManager:
  enabled: true
  bbr: true
bpf:
  masquerade: true
cni:
  exclusive: false
devices: bond+
endpointRoutes:
  enabled: true
gatewayAPI:
  enabled: true
ipam:
  mode: kubernetes
ipv4NativeRoutingCIDR: 10.42.0.0/16
k8sClientRateLimit:
  qps: {qps}
  burst: {burst}
k8sServiceHost: 127.0.0.1
k8sServicePort: 7445
kubeProxyReplacement: true
l2announcements:
  enabled: true
loadBalancer:
  algorithm: maglev
  mode: dsr
operator:
  replicas: 2
  rollOutPods: true
rollOutCiliumPods: true
routingMode: native
"""

CILIUM_HELMRELEASE = """---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cilium
spec:
  interval: 1h
  chartRef:
    kind: OCIRepository
    name: cilium
  valuesFrom:
    - kind: ConfigMap
      name: cilium-values
  values:
    dashboards:
      enabled: true
    hubble:
      enabled: true
      relay:
        enabled: true
      ui:
        enabled: true
    operator:
      dashboards:
        enabled: true
      prometheus:
        enabled: true
        serviceMonitor:
          enabled: true
    prometheus:
      enabled: true
      serviceMonitor:
        enabled: true
        trustCRDsExist: true
"""

CILIUM_OCI = """---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: cilium
spec:
  interval: 15m
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  ref:
    tag: 1.19.6
  url: oci://quay.io/cilium/charts/cilium
"""

CILIUM_KUSTOMIZATION = """---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./ocirepository.yaml
  - ./helmrelease.yaml
configMapGenerator:
  - name: cilium-values
    files:
      - values.yaml=./helm-values.yaml
configurations:
  - ./kustomizeconfig.yaml
"""

KUSTOMIZECONFIG = """---
nameReference:
  - kind: ConfigMap
    version: v1
    fieldSpecs:
      - path: spec/valuesFrom/name
        kind: HelmRelease
"""

CILIUM_KS = """---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cilium
spec:
  interval: 1h
  path: ./kubernetes/apps/kube-system/cilium/app
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  targetNamespace: kube-system
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cilium-config
spec:
  dependsOn:
    - name: cilium
  interval: 1h
  path: ./kubernetes/apps/kube-system/cilium/config
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  targetNamespace: kube-system
"""

POOL_YAML = f"""---
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata:
  name: pool
spec:
  allowFirstLastIPs: "No"
  blocks:
    - cidr: {POOL}
"""


def generate(out: Path, files: int, seed: int = 7, duplicates: int = 0) -> int:
    """Write the tree under ``out`` (which must not exist or be empty); the number of files."""
    rng = random.Random(seed + 1)
    apps, settings = plan(files, seed, duplicates)
    counter = [0]
    k8s = out / "kubernetes"
    _write(out / "flux" / "cluster" / "ks.yaml", root_ks(), counter)
    settings_dir = k8s / "components" / "settings"
    _write(settings_dir / "cluster-settings.yaml", settings_configmap(settings), counter)
    _write(
        settings_dir / "kustomization.yaml",
        simple_kustomization(["./cluster-settings.yaml"]),
        counter,
    )
    cilium = k8s / "apps" / "kube-system" / "cilium"
    _write(cilium / "ks.yaml", CILIUM_KS, counter)
    _write(cilium / "app" / "kustomization.yaml", CILIUM_KUSTOMIZATION, counter)
    _write(cilium / "app" / "kustomizeconfig.yaml", KUSTOMIZECONFIG, counter)
    # L2 announcements renew a lease per LoadBalancer Service every 5 s: size the client for it.
    services = sum((a.ip is not None) + (a.share_ip is not None) for a in apps)
    qps = max(10, -(-services // 5) + 10)
    values = CILIUM_VALUES.format(qps=qps, burst=2 * qps)
    _write(cilium / "app" / "helm-values.yaml", values, counter)
    _write(cilium / "app" / "helmrelease.yaml", CILIUM_HELMRELEASE, counter)
    _write(cilium / "app" / "ocirepository.yaml", CILIUM_OCI, counter)
    _write(
        cilium / "config" / "kustomization.yaml",
        simple_kustomization(["./pool.yaml", "./l2-policy.yaml"]),
        counter,
    )
    _write(cilium / "config" / "l2-policy.yaml", L2_POLICY, counter)
    _write(cilium / "config" / "pool.yaml", POOL_YAML, counter)
    _write(
        k8s / "apps" / "kube-system" / "kustomization.yaml",
        simple_kustomization(["./cilium/ks.yaml"], "kube-system"),
        counter,
    )
    by_namespace: dict[str, list[App]] = {}
    for app in apps:
        by_namespace.setdefault(app.namespace, []).append(app)
    for namespace, members in by_namespace.items():
        ns_dir = k8s / "apps" / namespace
        _write(ns_dir / "namespace.yaml", namespace_yaml(namespace), counter)
        # Flux reads substituteFrom in the Kustomization's own namespace: like most home-ops
        # trees, every namespace gets its copy of the cluster settings.
        resources = ["./namespace.yaml", "../../components/settings"] + [
            f"./{a.name}/ks.yaml" for a in members
        ]
        _write(ns_dir / "kustomization.yaml", simple_kustomization(resources, namespace), counter)
        for app in members:
            app_dir = ns_dir / app.name
            _write(app_dir / "ks.yaml", app_ks(app), counter)
            app_resources = ["./helmrelease.yaml"]
            if app.share_ip:
                app_resources.append("./share.yaml")
                _write(app_dir / "app" / "share.yaml", share_service(app), counter)
            _write(app_dir / "app" / "helmrelease.yaml", app_helmrelease(app, rng), counter)
            _write(
                app_dir / "app" / "kustomization.yaml", simple_kustomization(app_resources), counter
            )
    return counter[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to create")
    parser.add_argument("--files", type=int, default=1000, help="about how many files")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--duplicates", type=int, default=0, help="reuse this many LoadBalancer IPs on purpose"
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = parser.parse_args(argv)
    if args.out.exists():
        if not args.force:
            print(f"{args.out} exists (use --force to replace it)", file=sys.stderr)
            return 2
        shutil.rmtree(args.out)
    written = generate(args.out, args.files, args.seed, args.duplicates)
    print(f"{written} files written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
