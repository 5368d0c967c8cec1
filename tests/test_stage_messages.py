"""What the stages before the bureau tell people (SPEC §12): the lapse of an SMS code in the
owner's language and in the SMS itself, the provider told when an application leaves its queue,
the provider's and the bureau's emails in their own language, the bureau told of each arrival,
and the stages worded by who holds the application."""

import copy
import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from beian.models import Message
from filings.models import Filing
from filings.serializers import filing_as_json
from filings.tasks import verification_lapse
from tests import filings_support as fs
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.stages,
    pytest.mark.django_db,
    pytest.mark.usefixtures("fast_password_hashing"),
]


def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def last(channel: str, to: str) -> Message:
    return Message.objects.filter(channel=channel, to=to).order_by("-id").first()


def lapsed(owner, time_machine) -> Filing:
    """A first filing of ``owner`` whose SMS code lapsed, returned by beat running in the
    server's language (Chinese)."""
    filing = fs.submitted_filing(owner)
    time_machine.move_to(timezone.now() + dt.timedelta(hours=25), tick=False)
    with translation.override("zh-hans"):
        assert verification_lapse() == 1
    filing.refresh_from_db()
    return filing


# --- 1. The lapse of an SMS code ----------------------------------------------------------------


def test_an_english_owner_reads_the_lapse_reason_in_english_in_the_email(time_machine):
    owner = UserFactory(language="en")
    lapsed(owner, time_machine)

    email = last("email", owner.email)
    assert email.language == "en"
    assert "did not confirm the SMS code within 24 hours" in email.body
    assert "负责人" not in email.body


def test_the_lapse_sms_says_why_and_how_to_get_a_new_code(time_machine, settings):
    settings.FILING_VERIFICATION_HOURS = 12
    owner = UserFactory(language="en")
    lapsed(owner, time_machine)

    sms = last("sms", owner.mobile)
    assert sms.template == "application_returned"
    assert "did not confirm the SMS code within 12 hours" in sms.body
    assert "submit the application again" in sms.body
    assert "/filing/" in sms.body


def test_the_lapse_sms_in_chinese_too(time_machine):
    owner = UserFactory(language="zh-hans")
    lapsed(owner, time_machine)

    body = last("sms", owner.mobile).body
    assert "24 小时内" in body and "重新提交" in body


def test_a_providers_return_sms_keeps_pointing_to_the_reasons(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    from filings.stages import provider_decide
    from tests.factories import AccessProviderFactory
    from tests.providers_support import provider_staff

    provider = AccessProviderFactory()
    owner = UserFactory(language="en")
    filing = fs.submitted_filing(owner, fs.data(websites=[fs.website(access_provider=provider.pk)]))
    provider_decide(
        filing_id=filing.pk, by=provider_staff(provider), action="return", reason="首页无法访问"
    )

    body = last("sms", owner.mobile).body
    assert "say why and what to change" in body
    assert "hours" not in body


def test_the_lapse_reason_reads_in_the_readers_language_on_every_page_and_the_api(time_machine):
    owner = UserFactory(language="en")
    filing = lapsed(owner, time_machine)

    with translation.override("en"):
        reason = filing_as_json(filing)["application"]["returns"][0]["reason"]
    assert reason.startswith("The responsible person did not confirm the SMS code within 24 hours")
    with translation.override("zh-hans"):
        assert filing_as_json(filing)["application"]["returns"][0]["reason"].startswith(
            "负责人未在"
        )
    client = page(owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    tasks = client.get(reverse("filings:task_list")).content.decode()
    assert "did not confirm the SMS code within 24 hours" in tasks


def test_a_lapse_reason_written_with_other_hours_reads_with_those_hours():
    from filings.reasons import lapse_reason, reason_in_language

    with translation.override("zh-hans"):
        stored = lapse_reason().replace("24", "48")
    with translation.override("en"):
        assert "within 48 hours" in reason_in_language(stored)
    assert reason_in_language("原样 24 小时") == "原样 24 小时"


def test_the_empty_shell_revocation_reason_reads_in_the_readers_language():
    from filings.reasons import reason_in_language, shells_revoked_reason

    with translation.override("zh-hans"):
        stored = shells_revoked_reason()
    with translation.override("en"):
        assert reason_in_language(stored).startswith("Every website of the record")


# --- 5. A provider's and the bureau's emails in their own language -----------------------------


def _english_owner_submits(payload) -> tuple[Filing, object]:
    from filings.services import filing_create, filing_save_data

    owner = UserFactory(language="en")
    filing = filing_create(owner=owner)
    filing_save_data(filing=filing, by=owner, data=payload)
    client = page(owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.post(reverse("filings:check_answers")).status_code == 302
    filing.refresh_from_db()
    return filing, owner


def test_a_providers_emails_are_in_its_language_whoever_triggered_them(tmp_path, settings):
    from tests.factories import AccessProviderFactory

    settings.MEDIA_ROOT = str(tmp_path)
    provider = AccessProviderFactory(email="noc@provider.example.cn")
    filing, _owner = _english_owner_submits(
        fs.data(websites=[fs.website(access_provider=provider.pk)])
    )
    assert filing.status == Filing.Status.PROVIDER_REVIEW
    with translation.override("en"):  # an English-speaking staff member passes it on
        filing = fs.to_bureau(filing)
        fs.approve(filing)

    emails = Message.objects.filter(to=provider.email, channel="email").order_by("id")
    assert [m.template for m in emails] == ["provider_review_waiting", "provider_filing_approved"]
    assert {m.language for m in emails} == {"zh-hans"}
    assert emails[0].subject.startswith("待初审")
    assert "First review" not in emails[0].body


def test_a_deployment_in_english_writes_to_providers_in_english_from_a_chinese_request(
    tmp_path, settings
):
    from filings.services import filing_create, filing_save_data, filing_submit
    from tests.factories import AccessProviderFactory

    settings.MEDIA_ROOT = str(tmp_path)
    settings.LANGUAGE_CODE = "en"
    provider = AccessProviderFactory()
    owner = UserFactory(language="zh-hans")
    with translation.override("zh-hans"):
        filing = filing_create(owner=owner)
        filing_save_data(
            filing=filing,
            by=owner,
            data=fs.data(websites=[fs.website(access_provider=provider.pk)]),
        )
        filing_submit(filing=filing, by=owner)

    email = last("email", provider.email)
    assert email.language == "en"
    assert email.subject.startswith("First review waiting")
    assert last("email", owner.email).language == "zh-hans"


def test_a_staff_members_language_is_the_accounts_else_the_deployments(settings):
    from accounts.notifications import staff_email, staff_language
    from tests.factories import BureauFactory

    settings.LANGUAGE_CODE = "zh-hans"
    assert staff_language(BureauFactory(language="en")) == "en"
    assert staff_language(BureauFactory(language="")) == "zh-hans"
    assert staff_email(BureauFactory(language="en"), "x", {}).language == "en"


# --- 3. A provider is told when an application leaves its first-review queue -----------------


@pytest.fixture
def provider(tmp_path, settings):
    from tests.factories import AccessProviderFactory

    settings.MEDIA_ROOT = str(tmp_path)
    return AccessProviderFactory(email="review@provider.example.cn")


def _at_provider(provider, owner=None) -> Filing:
    owner = owner or UserFactory()
    return fs.submitted_filing(owner, fs.data(websites=[fs.website(access_provider=provider.pk)]))


def _left_emails(provider):
    return list(
        Message.objects.filter(to=provider.email, template="provider_review_withdrawn").order_by(
            "id"
        )
    )


def test_the_provider_is_told_when_the_owner_withdraws_it_at_the_first_review(provider):
    owner = UserFactory()
    filing = _at_provider(provider, owner)
    assert filing.status == Filing.Status.PROVIDER_REVIEW

    answer = page(owner).post(reverse("filings:withdraw"))

    assert answer.status_code == 302
    (email,) = _left_emails(provider)
    assert email.language == "zh-hans"
    assert email.subject == "无需再初审：北京示例科技有限公司"
    assert "撤回" in email.body and "/provider/reviews/" in email.body


def test_the_provider_is_told_when_the_bureau_revokes_the_record_its_amendment_waited_in(
    provider,
):
    from review.services import filing_revoke
    from tests.factories import BureauFactory

    owner = UserFactory()
    filing = fs.approve(fs.to_bureau(_at_provider(provider, owner)))
    from filings.services import filing_save_data, filing_submit

    changed = fs.data(
        sponsor={"address": "北京市海淀区中关村大街9号"},
        websites=[fs.website(access_provider=provider.pk)],
    )
    filing_save_data(filing=filing, by=owner, data=changed)
    filing = filing_submit(filing=filing, by=owner)
    assert filing.status == Filing.Status.PROVIDER_REVIEW

    filing_revoke(filing=filing, by=BureauFactory(), reason="虚假材料")

    (email,) = _left_emails(provider)
    assert "注销" in email.body


def test_the_provider_is_told_when_a_submission_again_sends_it_to_another_provider(provider):
    from filings.services import filing_save_data, filing_submit
    from tests.factories import AccessProviderFactory

    other = AccessProviderFactory()
    owner = UserFactory()
    filing = _at_provider(provider, owner)

    filing_save_data(
        filing=filing, by=owner, data=fs.data(websites=[fs.website(access_provider=other.pk)])
    )
    filing_submit(filing=filing, by=owner)

    (email,) = _left_emails(provider)
    assert "重新提交" in email.body
    assert Message.objects.filter(to=other.email, template="provider_review_waiting").exists()


def test_the_provider_is_not_told_of_what_does_not_leave_its_queue_or_is_its_own(provider):
    from filings.services import filing_save_data, filing_submit, filing_withdraw
    from tests.providers_support import provider_staff

    owner = UserFactory()
    filing = _at_provider(provider, owner)
    # Submitted again for the same provider: still in its queue, told as a new arrival.
    filing_save_data(
        filing=filing,
        by=owner,
        data=fs.data(
            sponsor={"address": "北京市海淀区中关村大街3号"},
            websites=[fs.website(access_provider=provider.pk)],
        ),
    )
    filing_submit(filing=filing, by=owner)
    # Passed on, then withdrawn at the SMS verification: it left the queue by its decision.
    passed = _at_provider(provider)
    fs.first_review_pass(passed)
    filing_withdraw(filing=passed, by=passed.owner)
    # Withdrawn by the provider's own staff.
    own = _at_provider(provider)
    Filing.objects.filter(pk=own.pk).update(filed_by_provider=provider)
    own.refresh_from_db()
    filing_withdraw(filing=own, by=provider_staff(provider))

    assert _left_emails(provider) == []


# --- 6. The bureau is told of each arrival ------------------------------------------------------


@pytest.fixture
def beijing_staff():
    from tests.factories import BureauFactory

    english = BureauFactory(language="en", email="en@bureau.example.cn")
    chinese = BureauFactory(language="zh-hans", email="zh@bureau.example.cn")
    BureauFactory(is_active=False, email="gone@bureau.example.cn")
    BureauFactory(province_id="31", email="shanghai@bureau.example.cn")  # another province's staff
    return english, chinese


def _arrivals():
    return list(Message.objects.filter(template="review_arrival").order_by("to"))


def test_each_arrival_is_emailed_to_the_provinces_active_bureau_staff_after_commit(
    beijing_staff, django_capture_on_commit_callbacks
):
    english, chinese = beijing_staff
    filing = fs.submitted_filing(UserFactory())
    code = fs.sms_code(filing.principal_mobile)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = Client().post(
            reverse("public:verification"),
            {"mobile": filing.principal_mobile, "code": code, "id_last6": "31002X"},
        )
    assert answer.status_code == 200
    assert _arrivals() == []  # nothing in the request: the task sends them after commit
    for callback in callbacks:
        callback()

    emails = _arrivals()
    assert [(m.to, m.language) for m in emails] == [
        (english.email, "en"),
        (chinese.email, "zh-hans"),
    ]
    filing.refresh_from_db()
    deadline = filing.review_deadline.isoformat()
    assert emails[0].subject == (
        f"New in the review queue: 北京示例科技有限公司 (new filing), decision due by {deadline}"
    )
    assert f"/review/filings/{filing.pk}/" in emails[0].body
    assert "Beijing Communications Administration" in emails[0].body
    assert emails[1].subject.startswith("审核队列新增：北京示例科技有限公司")
    assert filing.applications.get(closed_at=None).bureau_told_at is not None


def test_an_arrival_the_broker_did_not_take_is_told_by_the_periodic_run_once(
    beijing_staff, settings
):
    from review.tasks import tell_bureau_of_arrivals

    settings.FILING_SMS_VERIFICATION = False
    fs.submitted_filing(UserFactory())  # at the bureau at once; no commit here: no task ran
    assert _arrivals() == []

    assert tell_bureau_of_arrivals() == 1
    assert tell_bureau_of_arrivals() == 0
    assert len(_arrivals()) == 2


def test_an_application_for_revocation_is_an_arrival_too(beijing_staff, settings):
    from filings.services import filing_apply_revocation
    from review.tasks import tell_bureau_of_arrivals

    settings.FILING_SMS_VERIFICATION = False
    owner = UserFactory()
    filing = fs.approve(fs.submitted_filing(owner))
    tell_bureau_of_arrivals()
    Message.objects.filter(template="review_arrival").delete()

    filing_apply_revocation(filing=filing, by=owner, reason="网站已关闭")

    assert tell_bureau_of_arrivals() == 1
    assert {m.to for m in _arrivals()} == {m.email for m in beijing_staff}


def test_a_province_that_turns_them_off_keeps_the_queue_and_the_digest(
    beijing_staff, settings, django_capture_on_commit_callbacks
):
    from review.tasks import tell_bureau_of_arrivals

    settings.FILING_SMS_VERIFICATION = False
    settings.REVIEW_ARRIVAL_EMAILS = False
    with django_capture_on_commit_callbacks(execute=True):
        filing = fs.submitted_filing(UserFactory())

    assert tell_bureau_of_arrivals() == 0
    assert _arrivals() == []
    assert filing.status == Filing.Status.PENDING_REVIEW
    assert filing.applications.get(closed_at=None).bureau_told_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_applications_already_at_the_bureau_are_not_announced_after_the_upgrade():
    from review.tasks import tell_bureau_of_arrivals
    from tests.factories import BureauFactory
    from tests.migration_support import migrate, migrate_to_latest

    BureauFactory()
    owner = UserFactory()
    apps = migrate([("filings", "0015_application_confirmed_code")])
    try:
        Filing_ = apps.get_model("filings", "Filing")
        Application_ = apps.get_model("filings", "Application")
        arrived = timezone.now() - dt.timedelta(days=3)
        filing = Filing_.objects.create(
            owner_id=owner.pk, status="pending_review", province_id="11", sponsor_name="甲"
        )
        Application_.objects.create(
            filing=filing,
            kind="new",
            status="pending_review",
            submitted_at=arrived,
            reached_bureau_at=arrived,
        )
    finally:
        migrate_to_latest()

    assert tell_bureau_of_arrivals() == 0
    assert _arrivals() == []


# --- 4. The stages worded by who holds the application ------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_20_working_days_are_explained_from_arrival_at_the_bureau(language, settings):
    from filings.services import filing_create, filing_save_data

    owner = UserFactory()
    filing = filing_create(owner=owner)
    filing_save_data(filing=filing, by=owner, data=fs.data())
    client = page(owner)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})

    pages = [
        client.get(reverse("filings:check_answers")).content.decode(),
        client.get("/").content.decode(),
    ]

    for text in pages:
        assert "提交之日起" not in text and "of the submission" not in text
        assert "latest submission" not in text
    if language == "en":
        assert "within 20 working days of the day it reaches the bureau" in pages[0]
        assert "of the day your application reaches it" in pages[1]
    else:
        assert "自送达之日起20个工作日内" in pages[0]
        assert "自申请送达之日起20个工作日内" in pages[1]


def test_the_bureaus_deadline_page_and_the_confirmation_count_from_arrival(otp_client):
    from tests.factories import BureauFactory

    deadlines = otp_client(BureauFactory()).get(reverse("review:deadlines")).content.decode()
    assert "自申请送达之日起20个工作日内" in deadlines and "提交之日起" not in deadlines

    filing = fs.submitted_filing(UserFactory())
    done = Client().post(
        reverse("public:verification"),
        {
            "mobile": filing.principal_mobile,
            "code": fs.sms_code(filing.principal_mobile),
            "id_last6": "31002X",
        },
    )
    assert "自今天（申请送达之日）起20个工作日内" in done.content.decode()


def _with_unsubmitted_changes(filing, payload) -> str:
    """The owner's task list (in English) once ``payload`` with another address is saved and
    not submitted."""
    from filings.services import filing_save_data

    filing.refresh_from_db()
    payload["sponsor"]["address"] = "北京市海淀区中关村大街88号"
    filing_save_data(filing=filing, by=filing.owner, data=payload)
    client = page(filing.owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client.get(reverse("filings:task_list")).content.decode()


def test_unsubmitted_changes_are_worded_by_who_holds_the_application(tmp_path, settings):
    import re

    from filings.stages import provider_decide
    from tests.factories import AccessProviderFactory
    from tests.providers_support import provider_staff

    settings.MEDIA_ROOT = str(tmp_path)
    provider = AccessProviderFactory()
    payload = fs.data(websites=[fs.website(access_provider=provider.pk)])

    at_provider = fs.submitted_filing(UserFactory(), payload)
    at_phone = fs.submitted_filing(UserFactory())
    returned = fs.submitted_filing(UserFactory(), payload)
    provider_decide(
        filing_id=returned.pk, by=provider_staff(provider), action="return", reason="首页无法访问"
    )
    at_bureau = fs.to_bureau(fs.submitted_filing(UserFactory()))

    def held_by(text):
        return re.search(r'data-changes-held-by="(\w+)"', text).group(1)

    provider_page = _with_unsubmitted_changes(at_provider, copy.deepcopy(payload))
    assert held_by(provider_page) == "provider"
    assert "Your access provider checks the version you submitted" in provider_page
    phone_page = _with_unsubmitted_changes(at_phone, fs.data())
    assert held_by(phone_page) == "phone"
    assert "responsible person's phone confirms the version you submitted" in phone_page
    owner_page = _with_unsubmitted_changes(returned, copy.deepcopy(payload))
    assert held_by(owner_page) == "owner"
    assert "The application is back with you" in owner_page
    bureau_page = _with_unsubmitted_changes(at_bureau, fs.data())
    assert held_by(bureau_page) == "bureau"
    assert "The bureau sees the submitted version" in bureau_page
    for text in (provider_page, phone_page, owner_page):
        assert "The bureau sees" not in text
