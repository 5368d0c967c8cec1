"""Reads of the public services: the is-it-filed query, the bulletin board, the annual review.

The query reads only ``PublishedWebsite``, ``PublishedDomain`` and ``PublishedIdentifier``,
the published copy of approved filings, which holds public fields only; every answer is built
from the ``PUBLIC_FIELDS`` below, so an ID number, address or contact can never reach it (nor
an app's public key or fingerprint: the published identifiers are platform and identifier
only). Websites, apps and mini-programs are all rows of ``PublishedWebsite``, told apart by
``service_type`` (SPEC §13).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from beian import limits, rawsql
from beian.models import Province
from beian.normalforms.apps import identifier_lookup_key
from beian.normalforms.domains import (
    LABEL_SEPARATORS,
    domain_for_lookup,
    parent_domains,
    top_level_domain,
)
from beian.normalforms.filing_numbers import parse_filing_number
from beian.normalforms.names import name_search_key
from beian.normalforms.text import folded, unreadable_text_message
from beian.replicas import read_connection
from beian.tlds import approved_top_level_domains
from filings.models import Filing, PublishedDomain, PublishedIdentifier, PublishedWebsite, Website
from filings.rules import ANNUAL_REVIEW_STATUSES

from . import answer_cache
from .models import Announcement, AnnualReview, AnnualReviewWindow

# The is-it-filed query (Q20) ------------------------------------------------------------------

PUBLIC_FIELDS = (
    "sponsor_number",
    "sponsor_name",
    "sponsor_nature",
    "website_name",
    "website_number",
    "homepage",
    "domains",
    "approved_at",
    # [contract] SPEC §13: "website", "app" or "mini_program"; an app's platforms or a
    # mini-program's host, each ``{"platform", "identifier"}`` (none for a website).
    "service_type",
    "identifiers",
)
# The kind of question a service's number is, by the kind of service it numbers.
SERVICE_NUMBER_KINDS = {
    Website.Kind.WEBSITE: "website_number",
    Website.Kind.APP: "app_number",
    Website.Kind.MINI_PROGRAM: "mini_program_number",
}
MIN_NAME_LENGTH = 2
MAX_QUERY_LENGTH = 255


class QueryInvalid(Exception):
    """The query cannot be searched as typed; ``message`` says how to fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ParsedQuery:
    # "sponsor_number" | "website_number" | "app_number" | "mini_program_number" | "domain"
    # | "name"
    kind: str
    value: str
    # A domain or a name that may also be an app identifier or a mini-program id: the key
    # (``PublishedIdentifier.key``) the services filed with it are found by as well.
    identifier: str | None = None


@functools.lru_cache(maxsize=4096)
def parse_query(text: str | None) -> ParsedQuery:
    """What the visitor is looking for: a filing number (a sponsor's, or a website's, app's
    or mini-program's: ``…号-n``, ``-nA``, ``-nX``), a domain (or URL), or a name.

    Each is read in its normal form (``beian.normalforms``): a name's ``value`` is its key,
    which is what the published names' search columns hold. A domain or a name that could be
    an app identifier or a mini-program id (``com.example.app``, ``wx0123456789abcdef``)
    carries its lookup key in ``identifier`` (``identifier_lookup_key``), so that the
    services filed with it are found too. Raises ``QueryInvalid``, whose
    message says how to fix it, for empty text, text no record can hold, more than
    ``MAX_QUERY_LENGTH`` characters, an address without a valid domain, or a name shorter
    than ``MIN_NAME_LENGTH`` characters."""
    if text and (message := unreadable_text_message(text)):
        raise QueryInvalid(message)
    raw = folded(text)
    if not raw:
        raise QueryInvalid(
            _("Enter a domain, a filing number, or part of the sponsor's or website's name.")
        )
    if len(raw) > MAX_QUERY_LENGTH:
        raise QueryInvalid(_("Enter at most %(max)d characters.") % {"max": MAX_QUERY_LENGTH})
    number = parse_filing_number(raw)
    if number is not None:
        if number.service:
            return ParsedQuery(SERVICE_NUMBER_KINDS[number.kind], number.service)
        return ParsedQuery("sponsor_number", number.sponsor)
    identifier = identifier_lookup_key(raw)
    if _looks_like_domain(raw):
        domain = domain_for_lookup(raw)
        if domain and "." in domain and not _dotted_name(raw, domain):
            return ParsedQuery("domain", domain, identifier)
        if "://" in raw:
            raise QueryInvalid(_("That address has no valid domain name in it."))
    # The name is read from the text as typed: NFKC would split a dot above (U+02D9) into a
    # space and a combining mark before the name key folds it into the middle dot.
    name = name_search_key(text)
    if len(name) < MIN_NAME_LENGTH:
        raise QueryInvalid(
            _("Enter at least %(min)d characters of the name.") % {"min": MIN_NAME_LENGTH}
        )
    return ParsedQuery("name", name, identifier)


def _dotted_name(text: str, domain: str) -> bool:
    """True when ``text`` is a name written with a full stop for its middle dot
    (``阿卜杜.热合曼``) rather than a domain: no Latin letter or digit in it, and its last
    label no approved top-level domain (an IDN such as ``例子.中国`` is still a domain)."""
    if any(ch.isascii() and ch.isalnum() for ch in text):
        return False
    return top_level_domain(domain) not in approved_top_level_domains()


def _looks_like_domain(text: str) -> bool:
    if "://" in text:
        return True
    if any(ch.isspace() for ch in text):
        return False
    host = LABEL_SEPARATORS.sub(".", text.split("/", 1)[0])
    return "." in host.strip(".")


@dataclass
class SearchResult:
    query: ParsedQuery
    ids: list[int]
    truncated: bool
    version: int | None = None
    # The public rows of every match, kept with the ids when they fit on one page (a domain or
    # a number finds a few websites), so such an answer is one cache read.
    rows: dict[int, dict] | None = None
    # The API's answer as sent, once it has been made for a one-page result.
    body: bytes | None = None
    # Just searched (not read from the cache).
    fresh: bool = False

    @property
    def count(self) -> int:
        return len(self.ids)

    def rows_for(self, ids: list[int]) -> list[dict]:
        """The public fields of ``ids`` (a page of this result), in that order."""
        if self.rows is not None and all(pk in self.rows for pk in ids):
            return [self.rows[pk] for pk in ids]
        return published_rows(ids, version=self.version)


# Matches kept with their rows when there are at most this many.
ROWS_WITH_IDS = 50


def filing_search(query: ParsedQuery, *, version: int | None = None) -> SearchResult:
    """The published services (websites, apps and mini-programs) matching ``query``, in
    filing-number order (cached, see
    ``answer_cache``); at most ``PUBLIC_QUERY_MAX_RESULTS`` of them, ``truncated`` when there
    are more.

    ``version`` is the version of the published data behind ``query`` when the caller has
    just read it."""
    version = version or answer_cache.current_version(answer_cache.answer_version_key(query))
    cached = answer_cache.cached_answer(version, query)
    if cached is not None:
        return SearchResult(query=query, version=version, **cached)
    return _search(query, version)


def cached_search(query: ParsedQuery, version: int, answer: dict | None) -> SearchResult:
    """The search for ``query`` when its version and its cached answer (None: none kept) were
    read already, as ``PublicQueryThrottle`` does."""
    if answer is not None:
        return SearchResult(query=query, version=version, **answer)
    return _search(query, version)


def _search(query: ParsedQuery, version: int) -> SearchResult:
    limit = settings.PUBLIC_QUERY_MAX_RESULTS
    # The public fields come with the ids (one query); they are kept for small results only.
    if query.kind == "domain":
        found = _domain_matches(query.value, limit + 1, identifier=query.identifier)
    else:
        found = list(
            _matching(query)
            .order_by("sponsor_number", "id")
            .values("id", *PUBLIC_FIELDS)[: limit + 1]
        )
    result = SearchResult(
        query=query,
        ids=[row["id"] for row in found[:limit]],
        truncated=len(found) > limit,
        version=version,
        fresh=True,
    )
    if result.count <= ROWS_WITH_IDS:
        result.rows = {row["id"]: _public(row) for row in found[:limit]}
    answer_cache.cache_answer(
        version, query, ids=result.ids, truncated=result.truncated, rows=result.rows
    )
    return result


@functools.lru_cache(maxsize=2)
def _domain_query(with_identifier: bool) -> tuple[str, rawsql.Columns]:
    website = rawsql.columns(PublishedWebsite, "w", ["id", *PUBLIC_FIELDS])
    # An identifier is one more indexed branch of the same semi-join (``key`` is indexed):
    # ``IN (… UNION ALL …)`` keeps the plan on the indexes, where an ``OR`` of two ``IN``s
    # would read every published row.
    identified = (
        f" UNION ALL SELECT i.website_id FROM {rawsql.table(PublishedIdentifier)} i "  # noqa: S608
        "WHERE i.key = %s"
        if with_identifier
        else ""
    )
    sql = (
        f"SELECT {website.sql} FROM {rawsql.table(PublishedWebsite)} w "  # noqa: S608
        f"WHERE w.id IN (SELECT d.website_id FROM {rawsql.table(PublishedDomain)} d "
        "WHERE d.name IN ({names})" + identified + ") ORDER BY w.sponsor_number, w.id LIMIT %s"
    )
    return sql, website


def _domain_matches(domain: str, limit: int, *, identifier: str | None = None) -> list[dict]:
    """What ``_matching`` finds for a domain (and the app identifier or mini-program id
    ``identifier``, a lookup key), as rows of the public fields: the commonest question,
    asked with a statement written once (see ``beian.rawsql``)."""
    names = list(parent_domains(domain)) or [domain]
    sql, website = _domain_query(bool(identifier))
    params = [*names, *([identifier] if identifier else []), limit]
    with read_connection(PublishedWebsite).cursor() as cursor:
        cursor.execute(sql.replace("{names}", rawsql.marks(names)), params)
        return [dict(zip(website.names, website.convert(row), strict=True)) for row in cursor]


def _identified(key: str | None) -> list[int]:
    """The published services filed with the identifier whose lookup key is ``key``
    (``PublishedIdentifier.key``, indexed), by id; none for None."""
    if not key:
        return []
    limit = settings.PUBLIC_QUERY_MAX_RESULTS + 1
    return list(
        PublishedIdentifier.objects.filter(key=key).values_list("website_id", flat=True)[:limit]
    )


def _matching(query: ParsedQuery) -> QuerySet[PublishedWebsite]:
    websites = PublishedWebsite.objects.all()
    if query.kind == "sponsor_number":
        return websites.filter(sponsor_number=query.value)
    if query.kind in SERVICE_NUMBER_KINDS.values():
        # ``website_number`` holds every service's number (unique, indexed).
        return websites.filter(website_number=query.value)
    if query.kind == "domain":
        # Any subdomain finds the filing of the domain it belongs to.
        owning = PublishedDomain.objects.filter(name__in=list(parent_domains(query.value)))
        match = Q(id__in=owning.values("website_id"))
    else:
        # The names' keys (``value`` is one too); on PostgreSQL both lookups use the trigram
        # indexes of public/migrations/0003.
        match = Q(sponsor_name_search__contains=query.value) | Q(
            website_name_search__contains=query.value
        )
    # The services filed with the identifier, read first from its index: a list of ids joins
    # the other conditions' index scans, where a subquery would make them a scan of the table.
    identified = _identified(query.identifier)
    if identified:
        match |= Q(id__in=identified)
    return websites.filter(match)


def _public(row: dict) -> dict:
    return {
        "number": row["sponsor_number"],
        **{name: row[name] for name in PUBLIC_FIELDS if name != "sponsor_number"},
    }


def published_rows(ids: list[int], *, version: int | None = None) -> list[dict]:
    """The public fields of these published services, in the order given (ids no longer
    published are left out): ``[{"number", "sponsor_name", "sponsor_nature", "website_name",
    "website_number", "homepage", "domains", "approved_at", "service_type", "identifiers"},
    …]`` (an app's or mini-program's name and number in ``website_name`` and
    ``website_number``; ``identifiers`` ``[{"platform", "identifier"}]``), cached under ``version``
    (the shared version of the published data by default)."""
    if not ids:
        return []
    version = version or answer_cache.current_version()
    rows = answer_cache.cached_rows(version, ids)
    if rows is None:
        by_id = {
            row["id"]: _public(row)
            for row in PublishedWebsite.objects.filter(id__in=ids).values("id", *PUBLIC_FIELDS)
        }
        rows = [by_id[pk] for pk in ids if pk in by_id]
        answer_cache.cache_rows(version, ids, rows)
    return rows


def rows_by_service_type(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """``rows`` (public rows, ``published_rows``) apart by kind, as the page shows them:
    ``[("website", [...]), ("app", [...]), ("mini_program", [...])]``, each in the order
    given; a kind without rows is left out."""
    kinds: dict[str, list[dict]] = {kind: [] for kind in Website.Kind.values}
    for row in rows:
        kinds.setdefault(row.get("service_type") or Website.Kind.WEBSITE, []).append(row)
    return [(kind, found) for kind, found in kinds.items() if found]


# Bulletin board (Q5) -----------------------------------------------------------------------------


def published_announcements() -> QuerySet[Announcement]:
    """Announcements whose publish time has come, pinned first, newest first."""
    return Announcement.objects.filter(publish_at__lte=timezone.now()).order_by(
        "-pinned", "-publish_at", "-id"
    )


def bureau_directory() -> QuerySet[Province]:
    """Every province with its bureau's contacts, by code (Q5)."""
    return Province.objects.order_by("code")


# Annual review (Q9) ------------------------------------------------------------------------------

# Statuses whose owner reviews the record every year (a revocation application ends it).
REVIEWED_STATUSES = ANNUAL_REVIEW_STATUSES


@dataclass(frozen=True)
class Window:
    year: int
    starts_on: dt.date
    ends_on: dt.date

    def is_open(self, today: dt.date) -> bool:
        return self.starts_on <= today <= self.ends_on

    @property
    def final_reminder_on(self) -> dt.date:
        return self.ends_on - dt.timedelta(days=settings.ANNUAL_REVIEW_FINAL_REMINDER_DAYS)

    @property
    def opens_at(self) -> dt.datetime:
        return _local_midnight(self.starts_on)

    @property
    def closes_at(self) -> dt.datetime:
        """The first moment after the window (midnight after its last day, Asia/Shanghai)."""
        return _local_midnight(self.ends_on + dt.timedelta(days=1))


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def parse_month_day(name: str, value: str) -> tuple[int, int]:
    """``"03-31"`` → (3, 31). A malformed value raises ``ImproperlyConfigured`` naming the
    setting ``name``, which stops the process at start-up."""
    try:
        month, day = (int(part) for part in value.split("-"))
        # A leap year accepts every real month-day, 29 February included.
        dt.date(2024, month, day)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"{name} must be a month and day like 03-31, not {value!r}"
        ) from exc
    return month, day


def annual_review_window(year: int) -> Window:
    """The ministry's window for ``year``, or the default one from settings
    (``ANNUAL_REVIEW_START``, ``ANNUAL_REVIEW_END``; 29 February is the 28th in a common
    year). A malformed setting raises ``ImproperlyConfigured``, which startup already
    checks."""
    custom = AnnualReviewWindow.objects.filter(year=year).first()
    if custom is not None:
        return Window(year=year, starts_on=custom.starts_on, ends_on=custom.ends_on)
    start = parse_month_day("ANNUAL_REVIEW_START", settings.ANNUAL_REVIEW_START)
    end = parse_month_day("ANNUAL_REVIEW_END", settings.ANNUAL_REVIEW_END)
    return Window(year=year, starts_on=_day(year, *start), ends_on=_day(year, *end))


def _day(year: int, month: int, day: int) -> dt.date:
    # 29 February in a common year falls back to the 28th.
    try:
        return dt.date(year, month, day)
    except ValueError:
        return dt.date(year, month, day - 1)


def filings_due_for_review(window: Window) -> QuerySet[Filing]:
    """Filings that review this year's window: approved before it opened and still filed."""
    return Filing.objects.filter(status__in=REVIEWED_STATUSES).filter(
        Q(first_approved_at__lt=window.opens_at)
        | Q(first_approved_at__isnull=True, approved_at__lt=window.opens_at)
    )


@dataclass
class AnnualReviewStatus:
    """What the owner's task list shows about the annual review."""

    window: Window
    today: dt.date
    pending: list[AnnualReview] = field(default_factory=list)
    confirmed: AnnualReview | None = None
    # The window is open and the filing takes part, but the opening sweep has not run yet.
    awaiting_row: bool = False

    @property
    def window_open(self) -> bool:
        return self.window.is_open(self.today)

    @property
    def overdue(self) -> list[AnnualReview]:
        return [r for r in self.pending if r.is_overdue]

    @property
    def overdue_years(self) -> list[int]:
        return [r.year for r in self.overdue]

    @property
    def this_year_open(self) -> bool:
        """This year's window is open and this year's review is still to do."""
        return self.window_open and (
            self.awaiting_row or any(r.year == self.window.year for r in self.pending)
        )

    @property
    def can_confirm(self) -> bool:
        return bool(self.pending) or self.awaiting_row

    @property
    def next_window(self) -> Window:
        """The window to announce when there is nothing to do now."""
        if self.today < self.window.starts_on:
            return self.window
        return annual_review_window(self.window.year + 1)


def annual_review_status(
    *, filing: Filing | None, today: dt.date | None = None
) -> AnnualReviewStatus | None:
    """The filing's annual review as its owner sees it; None when it takes no part."""
    if filing is None or filing.status not in REVIEWED_STATUSES or not filing.is_filed:
        return None
    if filing.first_approved_at is None and filing.approved_at is None:
        return None  # a first filing on its way through the stages (SPEC §12)
    today = today or timezone.localdate()
    window = annual_review_window(today.year)
    reviews = list(AnnualReview.objects.filter(filing=filing).order_by("year"))
    status = AnnualReviewStatus(
        window=window,
        today=today,
        pending=[r for r in reviews if r.confirmed_at is None],
        confirmed=next(
            (r for r in reviews if r.year == window.year and r.confirmed_at is not None), None
        ),
    )
    if (
        window.is_open(today)
        and not any(r.year == window.year for r in reviews)
        and filings_due_for_review(window).filter(pk=filing.pk).exists()
    ):
        status.awaiting_row = True
    return status


def annual_overdue(*, province: Province | str | None = None) -> QuerySet[AnnualReview]:
    """Reviews flagged overdue and still unconfirmed, of filings that are still filed; of one
    province when ``province`` (a ``Province`` or its code) is given."""
    reviews = AnnualReview.objects.filter(
        confirmed_at__isnull=True,
        overdue_flagged_at__isnull=False,
    ).filter(Filing.filed_q("filing__"))
    if province is not None:
        reviews = reviews.filter(filing__province_id=getattr(province, "pk", province))
    return reviews


def annual_overdue_counts(province: Province | str | None = None) -> dict[str, int]:
    """Overdue annual reviews per province code, for the statistics (only provinces with any)."""
    rows = (
        annual_overdue(province=province)
        .values("filing__province_id")
        .annotate(n=Count("id"))
        .order_by("filing__province_id")
    )
    return {row["filing__province_id"]: row["n"] for row in rows}


QUERY_COUNT_WINDOW = 3600


def query_count_key(address: str) -> str:
    """The counter of page queries from ``address`` in its hour (``beian.limits.count``)."""
    return f"public-query-page:{address}"


def captcha_needed(address: str) -> bool:
    """True once ``address`` made ``PUBLIC_QUERY_CAPTCHA_AFTER`` page queries in its hour."""
    return limits.current(query_count_key(address)) >= settings.PUBLIC_QUERY_CAPTCHA_AFTER
