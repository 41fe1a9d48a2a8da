"""Fixtures for tests that attack a real server: gunicorn processes, PostgreSQL, Redis, nginx.

Everything here starts real processes on free loopback ports and tears them down (and drops
every database, cluster and temp dir it made) even when a test fails. A missing service is a
skip on a bare machine and a failure under CI=true (`testkit.settings.unavailable`).
The helpers the fixtures stand on are in tests/support (`http`, `ops`, `database`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine

from testkit import http
from testkit.database import PrivateCluster, throwaway_database
from testkit.redis_server import shared_redis
from testkit.servers import free_port
from testkit.settings import unavailable
from tests.support import ops
from tests.support.ops import REDIS_URL

# Their old import path, still used by tests/ops/test_front_door.py, test_metrics_housekeeping.py,
# test_shutdown.py and test_slow_clients.py; new code imports testkit.http / .ops.
call = http.call
JWT_SECRET = ops.JWT_SECRET
QUIET = ops.QUIET
gunicorn_server = ops.gunicorn_server


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A throwaway database on the shared test server, for the module."""
    with throwaway_database("conduit_ops", unreachable=unavailable) as url:
        yield url


@pytest.fixture(scope="module")
def sql(database_url: str) -> Iterator[Engine]:
    """An engine on the module's database, for checking what the server really committed."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    if reason := PrivateCluster.cannot_run():
        unavailable(reason)
    with PrivateCluster.fresh(free_port()) as cluster:
        yield cluster


@pytest.fixture
def redis_db() -> Iterator[str]:
    """Our own Redis database (14 by default), emptied before and after the test."""
    client = shared_redis(REDIS_URL)
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()
