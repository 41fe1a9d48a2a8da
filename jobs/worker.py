"""The worker's entry point: `celery -A jobs.worker worker -B` (`make worker`)."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready

from api.app import create_app
from jobs.celery import DEAD_LETTER_QUEUE

flask_app = create_app()
if "conduit_celery" not in flask_app.extensions:
    raise SystemExit("CELERY_BROKER_URL is not set: without a broker the web process relays")
celery_app = flask_app.extensions["conduit_celery"]


@worker_ready.connect
def _declare_dead_letter_queue(**_kwargs: Any) -> None:
    # Nobody consumes it, so no worker would declare it: declared here, dead letters wait in it.
    with celery_app.connection_for_write() as connection:
        DEAD_LETTER_QUEUE.bind(connection).declare()
