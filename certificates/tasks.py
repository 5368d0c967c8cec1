"""Compliance checker tasks (queue ``checks``). They take ids, re-read state and only record
results, so running one twice records a second, equally true result."""

from __future__ import annotations

from celery import shared_task
from django.utils import translation

from filings.models import Filing

from .compliance import public_domain_check_record, run_check
from .models import Certificate, ComplianceCheck


@shared_task(name="certificates.check.domain", acks_late=True, soft_time_limit=90)
def check_domain(filing_id: int, domain: str, trigger: str) -> str:
    filing = Filing.objects.filter(Filing.filed_q(), pk=filing_id).first()
    if filing is None:
        return "skipped"
    with translation.override("zh-hans"):
        check = run_check(filing=filing, domain=domain, trigger=trigger)
    return "skipped" if check is None else check.reason


@shared_task(name="certificates.check.public_domain", acks_late=True, soft_time_limit=90)
def check_public_domain(check_id: str, domain: str) -> str:
    """The public page's check of one domain; its answer is kept for the page to show."""
    with translation.override("zh-hans"):
        public_domain_check_record(check_id=check_id, domain=domain)
    return "done"


@shared_task(name="certificates.check.all", acks_late=True)
def check_all() -> int:
    """Queue a check of every domain of every valid certificate (beat, daily)."""
    queued = 0
    rows = (
        Certificate.objects.filter(Filing.filed_q("filing__"), status=Certificate.Status.VALID)
        .order_by("id")
        .values_list("filing_id", "domains")
    )
    for filing_id, domains in rows.iterator(chunk_size=2000):
        for domain in dict.fromkeys(domains):
            check_domain.delay(filing_id, domain, ComplianceCheck.Trigger.PERIODIC)
            queued += 1
    return queued
