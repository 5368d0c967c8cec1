"""Who may open every page and call every API (issue 9): the authorization matrix.

The URLs come from the URL configuration itself, so a new URL without a rule in ``RULES``
fails ``test_every_url_has_a_rule``. Each URL is requested by eight roles — anonymous, the
owner, another owner, provider A's staff, provider B's staff, the Beijing bureau, the Shanghai
bureau and the ministry — against one shared world: a Beijing filing of "owner" (certificate,
document, version), another owner's filing, and provider A's imported client with its filing,
import job, webhook delivery and token.

What a refusal is, per kind of URL:
- page, anonymous: a redirect to the sign-in page;
- API, anonymous: 401;
- a signed-in role outside the rule: the rule's ``refusal`` (403 where a role is wrong, 404
  where the console or object is not theirs), and always 404 for the *peer* of an allowed role
  (another owner, another provider, another province's bureau): objects outside the caller's
  scope are not found, never forbidden;
- admin: only the ministry passes the site gate; everyone else is sent to the admin sign-in.
Staff sessions have passed the second factor, so a refusal is never just the OTP prompt.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone

ROLES = (
    "anonymous",
    "owner",
    "other_owner",
    "provider",
    "other_provider",
    "bureau",
    "other_bureau",
    "ministry",
)
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
OWNERS = frozenset({"owner", "other_owner"})
PROVIDERS = frozenset({"provider", "other_provider"})
REVIEWERS = frozenset({"bureau", "other_bureau", "ministry"})
BEIJING_REVIEWERS = frozenset({"bureau", "ministry"})
NOBODY: frozenset[str] = frozenset()
PEERS = {
    "owner": "other_owner",
    "other_owner": "owner",
    "provider": "other_provider",
    "other_provider": "provider",
    "bureau": "other_bureau",
    "other_bureau": "bureau",
}

PAGE, API, ADMIN = "page", "api", "admin"
# Outcomes that mean "not let in"; anything else (200, 400, 409, a redirect elsewhere) means
# the role reached the view and got its ordinary answer.
REFUSED = {"login", "otp", "admin-login", "401", "403", "404", "405"}


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    kind: str = PAGE
    refusal: str = "403"  # what a signed-in role outside ``allowed`` gets
    kwargs: Callable[[SimpleNamespace], dict] = field(default=lambda w: {})
    method: str = "get"
    data: dict | None = None
    # A body naming the world's objects, when ``data`` cannot.
    data_of: Callable[[SimpleNamespace], dict] | None = None
    query: str = ""
    case: str = ""
    expect: dict[str, str] = field(default_factory=dict)  # per-role exceptions, explained inline


def page(allowed, **kw) -> Rule:
    return Rule(allowed, PAGE, **kw)


def api(allowed, **kw) -> Rule:
    return Rule(allowed, API, **kw)


def pending(**kw) -> Rule:
    """Steps of a sign-in in progress (codes, initial password): without one, everybody —
    signed in or not — is sent to the sign-in page."""
    return Rule(NOBODY, PAGE, refusal="login", **kw)


def own_filing(w):
    return {"filing_id": w.own.pk}


def own_website(w):
    return {"website_id": w.own.websites.first().pk}


def own_website_number(w):
    return w.own.websites.first().number


def client_filing(w):
    return {"filing_id": w.client_filing.pk}


def public_check() -> dict:
    from django.core.cache import cache

    from certificates.selectors import public_check_key

    pending = {"state": "pending", "domain": "example.cn"}
    cache.set(public_check_key("matrix-check"), pending, timeout=600)
    return {"check_id": "matrix-check"}


def own_pk(w):
    return {"pk": w.own.pk}


# URL name → rule (or several cases). Every URL of the project must be here.
RULES: dict[str, Rule | list[Rule]] = {
    # beian
    "home": page(EVERYONE),
    "bureau-directory": page(EVERYONE),
    "health": page(EVERYONE),
    # Only with DEBUG and the outbox on, which tests (and production) never have.
    "dev-outbox": page(NOBODY, refusal="404", expect={"anonymous": "404"}),
    # accounts
    "accounts:account": page(SIGNED_IN),
    "accounts:logout-everywhere": page(SIGNED_IN, method="post"),
    "accounts:register": page(EVERYONE),
    "accounts:verify": pending(),
    "accounts:verify-resend": pending(method="post", data={"channel": "sms"}),
    "accounts:verify-change-email": pending(),
    "accounts:login": page(EVERYONE),
    "accounts:logout": page(EVERYONE),
    "accounts:password-initial": pending(),
    "accounts:password-forgot": page(EVERYONE),
    # Without a forgotten-password request in the session: back to that form, for anyone.
    "accounts:password-reset": page(EVERYONE),
    "accounts:password-change": page(SIGNED_IN),
    "accounts:contact-change": page(SIGNED_IN, kwargs=lambda w: {"kind": "mobile"}),
    "accounts:contact-confirm": page(SIGNED_IN, kwargs=lambda w: {"kind": "mobile"}),
    # Staff have a device already: enrolment sends them on to the code prompt.
    "accounts:otp-setup": page(
        SIGNED_IN, expect={"bureau": "otp", "other_bureau": "otp", "ministry": "otp"}
    ),
    # Owners and provider staff without a device are offered enrolment instead.
    "accounts:otp-verify": page(
        SIGNED_IN,
        expect={"owner": "otp", "other_owner": "otp", "provider": "otp", "other_provider": "otp"},
    ),
    "api-register": api(EVERYONE, method="post", data={}),
    "api-verify": api(EVERYONE, method="post", data={}),
    "api-resend-code": api(EVERYONE, method="post", data={}),
    "api-token": api(EVERYONE, method="post", data={}),
    # certificates: the submitting account, and the provider of an imported client (Q23, Q25)
    "certificates:verify": page(EVERYONE),
    "certificates:verify-domain": page(EVERYONE),
    "certificates:verify-domain-result": page(EVERYONE, kwargs=lambda w: public_check()),
    "certificates:keys": page(EVERYONE),
    "certificates:key": page(EVERYONE, kwargs=lambda w: {"key_id": w.key_id, "ext": "json"}),
    "certificates:download": [
        page({"owner"}, refusal="404", kwargs=own_filing, case="own"),
        page({"provider"}, refusal="404", kwargs=client_filing, case="client"),
    ],
    "certificates:install": [
        page({"owner"}, refusal="404", kwargs=own_filing, case="own"),
        page({"provider"}, refusal="404", kwargs=client_filing, case="client"),
    ],
    "certificates:check": [
        page({"owner"}, refusal="404", kwargs=own_filing, method="post", case="own"),
        page({"provider"}, refusal="404", kwargs=client_filing, method="post", case="client"),
    ],
    "certificates:staff-check": page(BEIJING_REVIEWERS, kwargs=own_filing, method="post"),
    "api-filing-certificate": [
        api({"owner"}, refusal="404", kwargs=own_pk, case="own"),
        api(
            {"provider"}, refusal="404", kwargs=lambda w: {"pk": w.client_filing.pk}, case="client"
        ),
    ],
    "api-certificate-verify": api(EVERYONE, method="post", data={}),
    # filings: the owner's wizard works on the caller's own filing
    "filings:task_list": page(OWNERS),
    "filings:sponsor": page(OWNERS),
    "filings:websites": page(OWNERS),
    "filings:website-new": page(OWNERS),
    "filings:website": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:website-remove": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:provider-search": page(OWNERS, query="?q=示例"),
    "filings:store-search": page(OWNERS, query="?q=示例"),
    # Apps and mini-programs (SPEC §13): the same wizard, on the caller's own filing.
    "filings:apps": page(OWNERS),
    "filings:app-new": page(OWNERS),
    "filings:app": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:app-platforms": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:app-domains": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:app-accesses": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:app-remove": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:store-candidates": page(OWNERS, query="?q=示例"),
    "filings:mini-programs": page(OWNERS),
    "filings:mini-program-new": page(OWNERS),
    "filings:mini-program": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:mini-program-platform": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:mini-program-remove": page(OWNERS, kwargs=lambda w: {"index": 0}),
    "filings:documents": page(OWNERS),
    "filings:document": page({"owner"}, kwargs=lambda w: {"pk": w.document.pk}),
    # The verification record of a first review (SPEC §12): the provider that passed it on,
    # the bureau of the filing's province and the ministry.
    "filings:verification-record": page(
        {"provider"} | BEIJING_REVIEWERS,
        refusal="404",
        kwargs=lambda w: {"application_id": w.first_review.pk},
    ),
    "filings:check_answers": page(OWNERS),
    "filings:submitted": page(OWNERS),
    "filings:discard": page(OWNERS, method="post"),
    "filings:revocation": page(OWNERS),
    "filings:withdraw": page(OWNERS),
    "filings:verification-resend": page(OWNERS, method="post"),
    "filings:version": page({"owner"}, kwargs=lambda w: {"seq": 1}),
    "filings:forgot-username": page(EVERYONE),
    "api-filings": api(OWNERS),
    "api-filing": api({"owner"}, kwargs=own_pk),
    "api-filing-documents": api({"owner"}, kwargs=own_pk, method="post", data={}),
    "api-filing-submit": api({"owner"}, kwargs=own_pk, method="post", data={}),
    "api-filing-revocation": api({"owner"}, kwargs=own_pk, method="post", data={}),
    "api-filing-withdraw": api({"owner"}, kwargs=own_pk, method="post", data={}),
    "api-filing-verification-resend": api({"owner"}, kwargs=own_pk, method="post", data={}),
    # The changes of one access or one website (SPEC §12): the owner's own approved website.
    "filings:access-new": page({"owner"}, kwargs=own_website),
    "filings:access-cancel": page(
        {"owner"},
        kwargs=lambda w: {**own_website(w), "access_id": w.own.accesses.first().pk},
    ),
    "filings:website-cancel": page({"owner"}, kwargs=own_website),
    "api-filing-accesses": api({"owner"}, kwargs=own_pk, method="post", data={}),
    "api-filing-access-cancel": api({"owner"}, kwargs=own_pk, method="post", data={}),
    "api-filing-website-cancel": api(
        {"owner"},
        kwargs=lambda w: {"pk": w.own.pk, "website": own_website(w)["website_id"]},
        method="post",
        data={},
    ),
    # A provider applies for its own access to any approved website (its field errors), and
    # withdraws only an access it holds (another provider: not found).
    "api-provider-accesses": api(
        PROVIDERS, method="post", data_of=lambda w: {"website_number": own_website_number(w)}
    ),
    "api-provider-access-cancel": api(
        {"provider"},
        method="post",
        data_of=lambda w: {"website": w.client_filing.websites.first().pk},
    ),
    "review:shells": page(REVIEWERS),
    # The SMS verification (SPEC §12) is for anyone holding the code.
    "public:verification": page(EVERYONE),
    "api-verification": api(EVERYONE, method="post", data={}),
    # providers: the console is only for staff of an active provider (others: not found)
    "providers:console": page(PROVIDERS, refusal="404"),
    "providers:client-password-reset": page(
        {"provider"}, refusal="404", kwargs=lambda w: {"user_id": w.client.pk}, method="post"
    ),
    # The first review (SPEC §12): the queue for every provider's staff, an application only
    # for the provider it names.
    "providers:reviews": page(PROVIDERS, refusal="404"),
    "providers:review-detail": page(
        {"provider"}, refusal="404", kwargs=lambda w: {"filing_id": w.first_review.filing_id}
    ),
    "providers:review-document": page(
        {"provider"},
        refusal="404",
        kwargs=lambda w: {
            "filing_id": w.first_review.filing_id,
            "document_id": w.first_review_document.pk,
        },
    ),
    "providers:imports": page(PROVIDERS, refusal="404"),
    "providers:import-template": page(PROVIDERS, refusal="404"),
    "providers:import-detail": page(
        {"provider"}, refusal="404", kwargs=lambda w: {"job_id": w.job.pk}
    ),
    "providers:import-errors": page(
        {"provider"}, refusal="404", kwargs=lambda w: {"job_id": w.job.pk}
    ),
    "providers:import-results": page(
        {"provider"}, refusal="404", kwargs=lambda w: {"job_id": w.job.pk}, method="post"
    ),
    "providers:accesses": page(PROVIDERS, refusal="404"),
    "providers:access-new": page(PROVIDERS, refusal="404"),
    "providers:access-withdraw": page(PROVIDERS, refusal="404"),
    "providers:access-withdraw-upload": page(PROVIDERS, refusal="404"),
    "providers:access-withdraw-results": page(PROVIDERS, refusal="404"),
    "providers:access-withdraw-template": page(PROVIDERS, refusal="404"),
    "providers:tokens": page(PROVIDERS, refusal="404"),
    "providers:token-revoke": page(
        {"provider"}, refusal="404", kwargs=lambda w: {"token_id": w.token.pk}, method="post"
    ),
    "providers:signin-token-revoke": page(PROVIDERS, refusal="404", method="post"),
    "providers:webhooks": page(PROVIDERS, refusal="404"),
    "providers:webhook-redeliver": page(
        {"provider"}, refusal="404", kwargs=lambda w: {"delivery_id": w.delivery.pk}, method="post"
    ),
    "api-provider-check": api(PROVIDERS, method="post", data={"domains": ["matrix-own.cn"]}),
    "api-provider-domain": api(PROVIDERS, kwargs=lambda w: {"domain": "matrix-own.cn"}),
    "api-provider-apps-check": api(
        PROVIDERS, method="post", data={"identifiers": ["cn.matrix.own"]}
    ),
    "api-provider-imports": api(PROVIDERS, method="post", data={}),
    "api-provider-reviews": api(PROVIDERS),
    # An empty body: the provider named gets its field errors (400), another provider 404.
    "api-provider-review-decision": api(
        {"provider"},
        method="post",
        data={},
        kwargs=lambda w: {"pk": w.first_review.filing_id},
    ),
    # public
    "public:query": page(EVERYONE, query="?q=matrix-own.cn"),
    "public:bulletin": page(EVERYONE),
    "public:announcement": page(EVERYONE, kwargs=lambda w: {"pk": w.announcement.pk}),
    "public:annual_review": page(OWNERS),
    "public:annual_review_confirm": page(OWNERS, method="post"),
    "review:annual-overdue": page(REVIEWERS),
    "public-filings": api(EVERYONE, query="?q=matrix-own.cn"),
    # review: the bureau of the filing's province and the ministry
    "review:queue": page(REVIEWERS),
    "review:export": page(REVIEWERS),
    "review:deadlines": page(REVIEWERS),
    "review:statistics": page(REVIEWERS),
    "review:audit": page(REVIEWERS),
    "review:detail": page(BEIJING_REVIEWERS, kwargs=own_pk),
    "review:approve": page(BEIJING_REVIEWERS, kwargs=own_pk, method="post"),
    "review:reject": page(BEIJING_REVIEWERS, kwargs=own_pk),
    "review:recheck": page(BEIJING_REVIEWERS, kwargs=own_pk, method="post"),
    "review:revoke": page(BEIJING_REVIEWERS, kwargs=own_pk, method="post"),
    "review:revocation": page(BEIJING_REVIEWERS, kwargs=own_pk, method="post"),
    "review:password-reset": page(BEIJING_REVIEWERS, kwargs=own_pk, method="post"),
    "review:document": page(
        BEIJING_REVIEWERS, kwargs=lambda w: {"pk": w.own.pk, "document_id": w.document.pk}
    ),
    "api-review-queue": api(REVIEWERS),
    "api-review-filing": api(BEIJING_REVIEWERS, kwargs=own_pk),
    # A complete body, so the scope check (not the body's validation) answers outsiders.
    "api-review-decision": api(
        BEIJING_REVIEWERS, kwargs=own_pk, method="post", data={"action": "reject", "reason": ""}
    ),
    "api-review-recheck": api(BEIJING_REVIEWERS, kwargs=own_pk, method="post", data={}),
    "api-review-revoke": api(BEIJING_REVIEWERS, kwargs=own_pk, method="post", data={}),
}

# Framework URLs this test leaves out, and why.
NOT_CHECKED = {
    "set_language": "Django's language switch: public by design, changes only a cookie",
    "javascript-catalog": "Django's translation catalogue: public static text",
    "captcha-image": "django-simple-captcha's picture: public, part of the sign-in form",
    "captcha-image-2x": "django-simple-captcha's picture: public, part of the sign-in form",
    "captcha-audio": "django-simple-captcha's sound: public, part of the sign-in form",
    "captcha-refresh": "django-simple-captcha's new picture: public, part of the sign-in form",
    "schema": "the public OpenAPI schema: checked by tests/test_security_schema.py",
    "api-docs": "Swagger UI over that schema, served from static files",
    "admin-accessprovider-moved": "a redirect to the admin's own page, whose rules the admin's "
    "entries check",
}


# --- The URL configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    key: str  # the qualified URL name, or the route of an unnamed pattern
    name: str | None
    route: str
    patterns: tuple


def url_entries() -> list[Entry]:
    entries: list[Entry] = []

    def walk(resolver, namespace, patterns):
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                ns = item.namespace
                inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                walk(item, inner, (*patterns, item.pattern))
            elif isinstance(item, URLPattern):
                name = f"{namespace}:{item.name}" if namespace and item.name else item.name
                route = "".join(str(p) for p in (*patterns, item.pattern))
                entries.append(Entry(name or route, name, route, (*patterns, item.pattern)))

    walk(get_resolver(), None, ())
    return entries


ENTRIES = url_entries()
ADMIN_ENTRIES = [e for e in ENTRIES if e.route.startswith("admin/")]
PROJECT_ENTRIES = [e for e in ENTRIES if not e.route.startswith("admin/")]


def project_cases() -> Iterator:
    for entry in PROJECT_ENTRIES:
        rules = RULES.get(entry.key)
        if rules is None:
            continue
        for rule in rules if isinstance(rules, list) else [rules]:
            label = f"{entry.key}[{rule.case}]" if rule.case else entry.key
            yield pytest.param(entry, rule, id=label)


def test_every_url_has_a_rule():
    """A URL added without saying who may use it fails here: add it to RULES."""
    missing = sorted(
        e.key for e in PROJECT_ENTRIES if e.key not in RULES and e.key not in NOT_CHECKED
    )
    assert not missing, f"URLs without an authorization rule: {missing}"
    names = [e.key for e in PROJECT_ENTRIES]
    assert len(names) == len(set(names)), "two URL patterns share a name: rules would be ambiguous"
    stale = sorted(set(RULES) - set(names))
    assert not stale, f"rules for URLs that no longer exist: {stale}"


def test_the_admin_is_mounted_under_the_ministry_only_site():
    from beian.admin_site import MinistryAdminSite

    assert isinstance(admin.site, MinistryAdminSite)
    assert ADMIN_ENTRIES, "the admin is not mounted"


# --- The world ------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _session_for(user, *, otp: bool) -> str:
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if otp:
        device = TOTPDevice.objects.create(user=user, name="matrix", confirmed=True)
        request = SimpleNamespace(session=client.session, user=user)
        otp_login(request, device)
        request.session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def build_world() -> SimpleNamespace:
    from accounts.models import User
    from beian.models import Province
    from certificates.models import SigningKey
    from filings.models import App, Application, Document, FilingVersion, MiniProgram
    from filings.serializers import filing_as_json
    from providers.models import ImportJob, WebhookDelivery
    from providers.services import api_token_issue, initial_password, set_initial_password
    from public.models import Announcement
    from tests.factories import (
        AccessProviderFactory,
        BureauFactory,
        MinistryFactory,
        UserFactory,
    )
    from tests.filings_support import data as filing_data
    from tests.filings_support import submitted_filing, website
    from tests.providers_support import provider_staff
    from tests.test_certificates_support import approved_filing

    w = SimpleNamespace()
    w.owner = UserFactory(username="matrix-owner")
    w.other_owner = UserFactory(username="matrix-other-owner")
    provider_a, provider_b = AccessProviderFactory(), AccessProviderFactory()
    w.provider = provider_staff(provider_a, username="matrix-provider")
    w.other_provider = provider_staff(provider_b, username="matrix-other-provider")
    w.bureau = BureauFactory(username="matrix-bureau")
    w.other_bureau = BureauFactory(
        username="matrix-other-bureau", province=Province.objects.get(code="31")
    )
    w.ministry = MinistryFactory(username="matrix-ministry")

    w.own = approved_filing(owner=w.owner, domains=("matrix-own.cn",))
    # Each owner's record has an app and a mini-program, for their wizard pages (SPEC §13).
    App.objects.create(filing=w.own, name="矩阵App", position=1)
    MiniProgram.objects.create(filing=w.own, name="矩阵小程序", position=2)
    FilingVersion.objects.create(
        filing=w.own, seq=1, kind="approved", data=filing_as_json(w.own), created_by=w.owner
    )
    w.document = Document.objects.create(
        filing=w.own,
        file=ContentFile(PDF_BYTES, name="matrix.pdf"),
        original_name="approval.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
        uploaded_by=w.owner,
    )
    w.others = approved_filing(owner=w.other_owner, domains=("matrix-other.cn",))
    App.objects.create(filing=w.others, name="另一个App", position=1)
    MiniProgram.objects.create(filing=w.others, name="另一个小程序", position=2)

    w.client = UserFactory(
        username="matrix-client",
        origin=User.Origin.IMPORT,
        imported_by=provider_a,
        mobile_verified_at=None,
        email_verified_at=None,
    )
    set_initial_password(w.client, initial_password())
    w.client.save()
    # Filed by provider A for its client, served by provider A (an access of its own).
    w.client_filing = approved_filing(
        owner=w.client,
        domains=("matrix-client.cn",),
        provider=provider_a,
        submitted_by=w.provider,
        accesses=[
            {"provider": provider_a, "method": "cloud", "server_location": "11", "ips": ["1.2.4.8"]}
        ],
    )
    # An application waiting for provider A's first review, with a document and a record.
    review_payload = filing_data(
        sponsor={"name": "北京矩阵初审科技有限公司"},
        websites=[
            website(
                homepage="http://www.matrix-review.cn/",
                domains=["matrix-review.cn"],
                access_provider=provider_a.pk,
            )
        ],
    )
    review_filing = submitted_filing(UserFactory(username="matrix-reviewed"), review_payload)
    w.first_review = Application.objects.get(filing=review_filing, closed_at__isnull=True)
    w.first_review.provider_record.save("matrix-record.pdf", ContentFile(PDF_BYTES), save=False)
    w.first_review.provider_record_type = "application/pdf"
    w.first_review.save()
    w.first_review_document = Document.objects.create(
        filing=review_filing,
        file=ContentFile(PDF_BYTES, name="matrix-review.pdf"),
        original_name="review.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
        uploaded_by=review_filing.owner,
    )
    w.job = ImportJob.objects.create(provider=provider_a, created_by=w.provider, source="csv")
    w.delivery = WebhookDelivery.objects.create(
        provider=provider_a, event="approved", url="https://hooks.example.cn/", body=b"{}"
    )
    w.token, _key = api_token_issue(user=w.provider, name="matrix")
    w.announcement = Announcement.objects.create(
        title="公告", body="系统维护", publish_at=timezone.now()
    )
    w.key_id = SigningKey.objects.order_by("created_at").first().key_id

    w.sessions = {
        role: _session_for(getattr(w, role), otp=role in REVIEWERS)
        for role in ROLES
        if role != "anonymous"
    }
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction that is rolled back at its end; each test
    runs in a savepoint inside it (pytest-django's ``db``), so what one test changes (a reset
    password, a revoked token) is undone before the next."""
    media = tmp_path_factory.mktemp("matrix-media")
    keys = tmp_path_factory.mktemp("matrix-keys")
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    with (
        override_settings(
            MEDIA_ROOT=str(media), CERT_SIGNING_KEY_DIR=str(keys), PASSWORD_HASHERS=hashers
        ),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def as_role(world, db):
    def make(role: str) -> Client:
        client = Client()
        if role != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
        return client

    return make


# --- Requests and what their answers mean ------------------------------------------------


def outcome(response) -> str:
    if response.status_code in (301, 302, 303, 307, 308):
        path = urlsplit(response["Location"]).path
        if path == reverse("accounts:login"):
            return "login"
        if path in (reverse("accounts:otp-verify"), reverse("accounts:otp-setup")):
            return "otp"
        if path == reverse("admin:login"):
            return "admin-login"
        if path == reverse("admin:index"):
            return "admin-index"
        return "redirect"
    if response.status_code in (401, 403, 404, 405):
        return str(response.status_code)
    assert response.status_code < 500, response.status_code
    return "ok"


def body(rule: Rule, world) -> dict | None:
    return rule.data_of(world) if rule.data_of is not None else rule.data


def send(client: Client, method: str, url: str, data: dict | None, kind: str):
    if method == "get":
        return client.get(url)
    if kind == API:
        return client.post(url, data or {}, content_type="application/json")
    return client.post(url, data or {})


def expected(rule: Rule, role: str) -> str | None:
    """The refusal ``role`` must get, or None when it must be let in."""
    if role in rule.expect:
        return rule.expect[role]
    if role in rule.allowed:
        return None
    if role == "anonymous":
        return "401" if rule.kind == API else "login"
    if PEERS.get(role) in rule.allowed:
        return "404"
    return rule.refusal


@pytest.mark.parametrize(("entry", "rule"), list(project_cases()))
def test_who_may_use(entry, rule, world, as_role):
    url = reverse(entry.name, kwargs=rule.kwargs(world)) + rule.query
    problems = []
    for role in ROLES:
        response = send(as_role(role), rule.method, url, body(rule, world), rule.kind)
        got = outcome(response)
        want = expected(rule, role)
        if want is None:
            if got in REFUSED:
                problems.append(f"{role}: must be let in, got {got} ({response.status_code})")
        elif got != want:
            problems.append(f"{role}: must get {want}, got {got} ({response.status_code})")
    assert not problems, f"{rule.method.upper()} {url}\n" + "\n".join(problems)


# --- The admin: the ministry only -----------------------------------------------------------


def _fill(patterns: tuple, values: dict) -> str:
    """The path of a (possibly unnamed) pattern, every parameter filled from ``values``."""
    out = ""
    for pattern in patterns:
        text = str(pattern)
        if isinstance(pattern, RoutePattern):
            text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m[1], "0")), text)
        else:
            text = re.sub(r"\(\?P<(\w+)>[^()]*\)", lambda m: str(values.get(m[1], "0")), text)
            text = text.lstrip("^").rstrip("$")
        out += text
    return "/" + out


def _admin_values(route: str) -> dict:
    """Parameters for an admin URL: the first object of the model the URL is about (so the
    ministry sees a real page), "0" when there is none, and the first registered app."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    first_model = next(iter(admin.site._registry))
    values = {
        "app_label": first_model._meta.app_label,
        "content_type_id": ContentType.objects.get_for_model(first_model).pk,
        "url": "no-such-admin-page/",
    }
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match:
        try:
            model = apps.get_model(match[1], match[2])
        except LookupError:
            model = None
        obj = model._default_manager.order_by("pk").first() if model else None
        for name in ("object_id", "pk", "id", "provider_id"):
            values[name] = obj.pk if obj else "0"
    return values


# What the gate sends a refused role to: the admin sign-in (its logout: the admin index, which
# then sends on to the sign-in).
GATE_REFUSAL = {"logout": "admin-index"}


@pytest.mark.parametrize("entry", ADMIN_ENTRIES, ids=[e.key for e in ADMIN_ENTRIES])
def test_only_the_ministry_passes_the_admin_gate(entry, world, as_role):
    """Every admin URL, custom ones included, sits behind ``MinistryAdminSite.has_permission``.

    Past the gate the ministry may still be told no by a model's own permissions (read-only
    logs have no add page) or not found (object "0"): that is not the gate's business here.
    """
    url = _fill(entry.patterns, _admin_values(entry.route))
    short = (entry.name or "").rpartition(":")[2]
    method = "post" if short == "logout" else "get"
    problems = []
    for role in ROLES:
        client = as_role(role)
        response = client.post(url) if method == "post" else client.get(url)
        got = outcome(response)
        if role == "ministry":
            if got in {"login", "otp", "admin-login", "401"}:
                problems.append(f"ministry: must pass the gate, got {got}")
        elif short == "login":
            if got != "ok":
                problems.append(f"{role}: the admin sign-in form is for anyone, got {got}")
        else:
            want = GATE_REFUSAL.get(short, "admin-login")
            if got != want:
                problems.append(f"{role}: must get {want}, got {got} ({response.status_code})")
    assert not problems, f"{method.upper()} {url}\n" + "\n".join(problems)


# --- The second factor: a signed-in session that has not passed it gets no further -----------

# The pages that *are* the second factor, and the public ones, are for such a session too.
SECOND_FACTOR_PAGES = {"accounts:otp-setup", "accounts:otp-verify"}
HALFWAY = ("owner", "provider", "bureau", "ministry")


def second_factor_cases() -> Iterator:
    for entry, rule in ((p.values[0], p.values[1]) for p in project_cases()):
        if entry.key in SECOND_FACTOR_PAGES or rule.allowed == EVERYONE:
            continue
        if rule.allowed & set(HALFWAY):
            label = f"{entry.key}[{rule.case}]" if rule.case else entry.key
            yield pytest.param(entry, rule, id=label)


@pytest.fixture
def halfway(world, db):
    """Sessions that passed the password but not the TOTP code, for accounts that have a
    confirmed device: staff always, an owner or provider staff member who enrolled one."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    sessions = {}
    for role in HALFWAY:
        user = getattr(world, role)
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="enrolled", confirmed=True)
        client = Client()
        client.force_login(user)
        sessions[role] = client
    return sessions


@pytest.mark.parametrize(("entry", "rule"), list(second_factor_cases()))
def test_a_session_short_of_its_second_factor_gets_no_further(entry, rule, world, halfway):
    url = reverse(entry.name, kwargs=rule.kwargs(world)) + rule.query
    problems = []
    for role in HALFWAY:
        if role not in rule.allowed:
            continue
        response = send(halfway[role], rule.method, url, body(rule, world), rule.kind)
        got = outcome(response)
        want = "403" if rule.kind == API else "otp"
        if got != want:
            problems.append(f"{role}: must get {want}, got {got} ({response.status_code})")
    assert not problems, f"{rule.method.upper()} {url}\n" + "\n".join(problems)
