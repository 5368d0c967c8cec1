"""Every HTTP request the portal makes to a server someone else names (a website's server for
the certificate checker, a provider's webhook receiver): one function, with the SSRF guard and
a deadline no server can stretch (healthchecks' ``hc/lib/curl.py`` idea). Callers pass their
policy (``allow_private``, ``resolve_overrides``, timeouts, ``max_bytes``, redirects) and map
``OutboundError.reason`` to their own meaning in one place; they keep no address rules.

- Only http and https, only ports 80 and 443 (a host mapped by ``resolve_overrides``, like
  curl ``--resolve``, may name another port: tests and local trials).
- The host is resolved once; every answer must be a global address (not private, loopback,
  link-local, shared, reserved, multicast, unspecified, nor an IPv6 address carrying such an
  IPv4 address: ``is_public``), unless ``allow_private``; the connection goes to exactly the address checked,
  so a DNS answer that changes afterwards (rebinding) cannot steer it inside. TLS verifies the
  certificate of the named host.
- Deadlines are enforced on the socket: before every connect, send and read the socket's
  timeout is set to what is left of the whole exchange (at most the read timeout), so a server
  that sends one byte a second is cut off at ``total_timeout``, not between chunks.
- At most ``max_bytes`` of the body are read; redirects are followed only when asked, each hop
  checked afresh.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.utils.translation import gettext_noop

from beian.normalforms.domains import domain_unicode, url_unicode

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECTS = (301, 302, 303, 307, 308)


class OutboundError(Exception):
    """The request was not made or not answered. ``reason``: ``"refused"`` (the guard said no:
    scheme, port or address), ``"unresolved"`` (the name does not resolve), ``"unreachable"``
    (no connection, a broken answer, or the deadline passed) or ``"too_large"``.

    ``message`` is a coded message (``beian.coded``: an English message id and its values,
    hosts and URLs in Unicode) for whoever reads it later in their own language; ``detail``
    is its English text, which ``beian.coded.encode`` turns back into the coded message.
    """

    def __init__(self, reason: str, code: str, **params) -> None:
        self.reason = reason
        self.message = {"code": code, "params": params}
        self.detail = code % params if params else code
        super().__init__(self.detail)


def _readable_host(host: str) -> str:
    """A host as people read it (Unicode, not the A-label) for a message."""
    return domain_unicode(host)


def _readable_url(url: str) -> str:
    """A URL as people read it (its host in Unicode) for a message."""
    return url_unicode(url)


@dataclass(frozen=True)
class Answer:
    """What a server answered: the last URL asked (after redirects), the HTTP status, the
    headers with lower-case names, and at most ``max_bytes`` of body."""

    url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def is_public(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` (an address's text, an IPv6 zone such as ``%eth0`` ignored, or an
    ``ipaddress`` object) is a global unicast address the portal may connect to: not private,
    loopback, link-local, shared, reserved, multicast nor unspecified. An IPv6 address that
    carries an IPv4 one (mapped, 6to4, Teredo) is judged by the IPv4 address it carries.
    Raises ``ValueError`` for text that is no address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    return _is_global(ip)


def _is_global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not _is_global(embedded):
            return False
        if ip.ipv4_mapped is not None:
            return True
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def literal_address_refused(
    url: str, *, allow_private: bool = False, resolve_overrides: dict[str, str] | None = None
) -> str | None:
    """The address written as ``url``'s host when it is an IP literal that ``request`` with the
    same ``allow_private`` and ``resolve_overrides`` would refuse, else None (also for a host
    name: what a name resolves to can change, so names are judged when a request is made).
    ``literal_address_refused("http://10.0.0.1/h") == "10.0.0.1"``."""
    host = (urlsplit(url).hostname or "").strip("[]")
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if allow_private or host in (resolve_overrides or {}) or is_public(host):
        return None
    return host


def _resolve_checked(
    host: str, port: int, *, allow_private: bool, overrides: dict[str, str]
) -> tuple[str, int]:
    """The one (address, port) a request for ``host`` connects to; raises ``OutboundError``
    when the name does not resolve or any of its addresses is not public."""
    override = overrides.get(host)
    if override:
        ip_text, _, port_text = override.rpartition(":")
        candidates = [(ip_text.strip("[]"), int(port_text))]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise OutboundError(
                "unresolved",
                gettext_noop("%(host)s: the name does not resolve."),
                host=_readable_host(host),
            ) from exc
        candidates = [(info[4][0], port) for info in infos]
    if not candidates:
        raise OutboundError(
            "unresolved",
            gettext_noop("%(host)s: the name does not resolve."),
            host=_readable_host(host),
        )
    for ip_text, _port in candidates:
        # All answers must be public: a name that also points inside is refused whole.
        # ``is_public`` is looked up at each call, so that a test may stand a local server in
        # for a public one.
        if not allow_private and not is_public(ip_text):
            raise OutboundError(
                "refused",
                gettext_noop("%(host)s resolves to a non-public address, %(address)s."),
                host=_readable_host(host),
                address=str(ipaddress.ip_address(ip_text.split("%", 1)[0])),
            )
    return candidates[0]


def _checked_target(url: str, *, allow_private: bool, overrides: dict[str, str]) -> tuple[str, int]:
    """Check ``url``'s scheme (http, https) and port (80, 443; any for a host in
    ``overrides``) and resolve its host with ``_resolve_checked``: the (address, port) to connect to."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise OutboundError(
            "refused",
            gettext_noop("%(url)s: only http:// and https:// addresses are used."),
            url=_readable_url(url),
        )
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise OutboundError(
            "refused", gettext_noop("%(url)s: the port is not valid."), url=_readable_url(url)
        ) from exc
    if port not in DEFAULT_PORTS.values() and host not in overrides:
        raise OutboundError(
            "refused",
            gettext_noop("%(url)s: only ports 80 and 443 are used."),
            url=_readable_url(url),
        )
    return _resolve_checked(host, port, allow_private=allow_private, overrides=overrides)


class _Deadline:
    """Every send and receive may take only what is left before ``deadline_at`` (and at most
    ``step`` seconds): the socket's timeout is set again before each call."""

    deadline_at: float | None = None
    step: float = 0.0

    def _arm(self) -> None:
        if self.deadline_at is None:
            return
        left = self.deadline_at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed")
        self.settimeout(min(self.step, left))

    def recv_into(self, *args, **kwargs):
        self._arm()
        return super().recv_into(*args, **kwargs)

    def recv(self, *args, **kwargs):
        self._arm()
        return super().recv(*args, **kwargs)

    def send(self, *args, **kwargs):
        self._arm()
        return super().send(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self._arm()
        return super().sendall(*args, **kwargs)


class _DeadlineSocket(_Deadline, socket.socket):
    pass


class _DeadlineSSLSocket(_Deadline, ssl.SSLSocket):
    pass


class _PinnedConnection(http.client.HTTPConnection):
    """A connection to exactly the address that was checked (``ip``), speaking to ``host``
    (the Host header and, for https, the certificate's name), within the deadline."""

    def __init__(
        self,
        *,
        scheme: str,
        host: str,
        ip: str,
        port: int,
        deadline: float,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        super().__init__(ip, port)
        self._scheme = scheme
        self._named_host = host
        self._ip = ip
        self._deadline = deadline
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout

    def _left(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed")
        return left

    def connect(self) -> None:
        family = socket.AF_INET6 if ":" in self._ip else socket.AF_INET
        sock = _DeadlineSocket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(min(self._connect_timeout, self._left()))
            sock.connect((self._ip, self.port))
            sock.deadline_at, sock.step = self._deadline, self._read_timeout
            if self._scheme == "https":
                context = ssl.create_default_context()
                context.sslsocket_class = _DeadlineSSLSocket
                sock.settimeout(min(self._read_timeout, self._left()))
                sock = context.wrap_socket(sock, server_hostname=self._named_host)
                sock.deadline_at, sock.step = self._deadline, self._read_timeout
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _request_once(
    method: str,
    url: str,
    *,
    body: bytes | None,
    headers: dict[str, str],
    allow_private: bool,
    overrides: dict[str, str],
    deadline: float,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
    before_connect: Callable[[str, float], None] | None,
) -> Answer:
    ip, connect_port = _checked_target(url, allow_private=allow_private, overrides=overrides)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port or DEFAULT_PORTS[scheme]
    if before_connect is not None:
        before_connect(host, deadline)
    named = f"[{host}]" if ":" in host else host
    host_header = named if port == DEFAULT_PORTS[scheme] else f"{named}:{port}"
    connection = _PinnedConnection(
        scheme=scheme,
        host=host,
        ip=ip,
        port=connect_port,
        deadline=deadline,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, path, body=body, headers={"Host": host_header, **headers})
        response = connection.getresponse()
        data = response.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise OutboundError(
                "too_large",
                gettext_noop("%(url)s: the answer is larger than %(limit)s bytes."),
                url=_readable_url(url),
                limit=max_bytes,
            )
        return Answer(
            url=url,
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=data,
        )
    except OutboundError:
        raise
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        if time.monotonic() >= deadline or isinstance(exc, TimeoutError):
            raise OutboundError(
                "unreachable", gettext_noop("%(url)s: no answer in time."), url=_readable_url(url)
            ) from exc
        raise OutboundError(
            "unreachable",
            gettext_noop("%(url)s: the connection failed (%(error)s)."),
            url=_readable_url(url),
            error=type(exc).__name__,
        ) from exc
    finally:
        connection.close()


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    allow_private: bool = False,
    resolve_overrides: dict[str, str] | None = None,
    connect_timeout: float,
    read_timeout: float,
    total_timeout: float,
    max_bytes: int,
    max_redirects: int = 0,
    before_connect: Callable[[str, float], None] | None = None,
) -> Answer:
    """Make one request (and follow up to ``max_redirects`` redirects, each hop checked
    afresh) within ``total_timeout`` seconds in all; ``connect_timeout`` per connect and
    ``read_timeout`` per send or read, all in seconds; ``max_bytes`` of body at most.

    ``allow_private`` lifts the address rule (tests and local trials); ``resolve_overrides``
    maps a host to ``"ip:port"`` (``"[v6]:port"``) like curl ``--resolve``.
    ``before_connect(host, deadline)`` runs before each connection with the ``time.monotonic``
    deadline (the checker's politeness wait); it may raise ``OutboundError``.

    Returns an ``Answer`` for any HTTP status; raises ``OutboundError`` (``refused``,
    ``unresolved``, ``unreachable`` or ``too_large``) when there is none."""
    deadline = time.monotonic() + total_timeout
    for _hop in range(max_redirects + 1):
        answer = _request_once(
            method,
            url,
            body=body,
            headers=headers or {},
            allow_private=allow_private,
            overrides=resolve_overrides or {},
            deadline=deadline,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_bytes=max_bytes,
            before_connect=before_connect,
        )
        location = answer.headers.get("location")
        if max_redirects and answer.status in REDIRECTS and location:
            url = urljoin(url, location)
            method, body = "GET", None
            continue
        return answer
    raise OutboundError(
        "unreachable",
        gettext_noop("%(url)s: more than %(count)s redirects."),
        url=_readable_url(url),
        count=max_redirects,
    )
