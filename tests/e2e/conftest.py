"""Browser journeys: Debian's Chromium driven by pytest-playwright against a live server.

The portal runs in pytest-django's live server (threads of this process, on the test
database); a real Celery worker process, started for each journey on the same PostgreSQL
database and Redis, sends the codes and runs the imports.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from beian.celery import app
from tests.worker_support import start_worker, stop_worker

from .support import CHROMIUM, CHROMIUM_ARGS


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # The journeys run last: Playwright keeps its event loop running in this thread from the
    # first journey to the end of the session, and Django refuses database calls from a thread
    # with a running loop (see the ``playwright`` fixture below).
    here = Path(__file__).parent
    journeys = [item for item in items if here in item.path.parents]
    if journeys:
        items[:] = [item for item in items if here not in item.path.parents] + journeys


@pytest.fixture(scope="session")
def playwright(playwright):
    # The sync API runs its asyncio loop in the main thread; the journeys still read the
    # outbox and set up data through the ORM between browser calls, which is safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield playwright
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's chromium: Playwright's own browser download is not available.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 900},
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "accept_downloads": True,
        # No transitions: the accessibility audit reads settled colours, never a fade.
        "reduced_motion": "reduce",
    }


@pytest.fixture
def reference_data(transactional_db):
    """The provinces and working-day calendar of the data migration, which the flush after an
    earlier transactional test emptied."""
    from tests.conftest import ensure_reference_data

    ensure_reference_data()


@pytest.fixture
def captcha_test_mode(monkeypatch):
    """The picture's answer is "PASSED" (django-simple-captcha reads its settings once)."""
    from captcha.conf import settings as captcha_settings

    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


@pytest.fixture
def celery_worker(request, tmp_path):
    """A worker process on the test database consuming every queue; stopped after the test.

    Started after the per-test cache flush (which empties the Redis database the broker
    shares), so its queue bindings exist before the first task is sent. It runs with the SMS
    verification on or off as the live server does (``tests/conftest.py``: on only for tests
    marked ``stages``), so what it files (a provider's import) takes the same stages.
    """
    verification = request.node.get_closest_marker("stages") is not None
    log_path = tmp_path / "worker.log"
    app.control.purge()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    with log_path.open("wb") as log:
        worker = start_worker(
            name="e2e",
            queues="default,delivery,checks,imports",
            # Emails stay in the delivery log; the console backend would fill the log file.
            env={
                "EMAIL_URL": "memorymail://",
                "FILING_SMS_VERIFICATION": "true" if verification else "false",
            },
            output=log,
            loglevel="info",
        )
    worker.log_path = log_path
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log_path.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start:\n" + log_path.read_text()[-4000:])
            time.sleep(0.1)
        yield worker
    finally:
        app.conf.task_always_eager = eager
        stop_worker(worker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture
def journey(request, new_context):
    """``journey(name, lang)``: a journey's screenshot folder, words and accessibility audit;
    on failure every open page is photographed as the journey's last steps."""
    from .support import Journey

    started: list[Journey] = []

    def start(name: str, lang: str) -> Journey:
        started.append(Journey(name, lang))
        return started[-1]

    yield start
    if getattr(request.node, "e2e_failed", False):
        for one in started:
            one.shoot_failure()
    else:
        # What the in-page audit found after the journey's last photographed step.
        for one in started:
            one.assert_pages_accessible()
