"""The captcha picture: "show another picture" gives a new one that the form then accepts; a
spoken recording of the same characters is the alternative for people who cannot see it."""

import io
import os
import re
import shutil
import subprocess
import wave

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


# The spoken captcha (WCAG 2.1 1.1.1 non-text content, GB/T 37668-2019) -------------------------

# Under CI=true the Makefile installs flite and sox, so nothing here is skipped there.
needs_speech = pytest.mark.skipif(
    not (shutil.which("flite") and shutil.which("sox")) and os.environ.get("CI") != "true",
    reason="needs flite and sox (make pytest installs them under CI=true)",
)


@pytest.fixture
def speech(monkeypatch, settings):
    """django-simple-captcha's own copy of the speech settings (it reads them once)."""
    from captcha.conf import settings as captcha_settings

    assert settings.CAPTCHA_FLITE_PATH and settings.CAPTCHA_SOX_PATH, "flite or sox not found"
    monkeypatch.setattr(captcha_settings, "CAPTCHA_FLITE_PATH", settings.CAPTCHA_FLITE_PATH)
    monkeypatch.setattr(captcha_settings, "CAPTCHA_SOX_PATH", settings.CAPTCHA_SOX_PATH)
    return captcha_settings


def _key(body: str) -> str:
    return re.search(r'name="captcha_0" value="([0-9a-f]+)"', body).group(1)


def _recording(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    return b"".join(response.streaming_content)


def _seconds(recording: bytes) -> float:
    with wave.open(io.BytesIO(recording)) as sound:
        return sound.getnframes() / sound.getframerate()


@needs_speech
def test_the_sign_in_captcha_can_be_heard_and_the_heard_characters_sign_in(client, speech):
    owner = UserFactory()
    body = client.get("/accounts/login/").content.decode()
    key = _key(body)
    assert f'href="/captcha/audio/{key}.wav" data-captcha-audio' in body
    assert "收听字符" in body

    recording = _recording(client, f"/captcha/audio/{key}.wav")
    assert _seconds(recording) >= 1.5  # five letters, spoken one by one

    answer = CaptchaStore.objects.get(hashkey=key).response
    response = client.post(
        "/accounts/login/",
        {"username": owner.username, "password": PASSWORD, "captcha_0": key, "captcha_1": answer},
    )
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(owner.pk)


@needs_speech
def test_the_recording_speaks_the_characters_of_its_own_picture(
    client, speech, monkeypatch, tmp_path
):
    key = _key(client.get("/accounts/login/").content.decode())
    challenge = CaptchaStore.objects.get(hashkey=key).challenge
    # Without the noise the recording is flite's reading of exactly these characters.
    monkeypatch.setattr(speech, "CAPTCHA_SOX_PATH", None)
    clean = tmp_path / "clean.wav"
    subprocess.run(
        [speech.CAPTCHA_FLITE_PATH, "-t", ", ".join(challenge), "-o", str(clean)], check=True
    )
    assert _recording(client, f"/captcha/audio/{key}.wav") == clean.read_bytes()


@needs_speech
def test_each_hearing_is_mixed_with_fresh_noise_so_recordings_cannot_be_matched(client, speech):
    key = _key(client.get("/accounts/login/").content.decode())
    first = _recording(client, f"/captcha/audio/{key}.wav")
    second = _recording(client, f"/captcha/audio/{key}.wav")
    assert first != second
    assert abs(_seconds(first) - _seconds(second)) < 0.01  # the same words, other noise


@needs_speech
def test_another_picture_comes_with_its_recording(client, speech):
    fresh = client.get("/captcha/refresh/", headers={"X-Requested-With": "XMLHttpRequest"}).json()
    assert fresh["audio_url"] == f"/captcha/audio/{fresh['key']}.wav"
    assert _seconds(_recording(client, fresh["audio_url"])) >= 1.5


@needs_speech
def test_the_public_query_captcha_can_be_heard_too(client, settings, speech):
    settings.PUBLIC_QUERY_CAPTCHA_AFTER = 0
    body = client.get("/query/", {"q": "blossom.cn"}).content.decode()
    key = _key(body)
    assert f'href="/captcha/audio/{key}.wav" data-captcha-audio' in body


@needs_speech
def test_a_used_or_unknown_captcha_has_no_recording(client, speech):
    assert (
        client.get("/captcha/audio/0123456789abcdef0123456789abcdef01234567.wav").status_code == 410
    )


def test_without_a_speech_synthesiser_no_recording_is_offered(client, monkeypatch):
    from captcha.conf import settings as captcha_settings

    monkeypatch.setattr(captcha_settings, "CAPTCHA_FLITE_PATH", None)
    body = client.get("/accounts/login/").content.decode()
    assert "data-captcha-audio" not in body
    assert "收听字符" not in body
    assert client.get(f"/captcha/audio/{_key(body)}.wav").status_code == 404
