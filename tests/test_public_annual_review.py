"""Annual review (年度审核, Q9): the window, the reminders, confirmation, overdue flags."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from beian.models import AuditLog
from filings.models import Filing
from public.models import AnnualReview, AnnualReviewWindow
from public.selectors import annual_overdue, annual_overdue_counts, annual_review_window
from public.services import annual_review_confirm
from public.tasks import annual_review_daily
from tests.factories import BureauFactory, MinistryFactory, UserFactory
from tests.public_support import approved_filing, local, sign_in_with_otp

pytestmark = pytest.mark.django_db


def on(*args, **kwargs):
    """Freeze the clock at a moment in Asia/Shanghai."""
    return time_machine.travel(local(*args, **kwargs), tick=False)


@pytest.fixture
def filing():
    """Approved in 2026: reviewed in the 2027 window."""
    return approved_filing(approved_at=local(2026, 6, 1), sponsor_name="年审示例有限公司")


def reminders(outbox_messages, user):
    return outbox_messages(to=user.email), outbox_messages(to=user.mobile)


# The window ---------------------------------------------------------------------------------------


def test_the_default_window_is_1_january_to_31_march():
    window = annual_review_window(2027)
    assert (window.starts_on, window.ends_on) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))


def test_the_default_window_comes_from_the_settings(settings):
    settings.ANNUAL_REVIEW_START = "02-01"
    settings.ANNUAL_REVIEW_END = "04-30"
    window = annual_review_window(2027)
    assert (window.starts_on, window.ends_on) == (dt.date(2027, 2, 1), dt.date(2027, 4, 30))


def test_the_ministry_may_set_another_window_for_a_year():
    AnnualReviewWindow.objects.create(
        year=2027, starts_on=dt.date(2027, 3, 1), ends_on=dt.date(2027, 5, 31)
    )
    assert annual_review_window(2027).ends_on == dt.date(2027, 5, 31)
    assert annual_review_window(2028).ends_on == dt.date(2028, 3, 31)


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field"),
    [
        (dt.date(2026, 12, 1), dt.date(2027, 3, 31), "starts_on"),
        (dt.date(2027, 1, 1), dt.date(2028, 1, 31), "ends_on"),
        (dt.date(2027, 3, 1), dt.date(2027, 2, 1), "ends_on"),
    ],
)
def test_a_window_lies_within_its_year_and_closes_after_it_opens(starts_on, ends_on, field):
    with pytest.raises(ValidationError) as error:
        AnnualReviewWindow(year=2027, starts_on=starts_on, ends_on=ends_on).full_clean()
    assert field in error.value.message_dict


def test_a_malformed_default_window_stops_the_process():
    from django.core.exceptions import ImproperlyConfigured

    from public.selectors import parse_month_day

    with pytest.raises(ImproperlyConfigured, match="ANNUAL_REVIEW_END"):
        parse_month_day("ANNUAL_REVIEW_END", "31-03")


# Opening and reminders ------------------------------------------------------------------------------


def test_nothing_happens_before_the_window_opens(filing, outbox_messages):
    with on(2026, 12, 31):
        annual_review_daily()
    assert not AnnualReview.objects.exists()
    assert reminders(outbox_messages, filing.owner) == ([], [])


def test_the_window_opens_and_reminds_each_owner_once_by_email_and_sms(filing, outbox_messages):
    with on(2027, 1, 1, 8, 5):
        annual_review_daily()
        annual_review_daily()
    with on(2027, 1, 2, 8, 5):
        annual_review_daily()
    review = AnnualReview.objects.get(filing=filing)
    assert review.year == 2027 and review.reminded_open_at is not None
    emails, sms = reminders(outbox_messages, filing.owner)
    assert len(emails) == 1 and len(sms) == 1
    assert "2027" in emails[0]["subject"]
    assert "2027-03-31" in emails[0]["body"] and filing.number in emails[0]["body"]
    assert "/annual-review/" in sms[0]["body"]


def test_only_filings_approved_before_the_window_are_reviewed(filing):
    pending = approved_filing(approved_at=local(2026, 6, 1))
    Filing.objects.filter(pk=pending.pk).update(status=Filing.Status.REVOCATION_PENDING)
    revoked = approved_filing(approved_at=local(2026, 6, 1))
    Filing.objects.filter(pk=revoked.pk).update(status=Filing.Status.REVOKED)
    with on(2027, 1, 10):
        newcomer = approved_filing(approved_at=local(2027, 1, 10))
        annual_review_daily()
    reviewed = set(AnnualReview.objects.values_list("filing_id", flat=True))
    assert reviewed == {filing.pk}
    assert newcomer.pk not in reviewed


def test_the_second_reminder_goes_two_weeks_before_the_end_once(filing, outbox_messages):
    confirmed_owner_filing = approved_filing(approved_at=local(2026, 6, 1))
    with on(2027, 1, 1):
        annual_review_daily()
        annual_review_confirm(filing=confirmed_owner_filing, by=confirmed_owner_filing.owner)
    with on(2027, 3, 16):
        annual_review_daily()
    assert len(outbox_messages(to=filing.owner.email)) == 1
    for day in (17, 18, 31):
        with on(2027, 3, day):
            annual_review_daily()
    emails, sms = reminders(outbox_messages, filing.owner)
    assert len(emails) == 2 and len(sms) == 2
    assert AnnualReview.objects.get(filing=filing).reminded_final_at.date() == dt.date(2027, 3, 17)
    # The owner who had confirmed gets the opening reminder only.
    assert len(outbox_messages(to=confirmed_owner_filing.owner.email)) == 1


def test_the_two_reminders_never_come_on_the_same_day(filing, outbox_messages):
    AnnualReviewWindow.objects.create(
        year=2027, starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 1, 10)
    )
    with on(2027, 1, 1):
        annual_review_daily()
    assert len(outbox_messages(to=filing.owner.mobile)) == 1
    with on(2027, 1, 2):
        annual_review_daily()
    assert len(outbox_messages(to=filing.owner.mobile)) == 2


# After the window ---------------------------------------------------------------------------------


def test_after_the_window_unconfirmed_records_are_flagged_overdue(filing):
    confirmed = approved_filing(approved_at=local(2026, 6, 1), province="31")
    with on(2027, 1, 5):
        annual_review_daily()
        annual_review_confirm(filing=confirmed, by=confirmed.owner)
    with on(2027, 3, 31, 23, 0):
        annual_review_daily()
    assert not annual_overdue().exists()
    with on(2027, 4, 1, 8, 5):
        annual_review_daily()
    with on(2027, 4, 2):
        annual_review_daily()
    review = AnnualReview.objects.get(filing=filing)
    assert review.overdue_flagged_at.date() == dt.date(2027, 4, 1)
    assert list(annual_overdue()) == [review]
    assert annual_overdue_counts() == {"11": 1}
    assert annual_overdue_counts(province="31") == {}


def test_an_amendment_submitted_inside_the_window_counts_as_the_review(filing):
    with on(2027, 1, 5):
        annual_review_daily()
    Filing.objects.filter(pk=filing.pk).update(
        status=Filing.Status.AMENDMENT_PENDING, submitted_at=local(2027, 2, 14)
    )
    with on(2027, 4, 1):
        annual_review_daily()
    review = AnnualReview.objects.get(filing=filing)
    assert review.overdue_flagged_at is None
    assert review.confirmed_by_amendment
    assert review.confirmed_at == local(2027, 2, 14)


def test_a_beat_that_was_down_after_the_window_flags_it_later(filing):
    with on(2027, 2, 1):
        annual_review_daily()
    with on(2028, 1, 3):
        annual_review_daily()
    assert AnnualReview.objects.get(filing=filing, year=2027).is_overdue


# Confirmation ---------------------------------------------------------------------------------------


def test_the_owner_confirms_inside_the_window_from_the_task_list(client, filing):
    with on(2027, 1, 1):
        annual_review_daily()
    with on(2027, 2, 3):
        client.force_login(filing.owner)
        page = client.get("/annual-review/").content.decode()
        assert 'action="/annual-review/confirm/"' in page
        response = client.post("/annual-review/confirm/", {"next": "/annual-review/"})
        assert response.status_code == 302 and response["Location"] == "/annual-review/"
        page = client.get("/annual-review/").content.decode()
    review = AnnualReview.objects.get(filing=filing)
    assert review.confirmed_at == local(2027, 2, 3) and review.confirmed_by == filing.owner
    assert 'action="/annual-review/confirm/"' not in page
    assert "2027-02-03" in page
    assert AuditLog.objects.filter(
        action="annual_review.confirm", target_id=str(filing.pk)
    ).exists()


def test_confirming_twice_says_there_is_nothing_left_to_confirm(client, filing):
    with on(2027, 2, 3):
        client.force_login(filing.owner)
        client.post("/annual-review/confirm/", follow=True)
        response = client.post("/annual-review/confirm/", follow=True)
    assert AnnualReview.objects.filter(filing=filing, confirmed_at__isnull=False).count() == 1
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "2027" not in messages[0]


def test_the_owner_may_confirm_before_the_opening_sweep_has_run(filing):
    with on(2027, 1, 1, 0, 30):
        reviews = annual_review_confirm(filing=filing, by=filing.owner)
    assert [r.year for r in reviews] == [2027]


def test_outside_the_window_there_is_nothing_to_confirm(client, filing):
    from public.services import AnnualReviewError

    with on(2027, 6, 1), pytest.raises(AnnualReviewError):
        annual_review_confirm(filing=filing, by=filing.owner)
    with on(2027, 6, 1):
        client.force_login(filing.owner)
        page = client.get("/annual-review/").content.decode()
    assert "2028-01-01" in page and "2028-03-31" in page


def test_only_the_owner_confirms_a_filing(client, filing):
    stranger = UserFactory()
    with on(2027, 2, 1):
        with pytest.raises(PermissionDenied):
            annual_review_confirm(filing=filing, by=stranger)
        client.force_login(stranger)
        assert client.post("/annual-review/confirm/").status_code == 404
    assert not AnnualReview.objects.filter(confirmed_at__isnull=False).exists()


def test_staff_have_no_annual_review_to_confirm(client):
    bureau = BureauFactory()
    sign_in_with_otp(client, bureau)
    assert client.post("/annual-review/confirm/").status_code == 403


def test_the_confirm_page_needs_a_signed_in_owner(client):
    response = client.get("/annual-review/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_late_confirmation_clears_the_overdue_flag(client, filing):
    with on(2027, 1, 1):
        annual_review_daily()
    with on(2027, 4, 1):
        annual_review_daily()
    with on(2027, 4, 9):
        client.force_login(filing.owner)
        page = client.get("/annual-review/").content.decode()
        assert "alert-danger" in page
        client.post("/annual-review/confirm/")
    assert not annual_overdue().exists()
    assert annual_overdue_counts() == {}
    review = AnnualReview.objects.get(filing=filing)
    assert review.overdue_flagged_at is not None  # the history still shows it was late


# The bureau's overdue list --------------------------------------------------------------------------


@pytest.fixture
def overdue_pair():
    beijing = approved_filing(approved_at=local(2026, 6, 1), sponsor_name="北京逾期示例有限公司")
    shanghai = approved_filing(
        approved_at=local(2026, 6, 1), province="31", sponsor_name="上海逾期示例有限公司"
    )
    with on(2027, 1, 1):
        annual_review_daily()
    with on(2027, 4, 1):
        annual_review_daily()
    return beijing, shanghai


def test_a_bureau_sees_the_overdue_reviews_of_its_own_province_only(client, overdue_pair):
    beijing, _shanghai = overdue_pair
    sign_in_with_otp(client, BureauFactory())
    body = client.get("/review/annual-overdue/").content.decode()
    assert "北京逾期示例有限公司" in body
    assert "上海逾期示例有限公司" not in body
    assert f'href="/review/filings/{beijing.pk}/#revoke"' in body
    # The ministry's province filter does not widen a bureau's view.
    body = client.get("/review/annual-overdue/", {"province": "31"}).content.decode()
    assert "上海逾期示例有限公司" not in body


def test_the_ministry_sees_every_province_and_may_filter(client, overdue_pair):
    sign_in_with_otp(client, MinistryFactory())
    body = client.get("/review/annual-overdue/").content.decode()
    assert "北京逾期示例有限公司" in body and "上海逾期示例有限公司" in body
    body = client.get("/review/annual-overdue/", {"province": "31"}).content.decode()
    assert "北京逾期示例有限公司" not in body and "上海逾期示例有限公司" in body
    assert client.get("/review/annual-overdue/", {"province": "99"}).status_code == 404


def test_the_overdue_list_is_for_staff_with_the_second_factor(client, overdue_pair):
    beijing, _shanghai = overdue_pair
    client.force_login(beijing.owner)
    assert client.get("/review/annual-overdue/").status_code == 403
    client.force_login(BureauFactory())
    response = client.get("/review/annual-overdue/")
    assert response.status_code == 302 and "otp" in response["Location"]


def test_a_revoked_filing_leaves_the_overdue_list(client, overdue_pair):
    beijing, _shanghai = overdue_pair
    Filing.objects.filter(pk=beijing.pk).update(status=Filing.Status.REVOKED)
    assert annual_overdue_counts() == {"31": 1}


def test_a_late_confirmation_takes_the_filing_off_the_bureaus_list(client, overdue_pair):
    beijing, _shanghai = overdue_pair
    with on(2027, 4, 20):
        annual_review_confirm(filing=beijing, by=beijing.owner)
    sign_in_with_otp(client, BureauFactory())
    body = client.get("/review/annual-overdue/").content.decode()
    assert "北京逾期示例有限公司" not in body


def test_the_task_list_shows_the_annual_review_panel(client, filing):
    with on(2027, 2, 3):
        client.force_login(filing.owner)
        body = client.get("/filing/").content.decode()
    assert 'id="annual-review"' in body
    assert 'action="/annual-review/confirm/"' in body
    assert 'name="next" value="/filing/"' in body
