"""A provider is told, by email and a signed webhook, when a filing under it changes (§6)."""

import json
import time

import pytest

from beian.models import Message
from filings.models import Filing
from providers.models import WebhookDelivery
from providers.services import notify_filing_event, webhook_redeliver
from providers.tasks import send_webhook, sweep_queued_webhooks
from providers.webhooks import sign, verify
from tests.factories import AccessProviderFactory
from tests.providers_support import RECEIVERS, Receiver, approved_filing, provider_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE = True
    settings.PROVIDER_WEBHOOK_RESOLVE = RECEIVERS
    settings.DELIVERY_MAX_ATTEMPTS = 3


def _notify(filing, event, capture):
    with capture(execute=True):
        return notify_filing_event(filing=filing, event=event)


def test_the_provider_that_filed_and_the_hosting_provider_are_both_emailed(
    django_capture_on_commit_callbacks,
):
    filer = AccessProviderFactory()
    host = AccessProviderFactory()
    bystander = AccessProviderFactory()
    filing = approved_filing(domains=["example-a.cn"], provider=host, filed_by=filer)
    _notify(filing, "approved", django_capture_on_commit_callbacks)
    recipients = set(Message.objects.values_list("to", flat=True))
    assert recipients == {filer.email, host.email}
    assert bystander.email not in recipients
    email = Message.objects.get(to=host.email)
    assert filing.number in email.subject
    assert "example-a.cn" in email.body


def test_an_inactive_provider_is_not_notified(django_capture_on_commit_callbacks):
    host = AccessProviderFactory(is_active=False)
    filing = approved_filing(domains=["example-b.cn"], provider=host)
    assert _notify(filing, "revoked", django_capture_on_commit_callbacks) == []
    assert not Message.objects.exists()


def test_an_unknown_event_is_refused():
    filing = approved_filing(domains=["example-c.cn"])
    with pytest.raises(ValueError):
        notify_filing_event(filing=filing, event="deleted")


def test_the_webhook_is_signed_over_timestamp_and_body_and_verifies(
    django_capture_on_commit_callbacks,
):
    with Receiver() as receiver:
        host = AccessProviderFactory(webhook_secret="whsec_test")
        host.webhook_url = receiver.url
        host.save()
        filing = approved_filing(domains=["example-d.cn"], provider=host)
        (delivery,) = _notify(filing, "approved", django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert verify(
        secret="whsec_test",
        timestamp=headers["x-beian-timestamp"],
        signature=headers["x-beian-signature"],
        body=request["body"],
    )
    assert headers["x-beian-delivery"] == str(delivery.idempotency_key)
    payload = receiver.json()
    assert payload["event"] == "approved"
    assert payload["filing"]["number"] == filing.number
    assert payload["filing"]["websites"][0]["domains"] == ["example-d.cn"]
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SENT
    assert delivery.attempts == 1


def test_a_receiver_refuses_a_wrong_secret_a_changed_body_and_an_old_timestamp():
    body = b'{"event":"approved"}'
    now = int(time.time())
    good = sign("s3cret", str(now), body)
    assert verify(secret="s3cret", timestamp=str(now), signature=good, body=body)
    assert not verify(secret="other", timestamp=str(now), signature=good, body=body)
    assert not verify(secret="s3cret", timestamp=str(now), signature=good, body=body + b" ")
    old = now - 301
    assert not verify(
        secret="s3cret", timestamp=str(old), signature=sign("s3cret", str(old), body), body=body
    )


def test_a_failing_receiver_is_retried_until_it_accepts(django_capture_on_commit_callbacks):
    with Receiver(statuses=[500, 503]) as receiver:
        host = AccessProviderFactory(webhook_url="http://placeholder.example.cn/")
        host.webhook_url = receiver.url
        host.webhook_secret = "whsec_retry"
        host.save()
        filing = approved_filing(domains=["example-e.cn"], provider=host)
        (delivery,) = _notify(filing, "revoked", django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert len(receiver.requests) == 3
    # Every attempt carries the same body and delivery id.
    assert len({r["body"] for r in receiver.requests}) == 1
    assert delivery.status == WebhookDelivery.Status.SENT
    assert delivery.attempts == 3


def test_a_receiver_that_never_accepts_ends_failed_and_can_be_sent_again(
    django_capture_on_commit_callbacks,
):
    with Receiver(statuses=[500, 500, 500, 204]) as receiver:
        host = AccessProviderFactory(webhook_secret="whsec_x")
        host.webhook_url = receiver.url
        host.save()
        staff = provider_staff(host)
        filing = approved_filing(domains=["example-f.cn"], provider=host)
        (delivery,) = _notify(filing, "amended", django_capture_on_commit_callbacks)
        delivery.refresh_from_db()
        assert delivery.status == WebhookDelivery.Status.FAILED
        assert delivery.attempts == 3
        assert "500" in delivery.last_error
        with django_capture_on_commit_callbacks(execute=True):
            webhook_redeliver(delivery=delivery, by=staff)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SENT
    assert len(receiver.requests) == 4


def test_sending_a_delivered_webhook_again_does_nothing(django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        host = AccessProviderFactory(webhook_secret="whsec_y")
        host.webhook_url = receiver.url
        host.save()
        filing = approved_filing(domains=["example-g.cn"], provider=host)
        (delivery,) = _notify(filing, "approved", django_capture_on_commit_callbacks)
        assert send_webhook.run(delivery.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_a_webhook_to_a_private_address_is_refused_outside_trials(
    settings, django_capture_on_commit_callbacks
):
    settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE = False
    host = AccessProviderFactory(webhook_url="http://127.0.0.1/hook", webhook_secret="s")
    filing = approved_filing(domains=["example-h.cn"], provider=host)
    (delivery,) = _notify(filing, "approved", django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "non-public" in delivery.last_error


def test_a_webhook_goes_only_to_ports_80_and_443(settings, django_capture_on_commit_callbacks):
    """A provider's URL naming another port would let the portal knock on any service."""
    settings.PROVIDER_WEBHOOK_RESOLVE = {}
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        host = AccessProviderFactory(
            webhook_url=f"http://127.0.0.1:{port}/hooks/beian", webhook_secret="s"
        )
        filing = approved_filing(domains=["example-p.cn"], provider=host)
        (delivery,) = _notify(filing, "approved", django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "ports 80 and 443" in delivery.last_error
    assert receiver.requests == []


def test_a_webhook_url_with_another_port_is_refused_when_saved(settings):
    from django.core.exceptions import ValidationError

    from providers.services import webhook_settings_update

    staff = provider_staff()
    with pytest.raises(ValidationError) as refused:
        webhook_settings_update(
            provider=staff.provider, by=staff, url="https://hooks.example.cn:8443/beian"
        )
    assert "80" in refused.value.message_dict["webhook_url"][0]


def test_a_delivery_lost_before_its_task_is_picked_up_by_the_sweeper(settings):
    settings.DELIVERY_SWEEP_AFTER_SECONDS = 0
    with Receiver() as receiver:
        host = AccessProviderFactory(webhook_secret="whsec_z")
        host.webhook_url = receiver.url
        host.save()
        filing = approved_filing(domains=["example-i.cn"], provider=host)
        # Without running the on-commit callbacks: as if the process died after commit.
        (delivery,) = notify_filing_event(filing=filing, event="approved")
        assert sweep_queued_webhooks() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SENT
    assert json.loads(receiver.requests[0]["body"])["id"] == str(delivery.idempotency_key)


def test_a_revoked_filing_still_reaches_its_provider(django_capture_on_commit_callbacks):
    host = AccessProviderFactory()
    filing = approved_filing(domains=["example-j.cn"], provider=host)
    filing.status = Filing.Status.REVOKED
    filing.save()
    _notify(filing, "revoked", django_capture_on_commit_callbacks)
    assert Message.objects.filter(to=host.email, subject__contains=filing.number).exists()


def test_a_failed_delivery_reads_in_the_providers_language(
    settings, django_capture_on_commit_callbacks, client
):
    settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE = False
    staff = provider_staff()
    staff.provider.webhook_url = "http://127.0.0.1/hook"
    staff.provider.webhook_secret = "s"
    staff.provider.save()
    filing = approved_filing(domains=["example-lang.cn"], provider=staff.provider)
    _notify(filing, "approved", django_capture_on_commit_callbacks)
    client.force_login(staff)
    from django.urls import reverse

    chinese = client.get(reverse("providers:webhooks"))
    client.cookies["django_language"] = "en"
    english = client.get(reverse("providers:webhooks"))

    assert "127.0.0.1 解析到非公网地址 127.0.0.1。" in chinese.content.decode()
    assert "127.0.0.1 resolves to a non-public address, 127.0.0.1." in english.content.decode()
