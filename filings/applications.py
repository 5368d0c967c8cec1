"""Applications (申请, SPEC §12): opening, updating and closing a filing's one open application.

Every change to a filing record is an application of a kind (``Application.Kind``). The
submission opens a ``new`` or an ``amendment`` one (``filings.submission``), the owner's
application for revocation a ``revocation`` one (``filings.services``); the bureau's decision
(``review.services``) or the owner's withdrawal closes it. While it is open, its ``status`` is
the filing's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from accounts.models import User

from .errors import FilingError
from .models import Application, Filing
from .stages import Moves, codes_hash, enter_stage, moves_send, provider_told_left


def open_application(filing: Filing) -> Application | None:
    """The filing's open application, or None (one query)."""
    return (
        Application.objects.filter(filing_id=filing.pk, closed_at__isnull=True)
        .select_related("provider")
        .first()
    )


def refuse_second(application: Application | None, *, updating: str | None = None) -> None:
    """Raise ``FilingError`` (code ``application_open``) when ``application`` is open, unless
    it is of the kind ``updating`` names (a submission again before the decision updates its
    own application, Q19): a filing has one open application at a time (SPEC §12)."""
    if application is None or application.closed_at is not None:
        return
    if updating is not None and application.kind == updating:
        return
    raise FilingError(
        _(
            "This filing already has an open application (%(kind)s): wait for its "
            "decision, or withdraw it, before you start another."
        )
        % {"kind": application.get_kind_display()},
        code="application_open",
    )


@dataclass
class Opening:
    """One application to open (or, before its decision, to update) for a saved filing:
    its kind, the stage it enters (``filings.stages.next_stage``), the first-reviewing
    provider's id, who submitted it and when; ``passed_by`` and ``checklist`` when the
    provider itself submitted it (its first review is done, SPEC §12)."""

    filing: Filing
    kind: str
    status: str
    provider_id: int | None
    by: User | None
    at: datetime
    passed_by: User | None = None
    checklist: list[str] | None = None
    digest: str = ""
    reason: str = ""


_UPDATED_FIELDS = [
    "status",
    "provider",
    "submitted_at",
    "submitted_by",
    "stage_entered_at",
    "reached_bureau_at",
    "bureau_told_at",
    "provider_deadline",
    "provider_checklist",
    "provider_passed_at",
    "provider_passed_by",
    "passed_digest",
    "verification_code_hash",
    "verification_mobile",
    "verification_tries",
    "verification_sent_at",
    "verification_expires_at",
    "returns",
    "reason",
]


def applications_open_many(
    openings: list[Opening], *, existing: dict[int, Application], moves: Moves
) -> list[Application]:
    """Open an application for each of ``openings`` (in order; a filing at most once), or
    update the open one of the same kind that ``existing`` (by filing id) holds (a submission
    again before the decision, Q19): it enters its stage afresh, its returns cleared. What the
    stage sends is added to ``moves`` (``filings.stages``).

    Two queries for the whole list: one insert, one update. Raises ``FilingError``
    (``application_open``) when a filing's open application is of another kind (SPEC §12:
    one at a time).
    """
    created: list[Application] = []
    updated: list[Application] = []
    result: list[Application] = []
    for opening in openings:
        application = existing.get(opening.filing.pk)
        refuse_second(application, updating=opening.kind)
        if application is None:
            application = Application(filing=opening.filing, kind=opening.kind)
            created.append(application)
        else:
            updated.append(application)
            _left_queue(application, opening, moves)
        application.provider_id = opening.provider_id
        application.submitted_at = opening.at
        application.submitted_by = opening.by
        application.returns = []
        application.reason = opening.reason
        if opening.passed_by is not None:
            application.provider_passed_by = opening.passed_by
            application.provider_passed_at = opening.at
            application.provider_checklist = list(opening.checklist or [])
            application.passed_digest = opening.digest
        elif opening.status == Filing.Status.PROVIDER_REVIEW:
            application.provider_passed_by = None
            application.provider_passed_at = None
            application.provider_checklist = []
            application.passed_digest = ""
        enter_stage(application, opening.filing, opening.status, now=opening.at, moves=moves)
        result.append(application)
    codes_hash(moves)
    if created:
        Application.objects.bulk_create(created)
    if updated:
        Application.objects.bulk_update(updated, _UPDATED_FIELDS)
    return result


def _left_queue(application: Application, opening: Opening, moves: Moves) -> None:
    """Submitted again, an application waiting for a provider's first review that now goes to
    another provider, or to none, leaves the first provider's queue: it is told (unless its
    own staff submitted it)."""
    was = application.provider_id
    if application.status != Filing.Status.PROVIDER_REVIEW or was is None:
        return
    if opening.status == Filing.Status.PROVIDER_REVIEW and opening.provider_id == was:
        return
    if _provider_staff_of(opening.by, was):
        return
    moves.left.append((application, opening.filing, was, "moved"))


def _provider_staff_of(user: User | None, provider_id: int) -> bool:
    return (
        user is not None
        and user.role == User.Role.PROVIDER
        and user.provider_id is not None
        and user.provider_id == provider_id
    )


def application_open(
    *, filing: Filing, kind: str, by: User | None, at: datetime, provider_id: int | None = None
) -> Application:
    """Open one application of ``kind`` for a saved filing whose status is already the stage
    it enters; ``applications_open_many`` for a list of one, whose messages are queued."""
    moves = Moves()
    (application,) = applications_open_many(
        [
            Opening(
                filing=filing,
                kind=kind,
                status=filing.status,
                provider_id=provider_id,
                by=by,
                at=at,
            )
        ],
        existing={a.filing_id: a for a in [open_application(filing)] if a is not None},
        moves=moves,
    )
    moves_send(moves)
    return application


def application_close(
    *, filing: Filing, outcome: str, by: User | None, at: datetime
) -> Application | None:
    """Close the filing's open application with ``outcome`` (``Application.Outcome``), decided
    by ``by`` at ``at``; returns it, or None when the filing has none open (a filing from
    before applications were kept). Its ``status`` stays the stage it was decided in.

    An application closed while it waits for a provider's first review (withdrawn by its
    owner, or closed by the bureau's revocation of the record) leaves that provider's queue:
    its contact is told by email (``stages.provider_told_left``), unless its own staff
    closed it."""
    application = Application.objects.filter(filing_id=filing.pk, closed_at__isnull=True).first()
    if application is None:
        return None
    application.closed_at = at
    application.outcome = outcome
    application.decided_by = by
    application.save(update_fields=["closed_at", "outcome", "decided_by"])
    provider_id = application.provider_id
    if (
        application.status == Filing.Status.PROVIDER_REVIEW
        and provider_id is not None
        and not _provider_staff_of(by, provider_id)
    ):
        why = "withdrawn" if outcome == Application.Outcome.WITHDRAWN else "closed"
        provider_told_left([(application, filing, provider_id, why)])
    return application
