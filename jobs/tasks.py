"""The Celery tasks: thin wrappers that give the delivery functions a session and commit.

Each runs on the settings and database its Celery app carries (jobs/celery.py `running`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from celery import shared_task
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db import counters, retry
from db import purge as purging
from db.errors import DatabaseUnavailable
from jobs import delivery, embedding
from jobs import relay as relaying
from jobs.celery import running

# Transient: the database restarted or is unreachable. Anything else is a bug or a poison
# message: retrying it would only delay its dead-lettering. A lost pool process is retried
# too (jobs/celery.py), after `default_retry_delay`, within the same `max_retries`.
RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError, DatabaseUnavailable),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
    "default_retry_delay": 5,
}
T = TypeVar("T")


def _transaction(work: Callable[[Session], T]) -> T:
    """`work` in the worker's session, committed; run again at once after a deadlock or a
    serialization failure (db/retry.py), before Celery's slower retry for outages."""
    sessions = running().database.session
    session = sessions()

    def run() -> T:
        result = work(session)
        session.commit()
        return result

    try:
        return retry.run(run, rollback=session.rollback)
    finally:
        sessions.remove()


@shared_task(name="jobs.relay", **RETRY)
def relay() -> int:
    """Publish every pending outbox event (the sweep behind the hints), fold the article
    counters' deltas, then ask for the articles created or edited since to be embedded."""
    relayed = _transaction(
        lambda session: relaying.relay_all(session, lambda event_id: deliver.delay(event_id))
    )
    _transaction(counters.fold)
    embed.delay()
    return relayed


@shared_task(name="jobs.embed", **RETRY)
def embed() -> int:
    """Embed a batch of stale articles, and another task for the next batch if there is one."""
    model = running().model
    embedded = _transaction(lambda session: embedding.embed_stale(session, model))
    if embedded == embedding.BATCH:
        embed.delay()
    return embedded


@shared_task(name="jobs.deliver", **RETRY)
def deliver(event_id: int) -> None:
    # Fan-out tasks are published inside the transaction: a rerun publishes the first batch
    # again, which the idempotent inserts make harmless.
    settings = running().settings
    _transaction(
        lambda session: delivery.deliver(
            settings,
            session,
            event_id,
            lambda event, actor, after: fan_out.delay(event, actor, after),
        )
    )


@shared_task(name="jobs.fan_out", **RETRY)
def fan_out(event_id: int, actor_id: int, after: int) -> None:
    """One batch of followers; the next batch is its own task, published after the commit.

    Killed before the publish, this task is redelivered (late ack) and publishes it then.
    """
    settings = running().settings
    following = _transaction(
        lambda session: delivery.fan_out_batch(settings, session, event_id, actor_id, after)
    )
    if following is not None:
        fan_out.delay(event_id, actor_id, following)


@shared_task(name="jobs.purge", **RETRY)
def purge() -> dict[str, int]:
    """Lapsed sessions and logout entries, old idempotency keys, long-sent outbox events."""
    now = datetime.now(UTC)
    return _transaction(lambda session: purging.purge_lapsed(session, now))
