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
    },
    # A task is acknowledged only once it has finished: a worker that dies mid-task leaves it
    # on the queue for another worker. Every task is written to be safe to run twice.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=120,
    task_time_limit=180,
    broker_transport_options={"visibility_timeout": 3600},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_schedule={
        "delivery-sweep": {
            "task": "beian.delivery.sweep",
            "schedule": 60.0,
        },
        "calendar-sync": {
            "task": "beian.calendar.sync",
            "schedule": crontab(hour=3, minute=17),
        },
    },
)
app.autodiscover_tasks()
