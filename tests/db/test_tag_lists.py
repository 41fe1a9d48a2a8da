"""A list by tag reads its page from ix_article_tags_tag_id_created_at (migration 0015).

Before, PostgreSQL ran the prepared list-by-tag statement with one plan for its first five
runs on a connection (hash all articles with the tag's links, sort) and the generic plan
after (walk every article newest first, probing each for the tag): which one a worker kept,
and how rare or old the tag was, decided the cost. Both plans now walk the tag's links in
the lists' order and stop after the page; the links carry their article's creation time on
every path that writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from db import driver
from db.models import Article, article_tags
from db.queries._lists import ListShape, _page_statement
from db.session import Database
from testkit.database import PostgresServer
from tests.factories import body_of, create_article, register

ARTICLES = 2000
PAGE = 5


def test_links_carry_their_article_creation_time(client: FlaskClient, db: Database) -> None:
    author = register(client)
    created = create_article(client, author, tagList=["b", "a"])
    client.put(
        f"/api/articles/{created['slug']}",
        json={"article": {"tagList": ["c", "a"]}},
        headers=author.headers,
    )
    session = db.session()
    links = session.execute(
        select(article_tags.c.created_at, Article.created_at).join(
            Article, Article.id == article_tags.c.article_id
        )
    ).all()
    assert len(links) == 2
    assert all(link == article for link, article in links)


def test_list_by_tag_is_newest_first_with_ties_by_id(client: FlaskClient) -> None:
    author = register(client)
    slugs = [create_article(client, author, tagList=["t"])["slug"] for _ in range(4)]
    create_article(client, author, tagList=["other"])
    page = body_of(client.get("/api/articles?tag=t&limit=3&offset=1"))
    assert [a["slug"] for a in page["articles"]] == slugs[::-1][1:4]
    assert page["articlesCount"] == 4


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


@pytest.fixture(scope="module")
def planned(postgres_server: PostgresServer) -> Iterator[Session]:
    """A session on a PostgreSQL database of the module's own (a planner needs real tables)."""
    with postgres_server.database(migrate=True) as url:
        engine = create_engine(url)
        with Session(engine) as session:
            _seed(session)
            yield session
        engine.dispose()


def _seed(session: Session) -> None:
    session.execute(
        text(
            "INSERT INTO users (username, username_key, email, password_hash, bio, created_at)"
            " VALUES ('planner', 'planner', 'planner@example.com', 'x', '', now())"
        )
    )
    # Every article has the common tag; the rare one is on the oldest few only, so a walk
    # of all articles newest first would pass nearly all of them before finding its page.
    session.execute(
        text(
            "INSERT INTO articles (slug, title, description, body, author_id, created_at,"
            " updated_at, favorites_count)"
            " SELECT 'plan-' || n, 't', 'd', 'b', (SELECT id FROM users WHERE username ="
            " 'planner'), now() - n * interval '1 minute', now(), 0"
            " FROM generate_series(1, :n) AS n"
        ),
        {"n": ARTICLES},
    )
    session.execute(text("INSERT INTO tags (name) VALUES ('common'), ('rare')"))
    session.execute(
        text(
            "INSERT INTO article_tags (article_id, tag_id, created_at)"
            " SELECT a.id, t.id, a.created_at FROM articles a JOIN tags t"
            " ON t.name = 'common' OR (t.name = 'rare' AND a.slug IN"
            " (SELECT 'plan-' || n FROM generate_series(:n - 9, :n) AS n))"
        ),
        {"n": ARTICLES},
    )
    session.commit()
    session.execute(text("ANALYZE articles, article_tags, tags, users"))
    session.commit()


@pytest.mark.parametrize("mode", ["force_custom_plan", "force_generic_plan"])
def test_both_plans_read_only_the_page_from_the_tag_index(planned: Session, mode: str) -> None:
    session = planned
    # The SQL the app sends (db/driver.py renders the statement's constants into it).
    prepared = driver._prepare(session.connection(), _page_statement(ListShape(tag=True), True))
    assert prepared is not None
    sql = prepared.sql
    for name, number in (("tag", 1), ("limit", 2), ("offset", 3)):
        sql = sql.replace(f"%({name})s", f"${number}")
    session.execute(text("SET LOCAL plan_cache_mode = " + mode))
    session.execute(text(f"PREPARE tag_page (varchar, integer, integer) AS {sql}"))
    try:
        for tag in ("rare", "common"):
            explained = session.execute(
                text(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE tag_page('{tag}', {PAGE}, 0)")
            ).scalar_one()
            nodes = _nodes(explained[0]["Plan"])
            walks = [n for n in nodes if n.get("Index Name") == "ix_article_tags_tag_id_created_at"]
            page = [n for n in walks if n.get("Scan Direction") == "Backward"]
            assert len(page) == 1, (tag, mode, [n["Node Type"] for n in nodes])
            assert page[0]["Actual Rows"] == PAGE
            assert not [n for n in nodes if n.get("Index Name") == "ix_articles_created_at_id"]
    finally:
        session.execute(text("DEALLOCATE tag_page"))
        session.rollback()
