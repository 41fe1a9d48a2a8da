"""Where psycopg prepares nothing (PgBouncer's transaction pooling), the global and by-tag
lists run through `article_list_page()` (migration 0016), whose plans PostgreSQL keeps per
server connection: the same pages as the prepared statements, in one statement."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, select

from db import driver, queries
from db.models import User
from db.session import Database
from testkit.database import PostgresServer, QueryCounter
from tests.factories import create_article, register
from tests.support.apps import built_app

pytestmark = pytest.mark.postgres_only


@pytest.fixture(scope="module")
def app(postgres_server: PostgresServer) -> Iterator[Flask]:
    """PostgreSQL only (SQLite has no functions, and plans nothing ahead), on a database of
    its own, as tests/db/test_concurrency.py's."""
    with postgres_server.database(migrate=True) as url, built_app(url) as application:
        yield application


class _Unprepared:
    """The connection's psycopg connection prepares nothing while inside, as
    `connect_args(pgbouncer="transaction")` makes it."""

    def __init__(self, connection: Connection) -> None:
        self.raw = connection.connection.driver_connection
        self.threshold = self.raw.prepare_threshold  # type: ignore[union-attr]

    def __enter__(self) -> None:
        self.raw.prepare_threshold = None  # type: ignore[union-attr]

    def __exit__(self, *_exc: object) -> None:
        self.raw.prepare_threshold = self.threshold  # type: ignore[union-attr]


def test_pages_are_the_prepared_statements_pages(client: FlaskClient, db: Database) -> None:
    ann, bob = register(client, username="ann"), register(client, username="bob")
    for n in range(7):
        create_article(client, ann if n % 2 else bob, tagList=["dragons", f"t{n % 3}"])
    create_article(client, ann, tagList=[])
    slug = create_article(client, bob, tagList=["dragons"])["slug"]
    assert client.post(f"/api/articles/{slug}/favorite", headers=ann.headers).status_code == 200
    assert client.post("/api/profiles/bob/follow", headers=ann.headers).status_code == 200
    viewer = db.session().scalars(select(User.id).where(User.username == "ann")).one()

    connection = db.read_connection()
    assert driver.prepares(connection)
    cases = [
        (queries.ArticleFilters(tag=tag), viewer_id, limit, offset)
        for tag in (None, "dragons", "t1", "nobody uses it")
        for viewer_id in (None, viewer)
        for limit, offset in ((20, 0), (3, 0), (3, 2), (5, 100))
    ]
    # More runs than PostgreSQL's five custom plans, so its generic plans are compared too.
    for _ in range(2):
        for filters, viewer_id, limit, offset in cases:
            prepared = queries.articles(connection, filters, viewer_id, limit, offset)
            with _Unprepared(connection), QueryCounter(db.engine) as counted:
                served = queries.articles(connection, filters, viewer_id, limit, offset)
            assert served == prepared, (filters, viewer_id, limit, offset)
            if served[0] or offset == 0:  # past the end, the total is counted apart
                assert counted.count == 1
                assert "article_list_page(" in counted.statements[0]
    assert any(views for views, _ in (queries.articles(connection, *c) for c in cases))


def test_other_shapes_and_prepared_connections_keep_their_statements(db: Database) -> None:
    connection = db.read_connection()
    by_author = queries.ArticleFilters(author="ann")
    with QueryCounter(db.engine) as counted:
        queries.articles(connection, queries.ArticleFilters(), None, 20, 0)
        with _Unprepared(connection):
            assert not driver.prepares(connection)
            queries.articles(connection, by_author, None, 20, 0)
            queries.feed(connection, 1, 20, 0)
    assert counted.count == 3
    assert not any("article_list_page(" in s for s in counted.statements)
