"""The Celery application: named queues, late acknowledgement and a beat schedule in code."""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beian.settings")

app = Celery("beian")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.conf.update(
    task_default_queue="default",
    task_queues=[
        Queue("default"),
        Queue("delivery"),
        Queue("checks"),
        Queue("imports"),
    ],
    task_routes={
        "beian.delivery.*": {"queue": "delivery"},
        "certificates.check.*": {"queue": "checks"},
        "providers.import.*": {"queue": "imports"},
        "providers.webhook.*": {"queue": "delivery"},
    },
    # A task is acknowledged only once it has finished: a worker that dies mid-task leaves it
    # on the queue for another worker. Every task is written to be safe to run twice.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=120,
    task_time_limit=180,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_schedule={
        "delivery-sweep": {
            "task": "beian.delivery.sweep",
            "schedule": 60.0,
        },
        "provider-webhook-sweep": {
            "task": "providers.webhook.sweep",
            "schedule": 60.0,
        },
        "provider-import-sweep": {
            "task": "providers.import.sweep",
            "schedule": 300.0,
        },
        # Keeps the statistics tally small; its counts are exact between runs.
        "review-tally-compact": {
            "task": "review.tally.compact",
            "schedule": 300.0,
        },
        # SMS verifications left unconfirmed past their hours go back to the owner (SPEC §12).
        "verification-lapse": {
            "task": "filings.verification.lapse",
            "schedule": 300.0,
        },
        # Arrivals at the bureau whose email to its staff the broker did not take at commit.
        "review-arrivals-sweep": {
            "task": "review.arrivals.notify",
            "schedule": 300.0,
        },
        # Windows the limiter counted on the database while Redis was away (beian/limits.py).
        "rate-counters-forget": {
            "task": "beian.limits.forget_expired",
            "schedule": 3600.0,
        },
        "calendar-sync": {
            "task": "beian.calendar.sync",
            "schedule": crontab(hour=3, minute=17),
        },
        # Before the bureaus start work (CELERY_TIMEZONE is Asia/Shanghai).
        "review-deadline-digest": {
            "task": "review.deadlines.digest",
            "schedule": crontab(hour=7, minute=30),
        },
        "review-escalate-overdue": {
            "task": "review.deadlines.escalate",
            "schedule": crontab(hour=7, minute=45),
        },
        "certificates-compliance": {
            "task": "certificates.check.all",
            "schedule": crontab(hour=2, minute=41),
        },
        # Opens the annual review, reminds owners, flags what is overdue; in the morning so
        # that the reminders arrive during the day.
        "annual-review-daily": {
            "task": "public.annual_review.daily",
            "schedule": crontab(hour=8, minute=5),
        },
    },
)
app.autodiscover_tasks()
