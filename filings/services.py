"""Every change an owner (or the access provider filing for them) makes to a filing (SPEC §3).

The life of a filing [contract: status names]::

    draft ──submit──▶ pending_review ──(bureau)──▶ approved ──submit amendment──▶ amendment_pending
      ▲                 │  ▲ edit and submit again:           │                 (approved data stays
      │                 │  └ data replaced, deadline restarts │                  public meanwhile)
    rejected ◀─(bureau)─┘                                     └─apply──▶ revocation_pending

Edits are saved in ``FilingDraft`` (see its docstring) and reach the working copy only when
they are submitted; what a submission does once its checks here pass is
``filings.submission.filing_submit_many``. The bureau's decisions live in ``review.services``.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beian.audit import audit

from . import rules
from .applications import application_close, application_open, open_application, refuse_second
from .conflicts import close_own_conflicts
from .errors import FilingError, FilingInvalid
from .identities import with_identities
from .models import Application, Document, Filing, FilingDraft, FilingVersion
from .serializers import editable_data, saved_changes, working_copy_data
from .stages import submission_deadline
from .submission import (
    Submission,
    deadline_before_application,
    filing_submit_many,
    filing_working_copy_replace,
)
from .uploads import file_sha256, megabytes, sniff_content_type
from .validation import StructureError, coerce_data, shorthand_edits, validate_filing_data

MAX_DOCUMENTS = 100
MAX_REASON = 1000

# The owner's actions per status (``rules.OWNER_ACTIONS``) as the checks below read them.
EDITABLE_STATUSES = rules.statuses_allowing(rules.EDIT, rules.AMEND)
SUBMITTABLE_STATUSES = rules.statuses_allowing(rules.SUBMIT)
RESUBMIT_NEEDS_CHANGES = rules.statuses_allowing(rules.SUBMIT, needs_changes=True)
REVOCABLE_STATUSES = rules.statuses_allowing(rules.REVOKE)
WITHDRAWABLE_STATUSES = rules.statuses_allowing(rules.WITHDRAW)


def _lock(filing: Filing) -> Filing:
    # Lock the filing row only: the province is a nullable (outer) join, which PostgreSQL
    # cannot lock.
    return (
        Filing.objects.select_for_update(of=("self",))
        .select_related("owner", "province")
        .get(pk=filing.pk)
    )


def _status_label(status: str) -> str:
    return str(Filing.Status(status).label)


@transaction.atomic
def filing_create(*, owner, provider=None, data: dict | None = None) -> Filing:
    """The owner's filing record, in draft (an account holds at most one, SPEC §3), with
    ``data`` (the SPEC §10 shape) saved as its unsubmitted changes. ``FilingInvalid`` when
    ``data`` is not that shape: then nothing is created, so the corrected request can."""
    if owner.role != owner.Role.OWNER:
        raise FilingError(_("Only website owner accounts hold a filing record."), code="role")
    if Filing.objects.filter(owner=owner).exists():
        raise FilingError(
            _("This account already holds a filing record: add websites to it instead."),
            code="exists",
        )
    filing = Filing.objects.create(owner=owner, filed_by_provider=provider)
    if data:
        filing = filing_save_data(filing=filing, by=owner, data=data)
    return filing


@transaction.atomic
def filing_save_data(*, filing: Filing, by, data: dict) -> Filing:
    """Save the owner's changes (the SPEC §10 shape) without submitting them.

    Only the structure is checked here, so a half-finished step is never lost; every rule is
    checked on submission (and shown by the wizard as the owner goes).
    """
    locked = _lock(filing)
    rules.check_actor(locked, by)
    if locked.status not in EDITABLE_STATUSES:
        raise FilingError(
            _("A filing that is %(status)s cannot be changed.")
            % {"status": _status_label(locked.status)}
        )
    application = open_application(locked)
    if application is not None and application.kind in rules.CHANGE_KINDS:
        # A new access or a cancellation on its way: other changes wait for its decision.
        refuse_second(application)
    try:
        canonical = coerce_data(shorthand_edits(data, editable_data(locked)))
    except StructureError as exc:
        raise FilingInvalid(exc.errors) from None
    # Each website keeps the id and number of the website of the record it is; the bureau
    # gives numbers, so a number the data gives is only a way to name one.
    FilingDraft.objects.update_or_create(
        filing=locked, defaults={"data": with_identities(locked, canonical), "updated_by": by}
    )
    return locked


@transaction.atomic
def filing_discard_changes(*, filing: Filing, by) -> Filing:
    """Forget the saved, unsubmitted changes: the submitted (or approved) data stays."""
    locked = _lock(filing)
    rules.check_actor(locked, by)
    FilingDraft.objects.filter(filing=locked).delete()
    return locked


@transaction.atomic
def filing_submit(*, filing: Filing, by) -> Filing:
    """Submit the saved changes (or the working copy) for review.

    A first filing goes to ``pending_review``; a filing approved before goes to
    ``amendment_pending`` while its approved data stays public. Submitting again before the
    decision replaces the data under review and restarts the deadline (Q1, Q19). Raises
    ``FilingInvalid`` with every problem at once.
    """
    locked = _lock(filing)
    rules.check_actor(locked, by)
    if locked.status not in SUBMITTABLE_STATUSES:
        raise FilingError(
            _("A filing that is %(status)s cannot be submitted.")
            % {"status": _status_label(locked.status)}
        )
    kind = Submission.AMENDMENT if locked.first_approved_at is not None else Submission.NEW
    refuse_second(open_application(locked), updating=kind)
    draft = FilingDraft.objects.filter(filing=locked).first()
    changes = saved_changes(locked) if draft is not None else None
    if draft is None and locked.status in RESUBMIT_NEEDS_CHANGES:
        raise FilingError(
            _("There are no changes to submit: change the filing first."), code="no_changes"
        )
    if by.pk == locked.owner_id and not by.identity_verified:
        raise FilingError(
            _("Confirm your mobile number and email address before you submit."),
            code="identity_unverified",
        )
    try:
        canonical = coerce_data(changes if changes is not None else working_copy_data(locked))
    except StructureError as exc:
        raise FilingInvalid(exc.errors) from None
    acting = by.provider_id if by.role == by.Role.PROVIDER else None
    cleaned, errors = validate_filing_data(
        canonical, filing=locked, acting_provider=acting, kind=kind
    )
    if errors:
        raise FilingInvalid(errors)

    (submitted,) = filing_submit_many([Submission(filing=locked, by=by, data=cleaned, draft=draft)])
    return submitted


@transaction.atomic
def filing_apply_revocation(*, filing: Filing, by, reason: str) -> Filing:
    """Apply to revoke an approved filing (Q21): it opens a ``revocation`` application (SPEC
    §12) and the bureau decides within 20 working days. Raises ``FilingError`` (code
    ``application_open``) while another application is open, (``invalid_state``) unless the
    filing is approved, ``FilingInvalid`` for a missing or too long reason."""
    locked = _lock(filing)
    rules.check_actor(locked, by)
    refuse_second(open_application(locked))
    if locked.status not in REVOCABLE_STATUSES:
        if locked.status in (Filing.Status.AMENDMENT_PENDING, Filing.Status.REVOCATION_PENDING):
            message = _("The filing is %(status)s: wait for the bureau's decision first.") % {
                "status": _status_label(locked.status)
            }
        else:
            message = _("Only an approved filing can apply for revocation.")
        raise FilingError(message)
    reason = (reason or "").strip()
    if not reason:
        raise FilingInvalid({"reason": [_("Say why the filing should be revoked.")]})
    if len(reason) > MAX_REASON:
        raise FilingInvalid(
            {"reason": [_("Use at most %(limit)d characters.") % {"limit": MAX_REASON}]}
        )
    before = {"status": locked.status, "review_deadline": locked.review_deadline}
    now = timezone.now()
    locked.status = Filing.Status.REVOCATION_PENDING
    locked.revocation_reason = reason
    locked.review_deadline = submission_deadline(now)
    locked.save(update_fields=["status", "revocation_reason", "review_deadline", "updated_at"])
    application = application_open(filing=locked, kind=Application.Kind.REVOCATION, by=by, at=now)
    audit(
        actor=by,
        action="filing.revocation_apply",
        target=locked,
        before=before,
        after={
            "status": locked.status,
            "review_deadline": locked.review_deadline,
            "application": application.pk,
        },
        note=reason,
        province=locked.province,
    )
    return locked


def _approved_state(filing: Filing) -> tuple[FilingVersion | None, FilingVersion | None]:
    """The last approved version and the submission it approved (``None`` where missing)."""
    approved = (
        FilingVersion.objects.filter(filing=filing, kind=FilingVersion.Kind.APPROVED)
        .order_by("-seq")
        .first()
    )
    if approved is None:
        return None, None
    submission = (
        FilingVersion.objects.filter(
            filing=filing, kind=FilingVersion.Kind.SUBMITTED, seq__lt=approved.seq
        )
        .select_related("created_by")
        .order_by("-seq")
        .first()
    )
    return approved, submission


@transaction.atomic
def filing_withdraw(*, filing: Filing, by) -> Filing:
    """Withdraw the open application before its decision (SPEC §12), at whatever stage it is:
    the provider's first review, the SMS verification, returned, or at the bureau.

    The record is left as it was before the application. A record approved before goes back
    to ``approved``, with the approved data in the working copy (it stayed public throughout)
    and the review bookkeeping of the approved submission (its time and the deadline it
    had); a first filing goes back to
    ``draft``, keeping everything typed as its working copy. A withdrawn submission stays in
    the version history; its conflicts, and the notices of its claims on other filings, are
    closed. Unsubmitted changes the owner saved meanwhile are kept. The open application is
    closed as ``withdrawn``. Audited as ``filing.withdraw``. Raises ``FilingError`` (code
    ``invalid_state``) when nothing is open, ``PermissionDenied`` for anyone but the owner or
    its provider.
    """
    locked = _lock(filing)
    rules.check_actor(locked, by)
    if locked.status not in WITHDRAWABLE_STATUSES:
        raise FilingError(
            _(
                "Only an application that is not yet decided can be withdrawn; this filing is "
                "%(status)s."
            )
            % {"status": _status_label(locked.status)},
            code="invalid_state",
        )
    before = {"status": locked.status, "review_deadline": locked.review_deadline}
    application = open_application(locked)
    if application is not None:
        kind = application.kind
    elif locked.status == Filing.Status.REVOCATION_PENDING:
        kind = Application.Kind.REVOCATION
    else:
        kind = Application.Kind.AMENDMENT if locked.is_filed else Application.Kind.NEW
    if kind == Application.Kind.REVOCATION:
        locked.revocation_reason = ""
    elif locked.first_approved_at is None:
        locked.submitted_at = None
        locked.submitted_by = None
        close_own_conflicts(filing=locked)
        locked.refresh_from_db(fields=["has_open_conflicts"])
    else:
        approved, submission = _approved_state(locked)
        if approved is not None:
            filing_working_copy_replace(filing=locked, data=approved.data, restore=True)
        if submission is not None:
            locked.submitted_at = submission.created_at
            locked.submitted_by = submission.created_by
        close_own_conflicts(filing=locked)
        locked.refresh_from_db(fields=["has_open_conflicts"])
    locked.review_deadline = deadline_before_application(locked)
    locked.status = Filing.Status.APPROVED if locked.is_filed else Filing.Status.DRAFT
    locked.save()
    closed = application_close(
        filing=locked, outcome=Application.Outcome.WITHDRAWN, by=by, at=timezone.now()
    )
    audit(
        actor=by,
        action="filing.withdraw",
        target=locked,
        before=before,
        after={
            "status": locked.status,
            "review_deadline": locked.review_deadline,
            "withdrawn": kind,
            "application": closed.pk if closed else None,
        },
        province=locked.province,
    )
    return locked


# --- Documents ------------------------------------------------------------------------------


@transaction.atomic
def document_upload(*, filing: Filing, by, file: UploadedFile) -> Document:
    """Keep a pre-approval document: PDF, JPEG or PNG by content, at most UPLOAD_MAX_BYTES."""
    locked = _lock(filing)
    rules.check_actor(locked, by)
    if locked.status not in EDITABLE_STATUSES:
        raise FilingError(
            _("A filing that is %(status)s cannot be changed.")
            % {"status": _status_label(locked.status)}
        )
    limit = settings.UPLOAD_MAX_BYTES
    if file is None or not file.size:
        raise FilingInvalid({"file": [_("Choose a file to upload: the file is empty.")]})
    if file.size > limit:
        raise FilingInvalid(
            {
                "file": [
                    _("The file is %(size)s; upload a file of at most %(limit)s.")
                    % {"size": megabytes(file.size), "limit": megabytes(limit)}
                ]
            }
        )
    if Document.objects.filter(filing=locked).count() >= MAX_DOCUMENTS:
        raise FilingInvalid(
            {"file": [_("A filing holds at most %(limit)d documents.") % {"limit": MAX_DOCUMENTS}]}
        )
    sniffed = sniff_content_type(file)
    if sniffed is None:
        raise FilingInvalid(
            {
                "file": [
                    _(
                        "Upload a PDF, JPEG or PNG file: the content of this file is not one of "
                        "them, whatever its name says."
                    )
                ]
            }
        )
    content_type, extension = sniffed
    original = os.path.basename((getattr(file, "name", "") or "").replace("\\", "/"))[:255]
    document = Document(
        filing=locked,
        original_name=original or f"document{extension}",
        content_type=content_type,
        size=file.size,
        sha256=file_sha256(file),
        uploaded_by=by,
    )
    document.file.save(f"{document.sha256}{extension}", file, save=False)
    document.save()
    return document
