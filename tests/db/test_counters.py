"""The articles counters on tags and users (migration 0010's triggers) stay exact on every path."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, text

from db import counters
from db.models import Article, Tag, User, article_tags, tag_count_deltas, user_count_deltas
from db.session import Database
from tests.factories import USER_ARTICLES_SQL, body_of, create_article, register


def assert_exact(db: Database) -> None:
    """Every count read as the app reads it (row + pending deltas) is exact; folded into the
    rows, they are exact as they stand, with nothing pending."""
    session = db.session()
    links = select(func.count()).where(article_tags.c.tag_id == Tag.id).scalar_subquery()
    written = select(func.count()).where(Article.author_id == User.id).scalar_subquery()
    tags = select(Tag.name).select_from(counters.tags_with_counts())
    users = select(User.username).select_from(counters.users_with_counts())
    assert session.scalars(tags.where(links != counters.TAG_ARTICLES)).all() == []
    assert session.scalars(users.where(written != counters.USER_ARTICLES)).all() == []
    counters.fold(session)
    assert session.scalars(select(Tag.name).where(Tag.articles_count != links)).all() == []
    assert session.scalars(select(User.username).where(User.articles_count != written)).all() == []
    for deltas in (tag_count_deltas, user_count_deltas):
        assert session.scalar(select(func.count()).select_from(deltas)) == 0


def tags(client: FlaskClient) -> list[str]:
    return list(body_of(client.get("/api/tags"))["tags"])


def test_tags_rank_by_use_then_name_and_follow_every_change(
    client: FlaskClient, db: Database
) -> None:
    author = register(client)
    first = create_article(client, author, tagList=["b", "a", "c"])["slug"]
    create_article(client, author, tagList=["c", "d"])
    assert tags(client) == ["c", "a", "b", "d"]
    assert_exact(db)

    # a new list replaces the links: a tag no article uses any more is not listed
    client.put(f"/api/articles/{first}", headers=author.headers,
               json={"article": {"tagList": ["d", "e"]}})  # fmt: skip
    assert tags(client) == ["d", "c", "e"]
    assert_exact(db)

    client.delete(f"/api/articles/{first}", headers=author.headers)
    assert tags(client) == ["c", "d"]
    assert_exact(db)


def test_cascades_count_too(client: FlaskClient, db: Database) -> None:
    """A user deleted outside the API takes their articles and those articles' links along."""
    leaving, staying = register(client), register(client)
    create_article(client, leaving, tagList=["gone", "shared"])
    create_article(client, leaving, tagList=["shared"])
    create_article(client, staying, tagList=["shared"])
    session = db.session()
    session.execute(delete(User).where(User.username == leaving.username))
    session.commit()
    assert tags(client) == ["shared"]
    assert_exact(db)


def test_author_and_feed_totals_read_the_counters(client: FlaskClient, db: Database) -> None:
    reader, one, other = register(client), register(client), register(client)
    for author, n in ((one, 3), (other, 2)):
        for _ in range(n):
            create_article(client, author)
        client.post(f"/api/profiles/{author.username}/follow", headers=reader.headers)
    listed = body_of(client.get("/api/articles", query_string={"author": one.username}))
    assert listed["articlesCount"] == 3 == len(listed["articles"])
    unknown = body_of(client.get("/api/articles", query_string={"author": "nobody"}))
    assert unknown == {"articles": [], "articlesCount": 0}
    past = body_of(client.get("/api/articles",
                              query_string={"author": other.username, "offset": 5}))  # fmt: skip
    assert past == {"articles": [], "articlesCount": 2}
    feed = body_of(client.get("/api/articles/feed", headers=reader.headers))
    assert feed["articlesCount"] == 5 == len(feed["articles"])
    past = body_of(client.get("/api/articles/feed?offset=9", headers=reader.headers))
    assert past == {"articles": [], "articlesCount": 5}
    lonely = register(client)
    assert body_of(client.get("/api/articles/feed", headers=lonely.headers)) == {
        "articles": [],
        "articlesCount": 0,
    }
    assert db.session().scalar(text(f"SELECT {USER_ARTICLES_SQL} FROM users WHERE username = :u"),  # noqa: S608 (our own SQL)
                               {"u": one.username}) == 3  # fmt: skip
    assert_exact(db)
