"""Fixtures for the background-work tests: PostgreSQL, a RabbitMQ vhost, gunicorn, workers.

Real processes on real services, torn down even when a test fails; a missing service skips
on a bare machine and fails under CI=true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine

from testkit.database import throwaway_database
from testkit.settings import unavailable
from testkit.workers import Worker, rabbitmq_unreachable, vhost
from tests.support.ops import JWT_SECRET


@pytest.fixture
def database_url() -> Iterator[str]:
    """A migrated throwaway database of the test's own: SQL counts see only its rows."""
    with throwaway_database("conduit_jobs", unreachable=unavailable, migrate=True) as url:
        yield url


@pytest.fixture
def sql(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def broker_url() -> Iterator[str]:
    if reason := rabbitmq_unreachable():
        unavailable(reason)
    with vhost() as url:
        yield url


@pytest.fixture
def app_env(database_url: str, broker_url: str) -> dict[str, str]:
    """What the web processes and the workers share: database, broker, secret, a quick sweep."""
    return {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "JWT_SECRET_KEY": JWT_SECRET,
        "RATE_LIMIT_ENABLED": "false",
        "ACCESS_LOG": "false",
        "OUTBOX_SWEEP_SECONDS": "1",
    }


@pytest.fixture
def worker(app_env: dict[str, str]) -> Iterator[Callable[..., Worker]]:
    """Make workers (not started) with the shared environment and any overrides."""
    made: list[Worker] = []

    def make(app: str = "runtime.worker", **overrides: str) -> Worker:
        made.append(Worker({**app_env, **overrides}, app))
        return made[-1]

    yield make
    for w in made:
        w.close()
