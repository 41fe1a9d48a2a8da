"""Fixtures: one migrated database per backend per run, one rolled-back transaction per test.

Every test that takes `client` runs twice: on SQLite, and on PostgreSQL when one is reachable
(TEST_DATABASE_URL, default the local server). Under CI=true an unreachable PostgreSQL fails
the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, make_url, text

from api import create_app
from api.settings import Settings
from db.migrate import upgrade
from db.session import Database
from tests.live import DEFAULT_ADMIN_URL

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN_URL)
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def unavailable(reason: str) -> None:
    """Skip on a bare machine; under CI a missing service is a failure, never a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must run)", pytrace=False)
    pytest.skip(reason)


def make_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": url,
        "jwt_secret_key": TEST_SECRET,
        "rate_limit_enabled": False,
        "access_log": False,
        **overrides,
    }
    return Settings(**values)


class PostgresServer:
    """Creates and drops uniquely named throwaway databases on the test server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def create(self) -> str:
        name = f"conduit_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = self.admin_url.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        return url

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(TEST_DATABASE_URL)
    try:
        with server.engine.connect():
            pass
    except Exception as exc:
        server.engine.dispose()
        unavailable(f"PostgreSQL not reachable at {TEST_DATABASE_URL}: {exc.__class__.__name__}")
    yield server
    server.engine.dispose()


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
    url = server.create()
    yield url
    server.drop(url)


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    application = create_app(make_settings(database_url))
    application.config["TESTING"] = True
    yield application
    application.extensions["conduit_db"].dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Database]:
    """Bind the app's sessions to one connection whose transaction is rolled back after the test."""
    database: Database = app.extensions["conduit_db"]
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


class QueryCounter:
    """Counts the data statements (not savepoint bookkeeping) an engine runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in {
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "WITH",
        }:
            self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        self.statements.clear()
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def queries(db: Database) -> QueryCounter:
    return QueryCounter(db.engine)
