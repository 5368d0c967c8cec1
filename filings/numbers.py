"""Filing numbers [contract]: ``{abbr}ICP备{YYYY}{NNNNNN}号``, and ``{sponsor number}-{n}``
for a website, ``-{n}A`` for an app and ``-{n}X`` for a mini-program (SPEC §3, §13).

The per-province, per-year counter row is locked while a number is taken, so concurrent
approvals get consecutive, distinct numbers; numbers are never reused.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from beian.models import Province

from .models import Filing, FilingNumberSequence, Website


def format_sponsor_number(abbr: str, year: int, seq: int) -> str:
    return f"{abbr}ICP备{year}{seq:06d}号"


@transaction.atomic
def allocate_sponsor_number(*, province: Province, year: int) -> str:
    try:
        with transaction.atomic():
            FilingNumberSequence.objects.get_or_create(province=province, year=year)
    except IntegrityError:
        pass  # created by a concurrent approval in the meantime
    sequence = FilingNumberSequence.objects.select_for_update().get(province=province, year=year)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return format_sponsor_number(province.abbr, year, sequence.last_value)


# Each kind's counter on the filing and the letter after its ``n`` (SPEC §13 [contract]).
_SERIES = {
    Website.Kind.WEBSITE: ("last_website_seq", ""),
    Website.Kind.APP: ("last_app_seq", "A"),
    Website.Kind.MINI_PROGRAM: ("last_mini_program_seq", "X"),
}


def format_service_number(sponsor_number: str, kind: str, n: int) -> str:
    """A service's number: ``{sponsor number}-{n}`` for a website, ``-{n}A`` for an app,
    ``-{n}X`` for a mini-program (SPEC §3, §13)."""
    return f"{sponsor_number}-{n}{_SERIES[kind][1]}"


@transaction.atomic
def allocate_website_numbers(*, filing: Filing) -> list[Website]:
    """Give every service of the filing that has no number the next number of its kind, in
    page order (websites first, then apps, then mini-programs): ``-n``, ``-nA``, ``-nX`` with
    ``n`` counted per kind within the sponsor (SPEC §13). The filing row is locked meanwhile,
    so concurrent approvals never give one number twice; a number once given is never given
    again (the counters only grow). Returns the services numbered."""
    locked = Filing.objects.select_for_update().get(pk=filing.pk)
    numbered = []
    order = list(_SERIES)
    services = sorted(
        Website.every_kind.filter(filing=filing, number__isnull=True),
        key=lambda s: (order.index(s.kind), s.position, s.pk),
    )
    for service in services:
        counter, _letter = _SERIES[service.kind]
        n = getattr(locked, counter) + 1
        setattr(locked, counter, n)
        service.number = format_service_number(locked.number, service.kind, n)
        service.save(update_fields=["number"])
        numbered.append(service)
    counters = [counter for counter, _letter in _SERIES.values()]
    locked.save(update_fields=counters)
    for counter in counters:
        setattr(filing, counter, getattr(locked, counter))
    return numbered
