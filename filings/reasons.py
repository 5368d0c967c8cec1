"""Reasons the portal writes itself on a filing record, shown in the reader's language.

A return after a lapsed SMS verification (SPEC §12) is written by beat, and a revocation of
empty shells by the bureau's batch, each in the language it ran in; both are stored as written
(the returns are the owner's and the API's text, SPEC §12 [contract]). Every place that shows
a stored reason (the owner's pages and emails, the provider's console, the bureau's console,
the API) passes it through ``reason_in_language``, which renders one of these again in the
reader's language and leaves a reason a person typed as it is.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from beian.coded import written_again

VERIFICATION_LAPSED = gettext_noop(
    "The responsible person did not confirm the SMS code within %(hours)d hours. Check the "
    "mobile number, then submit the application again to get a new code."
)
SHELLS_REVOKED = gettext_noop(
    "Every website of the record was left without an access provider and was not given a new "
    "access within the notice period (empty shells)."
)
SYSTEM_REASONS = (VERIFICATION_LAPSED, SHELLS_REVOKED)


def lapse_reason() -> str:
    """The reason a lapsed verification is returned with, in the active language, with the
    hours of ``FILING_VERIFICATION_HOURS``."""
    return _(VERIFICATION_LAPSED) % {"hours": settings.FILING_VERIFICATION_HOURS}


def shells_revoked_reason() -> str:
    """The reason a record whose websites are all empty shells past notice is revoked with."""
    return _(SHELLS_REVOKED)


def reason_in_language(reason: str) -> str:
    """``reason`` (a stored return or revocation reason) in the active language when the
    portal wrote it (``SYSTEM_REASONS``, in any language it speaks, with the values it was
    written with); otherwise as typed."""
    text = str(reason or "")
    return written_again(text, SYSTEM_REASONS) or text
