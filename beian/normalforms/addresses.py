"""IP addresses of a website's servers.

An address is stored in the short form of ``ipaddress`` (RFC 5952 for IPv6). An
IPv4-mapped IPv6 address (``::ffff:120.79.1.10``, RFC 4291 §2.5.5.2) *is* the IPv4 address
and is stored as ``120.79.1.10``, so that a list holding both holds it once.
"""

from __future__ import annotations

import ipaddress

from .text import folded


def normalize_ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address typed in ``value`` (full-width digits and invisible characters allowed);
    ``ValueError`` when it is none."""
    text = folded(value)
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
