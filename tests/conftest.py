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


@pytest.fixture(autouse=True)
def _isolated_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_off(settings):
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def outbox_messages():
    """The delivery log, newest first."""
    from beian.delivery import outbox

    return outbox
