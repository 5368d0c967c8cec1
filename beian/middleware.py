import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class ChineseByDefaultMiddleware(MiddlewareMixin):
    """Pages open in Simplified Chinese whatever the browser asks for; the language switch
    (a cookie) turns them English. API clients keep Accept-Language for error messages."""

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)


class DatabaseUnavailableMiddleware:
    """A database that is restarting or unreachable answers 503 with a clear page, not a 500.

    The view's transaction died with the connection, so PostgreSQL rolled it back whole: the
    page can promise that nothing was half done and that what was saved before is kept.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "database unavailable for %s %s: %s", request.method, request.path, exception
        )
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "detail": gettext(
                        "The service is briefly unavailable. Nothing was changed; "
                        "try again in a minute."
                    ),
                    "code": "service_unavailable",
                },
                status=503,
            )
        else:
            response = render(
                request,
                "beian/unavailable.html",
                {"retry_url": request.path},
                status=503,
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        # Never cached by a proxy: the next try must reach the portal.
        response["Cache-Control"] = "no-store"
        return response
