from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from beian.celery import app as celery_app


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = _("Access providers")

    def ready(self) -> None:
        # The import services enqueue ``providers.tasks`` by name (that module imports them):
        # its tasks are registered in every process, so that in-process (eager) runs find them.
        celery_app.autodiscover_tasks([self.name], force=True)
        # Models (which these modules import) can be imported only once the apps are ready.
        from filings.publishing import published_data_changed

        from . import signals
        from .selectors import forget_access_counts

        published_data_changed.connect(
            forget_access_counts, dispatch_uid="providers.access_count_invalidation"
        )
        signals.connect()
