"""The address of the client behind the portal's own proxies, for every per-address limit.

Behind a reverse proxy ``REMOTE_ADDR`` is the proxy's address, so every visitor would share
one. ``TRUSTED_PROXIES`` names the proxies (addresses or networks, e.g. ``10.0.0.0/8``): only
when the direct peer is one of them is ``X-Forwarded-For`` read, from its right end, skipping
every hop that is itself a trusted proxy; the first other hop is the client. Hops to the left
of it were written by the client and are never believed. With no trusted proxy (the default)
the header is ignored whole, so a client cannot claim a fresh address with every request.
This is the rule of nginx's ``real_ip_recursive``.

django-ipware (over python-ipware) parses the addresses (ports, brackets, quotes, IPv4-mapped
IPv6 read as IPv4) and picks the hop by proxy count. Its trusted-proxy list cannot say where
trust starts (the direct peer) nor that any number of hops may each be any listed network
(docs/decisions.md, "Behind a reverse proxy"), so this module counts the trusted hops of each
request and hands ipware that count.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from ipware import get_client_ip
from python_ipware.modern.parsers import parse_ip, split_unquoted, unwrap_ipv4_network

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FORWARDED = "HTTP_X_FORWARDED_FOR"
PEER = "REMOTE_ADDR"


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(
        unwrap_ipv4_network(ipaddress.ip_network(item.strip(), strict=False)) for item in trusted
    )


def _trusted(text: str, networks: tuple[Network, ...]) -> bool | None:
    """Whether the hop is a trusted proxy; None when it is not an address at all."""
    ip = parse_ip(text)
    if ip is None:
        return None
    return any(ip.version == network.version and ip in network for network in networks)


def _proxies_behind_client(meta, networks: tuple[Network, ...]) -> int | None:
    """How many trusted hops of ``X-Forwarded-For`` lie right of the client's own hop, or
    None when the header names no client that may be believed (untrusted peer, a malformed
    hop reached first, or only trusted hops)."""
    if not networks or not _trusted(meta.get(PEER, "") or "", networks):
        return None
    hops = [hop for hop in split_unquoted(meta.get(FORWARDED, "") or "", ",") if hop.strip()]
    for proxies, hop in enumerate(reversed(hops)):
        trusted = _trusted(hop, networks)
        if trusted is None:
            return None  # a malformed hop: nothing left of it can be believed
        if not trusted:
            return proxies
    return None


def client_address(request) -> str:
    """The client's IP address as text (``"unknown"`` when there is none): the first hop of
    ``X-Forwarded-For``, from the right, that is not a trusted proxy, when the request came
    from a trusted proxy (``TRUSTED_PROXIES``); otherwise ``REMOTE_ADDR``. IPv4-mapped IPv6
    addresses (``::ffff:a.b.c.d``) are given as IPv4. Never raises for bad header values."""
    address = None
    proxies = _proxies_behind_client(request.META, _networks(tuple(settings.TRUSTED_PROXIES)))
    if proxies is not None:
        address, _routable = get_client_ip(
            request, proxy_count=proxies, request_header_order=[FORWARDED], strict=False
        )
    if address is None:
        address, _routable = get_client_ip(request, request_header_order=[PEER])
    return address or "unknown"


def client_address_or_none(request) -> str | None:
    """``client_address`` for fields that store an address (None instead of "unknown")."""
    address = client_address(request)
    return None if address == "unknown" else address
