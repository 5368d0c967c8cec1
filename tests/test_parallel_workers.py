"""The suite's workers (pytest-xdist) each keep their own Redis database."""

import os

import pytest
from django.conf import settings

from tests.parallel import worker_redis_url


def test_each_worker_moves_to_its_own_redis_database_of_the_same_server():
    assert worker_redis_url("redis://127.0.0.1:6379/1", "gw0") == "redis://127.0.0.1:6379/1"
    assert worker_redis_url("redis://127.0.0.1:6379/1", "gw1") == "redis://127.0.0.1:6379/2"
    assert worker_redis_url("redis://:secret@cache:6380/3", "gw2") == "redis://:secret@cache:6380/5"
    assert worker_redis_url("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/1"
    assert worker_redis_url("redis://127.0.0.1:6379/15", "gw1") == "redis://127.0.0.1:6379/0"


def test_this_worker_uses_the_redis_database_the_environment_gives_its_child_processes():
    # A Celery worker a test starts reads REDIS_URL from the environment: it must be the
    # database the settings of this process use.
    if not settings.REDIS_URL:
        pytest.skip("runs without Redis")
    assert os.environ["REDIS_URL"] == settings.REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] == os.environ["REDIS_URL"]
