"""No N+1: each read costs a fixed, small number of SQL statements, whatever the page size.

The counts include the token's user lookup (one statement) when a token is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select, update

from db.models import Article, Comment, User, favorites, follows
from db.session import Database
from testkit.database import QueryCounter
from tests.factories import Account, body_of, create_article, register

PAGE = 20


@dataclass
class Data:
    reader: Account
    authors: list[Account]
    slug: str  # an article with PAGE comments by several authors
    single_comment_slug: str


def user_id(db: Database, account: Account) -> int:
    found = db.session().scalar(select(User.id).where(User.username == account.username))
    assert found is not None
    return found


@pytest.fixture
def data(client: FlaskClient, db: Database) -> Data:
    """PAGE articles by three authors with tags, favorites and comments; the reader follows all.

    Articles go through the API (slugs, tags); the rest is inserted in bulk, for speed.
    """
    reader = register(client)
    authors = [register(client) for _ in range(3)]
    slugs = [
        create_article(client, authors[n % 3], tagList=[f"tag{n}", f"shared{n % 2}"])["slug"]
        for n in range(PAGE)
    ]
    session = db.session()
    ids = {slug: id_ for slug, id_ in session.execute(select(Article.slug, Article.id))}
    reader_id, *author_ids = (user_id(db, a) for a in (reader, *authors))
    session.execute(
        insert(favorites),
        [{"user_id": reader_id, "article_id": ids[s]} for s in slugs[::2]]
        + [{"user_id": author_ids[0], "article_id": ids[s]} for s in slugs[:5]],
    )
    # Bulk rows bypass the favorite statements, so the counters are set as they would be.
    session.execute(
        update(Article).values(
            favorites_count=select(func.count())
            .where(favorites.c.article_id == Article.id)
            .scalar_subquery()
        )
    )
    session.execute(
        insert(follows), [{"follower_id": reader_id, "followed_id": a} for a in author_ids]
    )
    session.add_all(
        Comment(body=f"comment {n}", article_id=ids[slugs[0]], author_id=author_ids[n % 3])
        for n in range(PAGE)
    )
    session.add(Comment(body="alone", article_id=ids[slugs[1]], author_id=author_ids[0]))
    session.commit()
    db.session.remove()
    return Data(reader, authors, slugs[0], slugs[1])


def count(
    client: FlaskClient, queries: QueryCounter, url: str, account: Account | None = None
) -> tuple[int, dict[str, Any]]:
    with queries:
        response = client.get(url, headers=account.headers if account else {})
    assert response.status_code == 200, response.json
    return queries.count, body_of(response)


def test_article_lists_and_feed(client: FlaskClient, queries: QueryCounter, data: Data) -> None:
    # anonymous: the page, with the total as a window count
    one, page_one = count(client, queries, "/api/articles?limit=1")
    many, page_many = count(client, queries, f"/api/articles?limit={PAGE}")
    assert (len(page_one["articles"]), len(page_many["articles"])) == (1, PAGE)
    assert one == many == 1

    # with a token: the viewer, then the page (favorited/following included)
    one, page_one = count(client, queries, "/api/articles?limit=1", data.reader)
    many, page_many = count(client, queries, f"/api/articles?limit={PAGE}", data.reader)
    assert (len(page_one["articles"]), len(page_many["articles"])) == (1, PAGE)
    assert sum(a["favorited"] for a in page_many["articles"]) == PAGE // 2
    assert all(a["author"]["following"] for a in page_many["articles"])
    assert one == many == 2

    # a refused token is served as anonymous: no viewer lookup, no viewer flags
    forged = Account(
        username=data.reader.username,
        email=data.reader.email,
        token=f"{data.reader.token.rsplit('.', 1)[0]}.{'A' * 43}",
    )
    refused, page_refused = count(client, queries, f"/api/articles?limit={PAGE}", forged)
    assert not any(a["favorited"] or a["author"]["following"] for a in page_refused["articles"])
    assert refused == 1

    # every filter at once costs no more
    query = f"tag=shared0&author={data.authors[0].username}&favorited={data.reader.username}"
    one, _ = count(client, queries, f"/api/articles?{query}&limit=1", data.reader)
    many, page = count(client, queries, f"/api/articles?{query}", data.reader)
    assert page["articlesCount"] == len(page["articles"]) > 1
    assert one == many == 2

    # a page past the end: the empty page, then the total on its own
    n, page = count(client, queries, f"/api/articles?offset={PAGE}")
    assert page == {"articles": [], "articlesCount": PAGE}
    assert n == 2

    # the feed: the viewer, then the page
    one, page_one = count(client, queries, "/api/articles/feed?limit=1", data.reader)
    many, page_many = count(client, queries, f"/api/articles/feed?limit={PAGE}", data.reader)
    assert (len(page_one["articles"]), len(page_many["articles"])) == (1, PAGE)
    assert one == many == 2


def test_single_article_and_comments(
    client: FlaskClient, queries: QueryCounter, data: Data
) -> None:
    anonymous, body = count(client, queries, f"/api/articles/{data.slug}")
    assert len(body["article"]["tagList"]) == 2 and body["article"]["favoritesCount"] == 2
    assert anonymous == 1
    viewer, body = count(client, queries, f"/api/articles/{data.slug}", data.reader)
    assert body["article"]["favorited"] is True
    assert viewer == 2

    # the article's id and all its comments with their authors, in one statement
    one, few = count(client, queries, f"/api/articles/{data.single_comment_slug}/comments")
    many, lots = count(client, queries, f"/api/articles/{data.slug}/comments")
    assert (len(few["comments"]), len(lots["comments"])) == (1, PAGE)
    assert one == many == 1
    one, few = count(
        client, queries, f"/api/articles/{data.single_comment_slug}/comments", data.reader
    )
    many, lots = count(client, queries, f"/api/articles/{data.slug}/comments", data.reader)
    assert all(c["author"]["following"] for c in lots["comments"])
    assert one == many == 2


def test_tags(client: FlaskClient, queries: QueryCounter) -> None:
    author = register(client)
    create_article(client, author, tagList=["only"])
    one, few = count(client, queries, "/api/tags")
    create_article(client, author, tagList=[f"t{n}" for n in range(PAGE - 1)])
    many, lots = count(client, queries, "/api/tags")
    assert (len(few["tags"]), len(lots["tags"])) == (1, PAGE)
    assert one == many == 1


def test_a_token_costs_one_statement_reading_no_password_hash(
    client: FlaskClient, queries: QueryCounter
) -> None:
    account = register(client)
    n, body = count(client, queries, "/api/user", account)
    assert body["user"]["username"] == account.username
    assert n == 1
    (statement,) = queries.statements
    assert "password_hash" not in statement and "revoked_tokens" in statement


def _write(
    client: FlaskClient, queries: QueryCounter, method: str, url: str, account: Account, **kw: Any
) -> tuple[int, dict[str, Any]]:
    with queries:
        response = client.open(url, method=method, headers=account.headers, **kw)
    assert response.status_code in (200, 201), response.json
    return queries.count, body_of(response)


def test_writes_cost_a_fixed_few_statements(
    client: FlaskClient, queries: QueryCounter, backend: str
) -> None:
    """Each count includes the token's lookup; none depends on how many tags there are."""
    author, fan = register(client), register(client)
    create_article(client, author, tagList=["known"])
    article = {"title": "Counted", "description": "d", "body": "b"}

    # PostgreSQL: one statement stores the article under a slug found in it, its new tags,
    # its links and its outbox event (for the author's followers, if any: fanned out later).
    # SQLite: the article, then all new tags, then all links, then the event.
    n, body = _write(
        client, queries, "POST", "/api/articles", author,
        json={"article": {**article, "tagList": ["known", *(f"new{i}" for i in range(9))]}},
    )  # fmt: skip
    assert len(body["article"]["tagList"]) == 10
    assert n == (2 if backend == "postgresql" else 5)
    n, body = _write(client, queries, "POST", "/api/articles", author, json={"article": article})
    assert body["article"]["slug"] == "counted-2"
    assert n == (2 if backend == "postgresql" else 3)
    slug = body["article"]["slug"]

    # the article's owner and name, one UPDATE, the answer
    n, _ = _write(client, queries, "PUT", f"/api/articles/{slug}", author,
                  json={"article": {"body": "new"}})  # fmt: skip
    assert n == 4

    # PostgreSQL: the article's row locked first (the lock order), then the favorites row and
    # its counter in one statement; SQLite: the row, then the counter. Then the answer; a
    # favorite also emits its outbox event for the author
    for method in ("POST", "DELETE"):
        n, body = _write(client, queries, method, f"/api/articles/{slug}/favorite", fan)
        assert body["article"]["favorited"] is (method == "POST")
        assert n == 4 + (method == "POST")

    # the follow row (the name resolved inside the statement), then the answer; a follow
    # also emits its outbox event for the one followed
    for method in ("POST", "DELETE"):
        n, body = _write(client, queries, method, f"/api/profiles/{author.username}/follow", fan)
        assert body["profile"]["following"] is (method == "POST")
        assert n == 3 + (method == "POST")
