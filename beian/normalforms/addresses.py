"""IP addresses of a website's servers.

An address is stored in the short form of ``ipaddress`` (RFC 5952 for IPv6). An
IPv4-mapped IPv6 address (``::ffff:120.79.1.10``, RFC 4291 §2.5.5.2) *is* the IPv4 address
and is stored as ``120.79.1.10``, so that a list holding both holds it once. So are the
other writings of an IPv4 address in IPv6: the IPv4-compatible address (``::120.79.1.10``,
RFC 4291 §2.5.5.1, deprecated) and the IPv4-translated address (``::ffff:0:120.79.1.10``,
RFC 2765 §2.1). ``::`` and ``::1`` (and the rest of ``::/104``) stay IPv6: they are the
unspecified and loopback addresses, not IPv4-compatible ones.

An address under the NAT64 well-known prefix ``64:ff9b::/96`` (RFC 6052) is left as it is:
it names an IPv6 translator's path to the IPv4 server, a different server address from the
filer's point of view, and the prefix is only one of many a network may use.
"""

from __future__ import annotations

import ipaddress

from .text import folded

# The 96 bits before the IPv4 address of an IPv4-translated address (::ffff:0:0/96).
_TRANSLATED = 0xFFFF0000
# An IPv4-compatible address's IPv4 part is outside 0.0.0.0/8, which holds ``::`` and ``::1``.
_FIRST_COMPATIBLE = 1 << 24


def normalize_ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address typed in ``value`` (full-width digits and invisible characters allowed);
    ``ValueError`` when it is none."""
    text = folded(value)
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        high, low = int(address) >> 32, int(address) & 0xFFFFFFFF
        if high in (0, _TRANSLATED) and low >= _FIRST_COMPATIBLE:
            return ipaddress.IPv4Address(low)
    return address
