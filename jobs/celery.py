"""The Celery app: it carries the runtime's settings and database, which its tasks use.

Delivery guarantees, in one place: late acks (a task is acknowledged once it is done, so a
worker killed mid-task leaves its message to be redelivered), one message prefetched at a
time, publisher confirms (a publish returns once RabbitMQ has the message), durable queues and
persistent messages. Tasks retry transient database failures with exponential backoff; a task
that still fails is rejected without requeue, and RabbitMQ dead-letters it to the
`conduit.dead` queue (the task queue's `x-dead-letter-exchange`), where it waits for an
operator instead of looping.

A task whose pool process dies under it (killed, out of memory, a crash) is sent again as a
retry (`task_retry_on_worker_lost`), so it counts against the task's `max_retries` like any
retry, and once they are spent it is dead-lettered too. Put back as it was (what
`task_reject_on_worker_lost` alone does), a message that kills its process would do so
forever: a classic queue keeps no count of deliveries. (`task_reject_on_worker_lost` still
puts it back if the retry cannot be sent.) A whole worker killed leaves its unacknowledged
message to RabbitMQ, which redelivers it as before.
"""

from __future__ import annotations

from typing import cast

from celery import Celery
from celery import current_app as current_celery
from kombu import Exchange, Queue  # type: ignore[attr-defined]

from core.settings import Settings
from db.session import Database
from ml.serving import ModelService

QUEUE = "conduit"
DEAD_LETTER = "conduit.dead"
DEAD_LETTER_QUEUE = Queue(DEAD_LETTER, Exchange(DEAD_LETTER, type="direct"), DEAD_LETTER)
TASK_QUEUE = Queue(
    QUEUE,
    Exchange(QUEUE, type="direct"),
    QUEUE,
    queue_arguments={
        "x-dead-letter-exchange": DEAD_LETTER,
        "x-dead-letter-routing-key": DEAD_LETTER,
    },
)
PURGE_SECONDS = 3600.0


class Jobs(Celery):  # type: ignore[misc]
    """Celery, with what the tasks run on as typed attributes (no Flask app around them)."""

    settings: Settings
    database: Database
    model: ModelService


def make_celery(settings: Settings, database: Database, model: ModelService) -> Jobs:
    """The Celery app of a process whose settings, database and model are these."""
    celery = Jobs("conduit", include=["jobs.tasks"])
    celery.settings, celery.database, celery.model = settings, database, model
    celery.conf.update(
        broker_url=settings.celery_broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"confirm_publish": True},
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_retry_on_worker_lost=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=False,  # reject: dead-lettered, not dropped
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        task_default_queue=QUEUE,
        task_queues=[TASK_QUEUE],
        task_default_exchange=QUEUE,
        task_default_routing_key=QUEUE,
        beat_schedule={
            "relay-sweep": {"task": "jobs.relay", "schedule": settings.outbox_sweep_seconds},
            "purge": {"task": "jobs.purge", "schedule": PURGE_SECONDS},
        },
    )
    celery.set_default()
    return celery


def running() -> Jobs:
    """The Celery app the current task runs in."""
    return cast(Jobs, current_celery)
