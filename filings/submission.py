"""Submitting filings for review (SPEC §3, Q1, Q17, Q19): what follows the checks.

``filing_submit_many`` takes a list of ``Submission`` requests, as Zulip's
``do_send_messages`` takes its requests: the wizard and the owner's API submit a list of one
(``filings.services.filing_submit``), a provider import a chunk of rows. Every request gets the
same effects — the working copy, the status and deadline, conflicts, the version, the audit
row and the owner's emails, and its open application (``filings.applications``) — in a
constant number of queries for the new filings of the list.

The working-copy writer (``working_copy_sponsor``, ``working_copy_website``) is shared by the
submission and by the bureau restoring approved data (``filing_working_copy_replace``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from beian.audit import audit_entry
from beian.delivery import Email, queue_emails
from beian.models import AuditLog, Province
from beian.normalforms.apps import identifier_key
from beian.normalforms.domains import homepage_key
from beian.normalforms.names import name_key

from .applications import Opening, applications_open_many
from .conflicts import detect_conflicts_many
from .identities import OTHER_PARTS, known_other_services, known_websites, match_websites
from .models import (
    Access,
    Application,
    Conflict,
    Domain,
    Filing,
    FilingDraft,
    FilingVersion,
    Identifier,
    PreApproval,
    PublishedWebsite,
    Website,
)
from .serializers import ServiceRows, filing_as_json, filing_rows_as_json
from .stages import (
    Moves,
    data_digest,
    moves_send,
    next_stage,
    submission_deadline,
)
from .validation import approved_services, coerce_data, first_review_provider, website_accesses

# The working copy ----------------------------------------------------------------------------

# A website of the working copy with its domain, pre-approval and access rows, in order.
WebsiteRows = tuple[Website, list[Domain], list[PreApproval], list[Access]]


def working_copy_sponsor(filing: Filing, canonical: dict[str, Any], province) -> None:
    """Set the sponsor's fields of ``filing`` from valid data (SPEC §10 shape), unsaved;
    ``province`` is the ``Province`` row its code names (or None)."""
    sponsor = canonical["sponsor"]
    principal = sponsor["principal"]
    filing.sponsor_nature = sponsor["nature"]
    filing.sponsor_name = sponsor["name"]
    filing.sponsor_name_key = name_key(sponsor["name"])
    filing.sponsor_id_type = sponsor["id_type"]
    filing.sponsor_id_number = sponsor["id_number"]
    filing.province = province
    filing.sponsor_address = sponsor["address"]
    filing.principal_name = principal["name"]
    filing.principal_id_type = principal["id_type"]
    filing.principal_id_number = principal["id_number"]
    filing.principal_mobile = principal["mobile"]
    filing.principal_email = principal["email"]
    filing.has_preapproval = any(
        item["preapprovals"]
        for part in ("websites", *OTHER_PARTS)
        for item in canonical.get(part, [])
    )


def _preapproval_rows(service: Website, item: dict[str, Any]) -> list[PreApproval]:
    """The pre-approval rows of one valid service of filing data, unsaved."""
    return [
        PreApproval(
            website=service,
            category=p["category"],
            authority=p["authority"],
            document_number=p["document_number"],
            document_id=p["document"],
        )
        for p in item["preapprovals"]
    ]


def _access_rows(service: Website, filing: Filing, accesses: list[dict]) -> list[Access]:
    """The access rows of one service, in order, from its accesses in the filing JSON's shape
    (SPEC §12), unsaved."""
    return [
        Access(
            website=service,
            filing=filing,
            position=i,
            provider_id=a["provider"] if isinstance(a["provider"], int) else None,
            method=a["method"],
            server_location=a["server_location"],
            ips=a["ips"],
        )
        for i, a in enumerate(accesses)
    ]


def working_copy_website(
    website: Website, filing: Filing, position: int, item: dict[str, Any]
) -> tuple[list[Domain], list[PreApproval], list[Access]]:
    """Set a website's fields from one valid website of SPEC §10 data, unsaved; returns its
    domain rows (in order), pre-approval rows and access rows (in order, SPEC §12), unsaved."""
    website.position = position
    website.name = item["name"]
    website.homepage = item["homepage"]
    website.homepage_key = homepage_key(item["homepage"])
    website.services = item["services"]
    website.commercial = item["commercial"]
    domains = [
        Domain(website=website, filing=filing, name=name, position=i)
        for i, name in enumerate(item["domains"])
    ]
    preapprovals = _preapproval_rows(website, item)
    accesses = _access_rows(website, filing, website_accesses(item))
    return domains, preapprovals, accesses


def working_copy_other_service(
    service: Website, filing: Filing, position: int, item: dict[str, Any]
) -> tuple[list[Identifier], list[PreApproval], list[Access]]:
    """Set an app's or a mini-program's fields (``service.kind`` says which) from one valid
    item of SPEC §13 data, unsaved; returns its identifier rows (an app's platforms in order,
    a mini-program's host and id), pre-approval rows and access rows (an app's, in order),
    unsaved."""
    service.position = position
    service.name = item["name"]
    service.services = item["services"]
    service.commercial = item["commercial"]
    if service.kind == Website.Kind.APP:
        service.app_domains = item["domains"]
        service.stores = item["stores"]
        entries = [
            (p["platform"], p["identifier"], p["public_key"], p["fingerprint"])
            for p in item["platforms"]
        ]
    else:
        entries = [(item["platform"], item["platform_id"], "", "")]
    identifiers = [
        Identifier(
            service=service,
            filing=filing,
            position=i,
            platform=platform,
            identifier=identifier,
            key=identifier_key(platform, identifier),
            public_key=public_key,
            fingerprint=fingerprint,
        )
        for i, (platform, identifier, public_key, fingerprint) in enumerate(entries)
    ]
    preapprovals = _preapproval_rows(service, item)
    accesses = _access_rows(service, filing, item.get("accesses") or [])
    return identifiers, preapprovals, accesses


def deadline_before_application(filing: Filing) -> date | None:
    """The bureau's deadline ``filing`` carried before its open application: that of its last
    approval, as its last approved version recorded it; None for a record never approved (or
    approved before versions were kept). A withdrawal or a refusal puts it back, so that the
    record is left as it was before the application (SPEC §12) and carries no deadline of the
    application closed."""
    recorded = (
        FilingVersion.objects.filter(filing=filing, kind=FilingVersion.Kind.APPROVED)
        .order_by("-seq")
        .values_list("data__review_deadline", flat=True)
        .first()
    )
    return date.fromisoformat(recorded) if isinstance(recorded, str) and recorded else None


def filing_working_copy_replace(
    *, filing: Filing, data: dict[str, Any], restore: bool = False
) -> None:
    """Write ``data`` (already valid, SPEC §10 shape) into the working copy rows of a saved
    filing, saving the filing itself too.

    Each website of ``data`` is written into the row it is (``identities.match_websites``:
    by id, then by number, then by a domain of an approved website it would otherwise lose),
    so a website keeps its id and its number whatever path the data took; a website that is
    none of them gets a new row, and rows ``data`` leaves out are deleted (a website the owner
    removed, or one a ``cancel_website`` application cancels). Used by submission, and
    (``restore``) to put the approved data back (from the last approved ``FilingVersion``)
    when the bureau refuses an application or the owner withdraws it: a numbered website the
    application had taken out comes back with its number, and its published row finds it
    again.
    """
    canonical = coerce_data(data)
    province = Province.objects.filter(code=canonical["sponsor"]["province"]).first()
    working_copy_sponsor(filing, canonical, province)
    filing.save()

    rows = {w.pk: w for w in Website.objects.filter(filing=filing)}
    matched = match_websites(canonical["websites"], known_websites(filing, list(rows.values())))
    kept: list[int] = []
    domains: list[Domain] = []
    preapprovals: list[PreApproval] = []
    accesses: list[Access] = []
    for position, (item, row) in enumerate(zip(canonical["websites"], matched, strict=True)):
        website = rows[row.pk] if row is not None else Website(filing=filing)
        if restore and item["number"] and not website.number:
            website.number = item["number"]
        website_domains, website_preapprovals, website_accesses_ = working_copy_website(
            website, filing, position, item
        )
        website.save()
        if restore and website.number:
            PublishedWebsite.objects.filter(
                filing=filing, website_number=website.number, website__isnull=True
            ).update(website=website)
        kept.append(website.pk)
        domains.extend(website_domains)
        preapprovals.extend(website_preapprovals)
        accesses.extend(website_accesses_)
    identifiers: list[Identifier] = []
    other_rows = known_other_services(filing)
    for part, kind in OTHER_PARTS.items():
        items = canonical[part]
        for position, (item, row) in enumerate(
            zip(items, match_websites(items, other_rows[kind]), strict=True)
        ):
            service = (
                Website.every_kind.get(pk=row.pk)
                if row is not None
                else Website(filing=filing, kind=kind)
            )
            if restore and item["number"] and not service.number:
                service.number = item["number"]
            service_identifiers, service_preapprovals, service_accesses = (
                working_copy_other_service(service, filing, position, item)
            )
            service.save()
            if restore and service.number:
                PublishedWebsite.objects.filter(
                    filing=filing, website_number=service.number, website__isnull=True
                ).update(website=service)
            kept.append(service.pk)
            identifiers.extend(service_identifiers)
            preapprovals.extend(service_preapprovals)
            accesses.extend(service_accesses)
    Website.every_kind.filter(filing=filing).exclude(pk__in=kept).delete()
    Domain.objects.filter(filing=filing).delete()
    Identifier.objects.filter(filing=filing).delete()
    PreApproval.objects.filter(website__filing=filing).delete()
    Access.objects.filter(filing=filing).delete()
    Domain.objects.bulk_create(domains)
    Identifier.objects.bulk_create(identifiers)
    PreApproval.objects.bulk_create(preapprovals)
    Access.objects.bulk_create(accesses)


@dataclass
class RecordRows:
    """A new filing's rows, as written: its websites (each with its domains, pre-approvals
    and accesses) and its apps and mini-programs (each with its identifiers, pre-approvals
    and accesses), in order."""

    websites: list[WebsiteRows]
    services: list[ServiceRows]


def _new_working_copies(submissions: list[Submission], new: set[int]) -> dict[int, RecordRows]:
    """Insert the new filings (``new``: positions in ``submissions``) with their websites,
    apps and mini-programs, domains, identifiers, pre-approvals and accesses, seven inserts
    for the whole list; each one's rows by its position."""
    inserted = [(i, s) for i, s in enumerate(submissions) if i in new]
    if not inserted:
        return {}
    codes = {s.data["sponsor"]["province"] for _i, s in inserted}
    provinces = {p.pk: p for p in Province.objects.filter(pk__in=codes)}
    rows: dict[int, RecordRows] = {}
    for i, submission in inserted:
        canonical = coerce_data(submission.data)
        filing = submission.filing
        working_copy_sponsor(filing, canonical, provinces.get(canonical["sponsor"]["province"]))
        rows[i] = RecordRows(websites=[], services=[])
        for position, item in enumerate(canonical["websites"]):
            website = Website(filing=filing)
            domains, preapprovals, accesses = working_copy_website(website, filing, position, item)
            rows[i].websites.append((website, domains, preapprovals, accesses))
        for part, kind in OTHER_PARTS.items():
            for position, item in enumerate(canonical[part]):
                service = Website(filing=filing, kind=kind)
                identifiers, preapprovals, accesses = working_copy_other_service(
                    service, filing, position, item
                )
                rows[i].services.append((service, identifiers, preapprovals, accesses))
    Filing.objects.bulk_create([s.filing for _i, s in inserted])
    websites = [w for each in rows.values() for w in each.websites]
    services = [w for each in rows.values() for w in each.services]
    Website.objects.bulk_create(
        [w for w, _d, _p, _a in websites] + [s for s, _i, _p, _a in services]
    )
    Domain.objects.bulk_create([d for _w, ds, _p, _a in websites for d in ds])
    Identifier.objects.bulk_create([i for _s, ids, _p, _a in services for i in ids])
    PreApproval.objects.bulk_create(
        [p for _w, _d, ps, _a in websites for p in ps]
        + [p for _s, _i, ps, _a in services for p in ps]
    )
    Access.objects.bulk_create(
        [a for _w, _d, _p, accs in websites for a in accs]
        + [a for _s, _i, _p, accs in services for a in accs]
    )
    return rows


def filing_version_record(*, filing: Filing, kind: str, by) -> FilingVersion:
    """Snapshot the working copy of a saved filing as its next version (``seq`` one more
    than the last), with who made it; the SPEC §10 JSON of ``filing_as_json``."""
    last = FilingVersion.objects.filter(filing=filing).aggregate(m=Max("seq"))["m"] or 0
    return FilingVersion.objects.create(
        filing=filing, seq=last + 1, kind=kind, data=filing_as_json(filing), created_by=by
    )


# Submission -----------------------------------------------------------------------------------


@dataclass
class Submission:
    """One filing to submit: a request of ``filing_submit_many``.

    - ``filing``: a saved filing locked by the caller, or a new one not yet saved (no pk),
      its ``owner`` (saved) and ``filed_by_provider`` set; the submission inserts it.
    - ``by``: the account submitting (the owner, or staff of the provider filing for it).
    - ``data``: the data to submit in the SPEC §10 shape, already valid (what
      ``validate_filing_data`` returned).
    - ``draft``: the saved changes the submission consumes (deleted with it), if any.
    - ``also_audit``: the caller's own audit row for the submitted filing (an import's
      ``provider.import_client``), given the filing once it has its pk; written in the same
      insert as the submission's.
    - ``checklist``: what the submitting provider attests it checked (an import row's).

    ``kind`` says which application this is; ``filing_submit_many`` decides from it where
    the filing goes next (``stages.next_stage``).
    """

    NEW = Application.Kind.NEW.value
    AMENDMENT = Application.Kind.AMENDMENT.value

    filing: Filing
    by: User
    data: dict[str, Any]
    draft: FilingDraft | None = None
    also_audit: Callable[[Filing], AuditLog] | None = None
    # What the provider submitting for its client checked (``stages.CHECKLIST`` codes): a
    # filing its own first-reviewing provider submits has passed that review (SPEC §12).
    checklist: list[str] | None = None
    # The application's kind when it changes one part of the record (``filings.changes``:
    # ``new_access``, ``cancel_access``, ``cancel_website``), and the reason given for it.
    application_kind: str | None = None
    reason: str = ""

    @property
    def is_new(self) -> bool:
        """Whether the filing is not in the database yet."""
        return self.filing.pk is None

    @property
    def kind(self) -> str:
        """``application_kind`` when given; else ``amendment`` for a filing approved before
        (its approved data stays public while the amendment waits), ``new`` otherwise (a
        first filing, or one rejected before its first approval)."""
        if self.application_kind is not None:
            return self.application_kind
        return self.AMENDMENT if self.filing.first_approved_at is not None else self.NEW


def _openings(
    submissions: list[Submission], new: set[int], *, now: datetime
) -> tuple[list[Opening], dict[int, Application]]:
    """Each submission's application to open or update (SPEC §12), in order, with the stage
    it enters, and the open applications of the filings saved before (by filing id).

    The first review is skipped when the provider that reviews it submits it (an import, or
    its staff for a client), and when the data is what that provider passed before (submitted
    again unchanged after a lapsed SMS verification)."""
    saved = [s.filing.pk for i, s in enumerate(submissions) if i not in new]
    existing = (
        {a.filing_id: a for a in Application.objects.filter(filing_id__in=saved, closed_at=None)}
        if saved
        else {}
    )
    openings = []
    for submission in submissions:
        filing, by = submission.filing, submission.by
        approved = approved_services(filing) if filing.first_approved_at is not None else None
        served = [*submission.data["websites"], *submission.data.get("apps", [])]
        provider_id = first_review_provider(submission.kind, served, approved)
        digest = data_digest(coerce_data(submission.data))
        before = existing.get(filing.pk)
        by_provider = (
            provider_id is not None
            and by.role == by.Role.PROVIDER
            and by.provider_id == provider_id
        )
        passed_before = (
            before is not None
            and before.kind == submission.kind
            and before.provider_id == provider_id
            and bool(before.passed_digest)
            and before.passed_digest == digest
        )
        openings.append(
            Opening(
                filing=filing,
                kind=submission.kind,
                status=next_stage(
                    submission.kind,
                    provider_id=provider_id,
                    provider_passed=by_provider or passed_before,
                ),
                provider_id=provider_id,
                by=by,
                at=now,
                passed_by=by if by_provider else None,
                checklist=submission.checklist,
                digest=digest,
                reason=submission.reason,
            )
        )
    return openings, existing


def _mark_submitted(submission: Submission, opening: Opening, *, now: datetime) -> None:
    filing = submission.filing
    filing.status = opening.status
    filing.submitted_at = now
    filing.submitted_by = submission.by
    # The bureau's 20 working days count from arrival at the bureau (Q1, SPEC §12).
    filing.review_deadline = (
        submission_deadline(now) if opening.status in Filing.OPEN_STATUSES else None
    )
    filing.rejection_reason = ""


def _new_conflicts(submissions: list[Submission], new: set[int]) -> list[list[Conflict]]:
    """Each filing's conflicts as its submission found them, in the order of ``submissions``.

    The filings are submitted in their order: a conflict with a later filing of the list is
    that filing's new conflict (and the mirror notice here), as if they had been submitted
    one after another. ``has_open_conflicts`` is set on each filing as it stands after all.
    """
    filings = [s.filing for s in submissions]
    found = detect_conflicts_many(filings)
    position = {f.pk: i for i, f in enumerate(filings)}
    saved_before = [s.filing.pk for i, s in enumerate(submissions) if i not in new]
    flags = dict(
        Filing.objects.filter(pk__in=saved_before).values_list("pk", "has_open_conflicts")
        if saved_before
        else ()
    )
    for filing in filings:
        filing.has_open_conflicts = flags.get(filing.pk, bool(found[filing.pk]))
    return [
        [c for c in found[f.pk] if position.get(c.other_filing_id, -1) < i]
        for i, f in enumerate(filings)
    ]


def _versions(
    submissions: list[Submission],
    rows: dict[int, RecordRows],
    conflicts: list[list[Conflict]],
    applications: list[Application],
) -> list[FilingVersion]:
    """The ``submitted`` version of each filing, inserted together: a new filing's from the
    rows in hand (what ``filing_as_json`` reads back), a saved one's read from the database."""
    saved = [s.filing.pk for i, s in enumerate(submissions) if i not in rows]
    last = dict(
        FilingVersion.objects.filter(filing_id__in=saved)
        .values("filing_id")
        .annotate(m=Max("seq"))
        .values_list("filing_id", "m")
        if saved
        else ()
    )
    versions = []
    for i, submission in enumerate(submissions):
        filing = submission.filing
        if i in rows:
            data = filing_rows_as_json(
                filing,
                websites=rows[i].websites,
                open_conflicts=conflicts[i],
                application=applications[i],
                services=rows[i].services,
            )
        else:
            data = filing_as_json(filing)
        versions.append(
            FilingVersion(
                filing=filing,
                seq=(last.get(filing.pk) or 0) + 1,
                kind=FilingVersion.Kind.SUBMITTED,
                data=data,
                created_by=submission.by,
            )
        )
    FilingVersion.objects.bulk_create(versions)
    return versions


def _audit(
    submissions: list[Submission],
    befores: list[dict],
    versions: list[FilingVersion],
    applications: list[Application],
) -> None:
    entries = []
    for submission, before, version, application in zip(
        submissions, befores, versions, applications, strict=True
    ):
        filing = submission.filing
        entries.append(
            audit_entry(
                actor=submission.by,
                action="filing.submit",
                target=filing,
                before=before,
                after={
                    "status": filing.status,
                    "review_deadline": filing.review_deadline,
                    "version": version.seq,
                    "application": application.pk,
                },
                province=filing.province,
            )
        )
        if submission.also_audit is not None:
            entries.append(submission.also_audit(filing))
    AuditLog.objects.bulk_create(entries)


def _owner_emails(submissions: list[Submission], conflicts: list[list[Conflict]]) -> None:
    """The owner is told the submission arrived, with its deadline, and about the conflicts it
    found, if any."""
    emails = []
    for submission, found in zip(submissions, conflicts, strict=True):
        filing = submission.filing
        owner = filing.owner
        at_bureau = filing.status in Filing.OPEN_STATUSES
        context = {
            "filing": filing,
            "owner": owner,
            "sponsor_name": filing.sponsor_name,
            # The lazy label, read in the owner's language when the email is rendered (an
            # import runs in English).
            "status_label": Filing.Status(filing.status).label,
            # ISO dates read the same in every language.
            "review_deadline": filing.review_deadline.isoformat() if at_bureau else "",
            "province": filing.province,
        }
        if at_bureau:
            # A stage before the bureau is told by the move's own email (``filings.stages``).
            emails.append(
                Email(
                    to=owner.email,
                    template="filing_submitted",
                    context=context,
                    language=owner.language,
                )
            )
        if found:
            emails.append(
                Email(
                    to=owner.email,
                    template="filing_conflict",
                    context={**context, "conflicts": found},
                    language=owner.language,
                )
            )
    queue_emails(emails)


# All or nothing with the caller's transaction: no savepoint of its own.
@transaction.atomic(savepoint=False)
def filing_submit_many(submissions: list[Submission]) -> list[Filing]:
    """Submit each filing of ``submissions``, in order, for review; their checks (who, which
    status, valid data) are the caller's. Returns the filings, in order.

    Each filing gets ``data`` as its working copy (saved changes consumed), the first stage
    its application enters (``stages.next_stage``: the provider's first review, the SMS
    verification, or the bureau's ``pending_review`` / ``amendment_pending``, approved data
    staying public meanwhile), its submission time, the bureau's deadline 20 working days on
    when it reaches the bureau (Q1; submitting again restarts it, Q19), its open application (opened, or updated when submitted again
    before the decision; SPEC §12), its conflicts (Q17), a ``submitted`` version, a
    ``filing.submit`` audit row and the owner's emails, sent after commit. Raises
    ``FilingError`` (``application_open``) for a filing with an open application of another
    kind. New filings are written with bulk
    inserts: the list costs a constant number of queries, plus a few for each filing saved
    before. A filing appears at most once in the list.
    """
    if not submissions:
        return []
    now = timezone.now()
    new = {i for i, s in enumerate(submissions) if s.is_new}
    openings, existing = _openings(submissions, new, now=now)
    befores = []
    for i, (submission, opening) in enumerate(zip(submissions, openings, strict=True)):
        filing = submission.filing
        befores.append({"status": filing.status, "review_deadline": filing.review_deadline})
        _mark_submitted(submission, opening, now=now)
        if i not in new:
            filing_working_copy_replace(filing=filing, data=submission.data)
            if submission.draft is not None:
                submission.draft.delete()
    rows = _new_working_copies(submissions, new)
    moves = Moves()
    applications = applications_open_many(openings, existing=existing, moves=moves)
    conflicts = _new_conflicts(submissions, new)
    versions = _versions(submissions, rows, conflicts, applications)
    _audit(submissions, befores, versions, applications)
    _owner_emails(submissions, conflicts)
    # Reaching the bureau on submission is told by the submission's own email.
    moves.moved = [(a, f) for a, f in moves.moved if f.status not in Filing.OPEN_STATUSES]
    moves_send(moves)
    return [s.filing for s in submissions]
