"""Rate limits and lockouts (issue 9): every endpoint that sends an SMS or an email, or checks a
password or a code, is limited, and a test proves it by driving it past its limit.

``LIMITED`` is the registry: each such URL, what limits it, and the test that proves it
(many live with the app that owns the endpoint; the missing ones are below). ``NO_SECRETS``
holds every other URL with the reason it needs no limit. A new URL that is in neither fails
``test_every_url_is_either_limited_or_says_why_it_needs_no_limit``, and a proof that is
renamed or removed fails ``test_every_limit_is_proved_by_a_test_that_exists``.

Messages no URL sends are bounded where they are made: the annual-review reminders go from beat
only (``public.annual_review.daily``, once at the window's opening and once before its end), the
deadline digests and escalations once a day per province, decisions' emails once per decision.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from beian.models import Message
from tests.accounts_support import PASSWORD, captcha_test_mode, login_form  # noqa: F401
from tests.factories import BureauFactory, MinistryFactory, UserFactory

pytestmark = pytest.mark.django_db

HERE = "tests/test_security_limits.py"

# URL name → (what limits it, the test that proves it: "file::function").
LIMITED: dict[str, tuple[str, str]] = {
    # Codes by SMS and email: per recipient (1/min, 5/hour, 10/day) and per client address.
    "accounts:register": (
        "codes per client address",
        f"{HERE}::test_the_registration_page_stops_sending_codes_at_the_address_limit",
    ),
    "api-register": (
        "codes per client address; DRF 'auth' throttle",
        "tests/test_accounts_register.py::test_per_ip_limit",
    ),
    "accounts:verify-resend": (
        "codes per recipient",
        f"{HERE}::test_resending_from_the_page_too_soon_sends_nothing",
    ),
    "api-resend-code": (
        "codes per recipient and address; DRF 'auth' throttle",
        "tests/test_accounts_register.py::test_per_recipient_limit_of_5_an_hour",
    ),
    "accounts:verify-change-email": (
        "email changes per account (each one tells the mobile by SMS)",
        f"{HERE}::test_moving_an_unconfirmed_email_is_limited_per_account_whatever_the_address",
    ),
    "accounts:password-forgot": (
        "codes per recipient and address, silently (no tell that the account exists)",
        f"{HERE}::test_the_forgotten_password_form_stops_sending_without_saying_so",
    ),
    "accounts:contact-change": (
        "codes per recipient and address",
        f"{HERE}::test_a_contact_change_code_is_not_sent_twice_within_the_minute",
    ),
    # Codes checked: 5 wrong tries spend a code.
    "accounts:verify": (
        "5 wrong tries per code",
        f"{HERE}::test_the_verify_page_refuses_the_right_code_after_five_wrong_ones",
    ),
    "api-verify": (
        "tries per client address and per code over every address; DRF 'auth' throttle",
        "tests/test_security_verify.py::"
        "test_a_strangers_wrong_tries_lock_out_the_strangers_address_not_the_code",
    ),
    "accounts:password-reset": (
        "5 wrong tries per code",
        f"{HERE}::test_the_reset_codes_stop_working_after_five_wrong_tries",
    ),
    "accounts:contact-confirm": (
        "5 wrong tries per code",
        f"{HERE}::test_a_contact_change_code_stops_working_after_five_wrong_tries",
    ),
    # Passwords: django-axes locks username + address after 5 failures for 30 minutes.
    "accounts:login": (
        "django-axes lockout",
        "tests/test_accounts_login.py::test_five_failures_lock_the_username_and_address_even_for_the_right_password",
    ),
    "api-token": (
        "django-axes lockout, wrong otp included; DRF 'auth' throttle",
        "tests/test_accounts_login.py::test_the_token_api_shares_the_lockout",
    ),
    "accounts:password-change": (
        "django-axes lockout on the current password",
        f"{HERE}::test_guessing_the_current_password_when_changing_it_locks_out",
    ),
    "admin:login": (
        "django-axes lockout",
        f"{HERE}::test_the_admin_sign_in_is_locked_out_like_the_portal",
    ),
    # TOTP codes: django-otp makes a device wait longer after each wrong code.
    "accounts:otp-verify": (
        "django-otp throttling",
        f"{HERE}::test_after_a_wrong_totp_code_even_the_right_one_waits",
    ),
    "accounts:otp-setup": (
        "django-otp throttling",
        f"{HERE}::test_enrolment_after_a_wrong_totp_code_waits_too",
    ),
    # Public forms that send or fetch.
    "filings:forgot-username": (
        "captcha; USERNAME_REMINDER_RATE per address and per number, silently",
        f"{HERE}::test_the_forgotten_username_form_stops_sending_without_saying_so",
    ),
    "public:query": (
        "captcha after PUBLIC_QUERY_CAPTCHA_AFTER queries an hour",
        "tests/test_public_query.py::test_the_page_asks_for_a_captcha_after_the_threshold",
    ),
    "public-filings": (
        "DRF 'public' throttle per address",
        "tests/test_public_query.py::test_the_api_is_rate_limited_per_address",
    ),
    "certificates:verify-domain": (
        "5 checks a minute per address (each one fetches from the website)",
        f"{HERE}::test_the_public_domain_check_stops_fetching_at_its_limit",
    ),
    "api-certificate-verify": (
        "DRF 'public' throttle per address",
        f"{HERE}::test_the_anonymous_api_calls_are_throttled",
    ),
    "certificates:check": (
        "one on-demand check per filing per cooldown",
        "tests/test_certificates_checker.py::test_a_second_check_moments_later_is_refused",
    ),
    "certificates:staff-check": (
        "one on-demand check per filing per cooldown (the same service)",
        "tests/test_certificates_checker.py::test_a_second_check_moments_later_is_refused",
    ),
    # The SMS verification of an application (SPEC §12): tries per client address (and 5 per
    # code); the owner's request for a new code like codes per recipient and address.
    "public:verification": (
        "tries per client address; wrong tries per code",
        "tests/test_sms_verification.py::test_too_many_tries_from_one_address_answer_429_with_the_wait",
    ),
    "api-verification": (
        "tries per client address; wrong tries per code",
        "tests/test_sms_verification.py::test_too_many_tries_from_one_address_answer_429_with_the_wait",
    ),
    "filings:verification-resend": (
        "codes per recipient and address",
        "tests/test_sms_verification.py::test_a_new_code_replaces_the_old_one_and_is_rate_limited",
    ),
    "api-filing-verification-resend": (
        "codes per recipient and address",
        "tests/test_sms_verification.py::test_a_new_code_replaces_the_old_one_and_is_rate_limited",
    ),
    # Staff: a temporary password by SMS.
    "review:password-reset": (
        "temporary passwords per account like codes per recipient",
        f"{HERE}::test_the_bureau_sends_a_temporary_password_no_more_often_than_a_code",
    ),
}

# Every other URL: why it needs no limit of its own.
NO_SECRETS: dict[str, str] = {
    name: reason
    for names, reason in (
        (
            "home bureau-directory health dev-outbox public:bulletin public:announcement "
            "certificates:keys certificates:key certificates:verify "
            "certificates:verify-domain-result",
            "public reading: sends nothing, checks no secret (verify only checks a signature; "
            "a domain check's answer is read by its random id, the check was counted when it "
            "started)",
        ),
        (
            "accounts:logout accounts:logout-everywhere accounts:account accounts:password-initial",
            "signed in (or a pending sign-in past its password and codes); sends nothing",
        ),
        (
            "filings:task_list filings:sponsor filings:websites filings:website-new filings:website "
            "filings:website-remove filings:provider-search filings:store-search filings:documents "
            "filings:document "
            "filings:check_answers filings:submitted filings:discard filings:revocation filings:version "
            "filings:withdraw api-filings api-filing api-filing-documents api-filing-submit "
            "api-filing-revocation api-filing-withdraw api-filing-certificate certificates:download "
            "certificates:install public:annual_review public:annual_review_confirm "
            "filings:access-new filings:access-cancel filings:website-cancel api-filing-accesses "
            "api-filing-access-cancel api-filing-website-cancel filings:apps filings:app-new "
            "filings:app filings:app-platforms filings:app-domains filings:app-accesses "
            "filings:app-remove filings:store-candidates filings:mini-programs "
            "filings:mini-program-new filings:mini-program filings:mini-program-platform "
            "filings:mini-program-remove",
            "the owner's own filing: a message goes only to the owner, at most once per "
            "submission, and submitting without a change is refused",
        ),
        (
            "providers:console providers:imports providers:import-template "
            "providers:import-detail providers:import-errors providers:import-results "
            "providers:tokens providers:token-revoke providers:signin-token-revoke "
            "providers:webhooks providers:webhook-redeliver providers:client-password-reset "
            "api-provider-imports providers:reviews providers:review-detail "
            "providers:review-document api-provider-reviews api-provider-review-decision "
            "filings:verification-record",
            "provider staff: sends no SMS or email (a reset password is shown once, never sent; "
            "webhooks go to the provider's own URL); a first-review decision sends at most one "
            "code or one return per application, which the decision moves on",
        ),
        (
            "providers:accesses providers:access-new providers:access-withdraw "
            "providers:access-withdraw-upload providers:access-withdraw-results "
            "providers:access-withdraw-template api-provider-accesses api-provider-access-cancel",
            "provider staff, on websites it serves or applies to serve: each request opens at "
            "most one application per record (one open at a time, SPEC §12), whose move tells "
            "that record's owner once; a file holds at most PROVIDER_ACCESS_CANCEL_MAX_ROWS rows",
        ),
        (
            "api-provider-check api-provider-domain",
            "provider staff: THROTTLE_GATING per token "
            "(tests/test_providers_gating.py::test_the_rate_limit_applies_per_token)",
        ),
        (
            "api-provider-apps-check",
            "provider staff: THROTTLE_GATING per token, shared with gating "
            "(tests/test_providers_app_check.py::test_the_app_check_shares_the_gating_rate_per_token)",
        ),
        (
            "review:queue review:export review:deadlines review:statistics review:audit "
            "review:detail review:approve review:reject review:recheck review:revoke "
            "review:revocation review:document review:annual-overdue review:shells "
            "api-review-queue "
            "api-review-filing api-review-decision api-review-recheck api-review-revoke",
            "verified staff: each message follows a decision that changes the filing's state",
        ),
    )
    for name in names.split()
}


def _project_url_names() -> set[str]:
    from tests.test_security_matrix import NOT_CHECKED, PROJECT_ENTRIES

    return {e.key for e in PROJECT_ENTRIES if e.key not in NOT_CHECKED}


def test_every_url_is_either_limited_or_says_why_it_needs_no_limit():
    names = _project_url_names() | {"admin:login"}
    both = set(LIMITED) & set(NO_SECRETS)
    assert not both, f"listed as limited and as needing no limit: {sorted(both)}"
    unclassified = names - set(LIMITED) - set(NO_SECRETS)
    assert not unclassified, f"say how these are limited, or why they need no limit: {unclassified}"
    stale = (set(LIMITED) | set(NO_SECRETS)) - names
    assert not stale, f"no such URL any more: {sorted(stale)}"


def test_every_limit_is_proved_by_a_test_that_exists():
    root = Path(__file__).resolve().parent.parent
    for name, (_how, proof) in LIMITED.items():
        path, _, function = proof.partition("::")
        tree = ast.parse((root / path).read_text(encoding="utf-8"))
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert function in defined, f"{name}: {proof} does not exist"


# --- Helpers -----------------------------------------------------------------------------------


def code_in(to: str) -> str:
    """The 6-digit code of the newest message to ``to`` (Chinese text has no word breaks)."""
    messages = Message.objects.filter(to=to).order_by("-id")
    assert messages, f"no message to {to}"
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", messages[0].body)
    assert match, messages[0].body
    return match[1]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def totp_now(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def pending(client: Client, user: User) -> None:
    """A sign-in of ``user`` past its password, waiting for its codes (as the login page leaves
    it): the pages of the verify step work on it."""
    import time

    session = client.session
    session["accounts_pending"] = {
        "user_id": user.pk,
        "via": "login",
        "started": time.time(),
        "next": None,
    }
    session.save()


@pytest.fixture(autouse=True)
def _fast(fast_password_hashing):
    """Accounts are created in most tests here; Argon2 would cost most of a second each."""


# --- Codes sent --------------------------------------------------------------------------------


def test_the_registration_page_stops_sending_codes_at_the_address_limit(client, settings):
    settings.ACCOUNTS_CODE_RATE_PER_IP = "3/hour"

    def register(n):
        return client.post(
            reverse("accounts:register"),
            {
                "username": f"newcomer{n}",
                "password": PASSWORD,
                "password2": PASSWORD,
                "email": f"newcomer{n}@example.cn",
                "mobile": f"1390000000{n}",
            },
        )

    assert register(1).status_code == 302  # two codes: mobile and email
    client.session.flush()
    before = Message.objects.count()
    second = register(2)
    assert second.status_code == 429
    assert not User.objects.filter(username="newcomer2").exists()
    assert Message.objects.count() == before


def test_resending_from_the_page_too_soon_sends_nothing(client):
    user = UserFactory(mobile_verified_at=None, email_verified_at=None)
    pending(client, user)
    client.post(reverse("accounts:verify-resend"), {"channel": "sms"})
    assert Message.objects.filter(to=user.mobile).count() == 1
    again = client.post(reverse("accounts:verify-resend"), {"channel": "sms"}, follow=True)
    assert Message.objects.filter(to=user.mobile).count() == 1
    assert [m.level_tag for m in again.context["messages"]][-1] == "error"


def test_moving_an_unconfirmed_email_is_limited_per_account_whatever_the_address(client):
    """Q16 lets anyone who knows the username move an unconfirmed email, and every move tells
    the confirmed mobile by SMS: without a limit per account that is an SMS flood."""
    user = UserFactory(email_verified_at=None)
    start = timezone.now()
    answers = []
    for n in range(4):
        # Each from a new client address and to a new email, so only the account's limit holds.
        with time_machine.travel(start + dt.timedelta(minutes=2 * n)):
            answers.append(
                client.post(
                    reverse("api-resend-code"),
                    {"username": user.username, "channel": "email", "new_email": f"m{n}@x.cn"},
                    content_type="application/json",
                    REMOTE_ADDR=f"198.51.100.{n + 1}",
                ).status_code
            )
    assert answers == [202, 202, 202, 429]
    assert Message.objects.filter(to=user.mobile).count() == 3
    # The page shares the limit.
    pending(client, user)
    with time_machine.travel(start + dt.timedelta(minutes=10)):
        page = client.post(reverse("accounts:verify-change-email"), {"new_email": "m9@x.cn"})
    assert page.status_code == 400
    assert Message.objects.filter(to=user.mobile).count() == 3
    user.refresh_from_db()
    assert user.email == "m2@x.cn"


@pytest.mark.usefixtures("captcha_test_mode")
def test_the_forgotten_password_form_stops_sending_without_saying_so(client):
    user = UserFactory()
    form = {**login_form("x"), "username": user.username}
    start = timezone.now()
    with time_machine.travel(start):
        first = client.post(reverse("accounts:password-forgot"), form)
    sent = Message.objects.count()
    assert sent == 2
    with time_machine.travel(start + dt.timedelta(seconds=20)):
        again = client.post(reverse("accounts:password-forgot"), form)
    assert again.status_code == first.status_code == 302
    assert again["Location"] == first["Location"]
    assert Message.objects.count() == sent


def test_a_contact_change_code_is_not_sent_twice_within_the_minute(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("accounts:contact-change", kwargs={"kind": "email"})
    assert client.post(url, {"value": "new.address@example.cn"}).status_code == 302
    assert Message.objects.count() == 1
    again = client.post(url, {"value": "new.address@example.cn"})
    assert again.status_code == 400
    assert Message.objects.count() == 1


# --- Codes checked -----------------------------------------------------------------------------


def test_the_verify_page_refuses_the_right_code_after_five_wrong_ones(client):
    user = UserFactory(mobile_verified_at=None)
    pending(client, user)
    client.post(reverse("accounts:verify-resend"), {"channel": "sms"})
    right = code_in(user.mobile)
    for _ in range(5):
        client.post(reverse("accounts:verify"), {"sms_code": wrong(right)})
    client.post(reverse("accounts:verify"), {"sms_code": right})
    user.refresh_from_db()
    assert user.mobile_verified_at is None


@pytest.mark.usefixtures("captcha_test_mode")
def test_the_reset_codes_stop_working_after_five_wrong_tries(client):
    user = UserFactory()
    client.post(reverse("accounts:password-forgot"), {**login_form("x"), "username": user.username})
    sms, email = code_in(user.mobile), code_in(user.email)
    form = {"new_password1": "Fresh-Pass-2026", "new_password2": "Fresh-Pass-2026"}
    for _ in range(5):
        client.post(
            reverse("accounts:password-reset"),
            {**form, "sms_code": wrong(sms), "email_code": email},
        )
    last = client.post(
        reverse("accounts:password-reset"), {**form, "sms_code": sms, "email_code": email}
    )
    assert last.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_contact_change_code_stops_working_after_five_wrong_tries(client):
    user = UserFactory()
    client.force_login(user)
    client.post(
        reverse("accounts:contact-change", kwargs={"kind": "mobile"}), {"value": "13611112222"}
    )
    right = code_in("13611112222")
    url = reverse("accounts:contact-confirm", kwargs={"kind": "mobile"})
    for _ in range(5):
        client.post(url, {"code": wrong(right)})
    assert client.post(url, {"code": right}).status_code == 400
    user.refresh_from_db()
    assert user.mobile != "13611112222"


# --- Passwords ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("captcha_test_mode")
def test_guessing_the_current_password_when_changing_it_locks_out(client, settings):
    user = UserFactory()
    client.force_login(user)
    url = reverse("accounts:password-change")
    form = {"new_password1": "Fresh-Pass-2026", "new_password2": "Fresh-Pass-2026"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(url, {**form, "old_password": "a-guess-123"}).status_code == 400
    assert client.post(url, {**form, "old_password": "a-guess-123"}).status_code == 429
    locked = client.post(url, {**form, "old_password": PASSWORD})
    assert locked.status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not Message.objects.filter(to=user.mobile).exists()  # no "password changed" SMS
    # The same lockout as the sign-in page, for that username from that address.
    signin = Client().post(reverse("accounts:login"), login_form(user.username))
    assert signin.status_code == 429


def test_the_admin_sign_in_is_locked_out_like_the_portal(client, settings):
    admin = MinistryFactory()
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": admin.username, "password": "a-guess-123", "otp_token": ""})
    locked = client.post(
        url,
        {
            "username": admin.username,
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": totp_now(device),
        },
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


# --- TOTP codes --------------------------------------------------------------------------------


def test_after_a_wrong_totp_code_even_the_right_one_waits(client):
    bureau = BureauFactory()
    device = TOTPDevice.objects.create(user=bureau, name="phone", confirmed=True)
    client.force_login(bureau)
    url = reverse("accounts:otp-verify")
    client.post(url, {"otp_token": wrong(totp_now(device))})
    answer = client.post(url, {"otp_token": totp_now(device)})
    assert answer.status_code == 400
    assert client.get(reverse("review:queue")).status_code == 302  # still asked for the code


def test_enrolment_after_a_wrong_totp_code_waits_too(client):
    bureau = BureauFactory()
    client.force_login(bureau)
    url = reverse("accounts:otp-setup")
    client.get(url)
    device = TOTPDevice.objects.get(user=bureau)
    client.post(url, {"otp_token": wrong(totp_now(device))})
    device.refresh_from_db()
    assert client.post(url, {"otp_token": totp_now(device)}).status_code == 400
    device.refresh_from_db()
    assert not device.confirmed


# --- Public forms that send or fetch -------------------------------------------------------


def test_the_forgotten_username_form_stops_sending_without_saying_so(client, settings, monkeypatch):
    from captcha.conf import settings as captcha_settings

    from tests.public_support import approved_filing

    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)
    settings.USERNAME_REMINDER_RATE = "2/hour"
    filing = approved_filing()
    form = {"number": filing.number, "captcha_0": "x", "captcha_1": "PASSED"}
    url = reverse("filings:forgot-username")
    answers = [client.post(url, form) for _ in range(2)]
    sent = Message.objects.count()
    assert sent == 4  # email and SMS, twice
    third = client.post(url, form)
    assert third.status_code == 200
    page = "filings/forgot_username_sent.html"
    assert page in [t.name for t in answers[1].templates]
    assert page in [t.name for t in third.templates]
    assert Message.objects.count() == sent
    # Another address is limited by the number all the same.
    assert client.post(url, form, REMOTE_ADDR="198.51.100.50").status_code == 200
    assert Message.objects.count() == sent


def test_the_public_domain_check_stops_fetching_at_its_limit(client, monkeypatch):
    from certificates import compliance

    fetched = []
    monkeypatch.setattr(
        compliance,
        "domain_certificate_status",
        lambda *, domain: fetched.append(domain) or ("not_filed", None, ""),
    )
    url = reverse("certificates:verify-domain")
    for _ in range(5):
        client.post(url, {"domain": "example.cn"})
    assert len(fetched) == 5
    refused = client.post(url, {"domain": "example.cn"})
    assert len(fetched) == 5
    assert "秒" in refused.content.decode() or "seconds" in refused.content.decode()


@pytest.mark.parametrize(
    ("url_name", "scope"),
    [
        ("api-register", "auth"),
        ("api-verify", "auth"),
        ("api-resend-code", "auth"),
        ("api-token", "auth"),
        ("api-certificate-verify", "public"),
    ],
)
def test_the_anonymous_api_calls_are_throttled(client, monkeypatch, url_name, scope):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {scope: "3/min"})
    answers = [
        client.post(reverse(url_name), {}, content_type="application/json").status_code
        for _ in range(4)
    ]
    assert 429 not in answers[:3]
    assert answers[3] == 429


# --- Staff -------------------------------------------------------------------------------------


def test_the_bureau_sends_a_temporary_password_no_more_often_than_a_code(otp_client):
    from tests.public_support import approved_filing

    filing = approved_filing()
    bureau = otp_client(BureauFactory())
    url = reverse("review:password-reset", kwargs={"pk": filing.pk})
    assert bureau.post(url).status_code == 302
    again = bureau.post(url)
    assert again.status_code == 400
    assert Message.objects.filter(to=filing.owner.mobile).count() == 1
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        assert bureau.post(url).status_code == 302
    assert Message.objects.filter(to=filing.owner.mobile).count() == 2
