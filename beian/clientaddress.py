"""The address of the client behind the portal's own proxies, for every per-address limit.

Behind a reverse proxy ``REMOTE_ADDR`` is the proxy's address, so every visitor would share
one. ``TRUSTED_PROXIES`` names the proxies (addresses or networks, e.g. ``10.0.0.0/8``): only
when the direct peer is one of them is ``X-Forwarded-For`` read, from its right end, skipping
every hop that is itself a trusted proxy; the first other hop is the client. Hops to the left
of it were written by the client and are never believed. With no trusted proxy (the default)
the header is ignored whole, so a client cannot claim a fresh address with every request.
This is the rule of nginx's ``real_ip_recursive`` and of django-ipware's trusted proxies.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # an IPv4 address with a port
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip, networks: tuple[Network, ...]) -> bool:
    return ip is not None and any(ip in network for network in networks)


def client_address(request) -> str:
    """The client's IP address as text (``"unknown"`` when there is none): the first hop of
    ``X-Forwarded-For``, from the right, that is not a trusted proxy, when the request came
    from a trusted proxy (``TRUSTED_PROXIES``); otherwise ``REMOTE_ADDR``."""
    meta = request.META
    peer_text = meta.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    peer = _parse(peer_text)
    if networks and _trusted(peer, networks):
        hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            ip = _parse(hop)
            if ip is None:
                break  # a malformed hop: nothing left of it can be believed
            if not _trusted(ip, networks):
                return str(ip)
    if peer is not None:
        return str(peer)
    return peer_text or "unknown"


def client_address_or_none(request) -> str | None:
    """``client_address`` for fields that store an address (None instead of "unknown")."""
    address = client_address(request)
    return None if address == "unknown" else address
