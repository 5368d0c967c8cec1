"""Beat's work on applications (SPEC §12): ``filings.verification.lapse`` returns the
applications whose SMS verification lapsed, every five minutes; safe to run twice and side by
side (``stages.verification_lapse_due`` skips rows another run holds)."""

from __future__ import annotations

from celery import shared_task

from .stages import verification_lapse_due


@shared_task(name="filings.verification.lapse")
def verification_lapse() -> int:
    """Return the lapsed verifications; how many were returned."""
    return verification_lapse_due()
