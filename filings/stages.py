"""The stages an application passes before the bureau (SPEC §12): the access provider's first
review (初审), the responsible person's SMS verification (短信核验), and a return to the owner.

Where an application goes next is one table here (``next_stage``), read by the submission
(``filings.submission``), the provider's decision, the verification and the beat's sweep of
lapsed codes::

    submit ──▶ provider_review ──pass──▶ verification ──code──▶ pending_review | amendment_pending
               (a registered     │          (new, amendment,        | revocation_pending (bureau)
                provider named)  │           new_access; on by        ▲
                                 │           FILING_SMS_VERIFICATION) │ (no provider, no check)
                                 └─return─▶ returned ◀──lapsed─────┘
                                            (edit, submit again, or withdraw)

Every move sets the filing's status and the application's together (they are the same while
it is open), writes an audit row, and tells the people whose move it now is: the provider's
contact, the responsible person's mobile (the code), the owner (email, and SMS when the owner
must act), the bureau's staff of the province on arrival (by a task after commit,
``REVIEW_ARRIVAL_EMAILS``); and a provider whose first review the application no longer waits
for, that it left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import AccessProvider, User
from accounts.notifications import provider_email
from beian import limits
from beian.audit import audit, audit_entry
from beian.celery import app as celery_app
from beian.delivery import Email, Sms, queue_emails, queue_sms_many
from beian.models import AuditLog
from beian.normalforms.certificates import compact
from beian.normalforms.mobiles import normalize_mobile
from beian.normalforms.text import folded, unreadable_text_message
from beian.queueing import enqueue_on_commit
from beian.workdays import add_working_days

from . import rules
from .errors import FilingError, FilingInvalid
from .models import Application, Filing
from .reasons import lapse_reason
from .uploads import file_sha256, megabytes, sniff_content_type

Kind = Application.Kind
Status = Filing.Status

REVIEW_WORKING_DAYS = 20

# What the provider's staff confirm they checked in the first review (初审), in the order the
# console lists them.
CHECKLIST: tuple[tuple[str, Any], ...] = (
    (
        "sponsor_identity",
        gettext_lazy("The sponsor's certificate was checked against the original"),
    ),
    (
        "principal_identity",
        gettext_lazy("The responsible person was identified (photo or face check)"),
    ),
    ("domains", gettext_lazy("The domains are registered in the sponsor's real name")),
    ("access", gettext_lazy("The access (server location, IP addresses) is at this provider")),
    ("documents", gettext_lazy("The pre-approval documents were seen, where required")),
    ("content", gettext_lazy("The website names and services agree with the rules")),
)
CHECKLIST_CODES = tuple(code for code, _label in CHECKLIST)

# The kinds whose responsible person confirms by SMS, and where each kind waits for the bureau.
VERIFIED_KINDS = frozenset({Kind.NEW, Kind.AMENDMENT, Kind.NEW_ACCESS})
BUREAU_STATUS = {
    Kind.NEW: Status.PENDING_REVIEW,
    Kind.REVOCATION: Status.REVOCATION_PENDING,
}

# The field of the filing JSON a lapsed verification is returned on.
VERIFICATION_FIELD = "sponsor.principal.mobile"


def bureau_status(kind: str) -> str:
    """The status an application of ``kind`` waits in at the bureau (SPEC §12)."""
    return BUREAU_STATUS.get(kind, Status.AMENDMENT_PENDING)


def next_stage(kind: str, *, provider_id: int | None, provider_passed: bool) -> str:
    """Where an application of ``kind`` goes once the steps before are done (SPEC §12): the
    named provider's first review unless it is passed; then the SMS verification for the
    kinds that have one while ``FILING_SMS_VERIFICATION`` is on; then the bureau."""
    if provider_id is not None and not provider_passed:
        return Status.PROVIDER_REVIEW
    if kind in VERIFIED_KINDS and settings.FILING_SMS_VERIFICATION:
        return Status.VERIFICATION
    return bureau_status(kind)


def submission_deadline(submitted_at: dt.datetime) -> dt.date:
    """The 20th working day after the day ``submitted_at`` (Asia/Shanghai) falls on (Q1)."""
    return add_working_days(timezone.localdate(submitted_at), REVIEW_WORKING_DAYS)


def provider_deadline(arrived_at: dt.datetime) -> dt.date:
    """The provider's deadline for a first review: ``PROVIDER_REVIEW_WORKING_DAYS`` working
    days after the day of arrival (Asia/Shanghai)."""
    return add_working_days(timezone.localdate(arrived_at), settings.PROVIDER_REVIEW_WORKING_DAYS)


def data_digest(data: dict[str, Any]) -> str:
    """The SHA-256 hex digest of filing data in the SPEC §10 shape, independent of key order."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# Entering a stage -----------------------------------------------------------------------------


@dataclass
class Moves:
    """What entering stages leaves to send once the rows are saved: the SMS codes (to the
    responsible person), the notices of each move (owner, provider), the arrivals at the
    bureau (its staff's email, ``REVIEW_ARRIVAL_EMAILS``), which of the moves are
    returns of a lapsed code (by application id: their SMS says why in itself), and the
    applications that left a provider's first-review queue other than by its decision (with
    that provider's id and why, ``LEFT_QUEUE``)."""

    codes: list[tuple[Application, Filing, str]] = field(default_factory=list)
    moved: list[tuple[Application, Filing]] = field(default_factory=list)
    arrived: list[Application] = field(default_factory=list)
    lapsed: set[int] = field(default_factory=set)
    left: list[tuple[Application, Filing, int, str]] = field(default_factory=list)


def _code_hash(*, filing_id: int, mobile: str, code: str) -> str:
    # Keyed with SECRET_KEY and bound to the filing and the mobile it was sent to.
    value = f"{filing_id}:{mobile}:{code}"
    return salted_hmac("filings.verification", value, algorithm="sha256").hexdigest()


def enter_stage(
    application: Application, filing: Filing, status: str, *, now: dt.datetime, moves: Moves
) -> None:
    """Move an open ``application`` and its ``filing`` to ``status``, unsaved: the stage's
    clock (the provider's deadline, the code's lapse, or the bureau's 20 working days from
    arrival, Q1), and, entering ``verification``, a new code for the responsible person
    (added to ``moves`` with the move itself; the caller saves, then calls ``moves_send``)."""
    application.status = status
    filing.status = status
    application.stage_entered_at = now
    application.verification_code_hash = ""
    application.verification_expires_at = None
    application.verification_tries = 0
    application.provider_deadline = None
    filing.review_deadline = None
    if status == Status.PROVIDER_REVIEW:
        application.provider_deadline = provider_deadline(now)
    elif status == Status.VERIFICATION:
        # The filing's pk is needed for the code's hash; a new filing gets it from its insert.
        moves.codes.append((application, filing, f"{secrets.randbelow(1_000_000):06d}"))
        application.verification_mobile = filing.principal_mobile
        application.verification_sent_at = now
        application.verification_expires_at = now + dt.timedelta(
            hours=settings.FILING_VERIFICATION_HOURS
        )
    elif status in Filing.OPEN_STATUSES:
        application.reached_bureau_at = now
        filing.review_deadline = submission_deadline(now)
        # Its staff are told by a task after commit; with the emails off, nothing is to tell.
        application.bureau_told_at = None if settings.REVIEW_ARRIVAL_EMAILS else now
        moves.arrived.append(application)
    moves.moved.append((application, filing))


def codes_hash(moves: Moves) -> None:
    """Set the hash of each code of ``moves`` once its filing has its pk."""
    for application, filing, code in moves.codes:
        application.verification_code_hash = _code_hash(
            filing_id=filing.pk, mobile=application.verification_mobile, code=code
        )


def _verification_url() -> str:
    return f"{settings.PORTAL_URL}/verification/"


# The task that tells the bureau's staff of arrivals (review.tasks), called by its name:
# the bureau's app sits above this one.
ARRIVALS_TASK = "review.arrivals.notify"

# Why an application left a provider's first-review queue without its decision: the owner
# withdrew it, the bureau closed it (revoking the record), or it was submitted again for
# another provider's review or none.
LEFT_QUEUE = ("withdrawn", "closed", "moved")


def provider_told_left(items: list[tuple[Application, Filing, int, str]]) -> None:
    """Email each provider (by id) whose first review an application no longer waits for,
    saying why (one of ``LEFT_QUEUE``), in the provider's language (SPEC §12: the provider is
    told of the application's arrival, and so of its leaving)."""
    if not items:
        return
    providers = AccessProvider.objects.in_bulk({provider_id for _a, _f, provider_id, _w in items})
    emails = []
    for application, filing, provider_id, why in items:
        provider = providers.get(provider_id)
        if provider is None or not provider.is_active:
            continue
        context = {
            "sponsor_name": filing.sponsor_name,
            "kind_label": Kind(application.kind).label,
            "why": why,
        }
        emails.append(provider_email(provider, "provider_review_withdrawn", context))
    queue_emails(emails)


def arrivals_announce(application_ids: list[int]) -> None:
    """Hand the applications that reached the bureau (ids) to the task that emails the
    province's bureau staff, once the transaction commits (``REVIEW_ARRIVAL_EMAILS``; never
    in the request). A broker outage loses nothing: the task's periodic run finds them."""
    if application_ids and settings.REVIEW_ARRIVAL_EMAILS:
        enqueue_on_commit(celery_app.signature(ARRIVALS_TASK), application_ids)


def moves_send(moves: Moves) -> None:
    """Queue what ``moves`` leaves to send, after the rows are saved: each code by SMS to the
    responsible person (a send the system starts is never held back by the resend limits,
    SPEC §12), each move's notice to the owner and, for a first review, to the provider, and
    to a provider whose first review it no longer waits for, that it left; the arrivals at
    the bureau are handed to the task that tells its staff (``review.arrivals.notify``)."""
    provider_told_left(moves.left)
    arrivals_announce([a.pk for a in moves.arrived])
    hours = settings.FILING_VERIFICATION_HOURS
    sms = [
        Sms(
            to=application.verification_mobile,
            template="verification_code",
            context={
                "code": code,
                "sponsor_name": filing.sponsor_name,
                "hours": hours,
                "url": _verification_url(),
            },
            # The responsible person need not hold an account: the portal's language.
            language=settings.LANGUAGE_CODE,
        )
        for application, filing, code in moves.codes
    ]
    emails = []
    for application, filing in moves.moved:
        emails.extend(_move_emails(application, filing))
        if application.status == Status.RETURNED:
            sms.append(
                Sms(
                    to=filing.owner.mobile,
                    template="application_returned",
                    context={
                        "sponsor_name": filing.sponsor_name,
                        # A lapsed code: the SMS says why and how to get a new one.
                        "lapsed": application.pk in moves.lapsed,
                        "hours": hours,
                    },
                    language=filing.owner.language,
                )
            )
    queue_sms_many(sms)
    queue_emails(emails)


def _move_emails(application: Application, filing: Filing) -> list[Email]:
    """The owner's email for one move (a move to the bureau on submission is told by the
    submission's own email), and the provider's when its first review is asked."""
    owner = filing.owner
    context = {
        "owner": owner,
        "sponsor_name": filing.sponsor_name,
        "kind_label": Kind(application.kind).label,
        "status": application.status,
        "status_label": Status(application.status).label,
        "provider_name": application.provider.name if application.provider_id else "",
        "provider_deadline": application.provider_deadline,
        "verification_expires_at": application.verification_expires_at,
        "review_deadline": filing.review_deadline,
        "province": filing.province,
        "returns": application.returns,
        "verification_url": _verification_url(),
    }
    emails = [
        Email(
            to=owner.email, template="application_moved", context=context, language=owner.language
        )
    ]
    if application.status == Status.PROVIDER_REVIEW and application.provider_id:
        # In the provider's language, whoever's request moved it.
        emails.append(provider_email(application.provider, "provider_review_waiting", context))
    return emails


def _save(application: Application, filing: Filing) -> None:
    filing.save(update_fields=["status", "review_deadline", "updated_at"])
    application.save()


# The provider's first review ------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """An uploaded verification record (核验单), already checked by content."""

    file: Any
    content_type: str
    sha256: str


def verification_record(file: Any) -> tuple[Record | None, list[str]]:
    """``file`` (an uploaded file) checked as a verification record: ``(Record, [])`` for a
    PDF, JPEG or PNG by content of at most ``UPLOAD_MAX_BYTES``, else ``(None, messages)``
    saying how to fix it."""
    limit = settings.UPLOAD_MAX_BYTES
    size = getattr(file, "size", None) or 0
    if not size:
        return None, [_("Choose a file to upload: the file is empty.")]
    if size > limit:
        return None, [
            _("The file is %(size)s; upload a file of at most %(limit)s.")
            % {"size": megabytes(size), "limit": megabytes(limit)}
        ]
    sniffed = sniff_content_type(file)
    if sniffed is None:
        return None, [
            _(
                "Upload a PDF, JPEG or PNG file: the content of this file is not one of "
                "them, whatever its name says."
            )
        ]
    return Record(file=file, content_type=sniffed[0], sha256=file_sha256(file)), []


def returnable_paths(data: dict[str, Any]) -> list[str]:
    """The dotted paths into the filing JSON ``data`` (SPEC §10, §13 shape) a return may
    name, in the order the filing shows them: the sponsor's fields, the responsible person's,
    each website's (``websites.0.homepage``), each app's (``apps.0.platforms.1.fingerprint``,
    ``apps.0.accesses.0.ips``) and each mini-program's (``mini_programs.0.platform_id``)."""
    sponsor = data.get("sponsor") or {}
    paths = [f"sponsor.{key}" for key in sponsor if key != "principal"]
    paths += [f"sponsor.principal.{key}" for key in sponsor.get("principal") or {}]
    # A website's shorthand keys repeat its first access: its accesses are named one by one.
    shorthand = {"ips", "server_location", "access_provider"}
    for index, website in enumerate(data.get("websites") or []):
        accesses = website.get("accesses")
        skip = {"number", "id", "accesses", *(shorthand if isinstance(accesses, list) else ())}
        paths += [f"websites.{index}.{key}" for key in website if key not in skip]
        for n, access in enumerate(accesses if isinstance(accesses, list) else []):
            paths += [f"websites.{index}.accesses.{n}.{key}" for key in access]
    for index, app in enumerate(data.get("apps") or []):
        paths += [
            f"apps.{index}.{key}"
            for key in app
            if key not in ("number", "id", "platforms", "accesses")
        ]
        for n, platform in enumerate(app.get("platforms") or []):
            paths += [f"apps.{index}.platforms.{n}.{key}" for key in platform]
        for n, access in enumerate(app.get("accesses") or []):
            paths += [f"apps.{index}.accesses.{n}.{key}" for key in access]
    for index, program in enumerate(data.get("mini_programs") or []):
        paths += [f"mini_programs.{index}.{key}" for key in program if key not in ("number", "id")]
    return paths


def _locked_open(filing_id: int) -> tuple[Filing | None, Application | None]:
    # The filing first, then its open application, as every move locks them.
    filing = (
        Filing.objects.select_for_update(of=("self",))
        .select_related("owner", "province")
        .filter(pk=filing_id)
        .first()
    )
    if filing is None:
        return None, None
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("provider")
        .filter(filing_id=filing_id, closed_at__isnull=True)
        .first()
    )
    return filing, application


def _locked_at(filing_id: int, status: str) -> tuple[Filing, Application]:
    filing, application = _locked_open(filing_id)
    if filing is None or application is None or application.status != status:
        raise FilingError(
            _("This application is not waiting at this stage any more."), code="invalid_state"
        )
    return filing, application


def _clean_returns(
    returns: list[dict[str, Any]] | None, reason: str, *, paths: set[str]
) -> list[dict[str, str]]:
    """The per-field reasons of a return, checked: each a dotted path into the filing JSON
    (one of ``paths``) and a reason; a reason alone is returned on the whole application
    (field ``""``)."""
    errors: dict[str, list[str]] = {}
    cleaned: list[dict[str, str]] = []
    if returns is not None and not isinstance(returns, list):
        raise FilingInvalid({"returns": [_("Give the returns as a list of {field, reason}.")]})
    for i, item in enumerate(returns or []):
        item = item if isinstance(item, dict) else {}
        path = str(item.get("field") or "").strip()
        why = str(item.get("reason") or "").strip()
        if not why:
            errors[f"returns.{i}.reason"] = [_("Say what is wrong with this field.")]
        elif message := unreadable_text_message(why):
            errors[f"returns.{i}.reason"] = [message]
        elif len(why) > 500:
            errors[f"returns.{i}.reason"] = [
                _("Use at most %(limit)d characters.") % {"limit": 500}
            ]
        if not path:
            errors[f"returns.{i}.field"] = [_("Name the field this reason is about.")]
        elif message := unreadable_text_message(path):
            errors[f"returns.{i}.field"] = [message]
        elif path not in paths:
            errors[f"returns.{i}.field"] = [
                _("“%(field)s” is not a field of this filing.") % {"field": path[:100]}
            ]
        cleaned.append({"field": path, "reason": why})
    reason = str(reason or "").strip()
    if message := unreadable_text_message(reason):
        errors["reason"] = [message]
    elif reason:
        cleaned.append({"field": "", "reason": reason[:1000]})
    if not cleaned and not errors:
        errors["reason"] = [_("Say why the application is returned, on each field concerned.")]
    if errors:
        raise FilingInvalid(errors)
    return cleaned


@transaction.atomic
def provider_decide(
    *,
    filing_id: int,
    by: User,
    action: str,
    reason: str = "",
    returns: list[dict[str, Any]] | None = None,
    checklist: list[str] | None = None,
    record: Any = None,
) -> Filing:
    """The access provider's first review (初审, SPEC §12) of the application of filing
    ``filing_id``: ``action`` ``"pass"`` sends it on (``next_stage``: the SMS verification,
    or the bureau, whose 20 working days then start), ``"return"`` gives it back to the owner
    (``returned``, told by SMS and email) with ``returns`` (``[{field, reason}]``, field one
    of ``returnable_paths`` of the filing JSON) and/or a general ``reason``.

    Passing needs every ``CHECKLIST`` code in ``checklist`` and a verification ``record`` (an
    uploaded file, checked here: PDF, JPEG or PNG by content, at most ``UPLOAD_MAX_BYTES``;
    or a ``Record`` checked already), unless the application already has one; a record given
    with a return is not kept. Raises
    ``PermissionDenied`` unless ``by`` is active staff of the provider named,
    ``FilingError`` (``invalid_state``) when it is not waiting for the first review (a
    second click, or another staff member deciding first), ``FilingInvalid`` with every
    problem at once (``action``, ``checklist``, ``record``, ``reason``,
    ``returns.<i>.field``/``.reason``). Audited as ``application.provider_pass`` /
    ``_return``.
    """
    if by is None or not by.is_active or by.role != User.Role.PROVIDER or by.provider_id is None:
        raise PermissionDenied
    filing, application = _locked_at(filing_id, Status.PROVIDER_REVIEW)
    if application.provider_id != by.provider_id:
        raise PermissionDenied
    now = timezone.now()
    before = {"status": filing.status}
    moves = Moves()
    if action == "pass":
        ticked = [c for c in CHECKLIST_CODES if c in set(checklist or [])]
        errors: dict[str, list[str]] = {}
        if len(ticked) != len(CHECKLIST_CODES):
            errors["checklist"] = [_("Confirm every check of the list before you pass it on.")]
        if record is not None and not isinstance(record, Record):
            record, problems = verification_record(record)
            if problems:
                errors["record"] = problems
        elif record is None and not application.provider_record:
            errors["record"] = [_("Upload the verification record (a PDF or a photo).")]
        if errors:
            raise FilingInvalid(errors)
        if record is not None:
            application.provider_record.save(
                f"{record.sha256}{_extension(record.content_type)}", record.file, save=False
            )
            application.provider_record_type = record.content_type
            application.provider_record_sha256 = record.sha256
        application.provider_checklist = ticked
        application.provider_passed_at = now
        application.provider_passed_by = by
        application.passed_digest = _working_copy_digest(filing)
        application.returns = []
        enter_stage(
            application,
            filing,
            next_stage(application.kind, provider_id=application.provider_id, provider_passed=True),
            now=now,
            moves=moves,
        )
        action_name = "application.provider_pass"
    elif action == "return":
        paths = set(returnable_paths(_working_copy(filing)))
        application.returns = _clean_returns(returns, reason, paths=paths)
        application.returned_at = now
        enter_stage(application, filing, Status.RETURNED, now=now, moves=moves)
        action_name = "application.provider_return"
    else:
        raise FilingInvalid({"action": [_('Choose "pass" or "return".')]})
    _save(application, filing)
    codes_hash(moves)
    if moves.codes:
        application.save(update_fields=["verification_code_hash"])
    moves_send(moves)
    audit(
        actor=by,
        action=action_name,
        target=filing,
        before=before,
        after={
            "status": filing.status,
            "application": application.pk,
            "returns": application.returns,
            "checklist": application.provider_checklist,
        },
        province=filing.province,
    )
    return filing


def _extension(content_type: str) -> str:
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(
        content_type, ""
    )


def _working_copy(filing: Filing) -> dict[str, Any]:
    from .serializers import working_copy_data

    return working_copy_data(filing)


def _working_copy_digest(filing: Filing) -> str:
    # The submission compares the digest of its data brought to the same canonical form.
    from .validation import coerce_data

    return data_digest(coerce_data(_working_copy(filing)))


# The SMS verification -------------------------------------------------------------------------


def _id_last6(value: str) -> str:
    return compact(value)[-6:]


class VerificationProblem(Exception):
    """The verification failed: ``errors`` by field, as the page and the API show them."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class VerificationLimited(limits.RateLimited):
    """Too many verification tries from one client address: ``retry_after`` seconds until
    the next is taken, ``message`` says so in the reader's language."""

    @property
    def message(self) -> str:
        minutes = max(1, (self.retry_after + 59) // 60)
        return ngettext(
            "Too many tries from your address. Try again in %(minutes)d minute.",
            "Too many tries from your address. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}


def _mismatch() -> VerificationProblem:
    return VerificationProblem(
        {
            "code": [
                _(
                    "The mobile number, the code and the last 6 characters of the certificate "
                    "number do not match a verification waiting for them. Check all three; "
                    "after 5 wrong tries the code stops working and the owner asks for a new one."
                )
            ]
        }
    )


def verification_values_clean(*, mobile: str, code: str, id_last6: str) -> tuple[str, str, str]:
    """The three values of a verification in their normal forms (the mobile's 11 digits, the
    code's 6 digits, the certificate's last 6 characters in capitals), or
    ``VerificationProblem`` with a message on each malformed one. Reads nothing."""
    errors: dict[str, list[str]] = {}
    try:
        mobile = normalize_mobile(mobile)
    except ValidationError as exc:
        errors["mobile"] = list(exc.messages)
    # Full-width digits (a Chinese input method) are the same digits (NFKC, ``text.folded``).
    code = "".join(folded(str(code or "")).split())
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        errors["code"] = [_("Enter the 6 digits of the code in the SMS.")]
    last6 = compact(str(id_last6 or ""))
    if len(last6) != 6:
        errors["id_last6"] = [_("Enter the last 6 characters of the certificate number.")]
    if errors:
        raise VerificationProblem(errors)
    return mobile, code, last6


def verification_confirm(*, mobile: str, code: str, id_last6: str, ip: str | None) -> Filing:
    """The responsible person confirms an SMS verification (短信核验, SPEC §12): ``mobile``
    (any way of writing it), the 6-digit ``code``, the last 6 characters of their certificate
    number. The application then reaches the bureau, whose 20 working days start today (Q1).

    The same three values again for an application this very code confirmed, while the code
    would still be valid (a double click, two requests at once, a retry after a lost answer),
    answer the same: its filing as it is now, nothing moved or sent again, no try counted.

    Every other try counts per client address (``FILING_VERIFICATION_TRIES_PER_IP``); a wrong
    one counts on every live code of that mobile, which stops working after
    ``FILING_VERIFICATION_MAX_TRIES``. Raises ``VerificationProblem`` with field errors (a
    malformed value on its field; any mismatch as one message on ``code``, saying nothing of
    which part failed), ``VerificationLimited`` (a ``limits.RateLimited``) when the address
    has tried too often.
    """
    mobile, code, last6 = verification_values_clean(mobile=mobile, code=code, id_last6=id_last6)
    charge = limits.Charge("verification-from", ip or "unknown")
    try:
        limits.take(charge)
    except limits.RateLimited as exc:
        raise VerificationLimited(exc.retry_after) from exc
    now = timezone.now()
    live = list(
        Application.objects.filter(
            closed_at__isnull=True,
            status=Status.VERIFICATION,
            verification_mobile=mobile,
            verification_expires_at__gt=now,
            verification_tries__lt=settings.FILING_VERIFICATION_MAX_TRIES,
        )
        .select_related("filing")
        .order_by("id")
    )
    for application in live:
        filing = application.filing
        expected = _code_hash(filing_id=filing.pk, mobile=mobile, code=code)
        if constant_time_compare(expected, application.verification_code_hash) and (
            constant_time_compare(_id_last6(filing.principal_id_number), last6)
        ):
            with transaction.atomic():
                # The filing first, then its application, as every other move locks them.
                locked, current = _locked_open(filing.pk)
                if (
                    current is not None
                    and current.status == Status.VERIFICATION
                    and current.verification_code_hash == expected
                ):
                    return _verified(current, locked, now=now)
            # Moved while this request waited for the lock: a request with the same code
            # confirmed it first (answered below), or a new code replaced this one.
            break
    confirmed = _confirmed_by(mobile=mobile, code=code, last6=last6, now=now)
    if confirmed is not None:
        limits.give_back(charge)
        return confirmed
    if live:
        Application.objects.filter(pk__in=[a.pk for a in live]).update(
            verification_tries=F("verification_tries") + 1
        )
    raise _mismatch()


def _confirmed_by(*, mobile: str, code: str, last6: str, now: dt.datetime) -> Filing | None:
    """The filing whose application ``code`` (sent to ``mobile``, with ``last6``) confirmed,
    while that code would still be valid; None when there is none. The confirmed code's hash
    stays on the application until its next stage, and a code sent after the confirmation
    (submitted again) is never taken for it."""
    since = now - dt.timedelta(hours=settings.FILING_VERIFICATION_HOURS)
    confirmed = (
        Application.objects.filter(
            verification_mobile=mobile,
            verified_at__isnull=False,
            verified_at__gte=F("verification_sent_at"),
            verification_sent_at__gt=since,
        )
        .exclude(status=Status.VERIFICATION)
        .exclude(verification_code_hash="")
        .select_related("filing", "filing__province")
        .order_by("id")
    )
    for application in confirmed:
        filing = application.filing
        expected = _code_hash(filing_id=filing.pk, mobile=mobile, code=code)
        if constant_time_compare(expected, application.verification_code_hash) and (
            constant_time_compare(_id_last6(filing.principal_id_number), last6)
        ):
            return filing
    return None


def _verified(application: Application, filing: Filing, *, now: dt.datetime) -> Filing:
    moves = Moves()
    confirmed_hash = application.verification_code_hash
    application.verified_at = now
    enter_stage(application, filing, bureau_status(application.kind), now=now, moves=moves)
    # Kept until the next stage: the same confirmation sent again answers the same.
    application.verification_code_hash = confirmed_hash
    _save(application, filing)
    moves_send(moves)
    audit(
        actor=None,
        action="application.verified",
        target=filing,
        before={"status": Status.VERIFICATION},
        after={
            "status": filing.status,
            "review_deadline": filing.review_deadline,
            "application": application.pk,
        },
        province=filing.province,
    )
    return filing


@transaction.atomic
def verification_resend(*, filing: Filing, by: User, ip: str | None) -> Filing:
    """A new SMS code for the application waiting for verification, asked by the owner (or
    its provider): the old code stops working and the 24 hours start again. Counted under the
    code limits (``ACCOUNTS_CODE_RATE_PER_RECIPIENT`` per mobile, ``…_PER_IP``); raises
    ``accounts.services.CodeRateLimited`` beyond them, ``FilingError`` (``invalid_state``)
    when nothing waits for verification, ``PermissionDenied`` for anyone else."""
    from accounts.services import code_send_take

    locked, application = _locked_open(filing.pk)
    if locked is None:
        raise FilingError(
            _("There is no application waiting for an SMS code."), code="invalid_state"
        )
    rules.check_actor(locked, by)
    if application is None:
        raise FilingError(
            _("There is no application waiting for an SMS code."), code="invalid_state"
        )
    if application.status != Status.VERIFICATION:
        raise FilingError(
            _("The application is not waiting for an SMS code: it is %(status)s.")
            % {"status": Status(application.status).label},
            code="invalid_state",
        )
    code_send_take(destinations=[locked.principal_mobile], ip=ip)
    now = timezone.now()
    moves = Moves()
    enter_stage(application, locked, Status.VERIFICATION, now=now, moves=moves)
    moves.moved.clear()  # the owner asked: a new code, no notice of a move
    codes_hash(moves)
    _save(application, locked)
    moves_send(moves)
    audit(
        actor=by,
        action="application.verification_resend",
        target=locked,
        after={"application": application.pk, "expires": application.verification_expires_at},
        province=locked.province,
    )
    return locked


def verification_lapse_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Return every application whose SMS verification lapsed (``verification_expires_at``
    passed; a code that used up its tries waits for a new one until then): ``returned``, with the reason on the
    responsible person's mobile, the owner told by SMS and email how to send it again.
    Safe to run again and side by side (rows locked, skipped when taken). Returns how many
    were returned. The beat runs it every few minutes."""
    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            batch = list(
                Application.objects.select_for_update(skip_locked=True, of=("self", "filing"))
                .filter(
                    closed_at__isnull=True,
                    status=Status.VERIFICATION,
                    verification_expires_at__lte=now,
                )
                .select_related("filing", "filing__owner", "filing__province", "provider")
                .order_by("verification_expires_at", "id")[:limit]
            )
            if not batch:
                return done
            moves = Moves()
            entries: list[AuditLog] = []
            for application in batch:
                filing = application.filing
                application.returns = [
                    {
                        "field": VERIFICATION_FIELD,
                        "reason": lapse_reason(),
                    }
                ]
                application.returned_at = now
                enter_stage(application, filing, Status.RETURNED, now=now, moves=moves)
                moves.lapsed.add(application.pk)
                entries.append(
                    audit_entry(
                        actor=None,
                        action="application.verification_lapsed",
                        target=filing,
                        before={"status": Status.VERIFICATION},
                        after={"status": Status.RETURNED, "application": application.pk},
                        province=filing.province,
                    )
                )
            for application in batch:
                application.filing.updated_at = now
            Filing.objects.bulk_update(
                [a.filing for a in batch], ["status", "review_deadline", "updated_at"]
            )
            Application.objects.bulk_update(
                batch,
                [
                    "status",
                    "stage_entered_at",
                    "returns",
                    "returned_at",
                    "verification_code_hash",
                    "verification_expires_at",
                    "verification_tries",
                    "provider_deadline",
                ],
            )
            AuditLog.objects.bulk_create(entries)
            moves_send(moves)
            done += len(batch)
