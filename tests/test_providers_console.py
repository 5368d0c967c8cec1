"""The provider console: clients, tokens, webhooks, resets; each provider sees only its own."""

from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import AccessProvider, User
from beian.models import AuditLog
from filings.models import Filing
from providers.models import ApiToken, ImportJob, WebhookDelivery
from providers.selectors import provider_for_initial_password_account
from providers.services import (
    api_token_issue,
    client_password_reset,
    initial_password,
    set_initial_password,
)
from tests.accounts_support import captcha_test_mode  # noqa: F401
from tests.factories import AccessProviderFactory, FilingFactory, UserFactory
from tests.providers_support import provider_staff

pytestmark = pytest.mark.django_db


def imported_client(provider, *, initial=True, status="pending_review", **filing_kwargs):
    client = UserFactory(
        origin=User.Origin.IMPORT,
        imported_by=provider,
        mobile_verified_at=None,
        email_verified_at=None,
    )
    if initial:
        set_initial_password(client, initial_password())
        client.save()
    FilingFactory(owner=client, filed_by_provider=provider, status=status, **filing_kwargs)
    return client


@pytest.fixture
def staff():
    return provider_staff()


@pytest.fixture
def console(client, staff):
    client.force_login(staff)
    return client


def test_the_console_lists_this_providers_client_filings_only(console, staff):
    mine = imported_client(staff.provider)
    theirs = imported_client(AccessProviderFactory())
    page = console.get(reverse("providers:console")).content.decode()
    assert mine.username in page
    assert theirs.username not in page


def test_the_client_list_filters_by_status_and_conflicts(console, staff):
    pending = imported_client(staff.provider, status="pending_review")
    conflicted = imported_client(staff.provider, status="pending_review", has_open_conflicts=True)
    approved = imported_client(staff.provider, status="approved", number="京ICP备2026000001号")
    page = console.get(reverse("providers:console"), {"status": "approved"}).content.decode()
    assert approved.username in page and pending.username not in page
    page = console.get(reverse("providers:console"), {"conflicts": "yes"}).content.decode()
    assert conflicted.username in page and pending.username not in page
    page = console.get(reverse("providers:console"), {"q": pending.username}).content.decode()
    assert pending.username in page and approved.username not in page


def test_the_client_list_is_paginated_without_a_query_per_row(
    console, staff, django_assert_max_num_queries
):
    for _ in range(60):
        # Without an initial password: its deliberately slow hash is not what is measured.
        imported_client(staff.provider, initial=False)
    with django_assert_max_num_queries(12):
        response = console.get(reverse("providers:console"))
    assert response.status_code == 200
    assert response.context["page"].paginator.num_pages == 2


def test_other_accounts_do_not_get_the_console(client):
    for user in (UserFactory(), provider_staff(AccessProviderFactory(is_active=False))):
        client.force_login(user)
        assert client.get(reverse("providers:console")).status_code == 404
    client.logout()
    assert client.get(reverse("providers:console")).status_code == 302


def test_a_provider_resets_the_initial_password_of_its_own_client(console, staff):
    client_user = imported_client(staff.provider)
    response = console.post(reverse("providers:client-password-reset", args=[client_user.pk]))
    assert response.status_code == 200
    password = response.context["password"]
    client_user.refresh_from_db()
    assert check_password(password, client_user.password)
    assert client_user.password_is_initial
    entry = AuditLog.objects.get(action="provider.client_password_reset")
    assert entry.actor == staff and entry.target_id == str(client_user.pk)


def test_no_reset_once_the_client_chose_a_password(console, staff):
    client_user = imported_client(staff.provider, initial=False)
    response = console.post(
        reverse("providers:client-password-reset", args=[client_user.pk]), follow=True
    )
    page = response.content.decode()
    assert "communications administration" in page or "只能由备案所在省通信管理局" in page
    with pytest.raises(ValidationError, match="administration|通信管理局"):
        client_password_reset(client=client_user, by=staff)
    assert not AuditLog.objects.filter(action="provider.client_password_reset").exists()


def test_no_reset_of_a_closed_client_and_no_button_for_it(console, staff):
    client_user = imported_client(staff.provider, status="revoked")
    User.objects.filter(pk=client_user.pk).update(is_active=False)
    client_user.refresh_from_db()
    before = client_user.password
    reset_url = reverse("providers:client-password-reset", args=[client_user.pk])

    console.post("/i18n/setlang/", {"language": "en", "next": "/"})
    listing = console.get(reverse("providers:console"))
    response = console.post(reset_url, follow=True)

    assert client_user.username in listing.content.decode()
    assert reset_url not in listing.content.decode()
    assert "account is closed" in response.content.decode()
    with pytest.raises(ValidationError, match="closed"):
        client_password_reset(client=client_user, by=staff)
    client_user.refresh_from_db()
    assert client_user.password == before
    assert not AuditLog.objects.filter(action="provider.client_password_reset").exists()


def test_no_reset_of_another_providers_client(console):
    other = imported_client(AccessProviderFactory())
    response = console.post(reverse("providers:client-password-reset", args=[other.pk]))
    assert response.status_code == 404
    self_registered = UserFactory()
    response = console.post(reverse("providers:client-password-reset", args=[self_registered.pk]))
    assert response.status_code == 404


def test_the_forgotten_password_page_names_the_provider_while_the_password_is_initial(staff):
    client_user = imported_client(staff.provider)
    assert provider_for_initial_password_account(client_user) == staff.provider
    client_user.password_is_initial = False
    assert provider_for_initial_password_account(client_user) is None
    assert provider_for_initial_password_account(UserFactory()) is None


@pytest.mark.usefixtures("captcha_test_mode")
def test_the_forgotten_password_page_tells_the_imported_client_who_to_ask(client, staff):
    client_user = imported_client(staff.provider)
    form = {"username": client_user.username, "captcha_0": "test-key", "captcha_1": "PASSED"}
    response = client.post(reverse("accounts:password-forgot"), form)
    assert staff.provider.name in response.content.decode()
    # Once the client has chosen a password, the provider is no longer the one to ask.
    client_user.password_is_initial = False
    client_user.save()
    response = client.post(reverse("accounts:password-forgot"), form)
    assert staff.provider.name not in response.content.decode()


def test_tokens_are_created_named_shown_once_and_revoked(console, staff):
    response = console.post(reverse("providers:tokens"), {"name": "gating server"})
    key = response.context["new_key"]
    assert key.startswith("bp_")
    token = ApiToken.objects.get()
    assert token.name == "gating server" and token.key_hash != key
    page = console.get(reverse("providers:tokens")).content.decode()
    assert "gating server" in page and key not in page
    console.post(reverse("providers:token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_needs_a_name(console):
    response = console.post(reverse("providers:tokens"), {"name": "  "})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_one_provider_cannot_see_or_revoke_anothers_tokens(console, staff):
    other_staff = provider_staff(AccessProviderFactory())
    token, _key = api_token_issue(user=other_staff, name="their secret server")
    assert "their secret server" not in console.get(reverse("providers:tokens")).content.decode()
    response = console.post(reverse("providers:token-revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_one_provider_cannot_see_anothers_imports_or_deliveries(console, staff):
    other = provider_staff(AccessProviderFactory())
    job = ImportJob.objects.create(provider=other.provider, created_by=other, source="csv")
    assert console.get(reverse("providers:import-detail", args=[job.pk])).status_code == 404
    assert console.get(reverse("providers:import-errors", args=[job.pk])).status_code == 404
    assert console.post(reverse("providers:import-results", args=[job.pk])).status_code == 404
    delivery = WebhookDelivery.objects.create(
        provider=other.provider, event="approved", url="https://x.example.cn/", body=b"{}"
    )
    assert (
        console.post(reverse("providers:webhook-redeliver", args=[delivery.pk])).status_code == 404
    )


def test_the_webhook_url_is_saved_with_a_secret_shown_once(console, staff):
    response = console.post(
        reverse("providers:webhooks"), {"webhook_url": "https://hooks.example.cn/beian"}
    )
    assert response.status_code == 200
    secret = response.context["new_secret"]
    provider = AccessProvider.objects.get(pk=staff.provider_id)
    assert provider.webhook_url == "https://hooks.example.cn/beian"
    assert provider.webhook_secret == secret
    # Saving again keeps the secret unless a new one is asked for.
    response = console.post(
        reverse("providers:webhooks"), {"webhook_url": "https://hooks.example.cn/v2"}
    )
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.webhook_secret == secret


def test_a_bad_webhook_url_is_refused_with_a_message(console, staff):
    response = console.post(reverse("providers:webhooks"), {"webhook_url": "ftp://x"})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()


def test_createprovider_registers_a_provider_and_prints_its_id():
    out = StringIO()
    call_command(
        "createprovider",
        "示例云计算有限公司",
        "--licence",
        "B1-20260001",
        "--email",
        "icp@cloud.example.cn",
        "--phone",
        "010-88886666",
        "--province",
        "11",
        stdout=out,
    )
    provider = AccessProvider.objects.get(name="示例云计算有限公司")
    assert out.getvalue().strip() == str(provider.pk)
    assert list(provider.provinces.values_list("code", flat=True)) == ["11"]
    with pytest.raises(CommandError):
        call_command(
            "createprovider",
            "示例云计算有限公司",
            "--licence",
            "B1-20260001",
            "--email",
            "icp@cloud.example.cn",
            "--phone",
            "010-88886666",
            stdout=StringIO(),
        )


def test_createstaff_makes_provider_staff_without_totp():
    provider = AccessProviderFactory(name="示例云")
    out = StringIO()
    call_command(
        "createstaff",
        "cloudops",
        "--role",
        "provider",
        "--provider",
        "示例云",
        "--email",
        "ops@cloud.example.cn",
        "--mobile",
        "13912345678",
        "--password",
        "Cloud-Ops-2026!",
        stdout=out,
    )
    user = User.objects.get(username="cloudops")
    assert user.role == User.Role.PROVIDER and user.provider == provider
    assert "otpauth://" not in out.getvalue()


def test_the_ministry_adds_provider_staff_in_the_admin(client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import MinistryFactory

    admin = MinistryFactory()
    device = TOTPDevice.objects.create(user=admin, name="t", confirmed=True)
    client.force_login(admin)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    provider = AccessProviderFactory()
    url = reverse("admin:providers_accessprovider_add_staff", args=[provider.pk])
    response = client.post(
        url,
        {
            "username": "newstaff",
            "email": "new@cloud.example.cn",
            "mobile": "13912340000",
            "password": "Strong-Pass-2026!",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newstaff")
    assert user.role == User.Role.PROVIDER and user.provider == provider
    assert AuditLog.objects.filter(action="provider.staff_create", actor=admin).exists()
    assert (
        client.get(reverse("admin:accounts_accessprovider_change", args=[provider.pk])).status_code
        == 200
    )


def test_imported_clients_certificates_are_linked_for_approved_filings(console, staff):
    client_user = imported_client(staff.provider, status="approved", number="京ICP备2026000009号")
    filing = Filing.objects.get(owner=client_user)
    page = console.get(reverse("providers:console")).content.decode()
    assert reverse("certificates:download", args=[filing.pk]) in page


def test_the_client_search_reads_names_and_numbers_in_their_normal_forms(console, staff):
    branch = imported_client(staff.provider, sponsor_name="華為（北京）科技有限公司")
    numbered = imported_client(staff.provider, status="approved", number="京ICP备2026000002号")
    other = imported_client(staff.provider)
    page = console.get(reverse("providers:console"), {"q": "华为(北京)"}).content.decode()
    assert branch.username in page and other.username not in page
    page = console.get(reverse("providers:console"), {"q": "京icp备2026000002"}).content.decode()
    assert numbered.username in page and other.username not in page


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://169.254.169.254/latest/", "169.254.169.254"),
        ("http://127.0.0.1/", "127.0.0.1"),
        ("http://[::1]/", "::1"),
        ("http://0.0.0.0/", "0.0.0.0"),
        ("http://[fd00::1]/", "fd00::1"),
        ("https://10.1.2.3/hook", "10.1.2.3"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
    ],
)
def test_a_webhook_url_naming_a_non_public_address_is_refused_on_the_field(
    console, staff, settings, url, address
):
    settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE = False

    response = console.post(reverse("providers:webhooks"), {"webhook_url": url})

    assert response.status_code == 400
    errors = response.context["form"].errors["webhook_url"]
    assert errors == [f"回调只发送到公网地址，{address} 不是公网地址。"]
    assert AccessProvider.objects.get(pk=staff.provider_id).webhook_url == ""


def test_a_webhook_url_at_a_public_address_is_saved(console, staff, settings):
    settings.PROVIDER_WEBHOOK_ALLOW_PRIVATE = False

    response = console.post(reverse("providers:webhooks"), {"webhook_url": "https://1.1.1.1/h"})

    assert response.status_code == 200
    assert AccessProvider.objects.get(pk=staff.provider_id).webhook_url == "https://1.1.1.1/h"


@pytest.mark.parametrize(
    "typed", ["http://例子。中国/hook", "http://例子.中国/hook", "http://例子．中国/hook"]
)
def test_a_webhook_host_is_taken_in_the_domain_normal_form(console, staff, typed):
    response = console.post(reverse("providers:webhooks"), {"webhook_url": typed})

    assert response.status_code == 200
    provider = AccessProvider.objects.get(pk=staff.provider_id)
    assert provider.webhook_url == "http://xn--fsqu00a.xn--fiqs8s/hook"
    page = console.get(reverse("providers:webhooks")).content.decode()
    assert 'value="http://例子.中国/hook"' in page
