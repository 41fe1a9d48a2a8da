"""The worker's entry point: `celery -A runtime.worker worker -B` (`make worker`)."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready

import runtime
from core import logs
from jobs.celery import DEAD_LETTER_QUEUE

conduit = runtime.build()
logs.configure(conduit.settings.log_level, conduit.settings.log_format)  # JSON in production
if conduit.celery is None:
    raise SystemExit("CELERY_BROKER_URL is not set: without a broker the web process relays")
celery_app = conduit.celery


@worker_ready.connect
def _declare_dead_letter_queue(**_kwargs: Any) -> None:
    # Nobody consumes it, so no worker would declare it: declared here, dead letters wait in it.
    with celery_app.connection_for_write() as connection:
        DEAD_LETTER_QUEUE.bind(connection).declare()
