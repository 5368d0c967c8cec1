"""What the stages before the bureau tell people (SPEC §12): the lapse of an SMS code in the
owner's language and in the SMS itself, the provider told when an application leaves its queue,
the provider's and the bureau's emails in their own language, the bureau told of each arrival,
and the stages worded by who holds the application."""

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
