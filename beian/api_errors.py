"""The API's answers to a refused call (SPEC §10: DRF's usual bodies): every 429 says how long
to wait in one sentence, in the caller's language, with the seconds in ``Retry-After``.

DRF's ``Throttled`` appends its own "Expected available in N seconds." to whatever detail it
is given, so a detail that already names the wait ("Try again in 58 minutes.") said it twice;
and a throttle's own refusal read "Request was throttled. Expected available in 3461 seconds."
Here one class gives one sentence, and the exception handler turns DRF's throttles' refusals
into it.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext, ngettext
from rest_framework import exceptions
from rest_framework.views import exception_handler


def wait_message(seconds: float | None) -> str:
    """One sentence, in the active language, telling a refused caller how long to wait:
    seconds under a minute, else whole minutes rounded up."""
    if seconds is None:
        return gettext("Too many requests: try again later.")
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return ngettext(
            "Too many requests: try again in %(seconds)d second.",
            "Too many requests: try again in %(seconds)d seconds.",
            seconds,
        ) % {"seconds": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext(
        "Too many requests: try again in %(minutes)d minute.",
        "Too many requests: try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class Throttled(exceptions.Throttled):
    """The API's 429 with one sentence as its ``detail``: the caller's own (which says how
    long to wait, e.g. ``VerificationLimited.message``), or ``wait_message``. DRF's
    ``Throttled`` appends "Expected available in N seconds." to any detail, which then says
    the wait twice; the seconds stay in the ``Retry-After`` header."""

    def __init__(self, wait: float | None = None, detail: str | None = None, code=None) -> None:
        wait = math.ceil(wait) if wait is not None else None
        exceptions.APIException.__init__(
            self, detail if detail is not None else wait_message(wait), code
        )
        self.wait = wait


def api_exception_handler(exc, context):
    """DRF's exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``), with every 429 in
    one sentence: a throttle's refusal (DRF's own ``Throttled``) becomes ``Throttled``."""
    if isinstance(exc, exceptions.Throttled) and not isinstance(exc, Throttled):
        exc = Throttled(wait=exc.wait)
    return exception_handler(exc, context)
