"""Fixtures for the topologies beyond one database server: a private primary with a streaming
replica, and a private PgBouncer, each started here on free ports and removed afterwards.

A missing program is a skip on a bare machine and a failure under CI=true (`unavailable`).
The tests of this package share Redis database 10 (xdist group "replicas").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, text

from db.migrate import upgrade
from testkit import pgbouncer as bouncers
from testkit.database import PrivateCluster
from testkit.redis_server import shared_redis
from testkit.servers import free_port
from testkit.settings import unavailable

REDIS_URL = "redis://127.0.0.1:6379/10"


@dataclass
class Replicated:
    """A primary at the latest migration and its streaming replica, with an engine on each."""

    primary: PrivateCluster
    replica: PrivateCluster
    primary_sql: Engine
    replica_sql: Engine

    def position(self) -> str:
        with self.primary_sql.connect() as conn:
            return str(conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one())

    def caught_up(self, timeout: float = 10) -> None:
        """Wait until the replica has replayed everything the primary has written."""
        target = self.position()
        deadline = time.monotonic() + timeout
        with self.replica_sql.connect() as conn:
            while time.monotonic() < deadline:
                if conn.execute(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:target AS pg_lsn)"),
                    {"target": target},
                ).scalar_one():
                    return
                time.sleep(0.05)
        raise AssertionError(f"the replica did not replay up to {target} within {timeout}s")

    def pause(self) -> None:
        with self.replica_sql.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))

    def resume(self) -> None:
        with self.replica_sql.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))


def _cannot_run() -> None:
    if reason := PrivateCluster.cannot_run():
        unavailable(reason)


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    _cannot_run()
    with (
        PrivateCluster.fresh(free_port()) as primary,
        PrivateCluster.replica_of(primary, free_port()) as replica,
    ):
        upgrade(primary.url)
        primary_sql = create_engine(primary.url, isolation_level="AUTOCOMMIT")
        replica_sql = create_engine(replica.url, isolation_level="AUTOCOMMIT")
        topology = Replicated(primary, replica, primary_sql, replica_sql)
        try:
            topology.caught_up()
            yield topology
        finally:
            primary_sql.dispose()
            replica_sql.dispose()


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    _cannot_run()
    with PrivateCluster.fresh(free_port()) as cluster:
        # Not migrated: the first server through PgBouncer migrates it (`make serve` does).
        engine = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            # Behind PgBouncer the app sends no startup `options`: the timeout is the database's.
            conn.execute(text("ALTER DATABASE conduit SET statement_timeout = '10s'"))
        engine.dispose()
        yield cluster


@pytest.fixture
def pgbouncer_program() -> None:
    if reason := bouncers.cannot_run():
        unavailable(reason)


@pytest.fixture
def redis_db() -> Iterator[str]:
    """Redis database 10, emptied before and after the test."""
    client = shared_redis(REDIS_URL)
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()
