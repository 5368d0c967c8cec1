"""Measure the seeded database and print one table: medians of rounds, their spread, and each
figure beside a reference measured in the same round.

The run starts from a steady state (``VACUUM (ANALYZE)`` and a ``CHECKPOINT``). Every selected
section then runs ``BENCH_ROUNDS`` times, interleaved (round 1 of every section, then round
2, …), so that a drift of the machine spreads over all of them. Each round measures its own
references: the bare ``/healthz`` under wrk for the HTTP rows, and, for the rows timed in
process, an indexed primary-key read through the ORM and the bare view's handler through
Django's test client. The goals (``bench.figures.GOALS``) are stated as ratios to those.

HTTP figures come from gunicorn on 127.0.0.1 under wrk (Debian's package); the others are
timed in process with ``time.perf_counter`` over repeated calls. With a streaming replica
answering on ``BENCH_REPLICA_PORT``, the HTTP section runs once more against a gunicorn that
reads from it. The figures, round by round, are saved as JSON for ``python -m bench scale``.
"""

from __future__ import annotations

import datetime as dt
import gc
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.test import Client
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import AccessProvider, User
from accounts.services import api_token_issue, staff_create
from beian.models import Province
from bench import figures
from bench.imports import free_mobile_block, measure_import
from filings.conflicts import detect_conflicts
from filings.models import (
    Filing,
    Identifier,
    PublishedDomain,
    PublishedIdentifier,
    PublishedWebsite,
    Website,
)
from filings.selectors import provider_review_queue
from providers.gating import check_domains
from providers.services import api_token_issue as provider_token_issue
from review import tally

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8100"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "10"))
WRK_CONNECTIONS = int(os.environ.get("BENCH_WRK_CONNECTIONS", "16"))
WRK_THREADS = 2
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# The public lookup's steady state: domains whose answers are kept before they are measured.
WARM_DOMAINS = 2000
# First asks: domains set aside for each round (and the replica's), never asked before; and
# the seconds wrk asks them for. A round that asks all of its domains stops there.
COLD_DOMAINS = int(os.environ.get("BENCH_COLD_DOMAINS", "4000"))
COLD_SECONDS = int(os.environ.get("BENCH_COLD_SECONDS", "3"))
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
REPLICA_PORT = int(os.environ.get("BENCH_REPLICA_PORT", "5433"))
# How long the replica may take to replay what the primary wrote before it is measured.
REPLICA_CATCH_UP_SECONDS = 300
# A few hundred ids for the indexed read, and calls of the bare handler, per round.
CALIBRATION_READS = 300
CALIBRATION_CALLS = 300

SECTIONS = tuple(dict.fromkeys(measure.section for measure in figures.MEASURES))


class Rollback(Exception):
    pass


def timed(fn: Callable[[], Any], *, repeat: int, warmup: int = 3) -> list[float]:
    """Milliseconds of each of ``repeat`` calls of ``fn``, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def in_process(samples: list[float], **extra: Any) -> dict[str, Any]:
    """A round's figures of a measure timed in process (ms)."""
    return {"median": statistics.median(samples), "p99": p(samples, 0.99), **extra}


# --- the database ---------------------------------------------------------------------------


AUTOVACUUM_WAIT_SECONDS = float(os.environ.get("BENCH_AUTOVACUUM_WAIT_SECONDS", "600"))


def steady_state() -> dict[str, float]:
    """The statistics tally compacted as beat keeps it, ``VACUUM (ANALYZE)`` of the database
    and a ``CHECKPOINT``, as a database that
    autovacuum has looked after is: fresh statistics, a visibility map that lets index-only
    scans skip the heap, and no dirty pages left from the seed to be written while measuring;
    then no autovacuum worker running in the cluster (waited for, at most
    ``BENCH_AUTOVACUUM_WAIT_SECONDS``). Seconds each took."""
    took = {}
    # What beat does every few minutes: the statistics tally folded to a row per key (the
    # imports of earlier runs added a row per filing).
    start = time.perf_counter()
    tally.compact()
    took["tally_compact"] = time.perf_counter() - start
    with connection.cursor() as cursor:
        for name, sql in (("vacuum_analyze", "VACUUM (ANALYZE)"), ("checkpoint", "CHECKPOINT")):
            start = time.perf_counter()
            cursor.execute(sql)
            took[name] = time.perf_counter() - start
        # Autovacuum busy elsewhere in the cluster (a seed just loaded, another database)
        # takes the cores and the disk the measures need: wait until it is done.
        start = time.perf_counter()
        while time.perf_counter() - start < AUTOVACUUM_WAIT_SECONDS:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            )
            if not cursor.fetchone()[0]:
                break
            time.sleep(1)
        took["autovacuum_wait"] = time.perf_counter() - start
    return took


def sample_rows(model: type[models.Model], columns: list[str], n: int, *, seed: int) -> list:
    """About ``n`` rows of ``model``'s ``columns``, the same ones each time for the same table
    (``TABLESAMPLE … REPEATABLE``, without reading every row into Python), in a random order
    drawn from ``seed``; every row when the table has fewer than ``n``."""
    total = model.objects.count()
    if not total or n <= 0:
        return []
    table = model._meta.db_table
    selected = ", ".join(f'"{model._meta.get_field(c).column}"' for c in columns)
    share = min(100.0, 100.0 * n * 1.2 / total + 0.01)
    with connection.cursor() as cursor:
        while True:
            # Table and column names come from the models, never from input.
            cursor.execute(
                f'SELECT {selected} FROM "{table}" TABLESAMPLE BERNOULLI (%s) '  # noqa: S608
                f'REPEATABLE (%s) ORDER BY "id"',
                [share, seed],
            )
            rows = cursor.fetchall()
            if len(rows) >= n or share >= 100.0:
                break
            share = min(100.0, share * 2)
    rows = random.Random(seed).sample(rows, min(n, len(rows)))
    return [row[0] for row in rows] if len(columns) == 1 else rows


def database_size() -> dict[str, int]:
    """Websites (not apps), published services (websites and apps) and filings."""
    return {
        "websites": Website.objects.filter(kind=Website.Kind.WEBSITE).count(),
        "published_websites": PublishedWebsite.objects.count(),
        "filings": Filing.objects.count(),
    }


def git_commit() -> str:
    """The commit measured, ``-dirty`` when tracked files differ from it."""
    try:
        commit = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", "rev-parse", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if changed else commit


# --- fixtures in the seeded database -------------------------------------------------------


def bench_accounts() -> dict[str, Any]:
    """A provider staff member, a Guangdong reviewer and a ministry user with tokens (created
    once). The provider is the first by id: the seed gives it the first-review backlog and
    the accesses of part of the filed websites (``bench.seed``), so that gating answers
    ``access`` both ways for it."""
    provider = AccessProvider.objects.order_by("id").first()
    logins = {}
    for username, role, kwargs in [
        ("bench-provider", "provider", {"provider": provider}),
        ("bench-gd-reviewer", "bureau", {"province": Province.objects.get(code="44")}),
        ("bench-ministry", "ministry", {}),
    ]:
        user = User.objects.filter(username=username).first()
        if user is None:
            user, _ = staff_create(
                username=username,
                role=role,
                email=f"{username}@bench.example.cn",
                mobile=f"166{abs(hash(username)) % 10**8:08d}",
                password="Bench-staff-2026!",
                **kwargs,
            )
        device = TOTPDevice.objects.filter(user=user).first()
        if device is not None and not device.confirmed:
            device.confirmed = True
            device.save()
        # What POST /api/v1/auth/token/ hands out once the password and code are checked.
        token = api_token_issue(user=user)
        logins[role] = {"user": user, "token": token.key}
    # Providers call the gating API with a named console token ("bp_…").
    _token, key = provider_token_issue(user=logins["provider"]["user"], name="bench gating")
    logins["provider"]["console_token"] = key
    return logins


def access_share(answers: list[dict[str, Any]]) -> tuple[int, str]:
    """How many of gating's answers say ``access: true``, and a note giving their share
    (SPEC §12), flagged when every answer says the same: the measure then misses one path."""
    held = sum(1 for answer in answers if answer["access"])
    note = f"access true for {held:,} of {len(answers):,} ({held / len(answers):.0%})"
    if held in (0, len(answers)):
        note += ": one outcome only, the provider's accesses are not in the sample"
    return held, note


def staff_client(user):
    """A test client signed in as ``user`` with a verified second factor."""
    client = Client()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    client.force_login(user)
    request = type("Request", (), {"session": client.session, "user": user})()
    otp_login(request, device)
    request.session.save()
    return client


def app_check_identifiers(n: int) -> tuple[list[str], int]:
    """``n`` identifiers for the app check, shuffled: half published (a random sample; the iOS
    bundle IDs among them in upper case, which matches), half not (apps of revoked filings,
    up to a fifth of those, and identifiers never filed); and how many are published."""
    rng = random.Random(11)
    filed = [
        identifier.upper() if platform == "ios" else identifier
        for identifier, platform in sample_rows(
            PublishedIdentifier, ["identifier", "platform"], n // 2, seed=11
        )
    ]
    revoked = list(
        Identifier.objects.filter(filing__status=Filing.Status.REVOKED)
        .order_by("id")
        .values_list("identifier", flat=True)[: (n - len(filed)) // 5]
    )
    never = [f"cn.never-filed{k}.app" for k in range(n - len(filed) - len(revoked))]
    asked = filed + revoked + never
    rng.shuffle(asked)
    return asked, len(filed)


# --- HTTP under load -----------------------------------------------------------------------


def start_gunicorn(extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "THROTTLE_PUBLIC": "100000000/min",
            "THROTTLE_GATING": "100000000/min",
            "AXES_ENABLED": "false",
            # As in production (DJANGO_ENV=production): connections are kept between requests.
            "DB_CONN_MAX_AGE": "60",
            **(extra_env or {}),
        }
    )
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "beian.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)  # noqa: S310
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


def wrk(
    script: str | None, url: str, headers: dict[str, str], *, seconds: int | None = None
) -> dict[str, Any]:
    """One wrk run: requests, ``rps``, ``p50`` and ``p99`` (ms), non-2xx ``errors``, and
    ``exhausted``: how many threads asked every path of a one-pass script (``lua_paths``)."""
    cmd = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds or WRK_SECONDS}s",
        "--latency",
    ]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [*cmd, url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    requests = re.search(r"(\d+) requests in", out)
    exhausted = re.search(r"exhausted threads: (\d+)", out)
    return {
        "requests": int(requests.group(1)) if requests else 0,
        "rps": rps,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "exhausted": int(exhausted.group(1)) if exhausted else 0,
    }


def lua_paths(paths: list[str], directory: str, *, once: bool) -> str:
    """A wrk script that walks ``paths``, each thread its own share (thread ``t`` of ``n``
    asks paths ``t``, ``t + n``, …), so that no two threads ask the same path at once.

    ``once``: no path is asked twice. A thread that has asked its whole share stops (and
    ``done`` prints how many did); the request it has to hand over then asks the bare view
    and is never read. Without ``once`` the threads go round the list."""
    quoted = ",".join('"' + path.replace('"', "").replace("\\", "") + '"' for path in paths)
    exhausted = (
        '    exhausted = 1\n    wrk.thread:stop()\n    return wrk.format(nil, "/healthz")\n'
        if once
        else "    k = (k - 1) % #paths + 1\n"
    )
    with tempfile.NamedTemporaryFile(
        "w", suffix=".lua", dir=directory, delete=False, encoding="utf-8"
    ) as handle:
        handle.write(
            f"paths = {{{quoted}}}\n"
            "threads = {}\n"
            "function setup(thread)\n"
            "  thread:set('id', #threads)\n"
            "  table.insert(threads, thread)\n"
            "end\n"
            "function init(args)\n"
            "  counter = 0\n"
            "  exhausted = 0\n"
            "end\n"
            "function request()\n"
            f"  local k = counter * {WRK_THREADS} + id + 1\n"
            "  counter = counter + 1\n"
            "  if k > #paths then\n"
            f"{exhausted}"
            "  end\n"
            "  return wrk.format(nil, paths[k])\n"
            "end\n"
            "function done(summary, latency, requests)\n"
            "  local n = 0\n"
            "  for _, thread in ipairs(threads) do\n"
            "    if thread:get('exhausted') == 1 then n = n + 1 end\n"
            "  end\n"
            "  io.write(string.format('exhausted threads: %d\\n', n))\n"
            "end\n"
        )
    return handle.name


def ask_each(paths: list[str], *, headers: dict[str, str] | None = None, clients: int = 8) -> int:
    """GET every path once from the server on ``PORT``, over ``clients`` kept connections;
    how many answers were not 200."""

    def ask(share: list[str]) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        refused = 0
        try:
            for path in share:
                conn.request("GET", path, headers=headers or {})
                answer = conn.getresponse()
                answer.read()
                refused += answer.status != 200
        finally:
            conn.close()
        return refused

    with ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(ask, [paths[k::clients] for k in range(clients)]))


def peak_rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1))


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


# --- the replica ----------------------------------------------------------------------------


def replica_dsn() -> str:
    db = settings.DATABASES["default"]
    return (
        f"host=127.0.0.1 port={REPLICA_PORT} dbname={db['NAME']} "
        f"user={db.get('USER') or 'postgres'} connect_timeout=2"
    )


def replica_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db.get('USER') or 'postgres'}@127.0.0.1:{REPLICA_PORT}/{db['NAME']}"


def replica_missing() -> str | None:
    """Why the HTTP section cannot run against a streaming replica on ``REPLICA_PORT``, or
    None when one answers for this database."""
    try:
        with psycopg.connect(replica_dsn()) as conn:
            (standby,) = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    except psycopg.Error as exc:
        return f"no replica answers on 127.0.0.1:{REPLICA_PORT} ({exc.__class__.__name__})"
    if not standby:
        return f"127.0.0.1:{REPLICA_PORT} is not a standby"
    return None


def replica_caught_up(timeout: float) -> float | None:
    """Wait until the replica has replayed everything the primary wrote so far; the seconds
    waited, or None when it had not after ``timeout``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (target,) = cursor.fetchone()
    start = time.monotonic()
    with psycopg.connect(replica_dsn(), autocommit=True) as conn:
        while time.monotonic() - start < timeout:
            (done,) = conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
            ).fetchone()
            if done:
                return time.monotonic() - start
            time.sleep(0.5)
    return None


def replica_transactions() -> int:
    """Transactions the replica has committed in this database (its own statistics)."""
    with psycopg.connect(replica_dsn(), autocommit=True) as conn:
        (count,) = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(count)


# --- the run --------------------------------------------------------------------------------


class Bench:
    """The fixtures a run measures with, made once, and one method per section that measures
    one round and answers its figures by measure key (``bench.figures``)."""

    def __init__(self, *, wanted: set[str], slices: int) -> None:
        self.wanted = wanted
        self.logins = bench_accounts()
        self.notes: dict[str, str] = {}
        self.memory: dict[str, int] = {}
        self.server: subprocess.Popen | None = None
        self.scripts = tempfile.mkdtemp(prefix="bench-wrk-")
        self.calibration_ids = sample_rows(PublishedWebsite, ["id"], CALIBRATION_READS, seed=3)
        cold_wanted = COLD_DOMAINS * slices if "http" in wanted else 0
        domains = sample_rows(PublishedDomain, ["name"], WARM_DOMAINS + cold_wanted, seed=7)
        self.warm = domains[:WARM_DOMAINS]
        # Each round (and the replica's) asks its own slice first: never a domain twice.
        per_slice = len(domains[WARM_DOMAINS:]) // slices if slices else 0
        self.cold = [
            domains[WARM_DOMAINS + k * per_slice : WARM_DOMAINS + (k + 1) * per_slice]
            for k in range(slices)
        ]
        self.provider_id = self.logins["provider"]["user"].provider_id
        self.console_token = self.logins["provider"]["console_token"]
        if "http" in wanted:
            self._prepare_http()
        if "gating-batch" in wanted:
            self.gating_batch = domains[:1000]
        if "app-check-batch" in wanted:
            self.app_batch, self.app_published = app_check_identifiers(1000)
            self.notes["app-check-batch"] = (
                f"{PublishedIdentifier.objects.count():,} published identifiers"
            )
        if "conflicts" in wanted:
            self.pending = list(
                Filing.objects.filter(status="pending_review")
                .order_by("id")
                .values_list("id", flat=True)[:200]
            )
        if "queue" in wanted:
            open_items = Filing.objects.filter(
                province_id="44", status__in=Filing.OPEN_STATUSES
            ).count()
            self.notes["queue-page"] = f"{open_items:,} open items in Guangdong"
        if "provider-queue" in wanted:
            waiting = provider_review_queue(self.provider_id).count()
            self.notes["provider-queue-api"] = f"{waiting:,} waiting for one provider"
        if "import" in wanted:
            self.import_block = free_mobile_block()

    def _prepare_http(self) -> None:
        held, note = access_share(
            [a.as_json() for a in check_domains(self.warm, provider_id=self.provider_id)]
        )
        self.gating_outcomes = 0 < held < len(self.warm)
        self.notes["gating"] = note
        self.public_paths = [f"/api/v1/public/filings/?q=www.{d}" for d in self.warm]
        self.public_script = lua_paths(self.public_paths, self.scripts, once=False)
        self.gating_script = lua_paths(
            [f"/api/v1/provider/domains/{d}/" for d in self.warm], self.scripts, once=False
        )
        self.cold_scripts = [
            lua_paths([f"/api/v1/public/filings/?q={d}" for d in share], self.scripts, once=True)
            if share
            else None
            for share in self.cold
        ]
        # The benchmark's own Redis database: forget the answers of earlier runs, so that the
        # first asks are first asks.
        cache.clear()

    def close(self) -> None:
        if self.server is not None:
            self.memory["web"] = max(peak_rss_kb(pid) for pid in children(self.server.pid))
            stop_gunicorn(self.server)
            self.server = None
        shutil.rmtree(self.scripts, ignore_errors=True)

    # -- references ----------------------------------------------------------------------

    def references(self) -> dict[str, dict[str, Any]]:
        """The machine's own figures in this round: an indexed primary-key read through the
        ORM over a few hundred existing ids (warm), and the bare view's handler in process."""
        ids = self.calibration_ids

        def read(pk):
            return PublishedWebsite.objects.filter(pk=pk).values_list("id", flat=True).first()

        for pk in ids:
            read(pk)
        reads = []
        for pk in ids:
            start = time.perf_counter()
            read(pk)
            reads.append((time.perf_counter() - start) * 1000)
        client = Client()

        def bare():
            answer = client.get("/healthz")
            assert answer.status_code == 200, answer.status_code

        handler = timed(bare, repeat=CALIBRATION_CALLS, warmup=20)
        return {"indexed-read": in_process(reads), "bare-handler": in_process(handler)}

    # -- sections --------------------------------------------------------------------------

    def http(self, slice_index: int) -> dict[str, dict[str, Any]]:
        """The bare view, then the public lookup twice — a steady state over ``WARM_DOMAINS``
        domains whose answers are kept, and first asks of this round's own slice of other
        domains (each one a database query) — and gating for one domain, which is never
        cached: every call checks the token and reads the domains."""
        if self.server is None:
            self.server = start_gunicorn()
        base = f"http://127.0.0.1:{PORT}"
        out: dict[str, dict[str, Any]] = {"bare-http": wrk(None, f"{base}/healthz", {})}
        # Every warm path asked, twice: the first ask keeps the answer, the second (an answer
        # asked again) also the bytes sent, which answer from then on.
        refused = ask_each(self.public_paths) + ask_each(self.public_paths)
        public = wrk(self.public_script, base, {})
        public["checks"] = {"answers 2xx": public["errors"] == 0 and refused == 0}
        out["public-cached"] = public
        script = self.cold_scripts[slice_index] if slice_index < len(self.cold_scripts) else None
        if script is not None:
            first = wrk(script, base, {}, seconds=COLD_SECONDS)
            first["domains"] = len(self.cold[slice_index])
            first["checks"] = {"answers 2xx": first["errors"] == 0}
            out["public-first"] = first
        gating = wrk(self.gating_script, base, {"Authorization": f"Token {self.console_token}"})
        gating["checks"] = {
            "both access outcomes": self.gating_outcomes,
            "answers 2xx": gating["errors"] == 0,
        }
        out["gating"] = gating
        return out

    def _provider_api(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.console_token}")
        return client

    def gating_batch_round(self) -> dict[str, dict[str, Any]]:
        client = self._provider_api()
        results: list[list[dict[str, Any]]] = []

        def gating_batch():
            answer = client.post(
                "/api/v1/provider/domains/check/", {"domains": self.gating_batch}, format="json"
            )
            assert answer.status_code == 200, answer.content
            if not results:
                results.append(answer.json()["results"])

        samples = timed(gating_batch, repeat=30)
        held, self.notes["gating-batch"] = access_share(results[0])
        both = 0 < held < len(self.gating_batch)
        return {"gating-batch": in_process(samples, checks={"both access outcomes": both})}

    def app_check_round(self) -> dict[str, dict[str, Any]]:
        """The distribution platforms' check (SPEC §13) of 1,000 identifiers through the
        view, in process as the gating batch is measured."""
        if not self.app_published:
            self.notes["app-check-batch"] = "no published app: seed again with this code"
            return {"app-check-batch": {"checks": {"published apps in the seed": False}}}
        client = self._provider_api()
        results: list[list[dict[str, Any]]] = []

        def app_check_batch():
            answer = client.post(
                "/api/v1/provider/apps/check/", {"identifiers": self.app_batch}, format="json"
            )
            assert answer.status_code == 200, answer.content
            if not results:
                results.append(answer.json()["results"])

        samples = timed(app_check_batch, repeat=30)
        filed = sum(1 for answer in results[0] if answer["filed"])
        revoked = sum(1 for answer in results[0] if answer["status"] == "revoked")
        self.notes["app-check-batch"] = (
            f"filed {filed:,} of {len(self.app_batch):,} ({revoked:,} revoked); "
            f"{PublishedIdentifier.objects.count():,} published identifiers"
        )
        return {
            "app-check-batch": in_process(
                samples, checks={"every published one filed": filed == self.app_published}
            )
        }

    def conflicts_round(self) -> dict[str, dict[str, Any]]:
        cursor = iter(self.pending * 10)

        def conflict_check():
            filing = Filing.objects.get(id=next(cursor))
            try:
                with transaction.atomic():
                    detect_conflicts(filing=filing)
                    raise Rollback
            except Rollback:
                pass

        return {"conflicts": in_process(timed(conflict_check, repeat=200))}

    def queue_round(self) -> dict[str, dict[str, Any]]:
        reviewer = staff_client(self.logins["bureau"]["user"])

        def queue_page():
            answer = reviewer.get("/review/")
            assert answer.status_code == 200, answer.status_code

        reviewer_api = APIClient()
        reviewer_api.credentials(HTTP_AUTHORIZATION=f"Token {self.logins['bureau']['token']}")

        def queue_api():
            answer = reviewer_api.get("/api/v1/review/queue/")
            assert answer.status_code == 200, answer.status_code

        return {
            "queue-page": in_process(timed(queue_page, repeat=30)),
            "queue-api": in_process(timed(queue_api, repeat=30)),
        }

    def provider_queue_round(self) -> dict[str, dict[str, Any]]:
        client = self._provider_api()

        def queue_api():
            answer = client.get("/api/v1/provider/reviews/")
            assert answer.status_code == 200, answer.status_code

        return {"provider-queue-api": in_process(timed(queue_api, repeat=30))}

    def statistics_round(self) -> dict[str, dict[str, Any]]:
        ministry = staff_client(self.logins["ministry"]["user"])

        def statistics_page():
            answer = ministry.get("/review/statistics/")
            assert answer.status_code == 200, answer.status_code

        return {"statistics": in_process(timed(statistics_page, repeat=20))}

    def import_round(self, round_index: int) -> dict[str, dict[str, Any]]:
        rate, peak = measure_import(
            provider=self.logins["provider"]["user"],
            rows=IMPORT_ROWS,
            block=self.import_block,
            first=round_index * IMPORT_ROWS,
        )
        self.memory["celery"] = max(self.memory.get("celery", 0), peak)
        self.notes["import"] = f"{IMPORT_ROWS:,} rows a round, uploaded as a job, a real worker"
        return {"import": {"rate": rate}}

    def round(self, index: int) -> dict[str, dict[str, Any]]:
        """Round ``index`` of every wanted section, after this round's references."""
        out = self.references()
        steps: list[tuple[str, Callable[[], dict]]] = [
            ("http", lambda: self.http(index)),
            ("gating-batch", self.gating_batch_round),
            ("app-check-batch", self.app_check_round),
            ("conflicts", self.conflicts_round),
            ("queue", self.queue_round),
            ("provider-queue", self.provider_queue_round),
            ("statistics", self.statistics_round),
            ("import", lambda: self.import_round(index)),
        ]
        for section, step in steps:
            if section in self.wanted:
                out.update(step())
        return out

    def replica(self, slice_index: int) -> dict[str, Any]:
        """The HTTP section once more, against a gunicorn whose public query and gating read
        from the streaming replica (``DATABASE_REPLICA_URLS``); ``skipped`` says why not."""
        missing = replica_missing()
        if missing is not None:
            return {"skipped": missing}
        waited = replica_caught_up(REPLICA_CATCH_UP_SECONDS)
        if waited is None:
            return {"skipped": f"the replica did not catch up in {REPLICA_CATCH_UP_SECONDS} s"}
        if self.server is not None:
            self.memory["web"] = max(peak_rss_kb(pid) for pid in children(self.server.pid))
            stop_gunicorn(self.server)
        before = replica_transactions()
        self.server = start_gunicorn({"DATABASE_REPLICA_URLS": replica_url()})
        try:
            measured = self.http(slice_index)
        finally:
            stop_gunicorn(self.server)
            self.server = None
        # A backend's statistics reach pg_stat_database when it ends.
        time.sleep(1)
        transactions = replica_transactions() - before
        # The first asks and gating read the database once or more a request (the kept
        # answers do not): fewer transactions than those requests means the router sent
        # reads to the primary (it logs why).
        reading = sum(
            measured[key]["requests"] for key in ("public-first", "gating") if key in measured
        )
        return {
            "url": replica_url(),
            "caught_up_after_seconds": round(waited, 1),
            "transactions": transactions,
            "requests_reading_the_database": reading,
            "reads_reached_the_replica": transactions >= reading,
            "round": measured,
        }


def run(only: set[str] | None = None, *, save: str | None = None) -> int:
    """Measure every section (or those named in ``only``) in ``BENCH_ROUNDS`` interleaved
    rounds, print the table, save the figures as JSON (``save``, by default
    ``var/bench/<database>.json``); 0 when every goal is met, 1 when one is not, 2 when the
    run cannot start."""
    wanted = only if only else set(SECTIONS)
    if "http" in wanted and not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    if not PublishedDomain.objects.exists():
        print("the database is empty: run `python -m bench seed` first", file=sys.stderr)
        return 2
    database = settings.DATABASES["default"]["NAME"]
    path = Path(save) if save else ROOT / "var" / "bench" / f"{database}.json"
    started = time.monotonic()
    # The size measured: the imports of the rounds add a few rows.
    size = database_size()
    steady = steady_state()
    # The benchmark's own fixtures (samples of domains and identifiers, accounts) stay alive
    # for the whole run: out of the collector's way, as a server's preloaded code is, so that
    # a measured call does not pay for traversing them.
    gc.collect()
    gc.freeze()
    print(
        f"steady state: tally compacted {steady['tally_compact']:.1f} s, "
        f"VACUUM (ANALYZE) {steady['vacuum_analyze']:.1f} s, "
        f"CHECKPOINT {steady['checkpoint']:.1f} s, "
        f"waiting for autovacuum {steady['autovacuum_wait']:.1f} s",
        flush=True,
    )
    replica_wanted = "http" in wanted and replica_missing() is None
    bench = Bench(wanted=wanted, slices=ROUNDS + (1 if replica_wanted else 0))
    rounds: list[dict[str, dict[str, Any]]] = []
    replica: dict[str, Any] | None = None
    try:
        for index in range(ROUNDS):
            round_started = time.monotonic()
            rounds.append(bench.round(index))
            print(
                f"round {index + 1} of {ROUNDS}: {time.monotonic() - round_started:.0f} s",
                flush=True,
            )
        if "http" in wanted:
            replica = bench.replica(ROUNDS)
    finally:
        bench.close()
    summary = figures.summarise(rounds)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "database": database,
        **size,
        "sections": sorted(wanted),
        "settings": {
            "rounds": ROUNDS,
            "wrk_seconds": WRK_SECONDS,
            "wrk_connections": WRK_CONNECTIONS,
            "wrk_threads": WRK_THREADS,
            "gunicorn_workers": GUNICORN_WORKERS,
            "warm_domains": len(bench.warm),
            "cold_domains_per_round": len(bench.cold[0]) if bench.cold else 0,
            "cold_seconds": COLD_SECONDS,
            "import_rows": IMPORT_ROWS,
            "cpus": os.cpu_count(),
        },
        "steady_state_seconds": steady,
        "rounds": rounds,
        "references": {
            ref.key: figures.summarise_reference(rounds, ref) for ref in figures.REFERENCES
        },
        "measures": summary,
        "goals": [goal.__dict__ for goal in figures.GOALS],
        "notes": bench.notes,
        "replica": replica,
        "memory_kib": bench.memory,
        "seconds": round(time.monotonic() - started, 1),
        "met": figures.all_met(summary),
    }
    print()
    print(report_text(report))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nsaved {path}")
    return 0 if report["met"] else 1


# --- the printed report ----------------------------------------------------------------------


def report_text(report: dict[str, Any]) -> str:
    """The header lines (the database, the references), the table and the replica's rows."""
    n = report["settings"]["rounds"]
    s = report["settings"]
    lines = [
        f"database {report['database']}: {report['websites']:,} websites "
        f"({report['published_websites']:,} published services), commit "
        f"{report['git_commit'][:12]}{'-dirty' if report['git_commit'].endswith('-dirty') else ''}; "
        f"{n} interleaved rounds; wrk {s['wrk_seconds']} s × "
        f"{s['wrk_connections']} connections, gunicorn {s['gunicorn_workers']} workers, "
        f"{s['cpus']} CPUs",
        f"references, median of {n} rounds [min–max ±largest distance from the median]:",
    ]
    refs = report["references"]
    if refs.get("bare-http"):
        bare = refs["bare-http"]
        lines.append(
            f"  bare /healthz under wrk: {figures.with_spread(bare['rps'], 'req/s', n)}, "
            f"p50 {figures.with_spread(bare['p50'], 'ms', n)}, "
            f"p99 {figures.with_spread(bare['p99'], 'ms', n)}"
        )
    for ref in figures.REFERENCES[1:]:
        if refs.get(ref.key):
            lines.append(f"  {ref.label}: {figures.with_spread(refs[ref.key]['median'], 'ms', n)}")
    lines.append("")
    lines.append(measures_table(report))
    lines += replica_lines(report)
    memory = report.get("memory_kib") or {}
    whose = {"web": "a gunicorn worker under wrk", "celery": "the Celery worker importing"}
    if memory:
        parts = [f"{whose[name]} {kib / 1024:.0f} MiB" for name, kib in sorted(memory.items())]
        lines.append(f"\npeak memory (VmHWM): {'; '.join(parts)}")
    return "\n".join(lines)


def measures_table(report: dict[str, Any]) -> str:
    n = report["settings"]["rounds"]
    rows = []
    for measure in figures.MEASURES:
        entry = report["measures"].get(measure.key)
        if entry is None:
            continue
        f = entry["figures"]
        ratios = []
        for metric, reference in figures.ratios_shown(measure):
            ratio = entry["ratios"].get(f"{metric}/{reference}")
            if ratio is None:
                continue
            name = figures.REFERENCE_NAMES[reference]
            what = {"rps": f"{name} req/s", "p99": f"{name} p99"}.get(metric, name)
            ratios.append(f"{figures.multiple(ratio, n)} {what}")
        missed = [g["description"] for g in entry["goals"] if not g["met"]]
        missed += [name for name, held in entry["checks"].items() if not held]
        goal_text = "; ".join([g["description"] for g in entry["goals"]] + list(entry["checks"]))
        rows.append(
            {
                "measure": measure.label,
                "p50": figures.with_spread(f.get("p50") or f.get("median"), "ms", n),
                "p99": figures.with_spread(f.get("p99"), "ms", n),
                "throughput": figures.with_spread(
                    f.get("rps") or f.get("rate"), "req/s" if "rps" in f else "rows/s", n
                )
                if ("rps" in f or "rate" in f)
                else "",
                "× same-round reference": "; ".join(ratios),
                "goal": goal_text,
                "met": "yes" if entry["met"] else "NO: " + "; ".join(missed),
                "note": measure_note(report, measure.key),
            }
        )
    columns = ["measure", "p50", "p99", "throughput", "× same-round reference", "goal", "met"]
    return figures.table(rows, [*columns, "note"])


def measure_note(report: dict[str, Any], key: str) -> str:
    note = report["notes"].get(key, "")
    if key == "public-first":
        asked = [r[key]["requests"] for r in report["rounds"] if key in r]
        domains = report["settings"]["cold_domains_per_round"]
        note = (
            f"{statistics.median(asked):,.0f} first asks a round of {domains:,} domains set aside"
        )
        used_up = sum(1 for r in report["rounds"] if r.get(key, {}).get("exhausted"))
        if used_up:
            note += (
                f"; {used_up} round(s) asked them all and stopped early "
                "(req/s is a lower bound: raise BENCH_COLD_DOMAINS)"
            )
    if key == "queue-api":
        note = report["notes"].get("queue-page", "")
    return note


def replica_lines(report: dict[str, Any]) -> list[str]:
    replica = report.get("replica")
    if replica is None:
        return []
    if "skipped" in replica:
        return [f"\nreplica: not measured: {replica['skipped']}"]
    measured = replica["round"]
    bare = measured["bare-http"]
    rows = []
    for key in ("public-cached", "public-first", "gating"):
        if key not in measured or key not in report["measures"]:
            continue
        mine = measured[key]
        primary = report["measures"][key]["figures"]
        rows.append(
            {
                "measure": figures.MEASURE_BY_KEY[key].label + " (replica)",
                "p50": figures.number(mine["p50"], "ms"),
                "p99": figures.number(mine["p99"], "ms"),
                "throughput": figures.number(mine["rps"], "req/s"),
                "× the primary's median": f"{mine['rps'] / primary['rps']['median']:.2f}× req/s; "
                f"{mine['p99'] / primary['p99']['median']:.2f}× p99",
                "× same-round bare": f"{mine['rps'] / bare['rps']:.2f}× req/s; "
                f"{mine['p99'] / bare['p99']:.2f}× p99",
                "note": f"non-2xx {mine['errors']}",
            }
        )
    columns = ["measure", "p50", "p99", "throughput", "× the primary's median"]
    columns += ["× same-round bare", "note"]
    return [
        f"\nreplica ({replica['url']}, caught up after {replica['caught_up_after_seconds']} s), "
        f"one round: bare /healthz {figures.number(bare['rps'], 'req/s')}, "
        f"p99 {figures.number(bare['p99'], 'ms')}; the replica committed "
        f"{replica['transactions']:,} transactions in this database for "
        f"{replica['requests_reading_the_database']:,} requests that read it"
        + (
            ""
            if replica["reads_reached_the_replica"]
            else " — FEWER: the router sent reads to the primary (its log lines say why), "
            "so these rows measure the primary in part"
        ),
        figures.table(rows, columns),
    ]
