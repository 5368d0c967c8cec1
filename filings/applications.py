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
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User

from .errors import FilingError
from .models import Application, Filing
from .stages import Moves, codes_hash, enter_stage, moves_send, provider_told_left
from .validation import website_accesses

Kind = Application.Kind


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


def _access_key(access: dict[str, Any]) -> tuple:
    return (
        access.get("provider"),
        access.get("method"),
        access.get("server_location"),
        tuple(sorted(access.get("ips") or [])),
    )


def _changed(
    websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None
) -> list[tuple[int, int, dict[str, Any]]]:
    """``(website index, access index, access)`` of each access of ``websites`` that the
    websites of ``approved`` do not hold as it is, in order (``changed_accesses``)."""
    before: dict[str, set[tuple]] = {}
    for website in approved or []:
        if website.get("number"):
            before[website["number"]] = {_access_key(a) for a in website_accesses(website)}
    return [
        (index, position, access)
        for index, website in enumerate(websites)
        for position, access in enumerate(website_accesses(website))
        if _access_key(access) not in before.get(website.get("number") or "", set())
    ]


def changed_accesses(
    websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """The accesses of ``websites`` (SPEC §10/§12 shape) that the websites of the last
    approved version (``approved``; None: nothing approved) do not hold as they are, in
    order: every access of a new website, and a new or changed access of an approved one."""
    return [access for _index, _position, access in _changed(websites, approved)]


def _registered(provider: Any) -> bool:
    return isinstance(provider, int) and not isinstance(provider, bool)


def _reviewed(
    kind: str, websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None
) -> list[tuple[int, int, dict[str, Any]]]:
    """The accesses an application of ``kind`` files, which its first review vouches for:
    every access of a ``new`` one; the new or changed ones of an ``amendment`` or a
    ``new_access`` (``approved``: the websites of the last approved version)."""
    if kind in (Kind.AMENDMENT, Kind.NEW_ACCESS) and approved is not None:
        return _changed(websites, approved)
    return [
        (index, position, access)
        for index, website in enumerate(websites)
        for position, access in enumerate(website_accesses(website))
    ]


def first_review_provider(
    kind: str, websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None = None
) -> int | None:
    """The id of the registered access provider that first-reviews an application of ``kind``
    (SPEC §12), or None when every access it names is ``"other"`` (Q10).

    ``websites`` are the submitted websites in the SPEC §10 shape; for an ``amendment`` or a
    ``new_access``, ``approved`` the websites of the last approved version. The provider is
    that of the first access that is new or changed (``changed_accesses``); an amendment that
    changes no access (the sponsor's details, say) goes to the provider of the first access
    naming one, which serves the record. A ``revocation``, a ``cancel_access`` and a
    ``cancel_website`` name none: they go to the bureau. An application files the accesses
    of this one provider only (``other_provider_accesses``).
    """
    if kind in (Kind.REVOCATION, Kind.CANCEL_ACCESS, Kind.CANCEL_WEBSITE):
        return None
    candidates = [access for _i, _n, access in _reviewed(kind, websites, approved)]
    if kind == Kind.AMENDMENT and approved is not None:
        candidates += [a for w in websites for a in website_accesses(w)]
    for access in candidates:
        if _registered(access.get("provider")):
            return access["provider"]
    return None


@dataclass(frozen=True)
class OtherProvider:
    """An access an application may not file (``other_provider_accesses``): where it is
    (website and access index), the registered provider it names and the one the
    application goes to; ``held`` when the approved website holds an access at that provider
    already (the access changes it), ``alone`` when the website, new, is served by no
    access this application may file."""

    website: int
    access: int
    provider: int
    first: int
    held: bool
    alone: bool


def other_provider_accesses(
    kind: str, websites: list[dict[str, Any]], approved: list[dict[str, Any]] | None = None
) -> list[OtherProvider]:
    """The accesses a ``new`` or ``amendment`` application may not file, in order: each new
    or changed access naming a registered provider other than the one that first-reviews it
    (``first_review_provider``). An application goes to one provider's first review (SPEC
    §12) and a filing is submitted through that provider's system; another provider's access
    is filed by a new access (新增接入, ``new_access``) once the application is approved.
    ``websites`` and ``approved`` as for ``first_review_provider``; empty for other kinds."""
    if kind not in (Kind.NEW, Kind.AMENDMENT):
        return []
    first = first_review_provider(kind, websites, approved)
    if first is None:
        return []
    flagged = [
        (index, position, access)
        for index, position, access in _reviewed(kind, websites, approved)
        if _registered(access.get("provider")) and access["provider"] != first
    ]
    held: dict[str, set] = {}
    for website in approved or []:
        if website.get("number"):
            held[website["number"]] = {a.get("provider") for a in website_accesses(website)}
    places = {(index, position) for index, position, _access in flagged}
    out = []
    for index, position, access in flagged:
        website = websites[index]
        number = website.get("number") or ""
        others = [n for n in range(len(website_accesses(website))) if (index, n) not in places]
        out.append(
            OtherProvider(
                website=index,
                access=position,
                provider=access["provider"],
                first=first,
                held=access["provider"] in held.get(number, set()),
                alone=not number and not others,
            )
        )
    return out


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
