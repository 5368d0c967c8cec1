"""Empty shells (空壳网站, SPEC §12): approved websites whose last access was cancelled.

The approval that leaves a website without access flags it (``review.services._approve``) and
tells its owner that it will be cancelled after the notice period
(``FILING_SHELL_NOTICE_DAYS``) unless a new access is filed. The bureau lists the shells of its
province (``shells_in_scope``) and cancels those past their notice in one audited batch
(``shells_cancel_due``): each filing's shells leave its approved data, the public query and
gating, and its certificate is re-issued without them; a record left with no website is revoked
as Q21 has it (account deactivated, certificate revoked, providers told).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import User
from beian.audit import audit
from certificates.services import certificate_issue
from filings.changes import approved_data
from filings.models import Access, Application, Filing, FilingVersion, Website
from filings.publishing import publish
from filings.reasons import shells_revoked_reason
from filings.submission import filing_version_record, filing_working_copy_replace
from providers.services import notify_filing_event

from .scope import OutOfScope, is_ministry, is_reviewer, province_code_of
from .services import _email_owner, _locked, _published_providers, _revoke

__all__ = ["ShellRun", "shell_cutoff", "shells_cancel_due", "shells_in_scope"]


def shell_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Shells flagged at or before this moment are past their notice period."""
    return (now or timezone.now()) - dt.timedelta(days=settings.FILING_SHELL_NOTICE_DAYS)


def shells_in_scope(user, *, province: str | None = None) -> QuerySet[Website]:
    """The empty shells the reviewer may see (its province; the ministry every province, or
    ``province``), oldest first, with their filing; ``website_shell_idx`` serves it. Empty
    for anyone but a reviewer."""
    if not is_reviewer(user):
        return Website.every_kind.none()
    rows = (
        Website.every_kind.filter(shell_since__isnull=False)
        .exclude(number=None)
        .exclude(filing__status=Filing.Status.REVOKED)
        .select_related("filing", "filing__province")
        .order_by("shell_since", "id")
    )
    scope = province_code_of(user) or province
    return rows.filter(filing__province_id=scope) if scope else rows


@dataclass
class ShellRun:
    """What one batch did: the website numbers cancelled, the filing numbers revoked (their
    last website was a shell), and the filings left for later because an application is open
    (a new access may be on its way)."""

    cancelled: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _cancel_shells(locked: Filing, shells: list[Website], *, by: User, now) -> None:
    """Take ``shells`` out of the approved data of ``locked`` (it has other websites)."""
    data = approved_data(locked)
    gone = {w.number for w in shells}
    for part in ("websites", "apps"):
        data[part] = [w for w in data[part] if w["number"] not in gone]
    providers_before = _published_providers(locked)
    filing_working_copy_replace(filing=locked, data=data)
    locked.approved_at = now
    locked.save(update_fields=["approved_at", "updated_at"])
    version = filing_version_record(filing=locked, kind=FilingVersion.Kind.APPROVED, by=by)
    publish(filing=locked)
    audit(
        actor=by,
        action="shell.cancel",
        target=locked,
        before={"websites": sorted(gone)},
        after={"cancelled": sorted(gone), "version": version.seq},
        province=locked.province_id,
    )
    _email_owner(
        locked,
        "shells_cancelled",
        websites=[{"number": w.number, "name": w.name, "homepage": w.homepage} for w in shells],
    )
    certificate_issue(filing=locked)
    notify_filing_event(
        filing=locked,
        event="website_cancelled",
        also=sorted(providers_before - _published_providers(locked)),
    )


@transaction.atomic
def shells_cancel_due(*, by: User, province: str | None = None, now=None) -> ShellRun:
    """Cancel every empty shell of the caller's province (the ministry: ``province``, or every
    province) whose notice period has passed and that still has no access (SPEC §12), one
    filing after another under its row lock, all in one transaction. A filing with an open
    application is left for a later batch. Raises ``OutOfScope`` for anyone but a reviewer.
    """
    if not is_reviewer(by):
        raise OutOfScope
    now = now or timezone.now()
    due = shells_in_scope(by, province=province).filter(shell_since__lte=shell_cutoff(now))
    run = ShellRun()
    for filing_id in sorted(set(due.values_list("filing_id", flat=True))):
        locked = _locked(Filing(pk=filing_id))
        if not is_ministry(by) and locked.province_id != by.province_id:
            continue
        if Application.objects.filter(filing=locked, closed_at__isnull=True).exists():
            run.skipped.append(locked.number or str(locked.pk))
            continue
        with_access = Access.objects.filter(website=OuterRef("pk"))
        shells = list(
            Website.every_kind.filter(
                filing=locked, shell_since__lte=shell_cutoff(now), number__isnull=False
            ).exclude(Exists(with_access))
        )
        if not shells or not locked.is_filed:
            continue
        remaining = Website.every_kind.filter(filing=locked).exclude(number=None).count()
        if remaining <= len(shells):
            _revoke(
                locked,
                by=by,
                reason=shells_revoked_reason(),
                action="shell.revoke",
            )
            run.revoked.append(locked.number)
            continue
        _cancel_shells(locked, shells, by=by, now=now)
        run.cancelled.extend(w.number for w in shells)
    return run
