"""The address of the client behind a request, for rate limits and login throttling.

`X-Forwarded-For` is written by whoever sends the request, so it is only believed when the
TCP peer is one of our own reverse proxies (HOTRO_TRUSTED_PROXIES). Each proxy appends the
address it received the request from; reading from the right, the first address that is not
one of our proxies is the client. Anything to its left was written by the client and may be
invented.
"""
from __future__ import annotations

import ipaddress
from typing import Optional, Sequence, Tuple, Union

from aiohttp import web

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
TRUSTED_PROXIES = web.AppKey("trusted_proxies", tuple)
UNKNOWN = "unknown"


def parse_trusted(text: str) -> Tuple[Network, ...]:
    """"10.0.0.5, 192.168.0.0/16, ::1" → networks; ValueError names a wrong entry (fail at start, not per request)."""
    networks = []
    for entry in (part.strip() for part in (text or "").split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"HOTRO_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from exc
    return tuple(networks)


def _address(text: str) -> Optional[Address]:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client on a dual-stack socket appears as ::ffff:a.b.c.d: one client, one key.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def client_address(request: web.BaseRequest, trusted: Sequence[Network] = ()) -> str:
    """The client's IP address as text; the proxy's own when what it forwarded cannot be read."""
    peer = _address(request.remote or "")  # the TCP peer: aiohttp itself reads no forwarding header
    if peer is None:
        return UNKNOWN  # not over TCP (a Unix socket): nothing to tell clients apart
    if not _is_trusted(peer, trusted):
        return str(peer)
    hops = [hop for header in request.headers.getall("X-Forwarded-For", ()) for hop in header.split(",")]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage where our proxy should have written an address: trust no further
        client = address
        if not _is_trusted(address, trusted):
            break
    return str(client)

