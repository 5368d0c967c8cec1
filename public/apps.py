from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class PublicConfig(AppConfig):
    name = "public"
    verbose_name = _("Public services")

    def ready(self) -> None:
        # Models (which these modules import) can be imported only once the apps are ready.
        from filings.publishing import published_data_changed

        from .selectors import parse_month_day
        from .services import on_published_data_changed

        start = parse_month_day("ANNUAL_REVIEW_START", settings.ANNUAL_REVIEW_START)
        end = parse_month_day("ANNUAL_REVIEW_END", settings.ANNUAL_REVIEW_END)
        if end <= start:
            raise ImproperlyConfigured("ANNUAL_REVIEW_END must come after ANNUAL_REVIEW_START")
        published_data_changed.connect(
            on_published_data_changed, dispatch_uid="public.query_cache_invalidation"
        )
