"""Transient database errors: which ones a unit of work may simply run again, and a loop that does.

PostgreSQL rolls back the whole transaction of a deadlock victim (40P01) and of a
serialization failure (40001), and a lock timeout (55P03) fails the statement that waited:
nothing of the unit of work was written, so running it again from its start is safe and
usually succeeds (the other side has finished by then). These are not outages: the
connection is fine, and "database unavailable" (503) would be a lie. The web app reruns a
request's view (api/errors.py), the relay and the Celery tasks rerun their pass (`run`).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
from prometheus_client import Counter
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

T = TypeVar("T")

# SQLSTATE -> the kind counted in `conduit_db_retries_total{kind}`.
TRANSIENT = {"40P01": "deadlock", "40001": "serialization", "55P03": "lock_timeout"}
# Runs of one unit of work in all, the first included.
ATTEMPTS = 4
RETRIES = Counter(
    "conduit_db_retries_total", "Units of work rerun after a transient database error", ["kind"]
)


def transient_kind(error: BaseException) -> str | None:
    """The kind of transient failure `error` is, or None when it is anything else."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(cause, psycopg.Error):
        return TRANSIENT.get(cause.sqlstate or "")
    return None


def pause(attempt: int) -> None:
    """Wait before run `attempt + 1`: a few milliseconds, growing, jittered, so that the
    transactions that collided do not collide again in lockstep."""
    time.sleep(random.uniform(0.005, 0.025) * 2**attempt)  # noqa: S311 (not a secret)


def run(
    work: Callable[[], T],
    *,
    rollback: Callable[[], None],
    attempts: int = ATTEMPTS,
) -> T:
    """`work()`, run again (after `rollback()`) while it fails transiently, `attempts` runs in
    all; the last failure is raised."""
    for attempt in range(attempts):
        try:
            return work()
        except DBAPIError as error:
            kind = transient_kind(error)
            if kind is None or attempt == attempts - 1:
                raise
            rollback()
            log.info("transient database error (%s), running again: %s", kind, error.orig)
            RETRIES.labels(kind).inc()
            pause(attempt)
    raise AssertionError("unreachable")  # the loop returns or raises
