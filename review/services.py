"""Bureau decisions (SPEC §4): approve, reject, revocation, revocation of the bureau's own motion,
conflict re-check and the bureau's password reset (SPEC §2).

Each action locks the filing row, checks the caller's scope (a bureau acts on its own
province only, the ministry anywhere) and the filing's status, closes the filing's open
application (SPEC §12) with the decision, writes the audit row and queues its messages in the
same transaction. Errors: ``OutOfScope`` (views answer 404) and
``ValidationError`` keyed by the form field at fault (``reason``) or ``__all__``.
"""

from __future__ import annotations

import datetime as dt

import idna
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import EMAIL, notify_owner
from accounts.passwords import random_password
from beian import limits
from beian.audit import audit
from beian.delivery import queue_sms
from certificates.services import certificate_issue, certificate_revoke
from filings.applications import application_close
from filings.conflicts import close_own_conflicts, detect_conflicts
from filings.models import (
    Access,
    Application,
    Conflict,
    Filing,
    FilingVersion,
    PublishedWebsite,
    Website,
)
from filings.numbers import allocate_sponsor_number, allocate_website_numbers
from filings.publishing import publish, unpublish
from filings.submission import (
    deadline_before_application,
    filing_version_record,
    filing_working_copy_replace,
)
from providers.services import notify_filing_event

from .scope import OutOfScope, account_province_code, ensure_account_in_scope, ensure_in_scope

Status = Filing.Status

__all__ = [
    "OutOfScope",
    "application_approve_at_once",
    "bureau_password_reset",
    "conflict_rejection_text",
    "filing_approve",
    "filing_recheck",
    "filing_reject",
    "filing_revoke",
    "revocation_approve",
    "revocation_refuse",
]


# Helpers ---------------------------------------------------------------------------------------


def _locked(filing: Filing) -> Filing:
    """Re-read the filing under a row lock: two reviewers deciding at once act one after the
    other, and the second sees the first one's decision."""
    return (
        Filing.objects.select_for_update(of=("self",))
        .select_related("owner", "province")
        .get(pk=filing.pk)
    )


def _state(filing: Filing) -> dict:
    return {
        "status": filing.status,
        "number": filing.number,
        "review_deadline": filing.review_deadline,
        "has_open_conflicts": filing.has_open_conflicts,
        "rejection_reason": filing.rejection_reason,
        "revocation_reason": filing.revocation_reason,
    }


def _id(application: Application | None) -> int | None:
    return application.pk if application is not None else None


def _refuse(message: str, field: str = NON_FIELD_ERRORS) -> ValidationError:
    return ValidationError({field: [message]})


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise _refuse(_("Enter the reason. The owner receives it by email."), "reason")
    if len(reason) > 2000:
        raise _refuse(_("The reason can be at most 2000 characters long."), "reason")
    return reason


def _sync_from(target: Filing, source: Filing) -> None:
    """Copy the saved state back onto the caller's instance."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def _open_conflicts(filing: Filing) -> list[Conflict]:
    return list(
        Conflict.objects.filter(
            filing=filing, kind=Conflict.Kind.CONFLICT, resolved_at__isnull=True
        )
        .select_related("other_filing", "other_account")
        .order_by("id")
    )


# The services that have accesses, and can be left with none (SPEC §12, §13).
SERVED_KINDS = (Website.Kind.WEBSITE, Website.Kind.APP)


def _websites_for_message(filing: Filing) -> list[dict]:
    """The record's services for an email, websites first, then apps and mini-programs:
    name, number, homepage (empty for an app or a mini-program) and kind."""
    order = list(Website.Kind.values)
    return [
        {"name": w.name, "number": w.number, "homepage": w.homepage, "kind": w.kind}
        for w in sorted(
            Website.every_kind.filter(filing=filing),
            key=lambda w: (order.index(w.kind), w.position, w.pk),
        )
    ]


def _message_context(filing: Filing, **extra) -> dict:
    province = filing.province
    return {
        "username": filing.owner.username,
        "sponsor_name": filing.sponsor_name,
        "number": filing.number,
        "bureau_name": province.bureau_in(filing.owner.language) if province else "",
        "bureau_phone": province.bureau_phone if province else "",
        **extra,
    }


def _email_owner(filing: Filing, template: str, **extra) -> None:
    notify_owner(filing.owner, template, _message_context(filing, **extra), channels=[EMAIL])


def _record_version(filing: Filing, *, kind: str, by: User) -> FilingVersion:
    return filing_version_record(filing=filing, kind=kind, by=by)


def _restore_approved_data(filing: Filing) -> None:
    """Put the last approved data back into the working copy (a refused amendment)."""
    approved = (
        FilingVersion.objects.filter(filing=filing, kind=FilingVersion.Kind.APPROVED)
        .order_by("-seq")
        .first()
    )
    if approved is not None:
        filing_working_copy_replace(filing=filing, data=approved.data, restore=True)


# Conflicts in a rejection (Q17) ---------------------------------------------------------------


def _readable_value(conflict: Conflict) -> str:
    if conflict.field == Conflict.Field.DOMAIN and "xn--" in conflict.value:
        try:
            return idna.decode(conflict.value)
        except idna.IDNAError:
            return conflict.value
    return conflict.value


def other_party_contacts(conflict: Conflict) -> list[str]:
    """Every way to reach the other party of ``conflict``: its responsible person's and its
    account's mobile numbers and email addresses, each once, in that order."""
    other, account = conflict.other_filing, conflict.other_account
    values = [other.principal_mobile, other.principal_email, account.mobile, account.email]
    return list(dict.fromkeys(v for v in values if v))


def conflict_rejection_text(conflicts: list[Conflict]) -> str:
    """The text a rejection form starts with: each conflict's cause and the other party's
    contact (Q17: the owners then settle it between themselves), one line each, in the
    active language."""
    lines = [_("This filing conflicts with a filing submitted by another account:")]
    for conflict in conflicts:
        other = conflict.other_filing
        lines.append(
            _(
                "%(field)s %(value)s is also in the filing of %(sponsor)s (account "
                "%(account)s); contact %(person)s, mobile %(mobile)s, email %(email)s."
            )
            % {
                "field": conflict.get_field_display(),
                "value": conflict.value,
                "sponsor": other.sponsor_name,
                "account": conflict.other_account.username,
                "person": other.principal_name or conflict.other_account.username,
                "mobile": other.principal_mobile or conflict.other_account.mobile,
                "email": other.principal_email or conflict.other_account.email,
            }
        )
    lines.append(
        _("Please settle the conflict with the other party, then correct and submit again.")
    )
    return "\n".join(lines)


def _check_rejection_states_conflicts(reason: str, conflicts: list[Conflict]) -> None:
    text = reason.casefold()
    missing: list[str] = []
    contacts_named: dict[int, bool] = {}
    for conflict in conflicts:
        values = {conflict.value.casefold(), _readable_value(conflict).casefold()}
        if not any(v in text for v in values):
            missing.append(
                _("the conflicting %(field)s “%(value)s”")
                % {"field": conflict.get_field_display(), "value": conflict.value}
            )
        named = any(c.casefold() in text for c in other_party_contacts(conflict))
        contacts_named[conflict.other_filing_id] = (
            contacts_named.get(conflict.other_filing_id, False) or named
        )
    for conflict in conflicts:
        if not contacts_named.pop(conflict.other_filing_id, True):
            missing.append(
                _("a mobile number or email address of %(sponsor)s")
                % {"sponsor": conflict.other_filing.sponsor_name}
            )
    if missing:
        raise _refuse(
            _(
                "A filing with conflicts can only be rejected with the cause of the conflict "
                "and the other party's contact. Add: %(missing)s."
            )
            % {"missing": "; ".join(missing)},
            "reason",
        )


# Decisions --------------------------------------------------------------------------------------


# The webhook event (and provider email) of an approved application, by its kind (SPEC §12).
APPROVAL_EVENTS = {
    Application.Kind.NEW: "approved",
    Application.Kind.NEW_ACCESS: "access_added",
    Application.Kind.CANCEL_ACCESS: "access_cancelled",
    Application.Kind.CANCEL_WEBSITE: "website_cancelled",
}


def _published_providers(filing: Filing) -> set[int]:
    """The registered providers holding an approved access to one of the filing's websites."""
    return {
        p
        for providers in PublishedWebsite.objects.filter(filing=filing).values_list(
            "access_providers", flat=True
        )
        for p in providers or []
    }


def _flag_shells(filing: Filing, *, now) -> list[Website]:
    """After an approval: flag the approved websites and apps left with no access as empty
    shells (空壳网站, SPEC §12, §13) and clear the flag of those that have one again; returns the newly
    flagged ones, whose owner is told that they will be cancelled after the notice period."""
    with_access = Access.objects.filter(website=OuterRef("pk"))
    websites = Website.every_kind.filter(filing=filing, kind__in=SERVED_KINDS).exclude(number=None)
    websites.filter(shell_since__isnull=False).filter(Exists(with_access)).update(shell_since=None)
    flagged = list(websites.filter(shell_since__isnull=True).exclude(Exists(with_access)))
    for website in flagged:
        website.shell_since = now
    Website.every_kind.bulk_update(flagged, ["shell_since"])
    return flagged


def shell_deadline(shell_since) -> dt.date:
    """The day from which an empty shell flagged at ``shell_since`` may be cancelled: the
    notice period (``FILING_SHELL_NOTICE_DAYS`` days, Asia/Shanghai) after it."""
    days = settings.FILING_SHELL_NOTICE_DAYS
    return timezone.localdate(shell_since) + dt.timedelta(days=days)


def _tell_shells(filing: Filing, shells: list[Website]) -> None:
    if not shells:
        return
    notify_owner(
        filing.owner,
        "website_shell",
        _message_context(
            filing,
            websites=[{"number": w.number, "name": w.name, "homepage": w.homepage} for w in shells],
            deadline=shell_deadline(shells[0].shell_since).isoformat(),
            days=settings.FILING_SHELL_NOTICE_DAYS,
        ),
    )


def _approve(locked: Filing, *, by: User, action: str | None = None) -> Filing:
    """What an approval does, once its checks passed: numbers, the approved version, the
    published copy, empty shells, the certificate, the messages and webhooks (SPEC §4, §12).
    The providers whose access the approval ends are told too."""
    before = _state(locked)
    amendment = locked.status == Status.AMENDMENT_PENDING
    now = timezone.now()
    open_kind = (
        Application.objects.filter(filing=locked, closed_at__isnull=True)
        .values_list("kind", flat=True)
        .first()
    )
    kind = open_kind or (Application.Kind.AMENDMENT if amendment else Application.Kind.NEW)
    providers_before = _published_providers(locked)
    if not locked.number:
        # The year of the number is the year of approval in China (Asia/Shanghai).
        locked.number = allocate_sponsor_number(
            province=locked.province, year=timezone.localtime(now).year
        )
    locked.status = Status.APPROVED
    locked.approved_at = now
    locked.first_approved_at = locked.first_approved_at or now
    locked.decided_at = now
    locked.rejection_reason = ""
    locked.save()
    # An amendment keeps the numbers of the websites already approved; only new ones get one.
    numbered = allocate_website_numbers(filing=locked)
    application = application_close(
        filing=locked, outcome=Application.Outcome.APPROVED, by=by, at=now
    )
    version = _record_version(locked, kind=FilingVersion.Kind.APPROVED, by=by)
    publish(filing=locked)
    shells = _flag_shells(locked, now=now)
    audit(
        actor=by,
        action=action or ("filing.approve_amendment" if amendment else "filing.approve"),
        target=locked,
        before=before,
        after={
            **_state(locked),
            "kind": kind,
            "new_website_numbers": [w.number for w in numbered],
            "empty_shells": [w.number for w in shells],
            "version": version.seq,
            "application": _id(application),
        },
        province=locked.province_id,
    )
    services = _websites_for_message(locked)
    _email_owner(
        locked,
        "review_approved",
        amendment=amendment,
        kind=kind,
        websites=services,
        other_services=any(s["kind"] != Website.Kind.WEBSITE for s in services),
    )
    _tell_shells(locked, shells)
    certificate_issue(filing=locked)
    gone = providers_before - _published_providers(locked)
    notify_filing_event(
        filing=locked, event=APPROVAL_EVENTS.get(kind, "amended"), also=sorted(gone)
    )
    if shells:
        notify_filing_event(filing=locked, event="shell_flagged", also=sorted(gone))
    return locked


@transaction.atomic
def filing_approve(*, filing: Filing, by: User) -> Filing:
    """Approve a new filing or an amendment (of any kind, SPEC §12): numbers, published data,
    empty shells, certificate, messages.

    Raises ``OutOfScope`` outside the caller's province, ``ValidationError`` (``__all__``)
    unless the filing waits for review (``pending_review``, ``amendment_pending``) or while it
    has open conflicts."""
    locked = _locked(filing)
    ensure_in_scope(by, locked)
    if locked.status not in (Status.PENDING_REVIEW, Status.AMENDMENT_PENDING):
        raise _refuse(_("Only a filing waiting for review can be approved."))
    if Conflict.objects.filter(
        filing=locked, kind=Conflict.Kind.CONFLICT, resolved_at__isnull=True
    ).exists():
        raise _refuse(
            _(
                "This filing has open conflicts and cannot be approved. Revoke the squatted "
                "record and re-check, or reject the filing."
            )
        )
    _approve(locked, by=by)
    _sync_from(filing, locked)
    return locked


def withdrawal_at_once(sender, *, filing: Filing, by: User, **kwargs) -> None:
    """Receiver of ``filings.changes.access_withdrawn``: with
    ``PROVIDER_ACCESS_CANCEL_AT_ONCE`` on, the withdrawal takes effect at once
    (``application_approve_at_once``)."""
    if settings.PROVIDER_ACCESS_CANCEL_AT_ONCE:
        application_approve_at_once(filing=filing, by=by)


@transaction.atomic
def application_approve_at_once(*, filing: Filing, by: User) -> Filing:
    """Let a provider's withdrawal of its own access take effect at once, without waiting for
    the bureau (``PROVIDER_ACCESS_CANCEL_AT_ONCE``, SPEC §12): the open ``cancel_access``
    application the provider's staff ``by`` just submitted is approved as the bureau would,
    audited as ``access.cancel_at_once``. Raises ``ValidationError`` (``__all__``) unless the
    filing's open application is that."""
    locked = _locked(filing)
    application = (
        Application.objects.filter(filing=locked, closed_at__isnull=True)
        .only("kind", "submitted_by")
        .first()
    )
    if (
        application is None
        or application.kind != Application.Kind.CANCEL_ACCESS
        or application.submitted_by_id != by.pk
        or locked.status != Status.AMENDMENT_PENDING
    ):
        raise _refuse(_("Only a provider's own access cancellation takes effect at once."))
    _approve(locked, by=by, action="access.cancel_at_once")
    _sync_from(filing, locked)
    return locked


@transaction.atomic
def filing_reject(*, filing: Filing, by: User, reason: str) -> Filing:
    """Reject a submission (→ ``rejected``, with no deadline) or an amendment (the approved
    data stays valid, with the deadline of its approval: SPEC §12, nothing of the refused
    application is left on the record).

    A rejection of a conflicted filing must state the conflict and the other party's contact.
    Raises ``OutOfScope`` outside the caller's province, ``ValidationError`` (``__all__``)
    unless the filing waits for review, and (``reason``) for a reason that is empty, longer
    than 2,000 characters, or silent on a conflict or its other party's contact.
    """
    locked = _locked(filing)
    ensure_in_scope(by, locked)
    if locked.status not in (Status.PENDING_REVIEW, Status.AMENDMENT_PENDING):
        raise _refuse(_("Only a filing waiting for review can be rejected."))
    reason = _required_reason(reason)
    conflicts = _open_conflicts(locked)
    if conflicts:
        _check_rejection_states_conflicts(reason, conflicts)
    before = _state(locked)
    amendment = locked.status == Status.AMENDMENT_PENDING
    # A refused amendment leaves the filing approved: the approved data is restored into the
    # working copy (so conflict checks see only approved data) and stays public; the owner
    # may correct the amendment and submit it again.
    if amendment:
        _restore_approved_data(locked)
    locked.status = Status.APPROVED if amendment else Status.REJECTED
    # The refused application's deadline goes with it: the record keeps the one it had
    # before (its approval's; none for a first filing), as a withdrawal leaves it.
    locked.review_deadline = deadline_before_application(locked)
    locked.rejection_reason = reason
    locked.decided_at = timezone.now()
    locked.save()
    application = application_close(
        filing=locked, outcome=Application.Outcome.REJECTED, by=by, at=locked.decided_at
    )
    close_own_conflicts(filing=locked)
    locked.refresh_from_db(fields=["has_open_conflicts"])
    audit(
        actor=by,
        action="filing.reject_amendment" if amendment else "filing.reject",
        target=locked,
        before=before,
        after={**_state(locked), "application": _id(application)},
        note=reason,
        province=locked.province_id,
    )
    _email_owner(locked, "review_rejected", amendment=amendment, reason=reason)
    _sync_from(filing, locked)
    return locked


def _revoke(locked: Filing, *, by: User, reason: str, action: str) -> Filing:
    before = _state(locked)
    now = timezone.now()
    if before["status"] != Status.REVOCATION_PENDING:
        # Another application open meanwhile is refused with the record: its deadline goes.
        locked.review_deadline = deadline_before_application(locked)
    locked.status = Status.REVOKED
    locked.revoked_at = now
    locked.decided_at = now
    locked.revocation_reason = reason
    locked.save()
    # The record is revoked as an application for revocation asks; any other application
    # open meanwhile (an amendment) goes with the record, refused.
    application = application_close(
        filing=locked,
        outcome=(
            Application.Outcome.APPROVED
            if before["status"] == Status.REVOCATION_PENDING
            else Application.Outcome.REJECTED
        ),
        by=by,
        at=now,
    )
    unpublish(filing=locked)
    close_own_conflicts(filing=locked)
    locked.refresh_from_db(fields=["has_open_conflicts"])
    # Q21: filing again means registering again.
    User.objects.filter(pk=locked.owner_id).update(is_active=False)
    locked.owner.is_active = False
    audit(
        actor=by,
        action=action,
        target=locked,
        before=before,
        after={**_state(locked), "owner_active": False, "application": _id(application)},
        note=reason,
        province=locked.province_id,
    )
    _email_owner(
        locked,
        "review_revoked",
        reason=reason,
        own_motion=action in ("filing.revoke", "shell.revoke"),
    )
    certificate_revoke(filing=locked)
    notify_filing_event(filing=locked, event="revoked")
    return locked


@transaction.atomic
def revocation_approve(*, filing: Filing, by: User, reason: str = "") -> Filing:
    """Grant the owner's application for revocation (Q21): the filing is revoked, its
    published data and certificates withdrawn, the owner account deactivated. An empty
    ``reason`` keeps the owner's.

    Raises ``OutOfScope`` outside the caller's province, ``ValidationError`` (``__all__``)
    unless the filing is ``revocation_pending``."""
    locked = _locked(filing)
    ensure_in_scope(by, locked)
    if locked.status != Status.REVOCATION_PENDING:
        raise _refuse(_("There is no application for revocation to decide."))
    reason = (reason or "").strip() or locked.revocation_reason
    _revoke(locked, by=by, reason=reason, action="revocation.approve")
    _sync_from(filing, locked)
    return locked


@transaction.atomic
def revocation_refuse(*, filing: Filing, by: User, reason: str) -> Filing:
    """Refuse the application for revocation: the filing stays approved, with the deadline
    of its approval again (``filings.submission.deadline_before_application``).

    Raises ``OutOfScope`` outside the caller's province, ``ValidationError`` (``__all__``)
    unless the filing is ``revocation_pending``, and (``reason``) for an empty reason or one
    longer than 2,000 characters."""
    locked = _locked(filing)
    ensure_in_scope(by, locked)
    if locked.status != Status.REVOCATION_PENDING:
        raise _refuse(_("There is no application for revocation to decide."))
    reason = _required_reason(reason)
    before = _state(locked)
    locked.status = Status.APPROVED
    locked.review_deadline = deadline_before_application(locked)
    locked.decided_at = timezone.now()
    locked.save()
    application = application_close(
        filing=locked, outcome=Application.Outcome.REJECTED, by=by, at=locked.decided_at
    )
    audit(
        actor=by,
        action="revocation.refuse",
        target=locked,
        before=before,
        after={**_state(locked), "application": _id(application)},
        note=reason,
        province=locked.province_id,
    )
    _email_owner(locked, "review_revocation_refused", reason=reason)
    _sync_from(filing, locked)
    return locked


@transaction.atomic
def filing_revoke(*, filing: Filing, by: User, reason: str) -> Filing:
    """Revoke an approved filing on the bureau's own motion, e.g. a squatted record (Q17).

    A bureau revokes filings of its own province; the ministry any filing. Raises
    ``OutOfScope`` outside the caller's province, ``ValidationError`` (``__all__``) unless
    the filing is approved (or has an amendment or a revocation application open), and
    (``reason``) for an empty reason or one longer than 2,000 characters.
    """
    locked = _locked(filing)
    ensure_in_scope(by, locked)
    if not locked.is_filed:
        raise _refuse(_("Only an approved filing can be revoked."))
    reason = _required_reason(reason)
    _revoke(locked, by=by, reason=reason, action="filing.revoke")
    _sync_from(filing, locked)
    return locked


@transaction.atomic
def filing_recheck(*, filing: Filing, by: User) -> Filing:
    """Recompute the conflicts of a filing under review (重新检测), e.g. after the squatted
    record was revoked; the owner is emailed about new ones.

    Raises ``OutOfScope`` outside the caller's province, ``ValidationError`` (``__all__``)
    unless the filing waits for review."""
    locked = _locked(filing)
    ensure_in_scope(by, locked)
    if locked.status not in (Status.PENDING_REVIEW, Status.AMENDMENT_PENDING):
        raise _refuse(_("Only a filing waiting for review can be re-checked."))
    before = [
        {"field": c.field, "value": c.value, "other_filing": c.other_filing_id}
        for c in _open_conflicts(locked)
    ]
    new = detect_conflicts(filing=locked, submitting=False)
    after = [
        {"field": c.field, "value": c.value, "other_filing": c.other_filing_id}
        for c in _open_conflicts(locked)
    ]
    locked.refresh_from_db(fields=["has_open_conflicts"])
    audit(
        actor=by,
        action="filing.recheck",
        target=locked,
        before={"conflicts": before},
        after={"conflicts": after},
        province=locked.province_id,
    )
    if new:
        _email_owner(
            locked,
            "review_conflicts_found",
            conflicts=[
                # The lazy label, read in the owner's language, not the bureau's.
                {
                    "field": Conflict.Field(c.field).label,
                    "value": c.value,
                    "other": c.other_filing_id,
                }
                for c in new
            ],
        )
    _sync_from(filing, locked)
    return locked


# Password reset by the bureau (SPEC §2, Q11) ---------------------------------------------------


@transaction.atomic
def bureau_password_reset(*, account: User, by: User) -> User:
    """Give an owner account of the bureau's province a temporary password by SMS; the owner
    must change it at the next login. The password is never shown to the reviewer.

    Raises ``OutOfScope`` for an account that is not an owner of the caller's province
    (any province for the ministry), ``ValidationError`` (``__all__``) for a deactivated
    account, one without a mobile number, or one sent a temporary password too recently
    (the ``temporary-password`` limit of ``beian.limits``)."""
    locked = User.objects.select_for_update().get(pk=account.pk)
    ensure_account_in_scope(by, locked)
    if not locked.is_active:
        raise _refuse(_("This account is deactivated; its password cannot be reset."))
    if not locked.mobile:
        raise _refuse(_("This account has no mobile number to send the password to."))
    # A temporary password is a secret sent by SMS like a code, so it is sent no more often
    # than codes are to one number: a repeated click (or a stolen staff session) cannot flood
    # the owner's phone.
    try:
        limits.take(limits.Charge("temporary-password", str(locked.pk)))
    except limits.RateLimited as exc:
        raise _refuse(
            _(
                "A temporary password was sent to this account a moment ago; try again in "
                "%(seconds)s seconds."
            )
            % {"seconds": exc.retry_after}
        ) from exc
    password = random_password()
    locked.set_password(password)
    locked.password_is_initial = True
    locked.save(update_fields=["password", "password_is_initial"])
    audit(
        actor=by,
        action="account.password_reset",
        target=locked,
        before={"password_is_initial": account.password_is_initial},
        after={"password_is_initial": True, "sms_to": locked.mobile},
        province=account_province_code(locked),
    )
    queue_sms(
        to=locked.mobile,
        template="review_temporary_password",
        context={"username": locked.username, "password": password},
        language=locked.language,
    )
    account.password = locked.password
    account.password_is_initial = True
    return locked
