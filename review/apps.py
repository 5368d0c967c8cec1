from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from beian.celery import app as celery_app


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = _("Review")

    def ready(self) -> None:
        from filings.changes import access_withdrawn

        from .services import withdrawal_at_once

        # A provider's withdrawal of its own access may take effect at once (SPEC §12).
        access_withdrawn.connect(withdrawal_at_once, dispatch_uid="review.withdrawal_at_once")
        # The stages enqueue ``review.tasks`` by name (it sits above them): its tasks are
        # registered in every process, so that in-process (eager) runs find them.
        celery_app.autodiscover_tasks([self.name], force=True)
