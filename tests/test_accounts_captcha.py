"""The captcha picture: "show another picture" gives a new one that the form then accepts."""

import re

import pytest
from captcha.models import CaptchaStore

from tests.accounts_support import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def real_captcha(settings):
    settings.CAPTCHA_TEST_MODE = False


def test_the_login_page_offers_another_picture(client):
    body = client.get("/accounts/login/").content.decode()
    assert 'data-captcha-refresh="/captcha/refresh/"' in body
    assert "换一张" in body
    assert "/static/js/captcha.js" in body


def test_another_picture_comes_with_a_new_key_that_the_form_accepts(client):
    owner = UserFactory()
    body = client.get("/accounts/login/").content.decode()
    first_key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', body).group(1)

    fresh = client.get("/captcha/refresh/", headers={"X-Requested-With": "XMLHttpRequest"}).json()
    assert fresh["key"] != first_key
    assert fresh["image_url"] == f"/captcha/image/{fresh['key']}/"
    answer = CaptchaStore.objects.get(hashkey=fresh["key"]).response

    response = client.post(
        "/accounts/login/",
        {"username": owner.username, "password": PASSWORD, "captcha_0": fresh["key"],
         "captcha_1": answer},
    )  # fmt: skip
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(owner.pk)


def test_the_picture_service_answers_only_scripts():
    from django.test import Client

    assert Client().get("/captcha/refresh/").status_code == 404
