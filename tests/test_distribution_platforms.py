"""Distribution platforms (app stores, mini-program hosts: SPEC §13) are provider organisations
too: registered by the ministry as access providers, distribution platforms or both, told so in
their console, offered to owners only where their kind fits."""

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import AccessProvider
from beian.models import AuditLog
from filings import selectors
from tests.factories import AccessProviderFactory, MinistryFactory, UserFactory
from tests.providers_support import provider_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def createprovider(name: str, *extra: str) -> str:
    out = StringIO()
    call_command(
        "createprovider",
        name,
        "--licence",
        f"B1-{abs(hash(name)) % 10**8:08d}",
        "--email",
        "icp@store.example.cn",
        "--phone",
        "010-88886666",
        *extra,
        stdout=out,
    )
    return out.getvalue().strip()


# Registering -----------------------------------------------------------------------------------


def test_createprovider_registers_an_access_provider_unless_told_otherwise():
    printed = createprovider("示例云计算有限公司")
    provider = AccessProvider.objects.get(name="示例云计算有限公司")
    assert printed == str(provider.pk)
    assert (provider.is_access_provider, provider.is_distribution_platform) == (True, False)


@pytest.mark.parametrize(
    ("kind", "flags"),
    [("access", (True, False)), ("distribution", (False, True)), ("both", (True, True))],
)
def test_createprovider_registers_the_kind_asked(kind, flags):
    printed = createprovider(f"示例组织{kind}", "--kind", kind)
    provider = AccessProvider.objects.get(pk=int(printed))
    assert (provider.is_access_provider, provider.is_distribution_platform) == flags
    assert provider.kind == kind
    created = AuditLog.objects.get(action="provider.create", target_id=str(provider.pk))
    assert created.after["kind"] == kind


def test_createprovider_refuses_an_unknown_kind():
    with pytest.raises(CommandError, match="kind"):
        createprovider("示例应用商店", "--kind", "store")
    assert not AccessProvider.objects.filter(name="示例应用商店").exists()


# The ministry's admin ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = MinistryFactory()
    device = TOTPDevice.objects.create(user=admin, name="t", confirmed=True)
    client.force_login(admin)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def change_form(provider: AccessProvider, **changes) -> dict:
    """The admin's change form of ``provider`` as posted, with ``changes`` (a flag left out
    of ``changes`` keeps its value; False unticks it)."""
    data = {
        "name": provider.name,
        "licence_number": provider.licence_number,
        "contact_name": provider.contact_name,
        "email": provider.email,
        "phone": provider.phone,
        "webhook_url": provider.webhook_url,
        "is_active": "on",
        "is_access_provider": "on" if provider.is_access_provider else "",
        "is_distribution_platform": "on" if provider.is_distribution_platform else "",
        "staff-TOTAL_FORMS": "0",
        "staff-INITIAL_FORMS": "0",
        "staff-MIN_NUM_FORMS": "0",
        "staff-MAX_NUM_FORMS": "1000",
    }
    for name, value in changes.items():
        data[name] = ("on" if value else "") if isinstance(value, bool) else value
    return {k: v for k, v in data.items() if v != ""}


def test_the_admin_lists_and_edits_what_an_organisation_is(admin_client):
    store = AccessProviderFactory(
        name="示例应用市场", is_access_provider=False, is_distribution_platform=True
    )
    listing = admin_client.get(reverse("admin:accounts_accessprovider_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "column-is_distribution_platform" in html and "column-is_access_provider" in html

    url = reverse("admin:accounts_accessprovider_change", args=[store.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="is_access_provider"' in page and 'name="is_distribution_platform"' in page

    answer = admin_client.post(url, change_form(store, is_access_provider=True))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    store.refresh_from_db()
    assert store.kind == "both"
    change = AuditLog.objects.filter(action="provider.change", target_id=str(store.pk)).get()
    assert change.before["is_access_provider"] is False
    assert change.after["is_access_provider"] is True


def test_the_admin_refuses_an_organisation_that_is_neither_on_the_field(admin_client):
    provider = AccessProviderFactory()
    url = reverse("admin:accounts_accessprovider_change", args=[provider.pk])

    answer = admin_client.post(url, change_form(provider, is_access_provider=False))

    assert answer.status_code == 200
    assert "请至少勾选一项" in answer.content.decode()
    provider.refresh_from_db()
    assert provider.is_access_provider is True


# The provider console -------------------------------------------------------------------------


def console_line(user, language: str = "en") -> tuple[str, str]:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # what the language switch sets
    page = client.get(reverse("providers:console")).content.decode()
    match = re.search(r'<p[^>]*data-provider-kind="([a-z]+)"[^>]*>(.*?)</p>', page, re.S)
    assert match, page[:2000]
    return match[1], re.sub(r"<[^>]+>", "", match[2])


def test_an_app_store_sees_in_its_console_that_it_is_a_distribution_platform():
    store = AccessProviderFactory(is_access_provider=False, is_distribution_platform=True)
    kind, text = console_line(provider_staff(store))
    assert kind == "distribution"
    assert "Registered as: distribution platform." in text
    assert "/api/v1/provider/apps/check/" in text


def test_an_access_provider_sees_it_is_one_and_is_not_sent_to_the_app_check():
    kind, text = console_line(provider_staff(AccessProviderFactory()))
    assert kind == "access"
    assert "Registered as: access provider." in text
    assert "apps/check" not in text


def test_the_console_says_both_in_chinese():
    both = AccessProviderFactory(is_distribution_platform=True)
    kind, text = console_line(provider_staff(both), "zh-hans")
    assert kind == "both"
    assert "登记类型：接入服务提供商和分发平台。" in text


# What owners choose from ----------------------------------------------------------------------


@pytest.fixture
def organisations():
    return {
        "cloud": AccessProviderFactory(name="示例云"),
        "store": AccessProviderFactory(
            name="示例应用商店", is_access_provider=False, is_distribution_platform=True
        ),
        "both": AccessProviderFactory(name="示例云应用市场", is_distribution_platform=True),
        "closed": AccessProviderFactory(
            name="示例应用商店（停用）",
            is_access_provider=False,
            is_distribution_platform=True,
            is_active=False,
        ),
    }


def test_only_access_providers_are_candidates_for_an_access(organisations):
    names = [p.name for p in selectors.provider_candidates("示例")]
    assert names == ["示例云", "示例云应用市场"]


def test_only_distribution_platforms_are_candidates_for_an_apps_stores(organisations):
    names = [p.name for p in selectors.distribution_platform_candidates("应用")]
    assert names == ["示例云应用市场", "示例应用商店"]
    assert selectors.distribution_platform_candidates("   ") == []


@pytest.fixture
def owner_browser():
    browser = Client()
    browser.force_login(UserFactory())
    return browser


def test_the_wizard_provider_search_leaves_out_an_app_store(owner_browser, organisations):
    data = owner_browser.get(reverse("filings:provider-search"), {"q": "示例", "format": "json"})
    assert [r["name"] for r in data.json()["results"]] == ["示例云", "示例云应用市场"]
    fragment = owner_browser.get(reverse("filings:provider-search"), {"q": "商店"})
    assert "示例应用商店" not in fragment.content.decode()


def test_the_store_search_answers_distribution_platforms_as_json(owner_browser, organisations):
    answer = owner_browser.get(reverse("filings:store-search"), {"q": "  商店 "})
    assert answer.status_code == 200
    assert answer.json() == {
        "results": [
            {
                "id": organisations["store"].pk,
                "name": "示例应用商店",
                "licence_number": organisations["store"].licence_number,
            }
        ]
    }
    everything = owner_browser.get(reverse("filings:store-search"), {"q": "示例"}).json()
    assert [r["name"] for r in everything["results"]] == ["示例云应用市场", "示例应用商店"]
    assert owner_browser.get(reverse("filings:store-search")).json() == {"results": []}


def test_an_app_can_name_a_store_found_by_the_search_but_not_a_cloud(organisations):
    from filings.validation import coerce_data, validate_filing_data
    from tests import app_support as aps
    from tests import filings_support as fs

    def stores_errors(store_id):
        data = fs.data(websites=[])
        data["apps"] = [aps.app(stores=[store_id])]
        errors = validate_filing_data(coerce_data(data), filing=None)[1]
        return errors.get("apps", [{}])[0].get("stores")

    assert stores_errors(organisations["store"].pk) is None
    assert stores_errors(organisations["both"].pk) is None
    assert stores_errors(organisations["cloud"].pk)
