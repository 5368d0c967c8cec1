"""Seed PostgreSQL with a national-scale data set for the benchmark, with COPY.

About 600,000 sponsors over the 31 provinces (shares roughly like the real distribution),
1,000,000 websites, realistic shares of statuses, conflicts and access providers, and one
province (Guangdong) with 100,000 items open for review, and one access provider (the first)
with 100,000 applications waiting for its first review (SPEC §12). Every website has an access
(接入); a tenth of those of records approved once have a second one at a CDN, and a hundredth
of the approved ones none: empty shells (空壳网站, SPEC §12). One published app for every five websites
(SPEC §13: 200,000 for 1,000,000 websites, one for about every three filed sponsors) with its
Android package name and, for 40 %, an iOS bundle ID, numbered ``-1A``, and apps of a third of
the revoked sponsors, unpublished. Rows are generated from the models' own fields, so a field added later
with a default is filled in without touching this file.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models
from django.utils import timezone

from accounts.models import AccessProvider, User
from beian.models import Province
from beian.normalforms.apps import identifier_key
from beian.normalforms.domains import homepage_key
from beian.normalforms.names import name_key, name_search_key
from filings.models import (
    Access,
    Application,
    Conflict,
    Domain,
    Filing,
    Identifier,
    PublishedDomain,
    PublishedIdentifier,
    PublishedWebsite,
    Website,
)
from review import tally
from review.models import FilingTally

# Relative weight of each province in the national total (larger economies file more).
PROVINCE_WEIGHTS = {
    "44": 25,
    "33": 9,
    "32": 9,
    "11": 8,
    "31": 7,
    "37": 6,
    "35": 5,
    "51": 5,
    "41": 4,
    "42": 4,
    "43": 3,
    "34": 3,
    "50": 2,
    "13": 3,
    "21": 2,
    "61": 2,
    "36": 2,
    "45": 2,
    "53": 1.5,
    "12": 1.5,
    "52": 1,
    "14": 1,
    "22": 1,
    "23": 1,
    "15": 1,
    "62": 0.7,
    "46": 0.7,
    "65": 0.6,
    "64": 0.4,
    "63": 0.3,
    "54": 0.2,
}
STATUS_SHARES = [
    ("approved", 0.86),
    ("pending_review", 0.04),
    ("amendment_pending", 0.01),
    ("revocation_pending", 0.003),
    ("rejected", 0.02),
    ("draft", 0.05),
    ("revoked", 0.017),
]
OPEN = {"pending_review", "amendment_pending", "revocation_pending"}
FILED = {"approved", "amendment_pending", "revocation_pending"}
SUFFIXES = ["cn", "com.cn", "com", "net", "org.cn", "net.cn", "top", "xn--fiqs8s"]
CONFLICT_SHARE = 0.01
QUEUE_PROVINCE = "44"
QUEUE_OPEN_ITEMS = 100_000
# The provider's first-review queue (SPEC §12): amendments of approved records (still filed
# meanwhile) and first filings, all waiting for the first provider.
PROVIDER_REVIEW = "provider_review"
PROVIDER_QUEUE_ITEMS = 100_000
# Accesses (SPEC §12): the share of websites of records approved once with a second access,
# at one of the CDNs (the last providers by id, never the benchmark's own), and the share of
# approved websites whose last access was cancelled (empty shells, flagged up to a notice
# period ago).
SECOND_ACCESS_SHARE = 0.10
CDN_PROVIDERS = 5
SHELL_SHARE = 0.01
SHELL_MAX_DAYS = 30
# Apps (SPEC §13): one published for every ``APP_EVERY`` websites, spread over the filed
# sponsors, and some of revoked sponsors (their working rows keep the old numbers); a share
# also on iOS.
APP_EVERY = 5
REVOKED_APP_EVERY = 3
IOS_SHARE = 0.4
# What approval stores for an app's signing certificate: the same key for every app of the
# seed (the check reads identifiers, not keys).
APP_PUBLIC_KEY = "C3" + "5A" * 255
APP_MD5 = "8874262E0F322066ED528E1FB804EA70"
APP_SHA1 = "A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4"
ACCESS_METHODS = [
    ("cloud", 0.6),
    ("hosting", 0.2),
    ("colocation", 0.1),
    ("dedicated_line", 0.03),
    ("other", 0.07),
]


def _defaults(model: type[models.Model]) -> list[tuple[str, str, Callable[[], Any]]]:
    """(attname, column, default factory) for every concrete field."""
    now = timezone.now()
    out = []
    for field in model._meta.concrete_fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            out.append((field.attname, field.column, lambda now=now: now))
        elif field.has_default():
            default = field.default
            out.append(
                (
                    field.attname,
                    field.column,
                    default if callable(default) else (lambda d=default: d),
                )
            )
        elif field.null:
            out.append((field.attname, field.column, lambda: None))
        else:
            out.append((field.attname, field.column, lambda: ""))
    return out


def copy_rows(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
    """COPY dicts keyed by attname into the model's table; missing fields get defaults.

    Raises ValueError when the first row names a field the model does not have (one removed
    by a migration, say), which COPY would otherwise leave out without a word."""
    spec = _defaults(model)
    attnames = {attname for attname, _, _ in spec}
    json_fields = {
        f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField)
    }
    columns = ", ".join(f'"{column}"' for _, column, _ in spec)
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                if not count and (unknown := set(row) - attnames):
                    raise ValueError(f"{model.__name__} has no {', '.join(sorted(unknown))}")
                values = []
                for attname, _column, default in spec:
                    value = row[attname] if attname in row else default()
                    if attname in json_fields and value is not None:
                        value = json.dumps(value, ensure_ascii=False)
                    elif isinstance(value, uuid.UUID):
                        value = str(value)
                    values.append(value)
                copy.write_row(values)
                count += 1
    return count


def reset_sequences(*models_: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            # Table names come from the models, never from input.
            sql = f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))"  # noqa: S608
            cursor.execute(sql)


class Plan:
    """Decides, deterministically from a seed, what each sponsor and website looks like."""

    def __init__(self, *, websites: int, seed: int = 20261128) -> None:
        self.rng = random.Random(seed)
        # Accesses draw from their own generator, so the rest of the data set is the same
        # as before websites had accesses.
        self.access_rng = random.Random(seed + 1)
        self.websites = websites
        self.sponsors = max(1, int(websites * 0.6))
        provinces = {p.code: p for p in Province.objects.all()}
        codes = list(PROVINCE_WEIGHTS)
        weights = [PROVINCE_WEIGHTS[c] for c in codes]
        self.provinces = provinces
        self.province_of = self.rng.choices(codes, weights=weights, k=self.sponsors)
        statuses = [s for s, _ in STATUS_SHARES]
        shares = [w for _, w in STATUS_SHARES]
        self.status_of = self.rng.choices(statuses, weights=shares, k=self.sponsors)
        # One province carries a national-size review backlog.
        open_needed = min(QUEUE_OPEN_ITEMS, self.sponsors // 6)
        in_queue_province = [i for i, c in enumerate(self.province_of) if c == QUEUE_PROVINCE]
        opened = sum(1 for i in in_queue_province if self.status_of[i] in OPEN)
        for i in in_queue_province:
            if opened >= open_needed:
                break
            if self.status_of[i] not in OPEN:
                self.status_of[i] = "pending_review"
                opened += 1
        # One provider carries a national-size first-review backlog, taken from approved
        # records (their amendments) and drafts (first filings) outside the bureau's queues.
        self.first_filings: set[int] = set()
        waiting_needed = min(PROVIDER_QUEUE_ITEMS, self.sponsors // 6)
        candidates = [i for i, s in enumerate(self.status_of) if s in ("approved", "draft")]
        for i in self.rng.sample(candidates, min(waiting_needed, len(candidates))):
            if self.status_of[i] == "draft":
                self.first_filings.add(i)
            self.status_of[i] = PROVIDER_REVIEW
        # Websites per sponsor: most have one, some several, totalling ``websites``.
        self.site_counts = [1] * self.sponsors
        extra = websites - self.sponsors
        while extra > 0:
            i = self.rng.randrange(self.sponsors)
            self.site_counts[i] += 1
            extra -= 1

    def app_sponsors(self) -> list[int]:
        """The sponsors with an app, in order: ``websites // APP_EVERY`` of the filed ones
        (each app published), spread evenly over them, and one in ``REVOKED_APP_EVERY`` of
        the revoked ones (their working rows keep the old numbers)."""
        filed = [i for i in range(self.sponsors) if self.filed(i)]
        revoked = [i for i in range(self.sponsors) if self.status_of[i] == "revoked"]
        wanted = min(len(filed), self.websites // APP_EVERY)
        step = len(filed) / wanted if wanted else 1
        chosen = {filed[int(k * step)] for k in range(wanted)}
        return sorted(chosen | set(revoked[::REVOKED_APP_EVERY]))

    def filed(self, i: int) -> bool:
        """Whether sponsor ``i``'s approved data is valid and public (``Filing.is_filed``)."""
        status = self.status_of[i]
        return status in FILED or (status == PROVIDER_REVIEW and i not in self.first_filings)


def seed(*, websites: int, providers: int = 60, out=print) -> dict[str, Any]:
    started = time.monotonic()
    plan = Plan(websites=websites)
    rng = plan.rng
    now = timezone.now()
    password = make_password("Bench-password-2026")

    provider_rows = [
        {
            "id": 900_000 + i,
            "name": f"基准测试云服务有限公司{i:03d}",
            "licence_number": f"B1.B2-2026{i:05d}",
            "email": f"icp{i}@bench-provider.example.cn",
            "phone": "010-00000000",
        }
        for i in range(providers)
    ]
    copy_rows(AccessProvider, provider_rows)
    provider_ids = [row["id"] for row in provider_rows]
    # The provider the benchmark signs in as (``bench.run.bench_accounts``: the first by id).
    reviewing_provider = provider_ids[0]

    def users() -> Iterator[dict[str, Any]]:
        for i in range(plan.sponsors):
            yield {
                "id": 1_000_000 + i,
                "username": f"bench{i}",
                "email": f"bench{i}@bench.example.cn",
                "mobile": f"19{i:09d}",
                "password": password,
                "role": "owner",
                "is_active": plan.status_of[i] != "revoked",
                "date_joined": now,
                "mobile_verified_at": now,
                "email_verified_at": now,
            }

    out(f"users: {copy_rows(User, users())}")

    # Apps go to sponsors that get a number below (filed, or revoked), known from the plan.
    with_app = set(plan.app_sponsors())

    today = timezone.localdate()
    seq_by_province: dict[str, int] = {}
    filing_numbers: list[str | None] = [None] * plan.sponsors
    approved_at: list[dt.datetime | None] = [None] * plan.sponsors
    filed_by: list[int | None] = [None] * plan.sponsors
    submitted_of: list[dt.datetime | None] = [None] * plan.sponsors

    def filings() -> Iterator[dict[str, Any]]:
        for i in range(plan.sponsors):
            code = plan.province_of[i]
            status = plan.status_of[i]
            name = f"{plan.provinces[code].name}基准{i}科技有限公司"
            row: dict[str, Any] = {
                "id": 1_000_000 + i,
                "owner_id": 1_000_000 + i,
                "status": status,
                "sponsor_nature": "enterprise" if i % 5 else "individual",
                "sponsor_name": name,
                "sponsor_name_key": name_key(name),
                "sponsor_id_type": "uscc",
                "sponsor_id_number": "91350100M000100Y43",
                "province_id": code,
                "sponsor_address": f"{plan.provinces[code].name}某区某路{i % 999}号",
                "principal_name": "张三",
                "principal_id_type": "resident_id",
                "principal_id_number": "11010519491231002X",
                "principal_mobile": f"17{i:09d}",
                "principal_email": f"p{i}@bench.example.cn",
            }
            if rng.random() < 0.4:
                filed_by[i] = rng.choice(provider_ids)
                row["filed_by_provider_id"] = filed_by[i]
            if status == PROVIDER_REVIEW:
                # Its websites' access is at the reviewing provider.
                filed_by[i] = reviewing_provider
            if status != "draft":
                submitted = now - dt.timedelta(days=rng.randrange(1, 40))
                if status == PROVIDER_REVIEW:
                    # The provider's queue moves in days, not weeks.
                    submitted = now - dt.timedelta(minutes=rng.randrange(1, 5 * 24 * 60))
                row["submitted_at"] = submitted_of[i] = submitted
                row["submitted_by_id"] = 1_000_000 + i
                row["review_deadline"] = (submitted + dt.timedelta(days=28)).date()
                if status in OPEN:
                    # Spread deadlines around today: some overdue, most still running.
                    row["review_deadline"] = today + dt.timedelta(days=rng.randrange(-10, 28))
                elif status == PROVIDER_REVIEW:
                    # The bureau's deadline starts only when the application reaches it.
                    row["review_deadline"] = None
            if plan.filed(i) or status == "revoked":
                year = rng.choice([2022, 2023, 2024, 2025, 2026])
                seq_by_province[f"{code}{year}"] = seq_by_province.get(f"{code}{year}", 0) + 1
                number = (
                    f"{plan.provinces[code].abbr}ICP备{year}"
                    f"{seq_by_province[f'{code}{year}']:06d}号"
                )
                filing_numbers[i] = number
                row["number"] = number
                approved = now - dt.timedelta(days=rng.randrange(30, 1500))
                approved_at[i] = approved
                row["approved_at"] = row["first_approved_at"] = row["decided_at"] = approved
                row["last_website_seq"] = plan.site_counts[i]
                if i in with_app:
                    row["last_app_seq"] = 1
            yield row

    out(f"filings: {copy_rows(Filing, filings())}")

    kind_of = {"pending_review": "new", "amendment_pending": "amendment"}
    # About ``PROVIDER_REVIEW_WORKING_DAYS`` (calendar days here: the seed reads no calendar).
    provider_days = dt.timedelta(days=2)

    def applications() -> Iterator[dict[str, Any]]:
        # Every filing waiting for the bureau has its open application (SPEC §12), first
        # reviewed by the provider that serves its websites; a revocation names none.
        for i in range(plan.sponsors):
            status = plan.status_of[i]
            if status == PROVIDER_REVIEW:
                yield {
                    "id": 1_000_000 + i,
                    "filing_id": 1_000_000 + i,
                    "kind": "new" if i in plan.first_filings else "amendment",
                    "status": status,
                    "provider_id": reviewing_provider,
                    "submitted_at": submitted_of[i],
                    "submitted_by_id": 1_000_000 + i,
                    "stage_entered_at": submitted_of[i],
                    "provider_deadline": (submitted_of[i] + provider_days).date(),
                }
                continue
            if status not in OPEN:
                continue
            kind = kind_of.get(status, "revocation")
            row = {
                "id": 1_000_000 + i,
                "filing_id": 1_000_000 + i,
                "kind": kind,
                "status": status,
                "provider_id": None if kind == "revocation" else filed_by[i],
                "submitted_at": submitted_of[i],
                "submitted_by_id": 1_000_000 + i,
                "reached_bureau_at": submitted_of[i],
            }
            if kind != "revocation":
                # The stages it passed on its way (the statistics' time in each stage): hours
                # at the provider (when one serves it), then the SMS confirmation.
                passed = submitted_of[i] + dt.timedelta(minutes=rng.randrange(30, 3 * 24 * 60))
                if row["provider_id"] is not None:
                    row["provider_passed_at"] = passed
                row["verification_sent_at"] = passed
                row["verified_at"] = passed + dt.timedelta(minutes=rng.randrange(2, 24 * 60))
                row["reached_bureau_at"] = row["verified_at"]
            yield row

    out(f"open applications: {copy_rows(Application, applications())}")

    website_homes: list[tuple[int, int, str]] = []  # (filing index, n, domain)
    # Per website, in ``website_homes``' order: its accesses as (provider id or None for
    # "other", method, server location, IP addresses); an empty list for an empty shell.
    website_accesses: list[list[tuple[int | None, str, str, list[str]]]] = []
    access_rng = plan.access_rng
    cdns = provider_ids[-CDN_PROVIDERS:] if len(provider_ids) > CDN_PROVIDERS else provider_ids
    methods = [m for m, _ in ACCESS_METHODS]
    method_weights = [w for _, w in ACCESS_METHODS]
    locations = list(PROVINCE_WEIGHTS)

    def accesses_of(i: int, n: int) -> list[tuple[int | None, str, str, list[str]]]:
        if plan.status_of[i] == "approved" and access_rng.random() < SHELL_SHARE:
            return []
        first = (
            filed_by[i],
            access_rng.choices(methods, weights=method_weights)[0],
            plan.province_of[i],
            [f"120.{i % 250}.{n % 250}.{(i * 7) % 250 + 1}"],
        )
        if access_rng.random() >= SECOND_ACCESS_SHARE:
            return [first]
        cdn = access_rng.choice([p for p in cdns if p != filed_by[i]])
        second = (
            cdn,
            "cloud",
            access_rng.choice(locations),
            [f"103.{cdn % 250}.{i % 250}.{n % 250 + 1}"],
        )
        if filing_numbers[i] is None:
            # A first filing goes to one provider's first review (SPEC §12): the CDN's access
            # comes as a new access once it is approved. Drawn all the same, so the other
            # accesses stay those of the same seed.
            return [first]
        return [first, second]

    def websites_rows() -> Iterator[dict[str, Any]]:
        website_id = 1_000_000
        for i in range(plan.sponsors):
            for n in range(plan.site_counts[i]):
                domain = f"bench{i}-{n}.{SUFFIXES[(i + n) % len(SUFFIXES)]}"
                homepage = f"http://www.{domain}/"
                accesses = accesses_of(i, n)
                row = {
                    "id": website_id,
                    "filing_id": 1_000_000 + i,
                    "position": n,
                    "name": f"基准网站{i}-{n}",
                    "homepage": homepage,
                    "homepage_key": homepage_key(homepage),
                    "services": ["corporate"],
                    "number": f"{filing_numbers[i]}-{n + 1}" if filing_numbers[i] else None,
                }
                if not accesses:
                    row["shell_since"] = now - dt.timedelta(
                        days=access_rng.randrange(1, SHELL_MAX_DAYS),
                        minutes=access_rng.randrange(24 * 60),
                    )
                website_homes.append((i, n, domain))
                website_accesses.append(accesses)
                website_id += 1
                yield row

    out(f"websites: {copy_rows(Website, websites_rows())}")

    def access_rows() -> Iterator[dict[str, Any]]:
        access_id = 1_000_000
        for website_offset, (i, _n, _domain) in enumerate(website_homes):
            for position, (provider, method, location, ips) in enumerate(
                website_accesses[website_offset]
            ):
                yield {
                    "id": access_id,
                    "website_id": 1_000_000 + website_offset,
                    "filing_id": 1_000_000 + i,
                    "position": position,
                    "provider_id": provider,
                    "method": method,
                    "server_location": location,
                    "ips": ips,
                }
                access_id += 1

    out(f"accesses: {copy_rows(Access, access_rows())}")

    # Conflicts: a small share of open submissions reuse an approved sponsor's domain.
    approved_indexes = [i for i in range(plan.sponsors) if plan.status_of[i] == "approved"]
    open_indexes = [i for i in range(plan.sponsors) if plan.status_of[i] in OPEN]
    conflicted = (
        {
            i: rng.choice(approved_indexes)
            for i in rng.sample(open_indexes, int(len(open_indexes) * CONFLICT_SHARE * 5))
        }
        if approved_indexes and open_indexes
        else {}
    )
    first_domain: dict[int, str] = {}
    for i, _n, domain in website_homes:
        first_domain.setdefault(i, domain)

    def domains_rows() -> Iterator[dict[str, Any]]:
        domain_id = 1_000_000
        for website_offset, (i, _n, domain) in enumerate(website_homes):
            yield {
                "id": domain_id,
                "website_id": 1_000_000 + website_offset,
                "filing_id": 1_000_000 + i,
                "name": domain,
                "position": 0,
            }
            domain_id += 1
            if i in conflicted and domain == first_domain[i]:
                yield {
                    "id": domain_id,
                    "website_id": 1_000_000 + website_offset,
                    "filing_id": 1_000_000 + i,
                    "name": first_domain[conflicted[i]],
                    "position": 1,
                }
                domain_id += 1

    out(f"domains: {copy_rows(Domain, domains_rows())}")

    def conflict_rows() -> Iterator[dict[str, Any]]:
        for n, (i, other) in enumerate(sorted(conflicted.items())):
            yield {
                "id": 1_000_000 + n,
                "filing_id": 1_000_000 + i,
                "field": "domain",
                "value": first_domain[other],
                "other_filing_id": 1_000_000 + other,
                "other_account_id": 1_000_000 + other,
                "detected_at": now,
            }

    out(f"conflicts: {copy_rows(Conflict, conflict_rows())}")
    if conflicted:
        with connection.cursor() as cursor:
            cursor.execute(
                'UPDATE "filings_filing" SET has_open_conflicts = true WHERE id = ANY(%s)',
                [[1_000_000 + i for i in conflicted]],
            )

    def published_rows() -> Iterator[dict[str, Any]]:
        for website_offset, (i, n, domain) in enumerate(website_homes):
            if not plan.filed(i):
                continue
            sponsor_name = f"{plan.provinces[plan.province_of[i]].name}基准{i}科技有限公司"
            website_name = f"基准网站{i}-{n}"
            accesses = website_accesses[website_offset]
            yield {
                "id": 1_000_000 + website_offset,
                "filing_id": 1_000_000 + i,
                "website_id": 1_000_000 + website_offset,
                "province_id": plan.province_of[i],
                "sponsor_number": filing_numbers[i],
                "sponsor_name": sponsor_name,
                "sponsor_name_search": name_search_key(sponsor_name),
                "sponsor_nature": "enterprise" if i % 5 else "individual",
                "website_number": f"{filing_numbers[i]}-{n + 1}",
                "website_name": website_name,
                "website_name_search": name_search_key(website_name),
                "homepage": f"http://www.{domain}/",
                "domains": [domain],
                "access_provider_id": accesses[0][0] if accesses else None,
                "access_providers": list(
                    dict.fromkeys(provider for provider, *_ in accesses if provider is not None)
                ),
                "accesses": [
                    {"provider": provider, "method": method, "server_location": location}
                    for provider, method, location, _ips in accesses
                ],
                "approved_at": approved_at[i],
            }

    out(f"published websites: {copy_rows(PublishedWebsite, published_rows())}")

    def published_domain_rows() -> Iterator[dict[str, Any]]:
        for website_offset, (i, _n, domain) in enumerate(website_homes):
            if plan.filed(i):
                yield {
                    "id": 1_000_000 + website_offset,
                    "name": domain,
                    "website_id": 1_000_000 + website_offset,
                    "filing_id": 1_000_000 + i,
                }

    out(f"published domains: {copy_rows(PublishedDomain, published_domain_rows())}")
    # What publishing writes on each published domain beside its name (its filing's status
    # comes from the database's trigger as the rows are copied in).
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PublishedDomain._meta.db_table} d "  # noqa: S608
            "SET website_number = w.website_number, access_providers = w.access_providers "
            f"FROM {PublishedWebsite._meta.db_table} w WHERE w.id = d.website_id"
        )
    apps = seed_apps(
        plan=plan,
        sponsors=sorted(with_app),
        numbers=filing_numbers,
        approved_at=approved_at,
        served_by=filed_by,
        first_website_id=1_000_000 + len(website_homes),
        out=out,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PublishedIdentifier._meta.db_table} i "  # noqa: S608
            "SET service_number = w.website_number "
            f"FROM {PublishedWebsite._meta.db_table} w WHERE w.id = i.website_id"
        )
    reset_sequences(AccessProvider, User, Filing, Application, Website, Access, Domain, Conflict)
    reset_sequences(PublishedWebsite, PublishedDomain, Identifier, PublishedIdentifier)
    # The COPY above went through the tally triggers row by row: fold to one row per key.
    out(f"statistics tally: {tally.rebuild()}")
    # The copy left about a row per filing in the tally, dead once folded: a live database's
    # tally holds the rows of one compaction period (beat), so the table is rewritten to its
    # live rows (otherwise every statistics page scans the dead rows' pages).
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM FULL {FilingTally._meta.db_table}")
    # As autovacuum leaves a live database: statistics, and the visibility map that lets the
    # queues' index-only scans skip the heap (without it the first run reads 3 times slower).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    elapsed = time.monotonic() - started
    return {
        "sponsors": plan.sponsors,
        "websites": websites,
        "open_in_queue_province": sum(
            1
            for i in range(plan.sponsors)
            if plan.province_of[i] == QUEUE_PROVINCE and plan.status_of[i] in OPEN
        ),
        "waiting_for_first_review": sum(1 for s in plan.status_of if s == PROVIDER_REVIEW),
        "accesses": sum(len(a) for a in website_accesses),
        "websites_with_two_accesses": sum(1 for a in website_accesses if len(a) == 2),
        "empty_shells": sum(1 for a in website_accesses if not a),
        **apps,
        "seconds": round(elapsed, 1),
    }


def app_identifiers(i: int) -> list[tuple[str, str]]:
    """(platform, identifier) of sponsor ``i``'s app: its Android package name, and for a
    share (``IOS_SHARE``, by the sponsor's index) an iOS bundle ID in mixed case, as Xcode
    writes them. The same for the seed and the benchmark, which asks by them."""
    found = [("android", f"cn.bench{i}.app")]
    if i % 10 < IOS_SHARE * 10:
        found.append(("ios", f"cn.Bench{i}.App"))
    return found


def seed_apps(
    *,
    plan: Plan,
    sponsors: list[int],
    numbers: list[str | None],
    approved_at: list[dt.datetime | None],
    served_by: list[int | None],
    first_website_id: int,
    out=print,
) -> dict[str, int]:
    """One app for each of ``sponsors`` (SPEC §13), as approval writes it: the working row
    (``Website`` of kind ``app``, number ``-1A``), its identifiers and its access (at the
    provider that serves the sponsor's websites, or "other"), and, for a filed sponsor, the
    published row (``service_type`` ``app``) and its ``PublishedIdentifier`` rows. Ids follow
    the websites'."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{Access._meta.db_table}"')  # noqa: S608
        first_access_id = cursor.fetchone()[0] + 1
    app_id = {i: first_website_id + k for k, i in enumerate(sponsors)}

    def sponsor_name(i: int) -> str:
        return f"{plan.provinces[plan.province_of[i]].name}基准{i}科技有限公司"

    def website_rows() -> Iterator[dict[str, Any]]:
        for i in sponsors:
            yield {
                "id": app_id[i],
                "filing_id": 1_000_000 + i,
                "kind": Website.Kind.APP.value,
                "position": 0,
                "name": f"基准App{i}",
                "services": ["corporate"],
                "number": f"{numbers[i]}-1A",
                "app_domains": [f"api.bench{i}.cn"],
                "stores": ["other"],
            }

    def identifier_rows() -> Iterator[dict[str, Any]]:
        identifier_id = 1_000_000
        for i in sponsors:
            for position, (platform, identifier) in enumerate(app_identifiers(i)):
                yield {
                    "id": identifier_id,
                    "service_id": app_id[i],
                    "filing_id": 1_000_000 + i,
                    "position": position,
                    "platform": platform,
                    "identifier": identifier,
                    "key": identifier_key(platform, identifier),
                    "public_key": APP_PUBLIC_KEY,
                    "fingerprint": APP_SHA1 if platform == "ios" else APP_MD5,
                }
                identifier_id += 1

    def access_rows() -> Iterator[dict[str, Any]]:
        for k, i in enumerate(sponsors):
            yield {
                "id": first_access_id + k,
                "website_id": app_id[i],
                "filing_id": 1_000_000 + i,
                "position": 0,
                "provider_id": served_by[i],
                "method": "cloud",
                "server_location": plan.province_of[i],
                "ips": [f"121.{i % 250}.{(i // 250) % 250}.{(i * 7) % 250 + 1}"],
            }

    filed = [i for i in sponsors if plan.filed(i)]

    def published_rows() -> Iterator[dict[str, Any]]:
        for i in filed:
            name = f"基准App{i}"
            provider = served_by[i]
            yield {
                "id": app_id[i],
                "filing_id": 1_000_000 + i,
                "website_id": app_id[i],
                "province_id": plan.province_of[i],
                "sponsor_number": numbers[i],
                "sponsor_name": sponsor_name(i),
                "sponsor_name_search": name_search_key(sponsor_name(i)),
                "sponsor_nature": "enterprise" if i % 5 else "individual",
                "website_number": f"{numbers[i]}-1A",
                "website_name": name,
                "website_name_search": name_search_key(name),
                "homepage": "",
                "domains": [f"api.bench{i}.cn"],
                "service_type": Website.Kind.APP.value,
                "identifiers": [
                    {"platform": platform, "identifier": identifier}
                    for platform, identifier in app_identifiers(i)
                ],
                "access_provider_id": provider,
                "access_providers": [provider] if provider is not None else [],
                "accesses": [
                    {
                        "provider": provider,
                        "method": "cloud",
                        "server_location": plan.province_of[i],
                    }
                ],
                "approved_at": approved_at[i],
            }

    def published_identifier_rows() -> Iterator[dict[str, Any]]:
        published_id = 1_000_000
        for i in filed:
            for platform, identifier in app_identifiers(i):
                yield {
                    "id": published_id,
                    "key": identifier.lower(),
                    "identifier": identifier,
                    "platform": platform,
                    "website_id": app_id[i],
                    "filing_id": 1_000_000 + i,
                }
                published_id += 1

    counts = {
        "apps": copy_rows(Website, website_rows()),
        "app_identifiers": copy_rows(Identifier, identifier_rows()),
        "app_accesses": copy_rows(Access, access_rows()),
        "published_apps": copy_rows(PublishedWebsite, published_rows()),
        "published_identifiers": copy_rows(PublishedIdentifier, published_identifier_rows()),
    }
    out(
        "apps: {apps} ({published_apps} published), identifiers: {app_identifiers} "
        "({published_identifiers} published)".format(**counts)
    )
    return counts
