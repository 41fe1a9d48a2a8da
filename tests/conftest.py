"""Fixtures: one migrated database per backend per run, one rolled-back transaction per test.

Every test that takes `client` runs twice: on SQLite, and on PostgreSQL when one is reachable
(TEST_DATABASE_URL, default the local server). Under CI=true an unreachable PostgreSQL fails
the run instead of skipping.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.context import runtime_of
from db.migrate import upgrade
from db.session import Database
from testkit.database import PostgresServer, QueryCounter, reachable_postgres
from tests.support.apps import built_app


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `long` first (their order otherwise kept): xdist hands out the
    ungrouped tests in collection order, and one of a minute started last ends the run late."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with reachable_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "conduit.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.database(migrate=True) as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    with built_app(database_url) as application:
        yield application


@pytest.fixture
def db(app: Flask) -> Iterator[Database]:
    """Bind the app's sessions to one connection whose transaction is rolled back after the test."""
    database: Database = runtime_of(app).database
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind(connection)
    yield database
    database.bind(None)
    transaction.rollback()
    connection.close()


@pytest.fixture
def client(app: Flask, db: Database) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def queries(db: Database) -> QueryCounter:
    return QueryCounter(db.engine)
