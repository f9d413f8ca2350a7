"""CiliumLoadBalancerIPPool objects of the tree, as LB-IPAM reads them."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from cilium_lint.document import Location
from cilium_lint.flux.text import is_unknown
from cilium_lint.lbipam import intervals
from cilium_lint.tree import KObject, Tree

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

POOL_KIND = "CiliumLoadBalancerIPPool"


@dataclass(frozen=True, slots=True)
class PoolBlock:
    pool: KObject
    index: int
    location: Location
    text: str
    first: IPAddress | None  # None: the block cannot be parsed
    last: IPAddress | None
    # allowFirstLastIPs: "No" reserves the network and broadcast address of a cidr block.
    reserved: frozenset[IPAddress] = frozenset()
    # Its cidr, start or stop is a Flux variable whose value is not known here: the block may
    # serve anything (checks that need the pool's ranges give up rather than guess).
    unknown: bool = False

    @property
    def usable(self) -> bool:
        return (
            self.first is not None
            and self.last is not None
            and self.first.version == self.last.version
            and int(self.first) <= int(self.last)
        )

    def contains(self, ip: IPAddress) -> bool:
        if self.first is None or self.last is None or ip.version != self.first.version:
            return False
        return int(self.first) <= int(ip) <= int(self.last) and ip not in self.reserved

    def contained(self) -> tuple[int, int]:
        """What :meth:`contains` holds, as an interval of ``intervals.key`` (low > high when
        nothing), for look-ups that must not scan every block."""
        if self.first is None or self.last is None or self.first.version != self.last.version:
            return (1, 0)
        low, high = intervals.key(self.first), intervals.key(self.last)
        return (low + (self.first in self.reserved), high - (self.last in self.reserved))

    def within(self, network: IPNetwork) -> bool:
        if self.first is None or self.last is None or self.first.version != network.version:
            return False
        return self.first in network and self.last in network


@dataclass(frozen=True, slots=True)
class Pool:
    obj: KObject
    disabled: bool
    blocks: tuple[PoolBlock, ...]
    # The API server refuses the object (allowFirstLastIPs outside its "Yes"/"No" enum, e.g.
    # an unquoted No, which YAML reads as a boolean): it never exists in the cluster.
    rejected: bool = False

    @property
    def serving(self) -> bool:
        return not self.disabled and not self.rejected

    @property
    def unknown(self) -> bool:
        """Some block's range is not known here (an unresolved Flux variable)."""
        return any(b.unknown for b in self.blocks)


_PREFIX = re.compile(r"[0-9A-Fa-f:.]+/[0-9]{1,3}")


def _address(text: Any) -> IPAddress | None:
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _block(obj: KObject, index: int, raw: dict[str, Any], allow_first_last: bool) -> PoolBlock:
    path = ("spec", "blocks", index)
    if any(is_unknown(raw.get(key)) for key in ("cidr", "start", "stop")):
        key = "cidr" if "cidr" in raw else "start"
        text = str(raw.get(key)) if key == "cidr" else _range_text(raw)
        return PoolBlock(obj, index, obj.locate(*path, key), text, None, None, unknown=True)
    if "cidr" in raw:
        location = obj.locate(*path, "cidr")
        text = str(raw["cidr"])
        if not _PREFIX.fullmatch(text.strip()):
            # Go's netip.ParsePrefix wants address/bits: no bare address, no netmask.
            return PoolBlock(obj, index, location, text, None, None)
        try:
            network = ipaddress.ip_network(text.strip(), strict=False)  # LB-IPAM masks host bits
        except ValueError:
            return PoolBlock(obj, index, location, text, None, None)
        reserved: frozenset[IPAddress] = frozenset()
        if not allow_first_last and network.num_addresses > 2:
            reserved = frozenset({network.network_address, network.broadcast_address})
        return PoolBlock(
            obj, index, location, text, network.network_address, network.broadcast_address, reserved
        )
    location = obj.locate(*path, "start")
    start = _address(raw.get("start"))
    stop = _address(raw.get("stop")) if "stop" in raw else start
    text = _range_text(raw)
    if start is None or stop is None or start.version != stop.version:
        return PoolBlock(obj, index, location, text, None, None)
    return PoolBlock(obj, index, location, text, start, stop)


def _range_text(raw: dict[str, Any]) -> str:
    return f"{raw.get('start')}-{raw.get('stop', raw.get('start'))}"


def pools(tree: Tree) -> list[Pool]:
    found: list[Pool] = []
    for obj in tree.of_kind(POOL_KIND, "cilium.io"):
        spec = obj.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        allow = spec.get("allowFirstLastIPs")
        allow_first_last = not (isinstance(allow, str) and allow == "No")
        rejected = "allowFirstLastIPs" in spec and allow not in ("Yes", "No")
        raw_blocks = spec.get("blocks")
        blocks = tuple(
            _block(obj, i, raw, allow_first_last)
            for i, raw in enumerate(raw_blocks if isinstance(raw_blocks, list) else [])
            if isinstance(raw, dict)
        )
        found.append(Pool(obj, spec.get("disabled") is True, blocks, rejected))
    return found
