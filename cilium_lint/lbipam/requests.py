"""Every LoadBalancer IP the tree asks Cilium LB-IPAM for, wherever it is written."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cilium_lint.document import Location
from cilium_lint.flux.helmrelease import Release
from cilium_lint.flux.text import literal_reason
from cilium_lint.lbipam.pools import IPAddress
from cilium_lint.sourcemap import Path
from cilium_lint.tree import KObject, Tree

IPS_KEY = "lbipam.cilium.io/ips"
LEGACY_IPS_KEY = "io.cilium/lb-ipam-ips"
SHARING_KEYS = ("lbipam.cilium.io/sharing-key", "io.cilium/lb-ipam-sharing-key")
CROSS_NAMESPACE_KEYS = (
    "lbipam.cilium.io/sharing-cross-namespace",
    "io.cilium/lb-ipam-sharing-cross-namespace",
)
# LB-IPAM serves class-less Services and these classes; it ignores every other class.
CILIUM_CLASSES = frozenset(
    {"io.cilium/l2-announcer", "io.cilium/bgp-control-plane", "io.cilium/node"}
)
# Charts whose services default to another type than LoadBalancer: without `type:` their
# annotations ask for nothing (bjw-s app-template services are ClusterIP unless told otherwise).
CHART_SERVICE_TYPES = {"app-template": "ClusterIP"}
ENVOY_GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"
GATEWAY_GROUP = "gateway.networking.k8s.io"


Port = tuple[int, str]  # number, L4 protocol


@dataclass(frozen=True, slots=True)
class LoadBalancerRequest:
    text: str  # the entry as written
    ip: IPAddress | None  # None when the entry is not one IP address
    location: Location
    owner: str  # stable identity of the asking object, e.g. Service/media/plex
    source: str  # how the IP was asked for, for messages
    pointer: str  # where in the owner, for fingerprints
    namespace: str | None
    sharing_key: str | None
    cross_namespace: frozenset[str]
    ports: frozenset[Port] | None  # None: not known from the tree
    traffic_policy: str
    # The labels of the Service LB-IPAM will see, for pool selectors; None: not known here
    # (chart values, operator templates), and selector rules then skip the request.
    labels: Mapping[str, str] | None = None
    service_name: str | None = None  # the Service's name when known (selector pseudo-label)
    # The entry holds ${...} that Flux applies as written, and why (see flux/text.py).
    literal: str | None = None

    @property
    def label(self) -> str:
        """How messages name the asker: ``Service/media/plex`` or
        ``HelmRelease/media/plex (values service.app)``."""
        owner, _, inner = self.owner.partition("#")
        if not inner:
            return owner
        steps = inner.strip("/").split("/")
        where = ".".join(p.replace("~1", "/").replace("~0", "~") for p in steps)
        kind = "values" if self.source == "HelmRelease values" else self.source
        return f"{owner} ({kind} {where})" if where else owner

    @property
    def unresolved(self) -> bool:
        """A Flux substitution variable whose value cannot be known here."""
        return "${" in self.text and self.literal is None


Locator = Callable[[Path], Location]


def _annotation(annotations: Any, keys: tuple[str, ...]) -> str | None:
    if not isinstance(annotations, dict):
        return None
    for key in keys:
        value = annotations.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _ports(ports: Any) -> frozenset[Port] | None:
    """(port, L4 protocol) pairs of a Service's ports, a chart's ports or a Gateway's listeners."""
    items = ports.values() if isinstance(ports, dict) else ports
    if not isinstance(items, list) and not isinstance(ports, dict):
        return None
    found = {
        (item["port"], _l4(item.get("protocol")))
        for item in items
        if isinstance(item, dict) and isinstance(item.get("port"), int)
    }
    return frozenset(found) if found else None


def _l4(protocol: Any) -> str:
    # Services default to TCP; Gateway listener protocols (HTTP, HTTPS, TLS, GRPC) run on TCP.
    text = str(protocol).upper() if isinstance(protocol, str) else "TCP"
    return text if text in ("UDP", "SCTP") else "TCP"


def _pointer(path: Path) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


@dataclass(frozen=True, slots=True)
class _Asker:
    """One Service-like thing: the IPs it asks for and the sharing context they come with."""

    owner: str
    source: str
    namespace: str | None
    annotations: Any
    annotations_path: Path | None
    load_balancer_ip: Any
    lb_ip_path: Path | None
    ports: frozenset[Port] | None
    traffic_policy: str
    labels: Mapping[str, str] | None = None
    service_name: str | None = None


def _string_labels(raw: Any) -> dict[str, str]:
    """Labels with string values; the API server refuses any other, so they never match."""
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, str)}


def _requests(asker: _Asker, locate: Locator) -> Iterator[LoadBalancerRequest]:
    """LB-IPAM's reading: the new annotation wins over the legacy one; loadBalancerIP adds."""
    entries: list[tuple[str, Path, str | None]] = []  # (entry, where, why it is literal)
    annotations = asker.annotations if isinstance(asker.annotations, dict) else {}
    for key in (IPS_KEY, LEGACY_IPS_KEY):
        value = annotations.get(key)
        if isinstance(value, str) and asker.annotations_path is not None:
            path = (*asker.annotations_path, key)
            why = literal_reason(value)
            entries.extend((part.strip(), path, why) for part in value.split(",") if part.strip())
            break
    lb_ip = asker.load_balancer_ip
    if isinstance(lb_ip, str) and lb_ip.strip():
        assert asker.lb_ip_path is not None
        entries.append((lb_ip.strip(), asker.lb_ip_path, literal_reason(lb_ip)))
    cross = _annotation(annotations, CROSS_NAMESPACE_KEYS)
    seen: set[str] = set()
    for text, path, why in entries:
        if text in seen:
            continue  # the same IP in annotation and loadBalancerIP is one request
        seen.add(text)
        try:
            ip: IPAddress | None = ipaddress.ip_address(text)
        except ValueError:
            ip = None
        yield LoadBalancerRequest(
            text=text,
            ip=ip,
            location=locate(path),
            owner=asker.owner,
            source=asker.source,
            pointer=_pointer(path),
            namespace=asker.namespace,
            sharing_key=_annotation(annotations, SHARING_KEYS),
            cross_namespace=frozenset(p for p in (cross or "").split(",") if p),
            ports=asker.ports,
            traffic_policy=asker.traffic_policy,
            labels=asker.labels,
            service_name=asker.service_name,
            literal=why if "${" in text else None,
        )


def _is_cilium_class(value: Any) -> bool:
    return value is None or value in CILIUM_CLASSES


def _service(obj: KObject) -> Iterator[LoadBalancerRequest]:
    spec = obj.get("spec")
    if not isinstance(spec, dict) or spec.get("type") != "LoadBalancer":
        return
    if not _is_cilium_class(spec.get("loadBalancerClass")):
        return
    asker = _Asker(
        owner=obj.ref,
        source="Service",
        namespace=obj.namespace,
        annotations=obj.get("metadata", "annotations"),
        annotations_path=("metadata", "annotations"),
        load_balancer_ip=spec.get("loadBalancerIP"),
        lb_ip_path=("spec", "loadBalancerIP"),
        ports=_ports(spec.get("ports")),
        traffic_policy=str(spec.get("externalTrafficPolicy") or "Cluster"),
        labels=_string_labels(obj.get("metadata", "labels")),
        service_name=obj.name or None,
    )
    yield from _requests(asker, obj.doc.locate)


def _envoy_classes(tree: Tree) -> set[str]:
    return {
        c.name
        for c in tree.of_kind("GatewayClass", GATEWAY_GROUP)
        if c.get("spec", "controllerName") == ENVOY_GATEWAY_CONTROLLER
    }


def _gateway(obj: KObject, envoy_classes: set[str]) -> Iterator[LoadBalancerRequest]:
    annotations = obj.get("spec", "infrastructure", "annotations")
    annotations = dict(annotations) if isinstance(annotations, dict) else {}
    listeners = obj.get("spec", "listeners")
    ports = _ports(listeners) if isinstance(listeners, list) else None
    class_name = obj.get("spec", "gatewayClassName")
    envoy = isinstance(class_name, str) and class_name in envoy_classes
    # Cilium copies spec.infrastructure.labels onto the Gateway's Service (cilium-facts §9); the
    # Service's name is Cilium's to choose. Envoy Gateway puts the Service in its own
    # namespace, so neither its labels nor its namespace are known from the Gateway.
    labels = None if envoy else _string_labels(obj.get("spec", "infrastructure", "labels"))
    base = _Asker(
        owner=obj.ref,
        source="Gateway",
        namespace=obj.namespace,
        annotations=annotations,
        annotations_path=("spec", "infrastructure", "annotations"),
        load_balancer_ip=None,
        lb_ip_path=None,
        ports=ports,
        traffic_policy="Cluster",
        labels=labels,
    )
    if IPS_KEY in annotations or LEGACY_IPS_KEY in annotations:
        # Cilium ignores spec.addresses when an infrastructure annotation asks for IPs.
        yield from _requests(base, obj.doc.locate)
        return
    if envoy:
        return  # Envoy Gateway turns spec.addresses into externalIPs, not LB-IPAM requests
    addresses = obj.get("spec", "addresses")
    for index, address in enumerate(addresses if isinstance(addresses, list) else []):
        if not isinstance(address, dict) or address.get("type", "IPAddress") != "IPAddress":
            continue
        asker = _Asker(
            owner=obj.ref,
            source="Gateway",
            namespace=obj.namespace,
            annotations=annotations,
            annotations_path=None,
            load_balancer_ip=address.get("value"),
            lb_ip_path=("spec", "addresses", index, "value"),
            ports=ports,
            traffic_policy="Cluster",
            labels=labels,
        )
        yield from _requests(asker, obj.doc.locate)


def _service_like(
    data: Any,
    path: Path,
    parent: Any,
    owner: str,
    source: str,
    namespace: str | None,
    default_type: str | None = None,
) -> Iterator[_Asker]:
    """Mappings anywhere in ``data`` that carry IP annotations or a ``loadBalancerIP``.

    Covers chart values (app-template ``service.<name>``, ``controller.service``), operator
    resources embedding a Service template (``metadata`` beside a ``spec``), EnvoyProxy
    ``envoyService``.
    """
    stack: list[tuple[Any, Path, Any]] = [(data, path, parent)]
    while stack:
        node, here, above = stack.pop()
        if isinstance(node, list):
            stack.extend((item, (*here, i), above) for i, item in reversed(list(enumerate(node))))
            continue
        if not isinstance(node, dict):
            continue
        annotations = node.get("annotations")
        has_ips = isinstance(annotations, dict) and (
            IPS_KEY in annotations or LEGACY_IPS_KEY in annotations
        )
        lb_ip = node.get("loadBalancerIP")
        if has_ips or isinstance(lb_ip, str):
            # A template's metadata describes the Service whose spec sits beside it.
            spec = node
            if here and here[-1] == "metadata" and isinstance(above, dict):
                sibling = above.get("spec")
                spec = sibling if isinstance(sibling, dict) else node
            kind = spec.get("type", default_type)
            if (kind is None or kind == "LoadBalancer") and _is_cilium_class(
                spec.get("loadBalancerClass")
            ):
                yield _Asker(
                    owner=f"{owner}#{_pointer(here)}",
                    source=source,
                    namespace=namespace,
                    annotations=annotations if has_ips else None,
                    annotations_path=(*here, "annotations") if has_ips else None,
                    load_balancer_ip=lb_ip,
                    lb_ip_path=(*here, "loadBalancerIP"),
                    ports=_ports(spec.get("ports")),
                    traffic_policy=str(spec.get("externalTrafficPolicy") or "Cluster"),
                )
        for key, value in reversed(list(node.items())):
            if isinstance(value, dict | list):
                stack.append((value, (*here, key), node))


# Kinds read by their own rules above, or whose content is data rather than objects.
_NOT_WALKED = frozenset(
    {"Service", "Gateway", "HelmRelease", "ConfigMap", "Secret", "Kustomization"}
)


def requests(tree: Tree, releases: list[Release]) -> list[LoadBalancerRequest]:
    found: list[LoadBalancerRequest] = []
    for obj in tree.of_kind("Service", ""):
        found.extend(_service(obj))
    envoy = _envoy_classes(tree)
    for obj in tree.of_kind("Gateway", GATEWAY_GROUP):
        found.extend(_gateway(obj, envoy))
    for release in releases:
        owner = release.obj.ref
        namespace = release.namespace
        values = release.values
        default_type = CHART_SERVICE_TYPES.get(release.chart or "")
        for asker in _service_like(
            values.data, (), None, owner, "HelmRelease values", namespace, default_type
        ):
            found.extend(_requests(asker, values.locate))
    for obj in tree.objects:
        if obj.kind in _NOT_WALKED or obj.doc.encrypted:
            continue
        spec = obj.get("spec")
        if isinstance(spec, dict):
            for asker in _service_like(spec, ("spec",), obj.data, obj.ref, obj.kind, obj.namespace):
                found.extend(_requests(asker, obj.doc.locate))
    return found
