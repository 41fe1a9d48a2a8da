"""Contract tests make their databases on the suite's PostgreSQL server (CI-strict)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit.database import PostgresServer, reachable_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with reachable_postgres() as server:
        yield server
