import os

import pytest
from django.conf import settings


def pytest_configure(config):
    # Under CI the suite must run on the real services, never fall back silently.
    if os.environ.get("CI") == "true":
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine or not settings.REDIS_URL:
            pytest.exit("CI=true needs DATABASE_URL (PostgreSQL) and REDIS_URL", returncode=3)
    # Tasks run in-process in tests unless a test starts a real worker.
    from beian.celery import app

    app.conf.task_always_eager = True
    _restore_serialized_data_after_any_flush()


def _restore_serialized_data_after_any_flush():
    """``serialized_rollback`` after another transactional test: that test's flush emitted
    post_migrate, which re-created the content types and permissions under new ids, and
    restoring the serialized ones would then break their unique constraints. Drop the
    re-created rows first, and forget the ids cached from them afterwards."""
    from django.db.backends.base.creation import BaseDatabaseCreation

    restore = BaseDatabaseCreation.deserialize_db_from_string

    def restore_after_flush(self, data):
        from django.contrib.auth.models import Permission
        from django.contrib.contenttypes.models import ContentType

        alias = self.connection.alias
        Permission.objects.using(alias).all().delete()
        ContentType.objects.using(alias).all().delete()
        restore(self, data)
        ContentType.objects.clear_cache()

    BaseDatabaseCreation.deserialize_db_from_string = restore_after_flush


@pytest.fixture(autouse=True)
def _isolated_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _sms_verification(request, settings):
    """Tests of the bureau's side, the owner's data and the providers' services run as a
    deployment without the SMS verification (``FILING_SMS_VERIFICATION`` off): a submission
    that names no registered provider reaches the bureau at once. Tests marked ``stages``
    run with the default, the verification on (SPEC §12)."""
    settings.FILING_SMS_VERIFICATION = request.node.get_closest_marker("stages") is not None


@pytest.fixture(autouse=True)
def _english_off(settings):
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture(autouse=True)
def _signing_keys_in_tmp(settings, tmp_path_factory):
    # Certificates signed during tests keep their private keys out of the checkout's var/keys.
    settings.CERT_SIGNING_KEY_DIR = str(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def fast_password_hashing(settings):
    """For tests that create many accounts: Argon2 costs most of a second per password."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


@pytest.fixture
def otp_client():
    """``otp_client(user)``: a test client signed in as ``user`` with a verified TOTP device."""
    from django.test import Client
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def make(user):
        client = Client()
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        device = device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        client.force_login(user)
        request = type("Request", (), {"session": client.session, "user": user})()
        otp_login(request, device)
        request.session.save()
        return client

    return make


@pytest.fixture
def outbox_messages():
    """The delivery log, newest first."""
    from beian.delivery import outbox

    return outbox


@pytest.fixture
def english():
    """Run service-level code in English, for tests that read its messages."""
    from django.utils import translation

    with translation.override("en"):
        yield


def ensure_reference_data() -> None:
    """The provinces, calendar and approved top-level domains of the data migrations, if a
    transactional test's flush emptied them (pytest-django runs transactional tests after the others)."""
    import importlib

    from django.apps import apps

    from beian.models import Province

    if not Province.objects.exists():
        migration = importlib.import_module("beian.migrations.0002_reference_data")
        migration.load_provinces(apps, None)
        migration.load_calendar(apps, None)
    from beian.models import TopLevelDomain

    if not TopLevelDomain.objects.exists():
        tlds = importlib.import_module("beian.migrations.0005_approved_top_level_domains")
        tlds.load_shipped_list(apps, None)


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        ensure_reference_data()
    yield
