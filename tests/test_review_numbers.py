"""Filing numbers [contract] stay unique when bureaus approve at the same moment (PostgreSQL)."""

import threading

import pytest
from django.db import connection, connections

from filings.models import Filing, FilingNumberSequence, Website
from filings.numbers import format_sponsor_number
from review.services import filing_approve
from tests.factories import MinistryFactory
from tests.review_support import beijing_reviewer, filing_data

pytestmark = [
    pytest.mark.usefixtures("fast_password_hashing"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency needs PostgreSQL row locks"
    ),
]

PARALLEL = 8


def pending_filings(count):
    """Committed filings waiting for review, one per owner, two websites each."""
    from filings.services import filing_create, filing_save_data, filing_submit
    from tests.factories import UserFactory

    filings = []
    for i in range(count):
        owner = UserFactory()
        websites = [
            {**filing_data(domains=[f"par{i}-{j}.cn"])["websites"][0], "name": f"站{j}"}
            for j in range(2)
        ]
        filing = filing_create(owner=owner)
        filing_save_data(
            filing=filing,
            by=owner,
            data=filing_data(
                name=f"并行审核公司{i}",
                websites=websites,
                mobile=f"1350000{i:04d}",
                email=f"parallel{i}@example.cn",
            ),
        )
        filings.append(filing_submit(filing=filing, by=owner))
    return filings


def approve_all_at_once(filings, reviewers):
    barrier = threading.Barrier(len(filings))
    errors = []

    def run(filing, reviewer):
        try:
            barrier.wait(timeout=20)
            filing_approve(filing=filing, by=reviewer)
        except Exception as exc:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=pair) for pair in zip(filings, reviewers, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_approvals_get_distinct_consecutive_numbers():
    filings = pending_filings(PARALLEL)
    reviewers = [beijing_reviewer() for _ in filings[:4]] + [MinistryFactory() for _ in filings[4:]]

    errors = approve_all_at_once(filings, reviewers)

    assert errors == []
    numbers = list(
        Filing.objects.filter(pk__in=[f.pk for f in filings]).values_list("number", flat=True)
    )
    assert None not in numbers
    assert len(set(numbers)) == PARALLEL
    year = FilingNumberSequence.objects.get(province_id="11").year
    assert sorted(numbers) == [format_sponsor_number("京", year, n) for n in range(1, PARALLEL + 1)]
    website_numbers = list(
        Website.objects.filter(filing__in=filings).values_list("number", flat=True)
    )
    assert len(set(website_numbers)) == 2 * PARALLEL
    assert FilingNumberSequence.objects.get(province_id="11").last_value == PARALLEL


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_reviewers_approving_the_same_filing_at_once_approve_it_once():
    (filing,) = pending_filings(1)
    reviewers = [beijing_reviewer(), MinistryFactory()]

    errors = approve_all_at_once([filing, filing], reviewers)

    assert len(errors) == 1  # the second one finds it already approved
    filing.refresh_from_db()
    assert filing.status == "approved"
    assert FilingNumberSequence.objects.get(province_id="11").last_value == 1
