"""Reads served by a PostgreSQL streaming replica (beian/replicas.py), against a real one.

``scripts/services.sh`` starts a replica of the test cluster on port 5433 (``REPLICA_TEST_URL``
names another); under ``CI=true`` these tests fail without it rather than skip. Each test
adds the replica as a connection of its own and takes a lock that keeps the replica to one
test at a time across the suite's workers (one of them pauses its replay).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import logging
import os
import time
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from beian import replicas
from filings.models import Filing, PublishedWebsite
from providers.services import api_token_issue
from tests import filings_support as fs
from tests.factories import AccessProviderFactory, UserFactory

REPLICA_URL = urlsplit(os.environ.get("REPLICA_TEST_URL", "postgres://postgres@127.0.0.1:5433/"))
ALIAS = "replica1"
LOCK = "/tmp/beian-replica-tests.lock"

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="replication is PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_password_hashing"),
]


def _replica_dsn(dbname: str = "postgres") -> str:
    return (
        f"host={REPLICA_URL.hostname} port={REPLICA_URL.port or 5432} "
        f"user={REPLICA_URL.username or 'postgres'} dbname={dbname} connect_timeout=2"
    )


def _reachable() -> bool:
    try:
        with psycopg.connect(_replica_dsn()) as conn:
            return bool(conn.execute("SELECT pg_is_in_recovery()").fetchone()[0])
    except psycopg.Error:
        return False


@pytest.fixture
def replica(settings):
    """The replica as the connection ``replica1`` of the test database, routed to."""
    if not _reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("no streaming replica at REPLICA_TEST_URL: scripts/services.sh starts one")
        pytest.skip("no streaming replica running")
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        added = add_replica(host=REPLICA_URL.hostname, port=REPLICA_URL.port or 5432)
        settings.DATABASE_REPLICAS = [ALIAS]
        settings.REPLICA_MAX_LAG_SECONDS = 5.0
        settings.REPLICA_CHECK_SECONDS = 2.0
        replicas.forget_health()
        try:
            yield added
        finally:
            remove_replica()
            replicas.forget_health()


def add_replica(*, host: str, port: int) -> str:
    """The connection ``replica1`` to the test database on ``host:port``, made here (a
    connection the settings do not name is one a test may open)."""
    config = copy.deepcopy(connections["default"].settings_dict)
    config.update(HOST=host, PORT=port, CONN_MAX_AGE=0)
    config["OPTIONS"] = {**config.get("OPTIONS", {}), "connect_timeout": 1}
    wrapper = load_backend(config["ENGINE"]).DatabaseWrapper(config, ALIAS)
    setattr(connections._connections, ALIAS, wrapper)
    return ALIAS


def remove_replica() -> None:
    with contextlib.suppress(Exception):
        connections[ALIAS].close()
    with contextlib.suppress(AttributeError):
        delattr(connections._connections, ALIAS)


def wait_until_replayed(check, *, limit: float = 10.0) -> float:
    """Seconds until ``check()`` (a read on the replica) is true."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit:
            raise AssertionError("the replica did not replay the change in time")
        time.sleep(0.02)
    return time.monotonic() - started


def on_replica(sql: str, params=()) -> list:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def approved_filing(owner=None, domain: str = "example.cn", name: str = "北京示例科技有限公司"):
    owner = owner or UserFactory()
    filing = fs.submitted_filing(
        owner,
        fs.data(
            sponsor={"name": name},
            websites=[fs.website(domains=[domain], homepage=f"http://www.{domain}/")],
        ),
    )
    return fs.approve(fs.to_bureau(filing))


def published_rows_on_replica(number: str) -> bool:
    return bool(
        on_replica(
            f"SELECT 1 FROM {PublishedWebsite._meta.db_table} WHERE sponsor_number = %s", [number]
        )
    )


def read_tables(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]


def provider_client(provider):
    staff = UserFactory(role="provider", provider=provider)
    client = APIClient()
    client.force_authenticate(staff)
    return client, staff


def test_the_public_query_gating_and_verification_read_the_replica_and_writes_go_to_the_primary(
    replica,
):
    filing = approved_filing()
    wait_until_replayed(lambda: published_rows_on_replica(filing.number))
    client = APIClient()
    provider = AccessProviderFactory()
    gating_client, _staff = provider_client(provider)

    with (
        CaptureQueriesContext(connections[replica]) as on_replica_,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        found = client.get("/api/v1/public/filings/", {"q": "example.cn"})
        gated = gating_client.post(
            "/api/v1/provider/domains/check/", {"domains": ["example.cn"]}, format="json"
        )
        page = client.get("/query/", {"q": filing.number})
    assert found.status_code == 200
    assert found.json()["results"][0]["number"] == filing.number
    assert gated.json()["results"][0]["filed"] is True
    assert page.status_code == 200 and filing.number in page.content.decode()
    replica_reads = " ".join(read_tables(on_replica_.captured_queries))
    assert "filings_publishedwebsite" in replica_reads
    assert "filings_publisheddomain" in replica_reads
    assert "filings_published" not in " ".join(read_tables(on_primary.captured_queries))

    # A write, and everything an owner's own pages read, stay on the primary.
    owner_client = APIClient()
    owner_client.force_authenticate(filing.owner)
    with CaptureQueriesContext(connections[replica]) as on_replica_:
        mine = owner_client.get(f"/api/v1/filings/{filing.pk}/")
        created = APIClient()
        created.force_authenticate(UserFactory())
        assert created.post("/api/v1/filings/", {}, format="json").status_code == 201
    assert mine.json()["status"] == "approved"
    assert on_replica_.captured_queries == []


def test_a_console_token_gates_on_the_replica_though_its_first_call_records_its_use(replica):
    filing = approved_filing(domain="token-gating.cn")
    wait_until_replayed(lambda: published_rows_on_replica(filing.number))
    staff = UserFactory(role="provider", provider=AccessProviderFactory())
    _token, key = api_token_issue(user=staff, name="gating server")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with (
        CaptureQueriesContext(connections[replica]) as on_replica_,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        # The first call authenticates on the primary and records the token's use there (an
        # UPDATE nobody reads back); the second is answered from the remembered token.
        answers = [client.get("/api/v1/provider/domains/token-gating.cn/") for _ in range(2)]
    assert [a.json()["filed"] for a in answers] == [True, True]
    assert any("UPDATE" in q["sql"] for q in on_primary.captured_queries)
    assert not replicas.wrote_lately(staff)
    gated = [q for q in read_tables(on_replica_.captured_queries) if "publisheddomain" in q]
    assert len(gated) == 2
    assert "filings_publisheddomain" not in " ".join(read_tables(on_primary.captured_queries))


def test_bookkeeping_writes_are_the_tables_the_models_name():
    from django.contrib.sessions.models import Session

    from beian.models import RateCounter
    from providers.models import ApiToken

    tables = {ApiToken._meta.db_table, Session._meta.db_table, RateCounter._meta.db_table}
    assert tables == replicas.BOOKKEEPING_TABLES
    assert not replicas.is_data_write(f'UPDATE "{ApiToken._meta.db_table}" SET x = 1')
    assert replicas.is_data_write('UPDATE "filings_filing" SET x = 1')


def test_a_just_approved_filing_is_its_owners_at_once_and_the_publics_within_the_lag(replica):
    owner = UserFactory()
    filing = fs.to_bureau(
        fs.submitted_filing(
            owner, fs.data(websites=[fs.website(domains=["fresh.cn"], homepage="http://fresh.cn/")])
        )
    )
    client = APIClient()
    assert client.get("/api/v1/public/filings/", {"q": "fresh.cn"}).json()["count"] == 0

    fs.approve(filing)
    approved_at = time.monotonic()
    owner_client = APIClient()
    owner_client.force_authenticate(owner)
    assert owner_client.get(f"/api/v1/filings/{filing.pk}/").json()["status"] == "approved"

    # Polled on the replica itself, not through the public query's rate limit.
    wait_until_replayed(lambda: published_rows_on_replica(filing.number), limit=5.0)
    lag = time.monotonic() - approved_at
    assert lag < 5.0, "not public within REPLICA_MAX_LAG_SECONDS"
    found = client.get("/api/v1/public/filings/", {"q": "fresh.cn"}).json()
    assert [r["number"] for r in found["results"]] == [filing.number]


def test_whoever_wrote_reads_the_primary_for_a_few_seconds(replica, settings):
    settings.READ_YOUR_WRITES_SECONDS = 1
    filing = approved_filing()
    wait_until_replayed(lambda: published_rows_on_replica(filing.number))
    provider = AccessProviderFactory()
    client, staff = provider_client(provider)

    # The provider's staff write (a client imported), then gate: their reads stay on the
    # primary; a second later they reach the replica again.
    imported = client.post(
        "/api/v1/provider/imports/",
        {
            "rows": [
                {
                    "client": {
                        "username": "ryw-client",
                        "email": "ryw@example.cn",
                        "mobile": "13711112222",
                    },
                    "filing": fs.data(
                        sponsor={"name": "读写一致示例公司"},
                        websites=[
                            fs.website(
                                domains=["ryw-demo.cn"],
                                homepage="http://ryw-demo.cn/",
                                access_provider=provider.pk,
                            )
                        ],
                    ),
                }
            ]
        },
        format="json",
    )
    assert imported.status_code in (200, 201, 202), imported.content
    with CaptureQueriesContext(connections[replica]) as on_replica_:
        client.post("/api/v1/provider/domains/check/", {"domains": ["example.cn"]}, format="json")
    assert on_replica_.captured_queries == []

    time.sleep(1.1)
    with CaptureQueriesContext(connections[replica]) as on_replica_:
        answer = client.post(
            "/api/v1/provider/domains/check/", {"domains": ["example.cn"]}, format="json"
        )
    assert answer.json()["results"][0]["filed"] is True
    assert "filings_publisheddomain" in " ".join(read_tables(on_replica_.captured_queries))


def test_a_replica_that_does_not_answer_is_skipped_and_nobody_notices(replica, caplog):
    filing = approved_filing()
    remove_replica()
    add_replica(host="127.0.0.1", port=5499)  # nothing listens there
    client = APIClient()

    with caplog.at_level(logging.WARNING, logger="beian.replicas"):
        found = client.get("/api/v1/public/filings/", {"q": "example.cn"})
        page = client.get("/query/", {"q": filing.number})

    assert found.status_code == 200
    assert found.json()["results"][0]["number"] == filing.number
    assert page.status_code == 200 and filing.number in page.content.decode()
    assert "replica replica1 skipped, reads go to the primary" in caplog.text


def test_a_replica_that_fails_between_its_check_and_the_read_is_replaced_by_the_primary(
    replica, caplog
):
    filing = approved_filing()
    remove_replica()
    add_replica(host="127.0.0.1", port=5499)
    # Believed healthy (checked a moment ago), gone now.
    replicas._health[ALIAS] = (time.monotonic(), True)
    provider = AccessProviderFactory()
    client, _staff = provider_client(provider)

    with caplog.at_level(logging.WARNING, logger="beian.replicas"):
        gated = client.post(
            "/api/v1/provider/domains/check/", {"domains": ["example.cn"]}, format="json"
        )
        replicas._health[ALIAS] = (time.monotonic(), True)
        page = APIClient().get("/query/", {"q": filing.number})

    assert gated.status_code == 200
    assert gated.json()["results"][0]["number"] == f"{filing.number}-1"
    assert page.status_code == 200 and filing.number in page.content.decode()
    assert "failed a read, run again on the primary" in caplog.text


def test_a_replica_lagging_past_the_limit_is_skipped_until_it_catches_up(replica, settings, caplog):
    settings.REPLICA_MAX_LAG_SECONDS = 0.3
    settings.REPLICA_CHECK_SECONDS = 0
    first = approved_filing()
    wait_until_replayed(lambda: published_rows_on_replica(first.number))
    control = psycopg.connect(_replica_dsn(), autocommit=True)
    control.execute("SELECT pg_wal_replay_pause()")
    try:
        later = approved_filing(domain="later-demo.cn", name="北京后来示例有限公司")
        time.sleep(0.6)
        with (
            caplog.at_level(logging.WARNING, logger="beian.replicas"),
            CaptureQueriesContext(connections[replica]) as on_replica_,
        ):
            found = APIClient().get("/api/v1/public/filings/", {"q": "later-demo.cn"})
        assert found.json()["results"][0]["number"] == later.number
        assert "lags" in caplog.text
        assert not any("filings_published" in q for q in read_tables(on_replica_.captured_queries))
    finally:
        control.execute("SELECT pg_wal_replay_resume()")
        control.close()
    wait_until_replayed(lambda: published_rows_on_replica(later.number))
    settings.REPLICA_MAX_LAG_SECONDS = 5.0
    with CaptureQueriesContext(connections[replica]) as on_replica_:
        APIClient().get("/api/v1/public/filings/", {"q": later.number})
    assert any("filings_published" in q for q in read_tables(on_replica_.captured_queries))


def test_inside_a_transaction_of_the_primary_every_read_is_the_primarys(replica):
    filing = approved_filing()
    token = replicas.begin_replica_reads()
    try:
        assert replicas.ReplicaRouter().db_for_read(Filing) == ALIAS
        with transaction.atomic():
            assert replicas.ReplicaRouter().db_for_read(Filing) == "default"
            Filing.objects.filter(pk=filing.pk).update(sponsor_address="新地址")
            assert Filing.objects.get(pk=filing.pk).sponsor_address == "新地址"
        assert replicas.ReplicaRouter().db_for_write(Filing) == "default"
    finally:
        replicas.end_replica_reads(token)


def test_without_replicas_everything_reads_the_primary(settings):
    settings.DATABASE_REPLICAS = []
    token = replicas.begin_replica_reads()
    assert token is None
    assert replicas.ReplicaRouter().db_for_read(Filing) == "default"
    assert replicas.ReplicaRouter().allow_migrate(ALIAS, "filings") is False
