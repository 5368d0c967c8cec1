"""Measure the seeded database and print one table of medians, p99s and goals.

HTTP figures come from gunicorn on 127.0.0.1 under wrk (Debian's package), measured beside
the same server's bare Django JSON view (``/healthz``) in the same run. The others are timed
in-process with ``time.perf_counter`` over repeated calls.
"""

from __future__ import annotations

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
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import AccessProvider, User
from accounts.services import api_token_issue, staff_create
from beian.models import Province
from bench.imports import measure_import
from filings.conflicts import detect_conflicts
from filings.models import Filing, Identifier, PublishedDomain, PublishedIdentifier
from filings.selectors import provider_review_queue
from providers.gating import check_domains
from providers.services import api_token_issue as provider_token_issue

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("BENCH_PORT", "8100"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "10"))
WRK_CONNECTIONS = int(os.environ.get("BENCH_WRK_CONNECTIONS", "16"))
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "3"))
# First asks: few enough seconds that the domains set aside for them are not used up.
COLD_SECONDS = int(os.environ.get("BENCH_COLD_SECONDS", "3"))


class Rollback(Exception):
    pass


def timed(fn: Callable[[], Any], *, repeat: int, warmup: int = 3) -> list[float]:
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


def row(name: str, samples: list[float], goal: str, ok: bool, extra: str = "") -> dict[str, str]:
    return {
        "measure": name,
        "median": f"{statistics.median(samples):.1f} ms",
        "p99": f"{p(samples, 0.99):.1f} ms",
        "goal": goal,
        "met": "yes" if ok else "NO",
        "note": extra,
    }


# --- fixtures in the seeded database -------------------------------------------------------


def filed_domains(n: int) -> list[str]:
    total = PublishedDomain.objects.count()
    ids = random.Random(7).sample(range(total), min(n, total))
    names = (
        list(PublishedDomain.objects.order_by("id").values_list("name", flat=True)[: max(ids) + 1])
        if total
        else []
    )
    return [names[i] for i in ids]


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


# --- HTTP under load -----------------------------------------------------------------------


def start_gunicorn() -> subprocess.Popen:
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


def wrk(
    path_lua: str | None, url: str, headers: dict[str, str], *, seconds: int | None = None
) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{WRK_CONNECTIONS}", f"-d{seconds or WRK_SECONDS}s", "--latency"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    if path_lua:
        cmd += ["-s", path_lua]
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
    return {
        "requests": int(requests.group(1)) if requests else 0,
        "rps": rps,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def lua_rotating_paths(paths: list[str]) -> str:
    """A wrk script that walks a list of request paths, so every request asks something new."""
    quoted = ",".join('"' + p.replace('"', "") + '"' for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(
            f"paths = {{{quoted}}}\n"
            "counter = 0\n"
            "request = function()\n"
            "  counter = counter + 1\n"
            "  return wrk.format(nil, paths[(counter % #paths) + 1])\n"
            "end\n"
        )
    return handle.name


def peak_rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1))


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


SECTIONS = (
    "http",
    "gating-batch",
    "app-check-batch",
    "conflicts",
    "queue",
    "provider-queue",
    "statistics",
    "import",
)


def measure_http(logins: dict, domains: list[str], rows: list, memory: dict) -> None:
    """The public lookup twice: a steady state in which the 2,000 domains asked have been asked
    before (the answer is cached), and first asks of other domains (each one a database
    query). Gating is never cached: every call checks the token and reads the domains."""
    warm, cold = domains[:2000], domains[2000:]
    provider_id = logins["provider"]["user"].provider_id
    held, held_note = access_share(
        [a.as_json() for a in check_domains(warm, provider_id=provider_id)]
    )
    # The benchmark's own Redis database: forget the answers of earlier runs, so that the
    # first asks below are first asks.
    cache.clear()
    server = start_gunicorn()
    try:
        base = f"http://127.0.0.1:{PORT}"
        bare = wrk(None, f"{base}/healthz", {})
        public_paths = lua_rotating_paths([f"/api/v1/public/filings/?q=www.{d}" for d in warm])
        wrk(public_paths, base, {}, seconds=3)  # every one of them asked once
        public = wrk(public_paths, base, {})
        first = (
            wrk(
                lua_rotating_paths([f"/api/v1/public/filings/?q={d}" for d in cold]),
                base,
                {},
                seconds=COLD_SECONDS,
            )
            if cold
            else None
        )
        gating = wrk(
            lua_rotating_paths([f"/api/v1/provider/domains/{d}/" for d in warm]),
            base,
            {"Authorization": f"Token {logins['provider']['console_token']}"},
        )
        memory["web"] = max(peak_rss_kb(pid) for pid in children(server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    both_outcomes = 0 < held < len(warm)
    measured = [
        ("public lookup, one domain", public, True, ""),
        ("gating, one domain", gating, both_outcomes, f"; {held_note}"),
    ]
    for label, result, ok, extra in measured:
        ratio = result["rps"] / bare["rps"]
        rows.append(
            {
                "measure": f"{label} (HTTP, {WRK_CONNECTIONS} connections)",
                "median": f"{result['p50']:.1f} ms",
                "p99": f"{result['p99']:.1f} ms",
                "goal": "≥0.6× bare, p99 ≤20 ms",
                "met": "yes" if ok and ratio >= 0.6 and result["p99"] <= 20 else "NO",
                "note": f"{result['rps']:.0f} req/s = {ratio:.2f}× bare "
                f"({bare['rps']:.0f} req/s, p99 {bare['p99']:.1f} ms); "
                f"non-2xx {result['errors']}{extra}",
            }
        )
    if first is not None:
        asked = first["requests"]
        rows.insert(
            len(rows) - 1,
            {
                "measure": "public lookup, first ask of a domain (HTTP)",
                "median": f"{first['p50']:.1f} ms",
                "p99": f"{first['p99']:.1f} ms",
                "goal": "p99 ≤20 ms",
                "met": "yes" if first["p99"] <= 20 else "NO",
                "note": f"{first['rps']:.0f} req/s = {first['rps'] / bare['rps']:.2f}× bare; "
                f"{asked:,} requests over {len(cold):,} domains"
                + ("" if asked <= len(cold) else " (some asked twice)"),
            },
        )


def measure_gating_batch(logins: dict, domains: list[str], rows: list) -> None:
    provider_client = APIClient()
    provider_client.credentials(HTTP_AUTHORIZATION=f"Token {logins['provider']['console_token']}")
    batch = domains[:1000]
    results: list[list[dict[str, Any]]] = []

    def gating_batch():
        answer = provider_client.post(
            "/api/v1/provider/domains/check/", {"domains": batch}, format="json"
        )
        assert answer.status_code == 200, answer.content
        if not results:
            results.append(answer.json()["results"])

    samples = timed(gating_batch, repeat=30)
    held, note = access_share(results[0])
    rows.append(
        row(
            "gating batch, 1,000 domains",
            samples,
            "≤150 ms",
            0 < held < len(batch) and p(samples, 0.5) <= 150,
            note,
        )
    )


def app_check_identifiers(n: int) -> tuple[list[str], int]:
    """``n`` identifiers for the app check, shuffled: half published (a random sample; the iOS
    bundle IDs among them in upper case, which matches), half not (apps of revoked filings,
    up to a fifth of those, and identifiers never filed); and how many are published."""
    rng = random.Random(11)
    total = PublishedIdentifier.objects.count()
    half = min(n // 2, total)
    ids = sorted(rng.sample(range(total), half)) if half else []
    picked = set(ids)
    filed = [
        identifier.upper() if platform == "ios" else identifier
        for k, (identifier, platform) in enumerate(
            PublishedIdentifier.objects.order_by("id")
            .values_list("identifier", "platform")
            .iterator(chunk_size=10_000)
        )
        if k in picked
    ]
    revoked = list(
        Identifier.objects.filter(filing__status=Filing.Status.REVOKED)
        .order_by("id")
        .values_list("identifier", flat=True)[: (n - half) // 5]
    )
    never = [f"cn.never-filed{k}.app" for k in range(n - half - len(revoked))]
    asked = filed + revoked + never
    rng.shuffle(asked)
    return asked, len(filed)


def measure_app_check_batch(logins: dict, rows: list) -> None:
    """The distribution platforms' check (SPEC §13) of 1,000 identifiers through the view,
    in-process as the gating batch is measured, beside it in the table."""
    provider_client = APIClient()
    provider_client.credentials(HTTP_AUTHORIZATION=f"Token {logins['provider']['console_token']}")
    batch, published = app_check_identifiers(1000)
    if not published:
        rows.append(
            {
                "measure": "app check batch, 1,000 identifiers",
                "median": "",
                "p99": "",
                "goal": "≤150 ms",
                "met": "NO",
                "note": "no published app: seed again with this code",
            }
        )
        return
    results: list[list[dict[str, Any]]] = []

    def app_check_batch():
        answer = provider_client.post(
            "/api/v1/provider/apps/check/", {"identifiers": batch}, format="json"
        )
        assert answer.status_code == 200, answer.content
        if not results:
            results.append(answer.json()["results"])

    samples = timed(app_check_batch, repeat=30)
    filed = sum(1 for answer in results[0] if answer["filed"])
    revoked = sum(1 for answer in results[0] if answer["status"] == "revoked")
    rows.append(
        row(
            "app check batch, 1,000 identifiers",
            samples,
            "≤150 ms",
            filed == published and p(samples, 0.5) <= 150,
            f"filed {filed:,} of {len(batch):,} ({revoked:,} revoked); "
            f"{PublishedIdentifier.objects.count():,} published identifiers",
        )
    )


def measure_conflicts(rows: list) -> None:
    pending = list(
        Filing.objects.filter(status="pending_review")
        .order_by("id")
        .values_list("id", flat=True)[:200]
    )
    cursor = iter(pending * 10)

    def conflict_check():
        filing = Filing.objects.get(id=next(cursor))
        try:
            with transaction.atomic():
                detect_conflicts(filing=filing)
                raise Rollback
        except Rollback:
            pass

    samples = timed(conflict_check, repeat=200)
    rows.append(
        row("conflict detection, one submission", samples, "p50 ≤5 ms", p(samples, 0.5) <= 5)
    )


def measure_queue(logins: dict, rows: list) -> None:
    reviewer = staff_client(logins["bureau"]["user"])

    def queue_page():
        answer = reviewer.get("/review/")
        assert answer.status_code == 200, answer.status_code

    samples = timed(queue_page, repeat=30)
    open_items = Filing.objects.filter(province_id="44", status__in=Filing.OPEN_STATUSES).count()
    rows.append(
        row(
            "province queue page, first page",
            samples,
            "≤100 ms",
            p(samples, 0.5) <= 100,
            f"{open_items} open items in Guangdong",
        )
    )

    reviewer_api = APIClient()
    reviewer_api.credentials(HTTP_AUTHORIZATION=f"Token {logins['bureau']['token']}")

    def queue_api():
        answer = reviewer_api.get("/api/v1/review/queue/")
        assert answer.status_code == 200, answer.status_code

    samples = timed(queue_api, repeat=30)
    rows.append(row("province queue API, first page", samples, "≤100 ms", p(samples, 0.5) <= 100))


def measure_provider_queue(logins: dict, rows: list) -> None:
    provider_id = logins["provider"]["user"].provider_id
    waiting = provider_review_queue(provider_id).count()
    provider_api = APIClient()
    provider_api.credentials(HTTP_AUTHORIZATION=f"Token {logins['provider']['console_token']}")

    def queue_api():
        answer = provider_api.get("/api/v1/provider/reviews/")
        assert answer.status_code == 200, answer.status_code

    samples = timed(queue_api, repeat=30)
    rows.append(
        row(
            "provider first-review queue API, first page",
            samples,
            "≤100 ms",
            p(samples, 0.5) <= 100,
            f"{waiting} waiting for one provider",
        )
    )


def measure_statistics(logins: dict, rows: list) -> None:
    ministry = staff_client(logins["ministry"]["user"])

    def statistics_page():
        answer = ministry.get("/review/statistics/")
        assert answer.status_code == 200, answer.status_code

    samples = timed(statistics_page, repeat=20)
    rows.append(row("national statistics page", samples, "≤100 ms", p(samples, 0.5) <= 100))


def measure_provider_import(logins: dict, rows: list, memory: dict) -> None:
    import_rows = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
    rate, memory["celery"] = measure_import(provider=logins["provider"]["user"], rows=import_rows)
    rows.append(
        {
            "measure": f"provider import, {import_rows:,} rows end to end",
            "median": f"{rate:.0f} rows/s",
            "p99": "",
            "goal": "≥200 rows/s",
            "met": "yes" if rate >= 200 else "NO",
            "note": "",
        }
    )


def run(only: set[str] | None = None) -> int:
    """Measure every section (or those named in ``only``) and print the table."""
    wanted = only if only else set(SECTIONS)
    if "http" in wanted and not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    logins = bench_accounts()
    domains = filed_domains(2000 + int(os.environ.get("BENCH_COLD_DOMAINS", "12000")))
    if not domains:
        print("the database is empty: run `python -m bench seed` first", file=sys.stderr)
        return 2
    rows: list[dict[str, str]] = []
    memory: dict[str, int] = {}
    if "http" in wanted:
        measure_http(logins, domains, rows, memory)
    if "gating-batch" in wanted:
        measure_gating_batch(logins, domains, rows)
    if "app-check-batch" in wanted:
        measure_app_check_batch(logins, rows)
    if "conflicts" in wanted:
        measure_conflicts(rows)
    if "queue" in wanted:
        measure_queue(logins, rows)
    if "provider-queue" in wanted:
        measure_provider_queue(logins, rows)
    if "statistics" in wanted:
        measure_statistics(logins, rows)
    if "import" in wanted:
        measure_provider_import(logins, rows, memory)
    if memory:
        rows.append(
            {
                "measure": "peak memory",
                "median": f"web {memory['web'] / 1024:.0f} MiB" if "web" in memory else "",
                "p99": f"celery {memory['celery'] / 1024:.0f} MiB" if "celery" in memory else "",
                "goal": "",
                "met": "",
                "note": "VmHWM of a gunicorn worker under wrk and of the Celery worker "
                "during the import",
            }
        )
    print_table(rows)
    return 0 if all(r["met"] in ("yes", "") for r in rows) else 1


def print_table(rows: list[dict[str, str]]) -> None:
    columns = ["measure", "median", "p99", "goal", "met", "note"]
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    line = " | ".join(c.ljust(widths[c]) for c in columns)
    print(line)
    print("-+-".join("-" * widths[c] for c in columns))
    for r in rows:
        print(" | ".join(r[c].ljust(widths[c]) for c in columns))
    db = settings.DATABASES["default"]["NAME"]
    print(
        f"\ndatabase {db} on {connection.vendor}; wrk {WRK_SECONDS}s × {WRK_CONNECTIONS} connections"
    )
