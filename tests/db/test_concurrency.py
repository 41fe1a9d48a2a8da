"""Races on real PostgreSQL transactions: the database's constraints decide, never a 500.

These need real commits, which the rolled-back-transaction `client` fixture cannot give, so
the module builds its own app over its own throwaway database and empties it between tests.
Each thread has its own test client; a barrier lines the requests up.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from sqlalchemy import insert, text

from api.context import runtime_of
from db.models import Base, User
from testkit.database import PostgresServer
from tests.factories import (
    PASSWORD,
    TAG_ARTICLES_SQL,
    USER_ARTICLES_SQL,
    Account,
    body_of,
    create_article,
    register,
)
from tests.support.apps import built_app

pytestmark = pytest.mark.postgres_only

# Below the app's pool (5 + 5 overflow) so a request never waits on a connection.
THREADS = 10

Result = tuple[int, Any]


@pytest.fixture(scope="module")
def app(postgres_server: PostgresServer) -> Iterator[Flask]:
    """A committed-for-real app on a database of its own (PostgreSQL only, by construction)."""
    with postgres_server.database(migrate=True) as url, built_app(url) as application:
        yield application


@pytest.fixture(autouse=True)
def empty_tables(app: Flask) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with runtime_of(app).database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def scalar(app: Flask, sql: str, **params: Any) -> Any:
    with runtime_of(app).database.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def race(app: Flask, requests: list[Callable[[FlaskClient], Any]]) -> list[Result]:
    """Run each request in its own thread, all released at once; (status, json) per request."""
    barrier = threading.Barrier(len(requests), timeout=15)
    results: list[Result | None] = [None] * len(requests)
    failures: list[BaseException] = []

    def run(index: int, send: Callable[[FlaskClient], Any]) -> None:
        client = app.test_client()
        try:
            barrier.wait()
            response = send(client)
            results[index] = (response.status_code, response.get_json(silent=True))
        except BaseException as exc:  # surfaced below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert not failures, failures
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def statuses(results: list[Result]) -> Counter[int]:
    return Counter(status for status, _ in results)


def _signup(username: str, email: str) -> Callable[[FlaskClient], Any]:
    def send(client: FlaskClient) -> Any:
        user = {"username": username, "email": email, "password": PASSWORD}
        return client.post("/api/users", json={"user": user})

    return send


def _winner(results: list[Result]) -> dict[str, Any]:
    """The one registration that succeeded; every other one lost the race with a 409."""
    assert statuses(results) == {201: 1, 409: THREADS - 1}, results
    (user,) = [body["user"] for status, body in results if status == 201]
    return dict(user)


def test_same_username_registrations_race(app: Flask, client: FlaskClient) -> None:
    results = race(app, [_signup("racer", f"racer{i}@example.com") for i in range(THREADS)])
    winner = _winner(results)
    assert winner["username"] == "racer"
    for status, body in results:
        if status == 409:
            assert body == {"errors": {"username": ["has already been taken"]}}
    assert scalar(app, "SELECT count(*) FROM users WHERE username = 'racer'") == 1
    assert scalar(app, "SELECT count(*) FROM users") == 1
    # the row is the winner's: their email, and their token works
    assert scalar(app, "SELECT email FROM users WHERE username = 'racer'") == winner["email"]
    me = client.get("/api/user", headers={"Authorization": f"Token {winner['token']}"})
    assert me.status_code == 200 and body_of(me)["user"]["email"] == winner["email"]


def test_same_email_registrations_race(app: Flask, client: FlaskClient) -> None:
    results = race(app, [_signup(f"mail{i}", "same@example.com") for i in range(THREADS)])
    winner = _winner(results)
    assert winner["email"] == "same@example.com"
    for status, body in results:
        if status == 409:
            assert body == {"errors": {"email": ["has already been taken"]}}
    assert scalar(app, "SELECT count(*) FROM users WHERE email = 'same@example.com'") == 1
    assert scalar(app, "SELECT count(*) FROM users") == 1
    assert scalar(app, "SELECT username FROM users") == winner["username"]
    me = client.get("/api/user", headers={"Authorization": f"Token {winner['token']}"})
    assert me.status_code == 200 and body_of(me)["user"]["username"] == winner["username"]


def _favorite(slug: str, account: Account) -> Callable[[FlaskClient], Any]:
    def send(client: FlaskClient) -> Any:
        return client.post(f"/api/articles/{slug}/favorite", headers=account.headers)

    return send


def test_many_users_favorite_one_article_in_parallel(app: Flask, client: FlaskClient) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    fans = [register(client) for _ in range(THREADS)]
    results = race(app, [_favorite(slug, fan) for fan in fans])
    assert statuses(results) == {200: THREADS}, results
    for _, body in results:
        assert body["article"]["favorited"] is True
        assert 1 <= body["article"]["favoritesCount"] <= THREADS
    assert body_of(client.get(f"/api/articles/{slug}"))["article"]["favoritesCount"] == THREADS
    assert scalar(app, "SELECT count(*) FROM favorites") == THREADS


def test_one_user_favorites_one_article_in_parallel(app: Flask, client: FlaskClient) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    fan = register(client)
    results = race(app, [_favorite(slug, fan) for _ in range(THREADS)])
    assert statuses(results) == {200: THREADS}, results
    assert all(body["article"]["favoritesCount"] == 1 for _, body in results), results
    assert body_of(client.get(f"/api/articles/{slug}"))["article"]["favoritesCount"] == 1
    assert scalar(app, "SELECT count(*) FROM favorites") == 1


def _create(account: Account, **article: Any) -> Callable[[FlaskClient], Any]:
    body = {"description": "d", "body": "b", **article}

    def send(client: FlaskClient) -> Any:
        return client.post("/api/articles", json={"article": body}, headers=account.headers)

    return send


def test_same_title_creates_get_distinct_slugs(app: Flask, client: FlaskClient) -> None:
    authors = [register(client) for _ in range(THREADS)]
    results = race(app, [_create(a, title="How to race") for a in authors])
    assert statuses(results) == {201: THREADS}, results
    slugs = [body["article"]["slug"] for _, body in results]
    assert len(set(slugs)) == THREADS, slugs
    assert "how-to-race" in slugs
    assert all(s.startswith("how-to-race") for s in slugs)
    for slug in slugs:
        assert client.get(f"/api/articles/{slug}").status_code == 200
    assert scalar(app, "SELECT count(*) FROM articles") == THREADS


def test_first_use_of_a_new_tag_in_parallel(app: Flask, client: FlaskClient) -> None:
    author = register(client)
    results = race(
        app,
        [
            _create(author, title=f"Tagged {i}", tagList=["brand-new", f"own-{i}"])
            for i in range(THREADS)
        ],
    )
    assert statuses(results) == {201: THREADS}, results
    for i, (_, body) in enumerate(results):
        assert body["article"]["tagList"] == sorted(["brand-new", f"own-{i}"])
    assert scalar(app, "SELECT count(*) FROM tags WHERE name = 'brand-new'") == 1
    assert scalar(app, "SELECT count(*) FROM tags") == THREADS + 1
    listed = body_of(client.get("/api/articles", query_string={"tag": "brand-new"}))
    assert listed["articlesCount"] == THREADS
    assert body_of(client.get("/api/tags"))["tags"][0] == "brand-new"


COUNTS_EXACT = f"""
SELECT (SELECT count(*) FROM tags
        WHERE {TAG_ARTICLES_SQL} <> (SELECT count(*) FROM article_tags WHERE tag_id = tags.id))
     + (SELECT count(*) FROM users
        WHERE {USER_ARTICLES_SQL} <> (SELECT count(*) FROM articles WHERE author_id = users.id))
"""  # noqa: S608 (our own SQL)


def _put_tags(slug: str, account: Account, tags: list[str]) -> Callable[[FlaskClient], Any]:
    def send(client: FlaskClient) -> Any:
        body = {"article": {"tagList": tags}}
        return client.put(f"/api/articles/{slug}", json=body, headers=account.headers)

    return send


def _delete(slug: str, account: Account) -> Callable[[FlaskClient], Any]:
    def send(client: FlaskClient) -> Any:
        return client.delete(f"/api/articles/{slug}", headers=account.headers)

    return send


def test_parallel_creates_with_the_same_tags_count_exactly(app: Flask, client: FlaskClient) -> None:
    """Every create bumps each of its tags' and its author's counters: none lost, no deadlock."""
    authors = [register(client) for _ in range(2)]
    shared = ["alpha", "beta", "gamma", "delta"]
    results = race(
        app,
        [
            # each create names the shared tags in another order, and an own new one
            _create(authors[i % 2], title=f"Counted {i}", tagList=[*shared[i % 4 :], *shared[: i % 4], f"own-{i}"])
            for i in range(THREADS)
        ],
    )  # fmt: skip
    assert statuses(results) == {201: THREADS}, results
    for name in shared:
        assert (
            scalar(app, f"SELECT {TAG_ARTICLES_SQL} FROM tags WHERE name = :n", n=name) == THREADS  # noqa: S608 (our own SQL)
        )
    assert scalar(app, COUNTS_EXACT) == 0
    tags = body_of(client.get("/api/tags"))["tags"]
    assert tags[:4] == sorted(shared) and len(tags) == 4 + THREADS
    for author in authors:
        listed = body_of(client.get("/api/articles", query_string={"author": author.username}))
        assert listed["articlesCount"] == THREADS // 2


def test_creates_retags_and_deletes_in_parallel_count_exactly(
    app: Flask, client: FlaskClient
) -> None:
    """Writes that add and remove links and articles at once keep every counter exact."""
    author, reader = register(client), register(client)
    client.post(f"/api/profiles/{author.username}/follow", headers=reader.headers)
    slugs = [create_article(client, author, tagList=["one", "two"])["slug"] for _ in range(6)]
    requests = [
        *(_put_tags(slug, author, ["three", "two", "zero"]) for slug in slugs[:3]),
        *(_delete(slug, author) for slug in slugs[3:]),
        *(_create(author, title=f"New {i}", tagList=["zero", "one", "three"]) for i in range(4)),
    ]
    results = race(app, requests)
    assert statuses(results) == {200: 3, 204: 3, 201: 4}, results
    assert scalar(app, COUNTS_EXACT) == 0
    assert (
        scalar(app, f"SELECT {USER_ARTICLES_SQL} FROM users WHERE username = :n", n=author.username)  # noqa: S608 (our own SQL)
        == 7
    )
    feed = body_of(client.get("/api/articles/feed", headers=reader.headers))
    assert feed["articlesCount"] == 7
    assert body_of(client.get("/api/tags"))["tags"] == ["three", "zero", "one", "two"]


def test_case_and_look_alike_registrations_race(app: Flask, client: FlaskClient) -> None:
    """Names equal under case folding and look-alikes race like one name: the key decides."""
    names = [
        "Racer",
        "RACER",
        "racer",
        "\uff52\uff41\uff43\uff45\uff52",
        "rAcer",
    ] * 2  # fullwidth normalizes to racer
    results = race(app, [_signup(name, f"variant{i}@example.com") for i, name in enumerate(names)])
    _winner(results)
    for status, body in results:
        if status == 409:
            assert body == {"errors": {"username": ["has already been taken"]}}
    assert scalar(app, "SELECT count(*) FROM users") == 1
    assert scalar(app, "SELECT username_key FROM users") == "racer"


FANS = 100


def _fan_tokens(app: Flask, count: int) -> list[dict[str, str]]:
    """Headers of `count` users made in one statement: registering each would hash passwords."""
    rows = [
        {"username": f"fan{i}", "username_key": f"fan{i}", "email": f"fan{i}@example.com"}
        for i in range(count)
    ]
    with runtime_of(app).database.engine.begin() as conn:
        user_ids = conn.scalars(
            insert(User).values(password_hash="unusable").returning(User.id), rows
        ).all()
    with app.app_context():
        return [
            {"Authorization": f"Token {create_access_token(identity=str(user_id))}"}
            for user_id in user_ids
        ]


def _as(method: str, url: str, headers: dict[str, str]) -> Callable[[FlaskClient], Any]:
    def send(client: FlaskClient) -> Any:
        return client.open(url, method=method, headers=headers)

    return send


def _counter_and_rows(app: Flask) -> tuple[int, int]:
    return (
        scalar(app, "SELECT favorites_count FROM articles"),
        scalar(app, "SELECT count(*) FROM favorites"),
    )


def test_favorites_counter_is_exact_after_a_hundred_parallel_favorites_and_unfavorites(
    app: Flask, client: FlaskClient
) -> None:
    slug = create_article(client, register(client))["slug"]
    fans = _fan_tokens(app, FANS)
    url = f"/api/articles/{slug}/favorite"

    results = race(app, [_as("POST", url, fan) for fan in fans])
    assert statuses(results) == {200: FANS}, results
    assert _counter_and_rows(app) == (FANS, FANS)
    assert body_of(client.get(f"/api/articles/{slug}"))["article"]["favoritesCount"] == FANS

    # Each fan twice more at once, favorite and unfavorite interleaved: whatever order the
    # database ran them in, the counter ends equal to the rows that remain.
    mixed = [_as(m, url, fan) for fan in fans[:50] for m in ("POST", "DELETE")]
    assert statuses(race(app, mixed)) == {200: FANS}
    counter, rows = _counter_and_rows(app)
    assert counter == rows and FANS - 50 <= rows <= FANS

    results = race(app, [_as("DELETE", url, fan) for fan in fans])
    assert statuses(results) == {200: FANS}, results
    assert _counter_and_rows(app) == (0, 0)
    assert body_of(client.get(f"/api/articles/{slug}"))["article"]["favoritesCount"] == 0
