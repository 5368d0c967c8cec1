"""The two calls programs make most, answered before the rest of the middleware runs.

The public is-it-filed query asked again (SPEC §7) and a provider's gating call for one domain
(SPEC §6, §12) are what programs call thousands of times a second. Answered the ordinary way,
each request passes sessions, CSRF, authentication, messages and the rest of the middleware,
then DRF's request, negotiation and rendering, which cost more than the answer. A *hot path*
(``HOT_PATHS``: a path prefix and the dotted path of a handler) answers such a request from one
Redis round trip (and, for gating, one indexed read) or returns None; None hands the request on
to the middleware and the view unchanged, so everything a hot path does not answer (an error, a
question asked for the first time, a token not seen lately) takes the ordinary way.

The middleware sits right after Django's ``SecurityMiddleware``, whose own code still redirects
plain HTTP and sets its headers on a hot answer. The headers that later middleware adds to an
API answer are added here the same way: the language (``Content-Language``, ``Vary:
Accept-Language``, as ``LocaleMiddleware``), ``X-Frame-Options`` (``XFrameOptionsMiddleware``)
and the Content-Security-Policy (django-csp's header, built once per settings). A test compares
a hot answer's headers and body with the ordinary answer's for the same request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.db import DatabaseError, connections
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string

from . import replicas

Handler = Callable[[HttpRequest], HttpResponse | None]

_handlers: list[tuple[str, Handler]] | None = None
_frame_options = XFrameOptionsMiddleware(lambda request: HttpResponse())
_csp_header: tuple[str, str] | None = None


@receiver(setting_changed)
def _forget(**kwargs) -> None:
    global _handlers, _csp_header
    _handlers = None
    _csp_header = None


def hot_handlers() -> list[tuple[str, Handler]]:
    """``HOT_PATHS`` as (path prefix, handler), imported once."""
    global _handlers
    if _handlers is None:
        _handlers = [(prefix, import_string(path)) for prefix, path in settings.HOT_PATHS]
    return _handlers


def _content_security_policy(request: HttpRequest) -> tuple[str, str] | None:
    """(header name, value) as django-csp writes it on an answer without a nonce: the same
    for every such answer under the same settings, so it is built once."""
    global _csp_header
    if _csp_header is None:
        from csp.middleware import CSPMiddleware

        probe = CSPMiddleware(lambda r: HttpResponse()).process_response(request, HttpResponse())
        header = next(
            (
                name
                for name in ("Content-Security-Policy", "Content-Security-Policy-Report-Only")
                if name in probe
            ),
            None,
        )
        _csp_header = (header, probe[header]) if header else ("", "")
    return _csp_header if _csp_header[0] else None


def finish_api_answer(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Add to a hot answer the headers the middleware after this one adds to an API answer.

    Raises nothing; ``response`` is changed in place and returned."""
    language = translation.get_language_from_request(request)
    patch_vary_headers(response, ("Accept-Language",))
    response.headers.setdefault("Content-Language", language)
    response = _frame_options.process_response(request, response)
    csp = _content_security_policy(request)
    if csp is not None:
        response.headers.setdefault(*csp)
    response["Content-Length"] = str(len(response.content))
    return response


def _trust_open_connections() -> list[str]:
    """Skip the check Django makes of a kept connection before its first query of a request
    (``CONN_HEALTH_CHECKS``: a ``SELECT 1``, a round trip as long as a hot path's read
    itself); a connection that fails the read is closed instead. The aliases trusted."""
    trusted = []
    for alias in (replicas.PRIMARY, *replicas.replica_aliases()):
        connection = connections[alias]
        if connection.connection is not None and not connection.health_check_done:
            connection.health_check_done = True
            trusted.append(alias)
    return trusted


def hot_read(call: Callable, *args, primary: bool = False, **kwargs):
    """``call(*args, **kwargs)``, the reads of a hot path: from a replica unless ``primary``
    (the caller wrote lately) or none is configured, again on the primary when the replica
    fails (``beian.replicas``), on the connections kept from earlier requests without
    Django's check. None when the database fails: the connections used are closed and the
    request takes the ordinary way (which checks, reconnects or says the database is away)."""
    reading = None if primary else replicas.begin_replica_reads()
    trusted = _trust_open_connections()
    try:
        return replicas.run_on_primary_if_replica_fails(call, *args, **kwargs)
    except DatabaseError:
        for alias in trusted:
            connections[alias].close()
        return None
    finally:
        replicas.end_replica_reads(reading)


def _host_allowed(request: HttpRequest) -> bool:
    """Whether the request's host is one of ``ALLOWED_HOSTS``, which Django checks when the
    host is first read (``CommonMiddleware``, after this one): a request for another host
    takes the ordinary way and gets its ordinary 400."""
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return True


class HotPathMiddleware:
    """Answer a request from its hot path when one matches and answers (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        for prefix, handler in hot_handlers():
            if path.startswith(prefix):
                if not _host_allowed(request):
                    break
                response = handler(request)
                if response is not None:
                    return finish_api_answer(request, response)
                break
        return self.get_response(request)
