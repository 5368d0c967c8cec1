"""Pages that used to lead nowhere: the forgotten-username page is linked where people look
for it (Q11), an owner whose filing was revoked learns why sign-in fails (Q21), and
confirming one code of two reads as the success it is (Q16)."""

import pytest
from django.urls import reverse

from accounts.models import User
from tests import filings_support as fs
from tests.accounts_support import PASSWORD, captcha_test_mode, last_code, login_form
from tests.factories import UserFactory, WebsiteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("captcha_test_mode")]
__all__ = ["captcha_test_mode"]

FORGOT_USERNAME = reverse("filings:forgot-username")
CLOSED = "This account was closed when its filing was revoked."


def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


# Forgotten username (Q11) --------------------------------------------------------------------


@pytest.mark.parametrize("page", ["accounts:login", "accounts:password-forgot"])
def test_the_sign_in_and_forgotten_password_pages_link_the_forgotten_username_page(client, page):
    body = client.get(reverse(page)).content.decode()
    assert f'href="{FORGOT_USERNAME}"' in body


def test_the_public_query_results_link_the_forgotten_username_page(client):
    from tests.public_support import approved_filing

    approved_filing(websites=[{"homepage": "http://found-here.cn/", "domains": ["found-here.cn"]}])

    found = client.get(reverse("public:query"), {"q": "found-here.cn"}).content.decode()
    assert "found-here.cn" in found
    assert f'href="{FORGOT_USERNAME}"' in found
    # Not on the empty search form: only with results to act on.
    assert f'href="{FORGOT_USERNAME}"' not in client.get(reverse("public:query")).content.decode()


# The account closed with its revoked filing (Q21) ----------------------------------------------


def revoked_owner():
    from review.services import filing_revoke
    from tests.factories import MinistryFactory

    owner = UserFactory()
    filing = fs.approve(fs.submitted_filing(owner))
    filing_revoke(filing=filing, by=MinistryFactory(), reason="网站已关闭")
    return User.objects.get(pk=owner.pk)


def test_the_right_password_of_a_revoked_owner_says_the_account_closed_with_its_filing(client):
    owner = revoked_owner()

    response = english(client).post(reverse("accounts:login"), login_form(owner.username))

    assert response.status_code == 400
    body = response.content.decode()
    assert CLOSED in body
    assert "The username or password is not correct." not in body
    assert f'href="{reverse("accounts:register")}"' in body
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_of_a_revoked_owner_reveals_nothing(client):
    owner = revoked_owner()

    response = english(client).post(
        reverse("accounts:login"), login_form(owner.username, "Wrong-Guess-42")
    )

    body = response.content.decode()
    assert "The username or password is not correct." in body
    assert CLOSED not in body


def test_an_account_deactivated_for_another_reason_gets_the_usual_answer(client):
    owner = UserFactory(is_active=False)
    WebsiteFactory(filing__owner=owner, filing__status="approved")

    response = english(client).post(reverse("accounts:login"), login_form(owner.username))

    assert "The username or password is not correct." in response.content.decode()


def test_the_closed_account_message_is_in_chinese_for_chinese_readers(client):
    owner = revoked_owner()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})

    body = client.post(reverse("accounts:login"), login_form(owner.username)).content.decode()

    assert "该账户已随备案注销而关闭" in body


def test_a_revoked_owners_right_password_still_counts_towards_the_lockout(client, settings):
    from axes.models import AccessAttempt

    owner = revoked_owner()
    english(client).post(reverse("accounts:login"), login_form(owner.username))

    assert AccessAttempt.objects.filter(username=owner.username).get().failures_since_start == 1


# Q16: one code confirmed reads as success -----------------------------------------------------

MOBILE, EMAIL = "13812345678", "lilei@example.cn"


def register(client):
    english(client).post(
        reverse("accounts:register"),
        {
            "username": "lilei",
            "password": PASSWORD,
            "password2": PASSWORD,
            "email": EMAIL,
            "mobile": MOBILE,
        },
    )


def test_confirming_only_the_sms_code_reads_as_success_with_the_next_step(client):
    register(client)

    response = client.post(
        reverse("accounts:verify"), {"sms_code": last_code(MOBILE), "email_code": ""}, follow=True
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "error-summary" not in body
    assert "Enter the 6-digit code." not in body
    assert "Your mobile number is confirmed." in body
    assert EMAIL in body
    # The next steps are right there: a new email code, or another address.
    assert reverse("accounts:verify-change-email") in body
    assert 'value="email"' in body
    assert User.objects.get(username="lilei").mobile_verified_at is not None


def test_confirming_only_the_email_code_reads_as_success_and_asks_for_the_sms_code(client):
    register(client)

    response = client.post(
        reverse("accounts:verify"), {"sms_code": "", "email_code": last_code(EMAIL)}, follow=True
    )

    body = response.content.decode()
    assert "error-summary" not in body
    assert "Your email address is confirmed." in body
    assert 'name="sms_code"' in body


def test_a_wrong_second_code_is_still_an_error_beside_the_success(client):
    register(client)
    code = last_code(EMAIL)
    wrong_code = "000000" if code != "000000" else "111111"

    response = client.post(
        reverse("accounts:verify"), {"sms_code": last_code(MOBILE), "email_code": wrong_code}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Your mobile number is confirmed." in body
    assert "error-summary" in body
    assert 'href="#id_email_code"' in body


def test_nothing_confirmed_and_nothing_typed_is_an_error_as_before(client):
    register(client)

    response = client.post(reverse("accounts:verify"), {"sms_code": "", "email_code": ""})

    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
