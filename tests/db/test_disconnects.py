"""A connection lost between requests (the database restarted, or dropped it): no pre-ping.

The app's pool is warmed, then PostgreSQL terminates every connection of the app's database
but the test's own, which is what a restart leaves in an idle pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool, QueuePool

from api.context import runtime_of
from api.errors import DATABASE_DOWN
from testkit.database import PostgresServer, QueryCounter
from tests.factories import body_of, create_article, errors_of, register
from tests.support.apps import built_app

pytestmark = pytest.mark.postgres_only


@pytest.fixture(scope="module")
def app(postgres_server: PostgresServer) -> Iterator[Flask]:
    """Real connections of a real pool, on a database of its own (as tests/db/test_concurrency.py)."""
    with postgres_server.database(migrate=True) as url, built_app(url) as application:
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def drop_connections(app: Flask) -> int:
    """Terminate the server side of every pooled connection; how many there were."""
    outside = create_engine(runtime_of(app).database.engine.url, poolclass=NullPool)
    with outside.connect() as conn:
        terminated = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    outside.dispose()
    return int(terminated)


def test_a_read_on_a_lost_connection_runs_again_and_a_write_answers_503(
    app: Flask, client: FlaskClient
) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    assert client.get("/api/articles", headers=author.headers).status_code == 200
    assert drop_connections(app) >= 1

    engine = runtime_of(app).database.engine
    with QueryCounter(engine) as queries:
        read = client.get(f"/api/articles/{slug}", headers=author.headers)
    assert read.status_code == 200, read.json
    assert body_of(read)["article"]["slug"] == slug
    # the token's lookup failed on the dead connection, then the whole view ran again
    assert queries.count == 1 + 2

    favorite = f"/api/articles/{slug}/favorite"
    # a write's connection goes back to the pool (reads keep theirs): lose it there
    assert client.post(favorite, headers=author.headers).status_code == 200
    drop_connections(app)
    write = client.delete(favorite, headers=author.headers)
    assert write.status_code == 503
    assert errors_of(write) == {"database": [DATABASE_DOWN]}
    assert write.headers["Retry-After"] == "1"
    # the pool dropped the dead connections with it: the retry is served
    again = client.delete(favorite, headers=author.headers)
    assert again.status_code == 200 and body_of(again)["article"]["favoritesCount"] == 0


def test_readiness_survives_a_lost_connection(app: Flask, client: FlaskClient) -> None:
    assert client.get("/api/ready").status_code == 200
    drop_connections(app)
    assert client.get("/api/ready").status_code == 200


def test_the_main_thread_keeps_its_read_connection_other_threads_return_theirs(
    app: Flask, client: FlaskClient
) -> None:
    db = runtime_of(app).database
    db.dispose()  # nothing held from earlier tests
    pool = cast(QueuePool, db.engine.pool)
    assert client.get("/api/tags").status_code == 200
    assert pool.checkedout() == 1  # kept for the next request
    assert client.get("/api/tags").status_code == 200
    assert pool.checkedout() == 1  # the same one, not a second

    answers: list[int] = []
    elsewhere = threading.Thread(target=lambda: answers.append(client.get("/api/tags").status_code))
    elsewhere.start()
    elsewhere.join()
    assert answers == [200]
    assert pool.checkedout() == 1  # the thread's went back to the pool; the main one's stays
    db.dispose()
    assert pool.checkedout() == 0
