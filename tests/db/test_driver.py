"""db/driver.py: the reads it runs on psycopg's cursor give exactly what SQLAlchemy gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Select, bindparam, insert, select
from sqlalchemy.exc import DataError, DBAPIError

from db import driver, queries
from db.models import Article, Comment, Tag, User
from db.queries import _articles as article_queries
from db.queries import _comments as comment_queries
from db.queries import _lists as list_queries
from db.queries import _profiles as profile_queries
from db.queries import _tags as tag_queries
from db.session import Database
from testkit.database import PostgresServer, QueryCounter
from tests.factories import add_comment, create_article, register
from tests.support.apps import built_app

pytestmark = pytest.mark.postgres_only


@pytest.fixture(scope="module")
def database_url(postgres_server: PostgresServer) -> Iterator[str]:
    """PostgreSQL only: SQLite always takes SQLAlchemy's path."""
    with postgres_server.database(migrate=True) as url:
        yield url


@pytest.fixture(scope="module")
def app(database_url: str) -> Iterator[Flask]:
    with built_app(database_url) as application:
        yield application


def statements(slug: str, viewer: int) -> list[tuple[Select[Any], dict[str, Any]]]:
    """Every kind of read the app runs through the driver, with and without a viewer."""
    page = {"limit": 20, "offset": 0, "tag": "dragons", "author": None, "favorited": None}
    cases: list[tuple[Select[Any], dict[str, Any]]] = [(tag_queries._TAGS, {})]
    for viewer_id in (None, viewer):
        seen = viewer_id is not None
        cases += [
            (article_queries._article_by_slug(seen), {"slug": slug, "viewer_id": viewer_id}),
            (
                comment_queries._comments_statement(seen),
                {"path_slug": slug, "viewer_id": viewer_id},
            ),
            (profile_queries._profile_statement(seen), {"username": "ann", "viewer_id": viewer_id}),
        ]
    for shape in (
        queries.ListShape(viewer=False),
        queries.ListShape(viewer=True, tag=True),
        queries.ListShape(viewer=True, feed=True),
    ):
        cases.append((list_queries._page_statement(shape, True), {**page, "viewer_id": viewer}))
    return cases


def test_rows_match_sqlalchemys_field_for_field(client: FlaskClient, db: Database) -> None:
    ann, bob = register(client, username="ann"), register(client)
    slug = create_article(client, ann, tagList=["dragons", "reactjs"])["slug"]
    create_article(client, ann, tagList=["dragons"])
    add_comment(client, bob, slug, "first")
    add_comment(client, ann, slug, "second")
    assert client.post("/api/profiles/ann/follow", headers=bob.headers).status_code == 200
    viewer = db.session().scalars(select(User.id).where(User.username == bob.username)).one()

    connection = db.read_connection()
    for statement, params in statements(slug, viewer):
        ours = driver.rows(connection, statement, params)
        theirs = connection.execute(statement, params).all()
        assert ours, statement  # every case reads something, so values are compared
        assert [r._fields for r in ours] == [tuple(r._fields) for r in theirs]
        assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]


def test_listeners_see_each_statement_once(client: FlaskClient, db: Database) -> None:
    connection = db.read_connection()
    with QueryCounter(db.engine) as counted:
        driver.rows(connection, tag_queries._TAGS, {})
        driver.first(
            connection, article_queries._article_by_slug(False), {"slug": "x", "viewer_id": None}
        )
    assert counted.count == 2


def test_a_driver_error_leaves_as_sqlalchemys_class_for_it(database_url: str) -> None:
    """As in production: an autocommit read connection, not a test's transaction."""
    db = Database(database_url)
    by_id = select(Article.id).where(Article.id == bindparam("id"))
    try:
        with pytest.raises(DataError) as raised:
            driver.rows(db.read_connection(), by_id, {"id": "not a number"})
        assert not raised.value.connection_invalidated
        # nothing was left aborted: the same connection reads on
        assert driver.rows(db.read_connection(), by_id, {"id": 0}) == []
    finally:
        db.dispose()


def test_a_lost_connection_is_left_for_sqlalchemy_to_invalidate(database_url: str) -> None:
    db = Database(database_url)
    try:
        connection = db.read_connection()
        connection.connection.driver_connection.close()  # type: ignore[union-attr]
        with pytest.raises(DBAPIError) as raised:
            driver.rows(connection, tag_queries._TAGS, {})
        assert raised.value.connection_invalidated  # so api/errors.py reads once more
        assert connection.invalidated
        db.remove()  # the request's end drops it; the next one connects afresh
        assert driver.rows(db.read_connection(), tag_queries._TAGS, {}) == []
    finally:
        db.dispose()


def test_an_insert_binds_constant_defaults_and_leaves_computed_ones_to_sqlalchemy(
    db: Database,
) -> None:
    connection = db.read_connection()  # only compiled against
    new_tag = insert(Tag).values(name=bindparam("name"))  # articles_count: default 0
    prepared = driver._prepare(connection, new_tag)
    assert prepared is not None and prepared.constants["articles_count"] == 0
    # created_at: default=utcnow, a function SQLAlchemy calls per row
    new_comment = insert(Comment).values(
        body=bindparam("body"), article_id=bindparam("a"), author_id=bindparam("u")
    )
    assert driver._prepare(connection, new_comment) is None
