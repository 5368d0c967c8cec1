"""Who may download bazs.cert (Q23, Q25): the submitting account and, for imported clients,
its access provider. Everyone else gets 404, whether the filing exists or not."""

import pytest

from accounts.models import User
from beian.models import Province
from certificates.models import Certificate
from tests.factories import AccessProviderFactory, BureauFactory, MinistryFactory, UserFactory
from tests.test_certificates_support import approved_filing

pytestmark = pytest.mark.django_db


def page(filing) -> str:
    return f"/certificates/{filing.pk}/bazs.cert"


def api(filing) -> str:
    return f"/api/v1/filings/{filing.pk}/certificate/"


@pytest.fixture
def filing():
    return approved_filing(domains=("example.cn",))


def provider_staff(provider) -> User:
    return UserFactory(role=User.Role.PROVIDER, provider=provider, origin=User.Origin.STAFF)


@pytest.mark.parametrize("url", [page, api])
def test_the_owner_who_submitted_downloads_the_current_certificate(client, filing, url):
    client.force_login(filing.owner)
    response = client.get(url(filing))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="bazs.cert"'
    assert response.content == Certificate.objects.get(filing=filing, status="valid").file_bytes


@pytest.mark.parametrize("url", [page, api])
def test_the_access_provider_of_an_imported_client_downloads_it(client, url):
    provider = AccessProviderFactory()
    staff = provider_staff(provider)
    filing = approved_filing(provider=provider, domains=("client.cn",))
    client.force_login(staff)
    assert client.get(url(filing)).status_code == 200


@pytest.mark.parametrize("url", [page, api])
@pytest.mark.parametrize(
    "who",
    [
        "another_owner",
        "another_provider",
        "same_province_bureau",
        "other_province_bureau",
        "ministry",
    ],
)
def test_nobody_else_may_download_and_gets_404(client, filing, url, who):
    outsider = {
        "another_owner": lambda: approved_filing(domains=("other.cn",)).owner,
        "another_provider": lambda: provider_staff(AccessProviderFactory()),
        "same_province_bureau": lambda: BureauFactory(),
        "other_province_bureau": lambda: BureauFactory(province=Province.objects.get(code="31")),
        "ministry": lambda: MinistryFactory(),
    }[who]()
    client.force_login(outsider)
    response = client.get(url(filing))
    # Staff pages may first send staff to the second factor; never is the file handed out.
    assert response.status_code in (404, 302, 403)
    assert b"BAZS" not in response.content
    if who in ("another_owner", "another_provider"):
        assert response.status_code == 404
    elif url is api:
        # Staff whose session has not passed the second factor are refused before any lookup.
        assert response.status_code == 403


def test_an_owner_whose_filing_was_submitted_by_another_account_gets_404(client):
    """Q23: the certificate belongs to the account that submitted the filing."""
    submitter = UserFactory()
    filing = approved_filing(submitted_by=submitter)
    client.force_login(filing.owner)
    assert client.get(api(filing)).status_code == 404
    client.force_login(submitter)
    assert client.get(api(filing)).status_code == 200


def test_the_provider_of_a_filing_not_filed_by_it_gets_404(client, filing):
    provider = AccessProviderFactory()
    client.force_login(provider_staff(provider))
    assert client.get(api(filing)).status_code == 404


def test_an_unknown_filing_and_a_revoked_one_answer_404(client, filing):
    from certificates.services import certificate_revoke

    client.force_login(filing.owner)
    assert client.get(f"/api/v1/filings/{filing.pk + 1000}/certificate/").status_code == 404
    certificate_revoke(filing=filing)
    assert client.get(api(filing)).status_code == 404


def test_anonymous_callers_are_asked_to_sign_in(client, filing):
    assert client.get(api(filing)).status_code in (401, 403)
    response = client.get(page(filing))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_task_panel_offers_download_install_guide_and_check(rf, filing):
    from django.template import Context, Template

    request = rf.get("/filings/")
    request.user = filing.owner
    html = Template("{% include 'certificates/task_panel.html' %}").render(
        Context({"filing": filing, "request": request, "user": filing.owner})
    )
    assert f"/certificates/{filing.pk}/bazs.cert" in html
    assert f"/certificates/{filing.pk}/install/" in html
    assert f"/certificates/{filing.pk}/check/" in html


def test_the_task_panel_tells_a_non_submitting_owner_where_the_certificate_is(rf):
    from django.template import Context, Template

    filing = approved_filing(submitted_by=UserFactory())
    request = rf.get("/filings/")
    request.user = filing.owner
    html = Template("{% include 'certificates/task_panel.html' %}").render(
        Context({"filing": filing, "request": request, "user": filing.owner})
    )
    assert "bazs.cert" not in html
    assert filing.number in html


def test_the_install_guide_shows_the_addresses_and_the_footer_snippet(client, settings):
    settings.PORTAL_URL = "https://beian.example.gov.cn"
    filing = approved_filing(domains=("example.cn", "example.com.cn"))
    client.force_login(filing.owner)
    body = client.get(f"/certificates/{filing.pk}/install/").content.decode()
    assert "http://example.cn/cert/bazs.cert" in body
    assert "http://example.com.cn/cert/bazs.cert" in body
    assert "text-align:center" in body
    assert (
        f'href="https://beian.example.gov.cn/" target="_blank" rel="noopener">{filing.number}</a>'
        in body
    )


def test_the_install_guide_is_404_for_outsiders(client, filing):
    client.force_login(UserFactory())
    assert client.get(f"/certificates/{filing.pk}/install/").status_code == 404
