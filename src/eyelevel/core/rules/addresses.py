"""Which network addresses a webhook may be sent to (the SSRF guard's pure half).

A webhook URL is chosen by a company admin, so the server must never be made to call into its
own network: loopback, private and link-local ranges, CGNAT, multicast, reserved and
unspecified addresses are refused, and so is every IPv6 form that carries such an IPv4 address
inside (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo). A host written as a number in any
of the forms ``inet_aton`` accepts (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``)
is read as the address it denotes, never handed to a resolver. The operator may allow networks
explicitly (a development receiver on loopback, a partner in a private network).

The other half (resolving names, connecting to the checked address) is in
``eyelevel.webhooks.transport``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMBER_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")
_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_-]{1,63}$")


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a numeric host denotes in ``inet_aton``'s reading (1 to 4 parts, each
    decimal, ``0x`` hex or ``0`` octal), or None when the host is not such a number."""
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]  # a trailing dot, as in a fully qualified name
    if not 1 <= len(parts) <= 4 or not all(_NUMBER_PART.match(p) for p in parts):
        return None
    values = []
    for p in parts:
        if p[:2].lower() == "0x":
            values.append(int(p[2:] or "0", 16))
        elif len(p) > 1 and p[0] == "0":
            values.append(int(p, 8))
        else:
            values.append(int(p))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = number * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(number)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL host names literally (``[v6]`` brackets removed by the caller)."""
    v4 = numeric_ipv4(host)
    if v4 is not None:
        return v4
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def valid_name(host: str) -> bool:
    """A DNS name (already IDNA-encoded and lower case) that may be resolved."""
    return bool(_NAME.match(host.rstrip(".")))


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _V4_COMPATIBLE or address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def forbidden_reason(address: IPAddress) -> str | None:
    """Why an address may not be called (None: it is a public unicast address)."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "private"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "cgnat"
    if isinstance(address, ipaddress.IPv6Address) and address in _NAT64_LOCAL:
        return "private"
    for inner in embedded_ipv4(address):
        reason = forbidden_reason(inner)
        if reason is not None:
            return f"embedded_{reason}"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not_global"
    return None


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    """The operator's allow-list (CIDR notation; a bare address is a /32 or /128)."""
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip()]


def allowed(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    """Whether a webhook may go to ``address``: public, or inside an operator-allowed network."""
    if any(address.version == n.version and address in n for n in networks):
        return True
    return forbidden_reason(address) is None
