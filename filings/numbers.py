"""Filing numbers [contract]: ``{abbr}ICP备{YYYY}{NNNNNN}号`` and ``{sponsor number}-{n}``.

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


@transaction.atomic
def allocate_website_numbers(*, filing: Filing) -> list[Website]:
    """Give every website of the filing that has no number the next ``-n`` (in order)."""
    locked = Filing.objects.select_for_update().get(pk=filing.pk)
    numbered = []
    for website in Website.objects.filter(filing=filing, number__isnull=True).order_by(
        "position", "id"
    ):
        locked.last_website_seq += 1
        website.number = f"{locked.number}-{locked.last_website_seq}"
        website.save(update_fields=["number"])
        numbered.append(website)
    locked.save(update_fields=["last_website_seq"])
    filing.last_website_seq = locked.last_website_seq
    return numbered
