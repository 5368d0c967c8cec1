"""Settings for the ICP filing system.

Every value comes from the environment (or a ``NAME_FILE`` path holding it). With nothing set
the project runs in its embedded default: SQLite, Celery tasks executed in-process and every
email and SMS kept in the outbox. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and
Redis; ``DJANGO_ENV=production`` turns on the production safeguards.
"""

import ipaddress
import shutil
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from . import api_docs

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def flag(name: str, *, default: bool) -> bool:
    """A boolean setting; anything but a recognised yes/no word is an error, not False."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="development-only-key-" + "x" * 40)

DEBUG = flag("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public address of the portal, used in emails, certificates and the footer link.
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "beian.apps.MinistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "captcha",
    "axes",
    "beian",
    "accounts",
    "providers",
    "filings",
    "review",
    "certificates",
    "public",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The public query asked again and gating with a remembered token, answered before the
    # rest (beian/hotpaths.py; HOT_PATHS below).
    "beian.hotpaths.HotPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "beian.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A lost database connection answers a clear 503 page instead of a server error.
    "beian.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # With replicas: whoever wrote reads the primary for a few seconds (beian/replicas.py).
    "beian.replicas.ReadYourWritesMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every answer (django-csp; Django 5.2 has none built in).
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "beian.urls"
WSGI_APPLICATION = "beian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # Domains and URLs shown in Unicode, in every template.
            "builtins": ["beian.templatetags.normalforms"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "beian.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Streaming replicas of the primary that serve the reads of the public query, gating, the app
# check and certificate verification (beian/replicas.py): comma-separated URLs, each the
# connection alias replica1, replica2, …
DATABASE_REPLICAS: list[str] = []
for _n, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    _replica = env.db_url_config(_url)
    _replica["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    _replica["CONN_HEALTH_CHECKS"] = True
    # A replica that does not answer is skipped after one second, not waited for.
    _replica.setdefault("OPTIONS", {})["connect_timeout"] = 1
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_n}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_n}")
DATABASE_ROUTERS = ["beian.replicas.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=2.0)
READ_YOUR_WRITES_SECONDS = env.int("READ_YOUR_WRITES_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Answers from process memory while Redis is unreachable (beian/cache.py).
            "BACKEND": "beian.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="beian"),
            # Short timeouts: a page must not hang on a Redis that does not answer.
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
                "socket_timeout": env.float("REDIS_TIMEOUT", default=2.0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PortalModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Only for the random initial passwords of imported accounts (see providers/hashers.py).
    "providers.hashers.InitialPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# The portal's own reverse proxies (addresses or networks): only behind one of them is
# X-Forwarded-For read to find the client's address (beian/clientaddress.py). Empty: the
# direct peer is the client, and the header is ignored.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an address or network"
        ) from _exc

# Login lockout (django-axes): the username and address pair is locked after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = flag("AXES_ENABLED", default=True)
AXES_CLIENT_IP_CALLABLE = "beian.clientaddress.client_address_or_none"
AXES_USERNAME_CALLABLE = "accounts.backends.lockout_username"
# Failures per username over every address (beian/limits.py): past this many, every sign-in
# of that username (page and API) waits for ACCOUNTS_USERNAME_SLOW_RATE, so guesses spread
# over many addresses gain nothing, while no address can lock the account holder out.
ACCOUNTS_USERNAME_FAILURE_RATE = env.str("ACCOUNTS_USERNAME_FAILURE_RATE", default="20/hour")
ACCOUNTS_USERNAME_SLOW_RATE = env.str("ACCOUNTS_USERNAME_SLOW_RATE", default="1/30s")
# The lockout answer is the sign-in page (or the API's JSON), in the portal's layout.
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
# Uploaded pre-approval documents are never served as public media; views stream them after
# a permission check.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The request body apart from files: Django answers 400 above it (nginx and gunicorn limits
# in front are in deploy/README.md).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=12 * 1024 * 1024)
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# An app's signed package, read for its identity and discarded (SPEC §13): APKs of hundreds of
# megabytes are common, and only their central directory, manifest and signature are read.
APP_PACKAGE_MAX_BYTES = env.int("APP_PACKAGE_MAX_BYTES", default=1024 * 1024 * 1024)

# Content-Security-Policy (django-csp): scripts only from the portal's own static files (the
# templates have no inline script; htmx and Bootstrap are vendored), no plugins, no framing.
# Inline style attributes stay allowed: the templates use a few, and styles cannot run code.
# A response that sets its own policy (private documents: a sandbox) keeps it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Security headers; the HTTPS ones are on in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
if PRODUCTION:
    SECURE_SSL_REDIRECT = flag("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Email: the delivery log is the outbox in development; production sends through EMAIL_URL.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="smtp://localhost:25" if PRODUCTION else "consolemail://"
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ICP备案系统 <noreply@beian.example.cn>")

# SMS: "outbox" keeps messages in the delivery log only; "http" posts to the gateway.
SMS_BACKEND = env.str("SMS_BACKEND", default="http" if PRODUCTION else "outbox")
if SMS_BACKEND not in {"outbox", "http"}:
    raise ImproperlyConfigured(f"SMS_BACKEND must be 'outbox' or 'http', not {SMS_BACKEND!r}")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_KEY_ID = env.str("SMS_GATEWAY_KEY_ID", default="")
SMS_GATEWAY_SECRET = env.str("SMS_GATEWAY_SECRET", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=5.0)
if SMS_BACKEND == "http" and not (SMS_GATEWAY_URL and SMS_GATEWAY_SECRET):
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_URL and SMS_GATEWAY_SECRET")
# The outbox command and /dev/outbox/ page are for development and tests only.
OUTBOX_ENABLED = flag("OUTBOX_ENABLED", default=not PRODUCTION)

# Delivery pipeline (SPEC §9).
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=8)
DELIVERY_BACKOFF_BASE_SECONDS = env.int("DELIVERY_BACKOFF_BASE_SECONDS", default=10)
DELIVERY_SWEEP_AFTER_SECONDS = env.int("DELIVERY_SWEEP_AFTER_SECONDS", default=300)

# Celery: with no REDIS_URL every task runs in-process, right after the transaction commits.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = flag("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# A task not acknowledged this long after delivery (its worker died) is delivered again.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
}
# A request that commits work and then finds the broker down gives up on the enqueue within
# a few seconds; the row it saved waits for the sweeper (beian/queueing.py).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Named provider tokens ("bp_…") first; any other key falls through to DRF's tokens.
        "providers.authentication.ProviderTokenAuthentication",
        "accounts.authentication.AccountTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON strings must be Unicode text (lone surrogates answer 400 on their field).
    "DEFAULT_PARSER_CLASSES": [
        "beian.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every 429 says how long to wait in one sentence (beian.api_errors.Throttled).
    "EXCEPTION_HANDLER": "beian.api_errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "public": env.str("THROTTLE_PUBLIC", default="60/min"),
        "gating": env.str("THROTTLE_GATING", default="600/min"),
        "auth": env.str("THROTTLE_AUTH", default="20/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ICP filing system API",
    # The description documents the webhook notice and its signature; beian.api_docs adds a
    # summary and examples to every call.
    "DESCRIPTION": api_docs.DESCRIPTION,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "beian.api_docs.document",
    ],
    "VERSION": "1.0.0",
    # Two calls take an "action" with different choices: the bureau's decision and the
    # provider's first review.
    "ENUM_NAME_OVERRIDES": {"FirstReviewActionEnum": ["pass", "return"]},
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Deep links put a link inside each operation's expand button, a control nested in a
    # control (WCAG 2.1 4.1.2, axe ``nested-interactive``); without them the path is text.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
}

CAPTCHA_TEST_MODE = flag("CAPTCHA_TEST_MODE", default=False)
if PRODUCTION and CAPTCHA_TEST_MODE:
    raise ImproperlyConfigured("CAPTCHA_TEST_MODE must stay off in production")
CAPTCHA_LENGTH = 5
CAPTCHA_TIMEOUT = 5
CAPTCHA_IMAGE_SIZE = (120, 40)
CAPTCHA_FONT_SIZE = 28
# The spoken alternative to the picture for people who cannot see it (WCAG 2.1 1.1.1, as
# GB/T 37668-2019 asks): flite reads the characters aloud on this machine, sox mixes brown
# noise into the recording so that plain speech recognition is not enough to pass. Either
# path empty: no sound offered (flite) or clean speech (sox).
CAPTCHA_FLITE_PATH = env.str("CAPTCHA_FLITE_PATH", default=shutil.which("flite") or "") or None
CAPTCHA_SOX_PATH = env.str("CAPTCHA_SOX_PATH", default=shutil.which("sox") or "") or None

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="ICP备案系统")

# Accounts (SPEC §2): verification codes and how often they may be sent. A rate is a list of
# "count/period" (period: min, hour, day); every period of the list applies.
ACCOUNTS_CODE_TTL_SECONDS = env.int("ACCOUNTS_CODE_TTL_SECONDS", default=600)
# Email may take up to a day to arrive (Q16), so the registration email code lives longer.
ACCOUNTS_REGISTRATION_EMAIL_CODE_TTL_SECONDS = env.int(
    "ACCOUNTS_REGISTRATION_EMAIL_CODE_TTL_SECONDS", default=48 * 3600
)
ACCOUNTS_CODE_MAX_TRIES = env.int("ACCOUNTS_CODE_MAX_TRIES", default=5)
ACCOUNTS_CODE_RATE_PER_RECIPIENT = env.str(
    "ACCOUNTS_CODE_RATE_PER_RECIPIENT", default="1/min,5/hour,10/day"
)
ACCOUNTS_CODE_RATE_PER_IP = env.str("ACCOUNTS_CODE_RATE_PER_IP", default="10/min,50/hour,200/day")
# Q16's change of an unconfirmed email, per account: each one also tells the confirmed mobile.
ACCOUNTS_EMAIL_CHANGE_RATE = env.str("ACCOUNTS_EMAIL_CHANGE_RATE", default="3/hour,5/day")
# Wrong codes on the anonymous confirmation API (POST /api/v1/accounts/verify/): per client
# address, and per code over every address. They never use up the code's own tries, which
# belong to its holder signing in (ACCOUNTS_CODE_MAX_TRIES).
ACCOUNTS_VERIFY_FAILURES_PER_IP = env.str("ACCOUNTS_VERIFY_FAILURES_PER_IP", default="10/hour")
ACCOUNTS_VERIFY_FAILURES_PER_CODE = env.str(
    "ACCOUNTS_VERIFY_FAILURES_PER_CODE", default="20/hour,50/day"
)
# Applications (SPEC §12): the provider's first review and the responsible person's SMS
# verification before the bureau. FILING_SMS_VERIFICATION off sends applications from the
# provider (or the owner) straight to the bureau.
FILING_SMS_VERIFICATION = env.bool("FILING_SMS_VERIFICATION", default=True)
FILING_VERIFICATION_HOURS = env.int("FILING_VERIFICATION_HOURS", default=24)
FILING_VERIFICATION_MAX_TRIES = env.int("FILING_VERIFICATION_MAX_TRIES", default=5)
# Tries of the public verification (page and API) per client address, right or wrong.
FILING_VERIFICATION_TRIES_PER_IP = env.str(
    "FILING_VERIFICATION_TRIES_PER_IP", default="10/hour,30/day"
)
PROVIDER_REVIEW_WORKING_DAYS = env.int("PROVIDER_REVIEW_WORKING_DAYS", default=2)
# The bureau's active staff of the province get an email as each application reaches the
# bureau (sent by a task, review.arrivals.notify). A busy province turns it off and keeps the
# queue and the morning digest.
REVIEW_ARRIVAL_EMAILS = env.bool("REVIEW_ARRIVAL_EMAILS", default=True)
# Accesses (SPEC §12): a website left with no access (an empty shell) is cancelled after this
# many days' notice unless a new access is filed; with PROVIDER_ACCESS_CANCEL_AT_ONCE a
# provider's withdrawal of its own access takes effect without waiting for the bureau.
FILING_SHELL_NOTICE_DAYS = env.int("FILING_SHELL_NOTICE_DAYS", default=30)
PROVIDER_ACCESS_CANCEL_AT_ONCE = env.bool("PROVIDER_ACCESS_CANCEL_AT_ONCE", default=False)
# Rows of one CSV file of access withdrawals in the provider console: each row is a
# cancellation written while the staff member waits for the results table, so a file stays
# small enough to answer within a request; a longer list is split into several files.
PROVIDER_ACCESS_CANCEL_MAX_ROWS = env.int("PROVIDER_ACCESS_CANCEL_MAX_ROWS", default=1000)
# Staff API tokens (bureau and ministry) expire this many hours after they were issued.
STAFF_TOKEN_HOURS = env.float("STAFF_TOKEN_HOURS", default=8.0)
# How long a password-checked sign-in may wait for its codes or new password.
ACCOUNTS_PENDING_SIGN_IN_SECONDS = env.int("ACCOUNTS_PENDING_SIGN_IN_SECONDS", default=1800)
# Forgotten username by filing number (Q11): requests per client address and per number.
USERNAME_REMINDER_RATE = env.str("USERNAME_REMINDER_RATE", default="3/hour,10/day")

# Certificates (SPEC §5). Private signing keys are PEM files named <key id>.pem in this folder,
# or secrets CERT_SIGNING_KEY_<KEY ID> (or CERT_SIGNING_KEY_<KEY ID>_FILE); see
# docs/certificate-format.md. Outside production the first key is generated on first use.
CERT_SIGNING_KEY_DIR = env.path("CERT_SIGNING_KEY_DIR", default=str(BASE_DIR / "var" / "keys"))
CERT_AUTO_CREATE_KEY = flag("CERT_AUTO_CREATE_KEY", default=not PRODUCTION)
# The compliance checker: timeouts, size limits, politeness, and the SSRF guard.
COMPLIANCE_CONNECT_TIMEOUT = env.float("COMPLIANCE_CONNECT_TIMEOUT", default=5.0)
COMPLIANCE_READ_TIMEOUT = env.float("COMPLIANCE_READ_TIMEOUT", default=10.0)
COMPLIANCE_TOTAL_TIMEOUT = env.float("COMPLIANCE_TOTAL_TIMEOUT", default=20.0)
COMPLIANCE_MAX_CERT_BYTES = env.int("COMPLIANCE_MAX_CERT_BYTES", default=64 * 1024)
COMPLIANCE_MAX_PAGE_BYTES = env.int("COMPLIANCE_MAX_PAGE_BYTES", default=2 * 1024 * 1024)
COMPLIANCE_HOST_INTERVAL_SECONDS = env.float("COMPLIANCE_HOST_INTERVAL_SECONDS", default=2.0)
COMPLIANCE_ON_DEMAND_COOLDOWN_SECONDS = env.int("COMPLIANCE_ON_DEMAND_COOLDOWN_SECONDS", default=60)
# The public "is the certificate installed?" check makes a worker fetch a page: per address.
CERT_DOMAIN_CHECK_RATE = env.str("CERT_DOMAIN_CHECK_RATE", default="5/min,60/day")
# Private, loopback and link-local targets are refused; only the test suite (or a local
# trial) may allow them. COMPLIANCE_RESOLVE works like curl --resolve: "host=ip:port,…".
COMPLIANCE_ALLOW_PRIVATE_TARGETS = flag("COMPLIANCE_ALLOW_PRIVATE_TARGETS", default=False)
if PRODUCTION and COMPLIANCE_ALLOW_PRIVATE_TARGETS:
    raise ImproperlyConfigured("COMPLIANCE_ALLOW_PRIVATE_TARGETS must stay off in production")
COMPLIANCE_RESOLVE = dict(
    item.strip().split("=", 1) for item in env.list("COMPLIANCE_RESOLVE", default=[]) if item
)

# Access providers (SPEC §6): webhooks, imports and gating.
PROVIDER_WEBHOOK_TIMEOUT = env.float("PROVIDER_WEBHOOK_TIMEOUT", default=5.0)
# Webhooks to private or loopback addresses are refused (SSRF) unless allowed for local trials.
PROVIDER_WEBHOOK_ALLOW_PRIVATE = flag("PROVIDER_WEBHOOK_ALLOW_PRIVATE", default=False)
if PRODUCTION and PROVIDER_WEBHOOK_ALLOW_PRIVATE:
    raise ImproperlyConfigured("PROVIDER_WEBHOOK_ALLOW_PRIVATE must stay off in production")
# Like curl --resolve, "host=ip:port,…": lets a local trial's receiver listen on another port.
PROVIDER_WEBHOOK_RESOLVE = dict(
    item.strip().split("=", 1) for item in env.list("PROVIDER_WEBHOOK_RESOLVE", default=[]) if item
)
if PRODUCTION and (PROVIDER_WEBHOOK_RESOLVE or COMPLIANCE_RESOLVE):
    raise ImproperlyConfigured(
        "PROVIDER_WEBHOOK_RESOLVE and COMPLIANCE_RESOLVE are for local trials, not production"
    )
PROVIDER_IMPORT_MAX_API_ROWS = env.int("PROVIDER_IMPORT_MAX_API_ROWS", default=500)
PROVIDER_IMPORT_MAX_FILE_ROWS = env.int("PROVIDER_IMPORT_MAX_FILE_ROWS", default=20000)
# Rows an import task writes in one transaction of bulk inserts: the chunk's fixed queries
# (such as the look-up of existing accounts) are shared by more rows in a larger chunk.
PROVIDER_IMPORT_CHUNK_ROWS = env.int("PROVIDER_IMPORT_CHUNK_ROWS", default=500)
PROVIDER_GATING_MAX_DOMAINS = 1000
# Seconds a console token that may gate is remembered in Redis (providers/gating_lane.py):
# revoking it forgets it at once; a change made outside the models takes this long at most.
PROVIDER_TOKEN_CACHE_SECONDS = env.int("PROVIDER_TOKEN_CACHE_SECONDS", default=1)
# Path prefixes answered before the middleware when their handler can (beian/hotpaths.py).
HOT_PATHS = [
    ("/api/v1/public/filings/", "public.api.kept_answer"),
    ("/api/v1/provider/domains/", "providers.gating_lane.answer"),
]
# The distribution platforms' check of apps and mini-programs (SPEC §13): identifiers a call.
PROVIDER_APP_CHECK_MAX_IDENTIFIERS = 1000

# Public services (SPEC §7, §8). The is-it-filed page asks for a captcha after this many
# queries from one address in an hour; answers are cached, and at most this many matches of a
# name search are listed (a longer query narrows them down).
PUBLIC_QUERY_CAPTCHA_AFTER = env.int("PUBLIC_QUERY_CAPTCHA_AFTER", default=10)
PUBLIC_QUERY_CACHE_SECONDS = env.int("PUBLIC_QUERY_CACHE_SECONDS", default=600)
PUBLIC_QUERY_MAX_RESULTS = env.int("PUBLIC_QUERY_MAX_RESULTS", default=500)
# The yearly annual-review window as month-day; the ministry may set another one for a given
# year in the admin. The second reminder goes this many days before the window ends.
ANNUAL_REVIEW_START = env.str("ANNUAL_REVIEW_START", default="01-01")
ANNUAL_REVIEW_END = env.str("ANNUAL_REVIEW_END", default="03-31")
ANNUAL_REVIEW_FINAL_REMINDER_DAYS = env.int("ANNUAL_REVIEW_FINAL_REMINDER_DAYS", default=14)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

SERVICE_NAME = _("ICP Filing System")
