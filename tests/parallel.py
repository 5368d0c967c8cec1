"""Each pytest-xdist worker on its own Redis database.

pytest-django gives each worker its own test database (``test_beian_gw0``, ``test_beian_gw1``);
the cache, the rate counters and the Celery broker of ``REDIS_URL`` would still be shared, and
one worker's ``cache.clear()`` would empty the other's in the middle of a test. Loaded with
``-p tests.parallel`` (pyproject's ``addopts``), before pytest-django reads the settings, this
moves worker ``gwN`` to database ``base + N`` (modulo Redis's 16) of the same server; the
Celery workers the tests start inherit it through the environment.
"""

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16


def worker_redis_url(url: str, worker: str) -> str:
    """``url`` (``redis://host:port/db``) moved to database ``db + N`` for xdist worker ``gwN``."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    number = (base + int(worker.removeprefix("gw"))) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{number}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)
