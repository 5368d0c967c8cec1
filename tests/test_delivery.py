"""Message delivery (SPEC §9): the delivery log, the task, the sweeper and the outbox."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from beian import outbox
from beian.delivery import Attachment, queue_email, queue_sms
from beian.models import Message
from beian.tasks import send_message, sweep_queued_messages

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_sms_is_logged_and_sent_after_commit():
    with transaction.atomic():
        message = queue_sms(to="13800138000", template="test_notice", context={"name": "张三"})
        assert Message.objects.get(pk=message.pk).status == Message.Status.QUEUED
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.attempts == 1
    assert "张三" in message.body
    assert message.sent_at is not None


def test_nothing_is_sent_when_the_causing_change_rolls_back():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_sms(to="13800138000", template="test_notice", context={"name": "x"})
        raise RuntimeError("the change failed")
    assert not Message.objects.exists()


def test_an_email_has_text_html_and_attachments_in_the_recipients_language():
    queue_email(
        to="owner@example.cn",
        template="test_notice",
        context={"name": "Li"},
        language="en",
        attachments=[Attachment("bazs.cert", b"certificate", "text/plain")],
    )
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "Test notice"
    assert "Hello Li" in sent.body
    assert sent.alternatives and "<p>" in sent.alternatives[0][0]
    assert sent.attachments[0][0] == "bazs.cert"


def test_the_chinese_email_is_in_chinese():
    message = queue_email(to="a@example.cn", template="test_notice", context={"name": "李"})
    message.refresh_from_db()
    assert message.subject == "测试通知"


def test_sending_twice_sends_once():
    message = queue_sms(to="13800138000", template="test_notice", context={"name": "x"})
    assert send_message.run(message.id) == "skipped"
    message.refresh_from_db()
    assert message.attempts == 1


def test_a_temporary_failure_is_retried_until_sent(monkeypatch):
    calls = []

    def flaky(message):
        calls.append(message.id)
        if len(calls) < 3:
            raise outbox.TemporaryDeliveryError("gateway busy")

    monkeypatch.setattr("beian.tasks.deliver", flaky)
    message = queue_sms(to="13800138000", template="test_notice", context={"name": "x"})
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.attempts == 3


def test_too_many_temporary_failures_end_in_failed(monkeypatch, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 3

    def down(message):
        raise outbox.TemporaryDeliveryError("gateway down")

    monkeypatch.setattr("beian.tasks.deliver", down)
    message = queue_sms(to="13800138000", template="test_notice", context={"name": "x"})
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.attempts == 3
    assert "gateway down" in message.last_error


def test_a_permanent_failure_is_not_retried(monkeypatch):
    def refused(message):
        raise outbox.PermanentDeliveryError("number blocked")

    monkeypatch.setattr("beian.tasks.deliver", refused)
    message = queue_sms(to="13800138000", template="test_notice", context={"name": "x"})
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 1)


def test_the_sweeper_sends_a_message_lost_between_commit_and_enqueue(monkeypatch):
    monkeypatch.setattr("beian.delivery._enqueue_after_commit", lambda message: None)
    message = queue_sms(to="13800138000", template="test_notice", context={"name": "x"})
    assert sweep_queued_messages() == 0  # too recent to be considered lost
    Message.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert sweep_queued_messages() == 1
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def test_outbox_command_prints_the_contract_shape_newest_first():
    queue_sms(to="13800138000", template="test_notice", context={"name": "first"})
    queue_email(to="b@example.cn", template="test_notice", context={"name": "second"})
    out = StringIO()
    call_command("outbox", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert [r["channel"] for r in rows] == ["email", "sms"]
    assert set(rows[0]) == {"channel", "to", "subject", "body", "sent_at"}
    assert "second" in rows[0]["body"]


def test_outbox_command_filters_by_recipient():
    queue_sms(to="13800138000", template="test_notice", context={"name": "a"})
    queue_sms(to="13900139000", template="test_notice", context={"name": "b"})
    out = StringIO()
    call_command("outbox", "--json", "--to", "13900139000", stdout=out)
    rows = json.loads(out.getvalue())
    assert [r["to"] for r in rows] == ["13900139000"]


def test_outbox_command_is_refused_when_disabled(settings):
    settings.OUTBOX_ENABLED = False
    with pytest.raises(CommandError):
        call_command("outbox", "--json", stdout=StringIO())


def test_dev_outbox_page_lists_messages(client, settings):
    settings.DEBUG = True
    queue_sms(to="13800138000", template="test_notice", context={"name": "页面"})
    response = client.get("/dev/outbox/")
    assert response.status_code == 200
    assert "页面" in response.content.decode()


def test_dev_outbox_page_is_hidden_without_debug(client, settings):
    settings.DEBUG = False
    assert client.get("/dev/outbox/").status_code == 404
