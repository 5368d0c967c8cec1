"""A record approved before stays filed while its next application passes the stages before
the bureau (SPEC §12): the public query, gating, the certificate and the annual review go on;
a first filing at those stages is none of these."""

import datetime as dt

import pytest
from django.utils import timezone

from filings.models import Application, Filing
from providers.gating import check_domains
from public.models import AnnualReview
from public.selectors import (
    annual_overdue,
    annual_review_window,
    filing_search,
    filings_due_for_review,
    parse_query,
)
from review.services import filing_revoke
from tests.factories import FilingFactory, MinistryFactory, WebsiteFactory
from tests.test_certificates_support import approved_filing

pytestmark = [pytest.mark.django_db, pytest.mark.stages]

STAGES = [Filing.Status.PROVIDER_REVIEW, Filing.Status.VERIFICATION, Filing.Status.RETURNED]


def at_stage(filing: Filing, status: str, *, kind: str) -> Filing:
    """``filing`` with an open application of ``kind`` at ``status``, as the stages leave it."""
    now = timezone.now()
    Application.objects.create(
        filing=filing, kind=kind, status=status, submitted_at=now, stage_entered_at=now
    )
    Filing.objects.filter(pk=filing.pk).update(status=status, submitted_at=now)
    filing.refresh_from_db()
    return filing


@pytest.fixture(params=STAGES)
def amended(request):
    """Approved two years ago, an amendment at one of the stages."""
    filing = approved_filing(domains=("amended-site.cn",))
    two_years_ago = timezone.now() - dt.timedelta(days=730)
    Filing.objects.filter(pk=filing.pk).update(
        first_approved_at=two_years_ago, approved_at=two_years_ago
    )
    return at_stage(filing, request.param, kind=Application.Kind.AMENDMENT)


@pytest.fixture(params=STAGES)
def first_filing(request):
    """A first filing at one of the stages: never approved."""
    filing = FilingFactory(status=Filing.Status.DRAFT)
    filing.submitted_by = filing.owner
    filing.save(update_fields=["submitted_by"])
    WebsiteFactory(filing=filing, homepage="http://first-site.cn/", domains=["first-site.cn"])
    return at_stage(filing, request.param, kind=Application.Kind.NEW)


def test_an_amended_record_at_a_stage_is_still_found_by_the_public_query(amended):
    result = filing_search(parse_query("amended-site.cn"))
    assert result.count == 1
    assert amended.is_filed
    assert Filing.objects.filter(Filing.filed_q(), pk=amended.pk).exists()


def test_gating_answers_filed_for_an_amended_record_at_a_stage(amended):
    (answer,) = check_domains(["www.amended-site.cn"])
    assert answer.filed is True
    assert answer.status == amended.status


def test_the_owner_still_downloads_the_certificate_of_an_amended_record_at_a_stage(client, amended):
    client.force_login(amended.owner)
    response = client.get(f"/certificates/{amended.pk}/bazs.cert")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="bazs.cert"'


def test_the_annual_review_of_an_amended_record_at_a_stage_is_still_due(amended):
    window = annual_review_window(timezone.localdate().year + 1)
    assert filings_due_for_review(window).filter(pk=amended.pk).exists()
    AnnualReview.objects.create(filing=amended, year=window.year, overdue_flagged_at=timezone.now())
    assert list(annual_overdue()) == [AnnualReview.objects.get(filing=amended)]


def test_the_bureau_may_revoke_an_amended_record_at_a_stage(amended):
    revoked = filing_revoke(filing=amended, by=MinistryFactory(), reason="冒用他人信息")
    assert revoked.status == Filing.Status.REVOKED
    assert not Application.objects.filter(filing=amended, closed_at__isnull=True).exists()
    (answer,) = check_domains(["amended-site.cn"])
    assert answer.filed is False


def test_a_first_filing_at_a_stage_is_not_filed_anywhere(client, first_filing):
    assert not first_filing.is_filed
    assert not Filing.objects.filter(Filing.filed_q(), pk=first_filing.pk).exists()
    assert filing_search(parse_query("first-site.cn")).count == 0
    (answer,) = check_domains(["first-site.cn"])
    assert answer.filed is False
    client.force_login(first_filing.owner)
    assert client.get(f"/certificates/{first_filing.pk}/bazs.cert").status_code == 404
    window = annual_review_window(timezone.localdate().year + 1)
    assert not filings_due_for_review(window).filter(pk=first_filing.pk).exists()
    AnnualReview.objects.create(
        filing=first_filing, year=window.year, overdue_flagged_at=timezone.now()
    )
    assert not annual_overdue().exists()


def test_the_bureau_may_not_revoke_a_first_filing_at_a_stage(first_filing):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        filing_revoke(filing=first_filing, by=MinistryFactory(), reason="冒用他人信息")


def test_the_owner_of_a_first_filing_at_a_stage_has_no_annual_review(first_filing):
    from public.selectors import annual_review_status
    from public.services import AnnualReviewError, annual_review_confirm

    assert annual_review_status(filing=first_filing) is None
    with pytest.raises(AnnualReviewError):
        annual_review_confirm(filing=first_filing, by=first_filing.owner)


def test_the_owner_of_an_amended_record_at_a_stage_sees_the_annual_review(amended):
    from public.selectors import annual_review_status

    assert annual_review_status(filing=amended) is not None
