"""Applications that change one part of an approved record (SPEC §12): a new access for one
website (新增接入, ``new_access``), one access cancelled (取消接入, ``cancel_access``), one
website cancelled (注销网站, ``cancel_website``).

Each builds the record as it is to be after the change from its last approved version and
submits that as an application of its kind through ``filings.submission.filing_submit_many``,
the one author of what a submission does: the working copy, the application and its stages
(a new access passes its provider's first review and the SMS verification; a cancellation goes
straight to the bureau), the version, the audit row and the messages. Meanwhile the approved
data stays public; the bureau's approval (``review.services.filing_approve``) publishes the
change and re-issues the certificate, a refusal or a withdrawal puts the approved data back.
The owner's unsubmitted changes (``FilingDraft``) are left as they are.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import Signal
from django.utils.translation import gettext as _

from beian.normalforms.text import unreadable_text_message

from . import rules
from .applications import open_application, refuse_second
from .errors import FilingError, FilingInvalid
from .models import Access, Application, Filing, FilingVersion, Website
from .serializers import working_copy_data
from .submission import Submission, filing_submit_many
from .validation import (
    MAX_ACCESSES,
    OTHER,
    coerce_access,
    coerce_data,
    load_reference_data,
    validate_access,
    website_accesses,
)

Kind = Application.Kind
MAX_REASON = 1000
# The applications that change one part of the record: while one is open, the owner's other
# changes wait (SPEC §12, one application at a time).
CHANGE_KINDS = (Kind.NEW_ACCESS, Kind.CANCEL_ACCESS, Kind.CANCEL_WEBSITE)

# Sent inside the transaction once a provider's staff have applied to withdraw their own access
# (``access_cancel``), with keyword arguments ``filing`` and ``by``.
access_withdrawn = Signal()


def _lock(filing: Filing) -> Filing:
    return (
        Filing.objects.select_for_update(of=("self",))
        .select_related("owner", "province")
        .get(pk=filing.pk)
    )


def _reason(reason: Any, *, required: bool = True) -> str:
    """The reason given, trimmed; ``FilingInvalid`` on ``reason`` when missing or too long."""
    if reason is not None and not isinstance(reason, str):
        raise FilingInvalid({"reason": [_("Enter text.")]})
    if message := unreadable_text_message(reason or ""):
        raise FilingInvalid({"reason": [message]})
    text = (reason or "").strip()
    if required and not text:
        raise FilingInvalid({"reason": [_("Say why.")]})
    if len(text) > MAX_REASON:
        raise FilingInvalid(
            {"reason": [_("Use at most %(limit)d characters.") % {"limit": MAX_REASON}]}
        )
    return text


def approved_data(filing: Filing) -> dict[str, Any]:
    """The sponsor and services (websites, apps, mini-programs) of the filing's last approved
    version (SPEC §10, §13 shape,
    canonical; the working copy for a record approved before versions were kept, which has no
    application open when this is asked); ``FilingError`` (``invalid_state``) when it was never
    approved."""
    version = (
        FilingVersion.objects.filter(filing=filing, kind=FilingVersion.Kind.APPROVED)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    if not filing.is_filed:
        raise FilingError(_("Only an approved filing can change its websites' accesses."))
    if version is None:
        # Approved before versions were kept: with no application open, the working copy is
        # the approved data.
        version = working_copy_data(filing)
    return coerce_data(
        {
            "sponsor": version["sponsor"],
            "websites": version["websites"],
            "apps": version.get("apps") or [],
            "mini_programs": version.get("mini_programs") or [],
        }
    )


def _check_open(locked: Filing, kind: str) -> None:
    """One application at a time (SPEC §12): a returned application of the same kind is
    applied for again; any other open one refuses (``application_open``)."""
    application = open_application(locked)
    refuse_second(application, updating=kind)
    if application is not None and locked.status != Filing.Status.RETURNED:
        # The same kind still on its way: withdraw it first, or wait for its decision.
        refuse_second(application)
    if application is None and locked.status != Filing.Status.APPROVED:
        raise FilingError(
            _("The filing is %(status)s: wait for the decision first.")
            % {"status": Filing.Status(locked.status).label}
        )


def _provider_concerned(locked: Filing, provider_id: int | None) -> bool:
    """Whether the provider ``provider_id`` has a part in the record: it filed it, holds an
    access to one of its websites, or first-reviews its open application."""
    if provider_id is None:
        return False
    return (
        locked.filed_by_provider_id == provider_id
        or Access.objects.filter(website__filing=locked, provider_id=provider_id).exists()
        or Application.objects.filter(
            filing=locked, closed_at__isnull=True, provider_id=provider_id
        ).exists()
    )


# The parts of the filing JSON whose services have accesses (websites and apps, SPEC §13),
# and every part of services.
SERVED_PARTS = ("websites", "apps")
SERVICE_PARTS = ("websites", "apps", "mini_programs")


def _service(
    locked: Filing, service_id: Any, data: dict[str, Any], parts: tuple[str, ...] = SERVED_PARTS
) -> tuple[str, int, Website]:
    """The approved service ``service_id`` names among ``parts`` of ``data`` (a website or an
    app by default): its part, its place there and its row; ``FilingInvalid`` on ``website``
    otherwise."""
    try:
        pk = int(service_id)
    except (TypeError, ValueError):
        raise FilingInvalid(
            {"website": [_("Give the id of one of this filing's websites.")]}
        ) from None
    row = Website.every_kind.filter(filing=locked, pk=pk).exclude(number=None).first()
    for part in parts:
        numbers = [w["number"] for w in data.get(part) or []]
        if row is not None and row.number in numbers:
            return part, numbers.index(row.number), row
    raise FilingInvalid({"website": [_("This filing has no approved website with this id.")]})


def _submit(
    locked: Filing, *, by, kind: str, data: dict[str, Any], reason: str, checklist=None
) -> Filing:
    (submitted,) = filing_submit_many(
        [
            Submission(
                filing=locked,
                by=by,
                data=data,
                application_kind=kind,
                reason=reason,
                checklist=checklist,
            )
        ]
    )
    return submitted


# New access (新增接入) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessRequest:
    """A new access as the owner or the new provider asks for it (SPEC §12): the approved
    website's id and the access in the filing JSON's shape (``provider`` an id or
    ``"other"``, ``method``, ``server_location``, ``ips``)."""

    website: Any
    access: dict[str, Any]


@transaction.atomic
def access_apply(*, filing: Filing, by, request: AccessRequest) -> Filing:
    """Apply for another access to an approved website (新增接入, a ``new_access``
    application): the owner (or the provider filing for it) for any provider, a provider's
    staff for their own provider only. It passes that provider's first review (done when its
    staff applies), the SMS verification and the bureau; approval adds the access.

    Raises ``PermissionDenied`` for anyone else, ``FilingInvalid`` with every problem of the
    website and the access (keyed ``website``, ``provider``, ``method``, ``server_location``,
    ``ips``), ``FilingError`` (``application_open``) while another application is open,
    (``invalid_state``) unless the filing is approved; to a provider's staff with no part in
    the record (``_provider_concerned``) either says only that it cannot apply now.
    """
    locked = _lock(filing)
    access, errors = coerce_access(request.access)
    provider_staff = by is not None and by.role == by.Role.PROVIDER
    if provider_staff and (by.provider_id is None or access["provider"] != by.provider_id):
        if by.provider_id != locked.filed_by_provider_id:
            raise PermissionDenied
        if access["provider"] not in (by.provider_id, OTHER, None):
            errors.setdefault("provider", []).append(
                _("You can file only your own accesses: another provider files its own.")
            )
    elif not provider_staff:
        rules.check_actor(locked, by)
    try:
        _check_open(locked, Kind.NEW_ACCESS)
    except FilingError as exc:
        if provider_staff and not _provider_concerned(locked, by.provider_id):
            # A provider with no part in the record learns only that it cannot apply now:
            # not which application is open, nor the record's status (the same codes).
            raise FilingError(
                _("You cannot apply for an access to this website now. Try again later."),
                code=exc.code,
            ) from None
        raise
    data = approved_data(locked)
    reference = load_reference_data([{"websites": [{"accesses": [access]}]}])
    cleaned, problems = validate_access(
        access,
        province_codes=reference.province_codes,
        provider_ids=reference.provider_ids,
    )
    for field, messages in problems.items():
        errors[field] = list(dict.fromkeys([*errors.get(field, []), *messages]))
    try:
        part, index, _row = _service(locked, request.website, data)
    except FilingInvalid as exc:
        raise FilingInvalid({**exc.errors, **errors}) from None
    website = data[part][index]
    accesses = website_accesses(website)
    if isinstance(cleaned["provider"], int) and any(
        a.get("provider") == cleaned["provider"] for a in accesses
    ):
        errors.setdefault("provider", []).append(
            _("This access provider already serves the website: it needs no new access.")
        )
    if len(accesses) >= MAX_ACCESSES:
        errors.setdefault("website", []).append(
            _("A website has at most %(limit)d accesses.") % {"limit": MAX_ACCESSES}
        )
    if errors:
        raise FilingInvalid(errors)
    website["accesses"] = [*accesses, cleaned]
    return _submit(locked, by=by, kind=Kind.NEW_ACCESS, data=data, reason="")


@dataclass(frozen=True)
class NewAccessOnItsWay:
    """The access an open ``new_access`` application adds (SPEC §12): its website or app (the
    row), the access in the filing JSON's shape, and its place in the working copy's JSON
    (``<part>.<website_index>.accesses.<access_index>``, ``part`` ``websites`` or ``apps``,
    where its returns point)."""

    website: Website
    access: dict[str, Any]
    website_index: int
    access_index: int
    part: str = "websites"


def new_access_on_its_way(filing: Filing) -> NewAccessOnItsWay | None:
    """The access the filing's open ``new_access`` application adds, as the working copy holds
    it, whatever its stage (returned included); None without such an application."""
    application = open_application(filing)
    if application is None or application.kind != Kind.NEW_ACCESS:
        return None

    def key(access: dict[str, Any]) -> tuple:
        return (
            access.get("provider"),
            access.get("method"),
            access.get("server_location"),
            tuple(sorted(access.get("ips") or [])),
        )

    approved_now = approved_data(filing)
    approved = {
        w["number"]: {key(a) for a in website_accesses(w)}
        for part in SERVED_PARTS
        for w in approved_now[part]
    }
    working = working_copy_data(filing)
    for part in SERVED_PARTS:
        for i, website in enumerate(working.get(part) or []):
            before = approved.get(website.get("number"))
            if before is None:
                continue
            for n, access in enumerate(website_accesses(website)):
                if key(access) not in before:
                    row = Website.every_kind.get(filing=filing, number=website["number"])
                    return NewAccessOnItsWay(row, access, i, n, part)
    return None


# Cancelling an access (取消接入) ------------------------------------------------------------------


def _cancel_access_data(
    data: dict[str, Any], index: int, provider: int | str, part: str = "websites"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``data`` without the first access of service ``index`` of ``part`` (a website, or an
    app) whose provider is ``provider`` (an id or ``"other"``), and that access;
    ``FilingInvalid`` on ``provider`` without one."""
    website = data[part][index]
    accesses = website_accesses(website)
    for position, access in enumerate(accesses):
        if access.get("provider") == provider:
            website["accesses"] = accesses[:position] + accesses[position + 1 :]
            return data, access
    raise FilingInvalid({"provider": [_("The website has no access at this provider.")]})


@transaction.atomic
def access_cancel(
    *, filing: Filing, by, website: Any, provider: Any = None, reason: Any = ""
) -> Filing:
    """Cancel one access of an approved website (取消接入, a ``cancel_access`` application to
    the bureau): a provider's staff cancel their own provider's access (``provider`` is then
    theirs, whatever is given), the owner names the access by its ``provider`` (an id or
    ``"other"``). A provider's withdrawal is announced (``access_withdrawn``): with
    ``PROVIDER_ACCESS_CANCEL_AT_ONCE`` on, the bureau's side lets it take effect at once
    (``review.services.withdrawal_at_once``, audited). A website left
    with no access becomes an empty shell when it is approved (SPEC §12).

    Raises ``PermissionDenied`` for anyone else, ``FilingInvalid`` (keyed ``website``,
    ``provider``, ``reason``), ``FilingError`` (``application_open``, ``invalid_state``).
    """
    locked = _lock(filing)
    reason = _reason(reason)
    provider_staff = by is not None and by.role == by.Role.PROVIDER
    if provider_staff:
        if by.provider_id is None:
            raise PermissionDenied
        provider = by.provider_id
    else:
        rules.check_actor(locked, by)
        if provider != OTHER:
            try:
                provider = int(provider)
            except (TypeError, ValueError):
                raise FilingInvalid(
                    {"provider": [_("Give the id of the access provider, or “other”.")]}
                ) from None
    _check_open(locked, Kind.CANCEL_ACCESS)
    data = approved_data(locked)
    part, index, _row = _service(locked, website, data)
    data, _cancelled = _cancel_access_data(data, index, provider, part)
    submitted = _submit(locked, by=by, kind=Kind.CANCEL_ACCESS, data=data, reason=reason)
    if provider_staff:
        # The bureau's side decides whether a provider's withdrawal takes effect at once
        # (``review.services.withdrawal_at_once``, ``PROVIDER_ACCESS_CANCEL_AT_ONCE``).
        access_withdrawn.send(sender=Filing, filing=submitted, by=by)
        submitted.refresh_from_db()
    return submitted


# Cancelling a website (注销网站) ------------------------------------------------------------------


@transaction.atomic
def website_cancel(*, filing: Filing, by, website: Any, reason: Any = "") -> Filing:
    """Apply to cancel one approved website (注销网站, a ``cancel_website`` application to the
    bureau). Approval retires its number for good, takes it out of the public query and
    gating, and re-issues the certificate without it. The last website cannot be cancelled
    alone: the sponsor is revoked instead (注销主体, Q21).

    Raises ``PermissionDenied`` for anyone but the owner (or the provider filing for it),
    ``FilingInvalid`` (keyed ``website``, ``reason``; the last website's refusal on
    ``website``), ``FilingError`` (``application_open``, ``invalid_state``).
    """
    locked = _lock(filing)
    rules.check_actor(locked, by)
    reason = _reason(reason)
    _check_open(locked, Kind.CANCEL_WEBSITE)
    data = approved_data(locked)
    part, index, _row = _service(locked, website, data, SERVICE_PARTS)
    if sum(len(data[p]) for p in SERVICE_PARTS) == 1:
        last = (
            _(
                "This is the record's last website: it cannot be cancelled alone. "
                "Apply to revoke the filing (注销主体) instead, which cancels the "
                "sponsor and its last website together."
            )
            if part == "websites"
            else _(
                "This is the record's last service: it cannot be cancelled alone. Apply to "
                "revoke the filing (注销主体) instead, which cancels the sponsor and its last "
                "app or mini-program together."
            )
        )
        raise FilingInvalid({"website": [last]})
    data = copy.deepcopy(data)
    del data[part][index]
    return _submit(locked, by=by, kind=Kind.CANCEL_WEBSITE, data=data, reason=reason)


def cancelled_accesses(before: dict[str, Any], after: dict[str, Any]) -> list[int]:
    """The registered providers (ids) whose accesses ``after`` no longer holds, websites
    cancelled included: those told of a cancellation though they serve nothing now."""

    def held(data):
        return {
            a.get("provider")
            for part in SERVED_PARTS
            for w in data.get(part) or []
            for a in website_accesses(w)
            if isinstance(a.get("provider"), int)
        }

    return sorted(held(before) - held(after))


__all__ = [
    "Access",
    "AccessRequest",
    "NewAccessOnItsWay",
    "SERVED_PARTS",
    "access_apply",
    "access_cancel",
    "approved_data",
    "cancelled_accesses",
    "new_access_on_its_way",
    "website_cancel",
]
