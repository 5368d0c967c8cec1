import datetime as dt

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def parse_month_day(name: str, value: str) -> tuple[int, int]:
    """``"03-31"`` → (3, 31); a malformed value stops the process naming the setting."""
    try:
        month, day = (int(part) for part in value.split("-"))
        # A leap year accepts every real month-day, 29 February included.
        dt.date(2024, month, day)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"{name} must be a month and day like 03-31, not {value!r}"
        ) from exc
    return month, day


class PublicConfig(AppConfig):
    name = "public"
    verbose_name = _("Public services")

    def ready(self) -> None:
        start = parse_month_day("ANNUAL_REVIEW_START", settings.ANNUAL_REVIEW_START)
        end = parse_month_day("ANNUAL_REVIEW_END", settings.ANNUAL_REVIEW_END)
        if end <= start:
            raise ImproperlyConfigured("ANNUAL_REVIEW_END must come after ANNUAL_REVIEW_START")
        # Models (which these modules import) can be imported only once the apps are ready.
        from filings.publishing import published_data_changed

        from .services import on_published_data_changed

        published_data_changed.connect(
            on_published_data_changed, dispatch_uid="public.query_cache_invalidation"
        )
