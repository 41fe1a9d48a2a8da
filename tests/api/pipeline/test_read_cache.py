"""The read cache in-process, on real Redis: a hit is the uncached answer byte for byte and runs
no SQL; every committed write makes hits unreachable; authenticated reads never touch it; a
dead or hung Redis is served around. Across workers and under concurrency:
tests/ops/test_read_cache_live.py."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api import create_app
from api.context import runtime_of, web_app
from api.pipeline import cache as cache_module
from api.pipeline import cache_edge
from api.pipeline.cache import ENTRY_PREFIX, GENERATION_KEY, request_digest
from api.pipeline.cache_edge import CacheEdge
from db.session import Database
from testkit.database import QueryCounter
from testkit.http import ready_state
from testkit.redis_server import CACHE_REDIS_URL, private_redis, shared_redis
from testkit.servers import free_port
from testkit.settings import make_settings
from tests.factories import Account, add_comment, body_of, create_article, register

# These modules share Redis db 12 (testkit CACHE_REDIS_URL) and flush it: one xdist worker.
pytestmark = pytest.mark.xdist_group("redis-db-12")

READS = [
    "/api/articles?limit=5",
    "/api/articles?tag=dragons",
    "/api/articles/{slug}",
    "/api/articles/{slug}/comments",
    "/api/tags",
]
CONDITIONAL_READS = READS[:4]


def generation_in(client: redis.Redis) -> int:
    value = cast("bytes | None", client.get(GENERATION_KEY))
    return int(value or 0)


def cache_app(database_url: str, redis_url: str) -> Flask:
    application = create_app(make_settings(database_url, redis_url=redis_url))
    application.config["TESTING"] = True
    return application


@contextmanager
def rolled_back(*apps: Flask) -> Iterator[Database]:
    """Every app's sessions in one connection's transaction, rolled back at the end."""
    databases: list[Database] = [runtime_of(a).database for a in apps]
    connection = databases[0].engine.connect()
    transaction = connection.begin()
    for database in databases:
        database.bind(connection)
    try:
        yield databases[0]
    finally:
        for database in databases:
            database.bind(None)
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="module")
def redis_client() -> Iterator[redis.Redis]:
    client = shared_redis()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def cached_app(database_url: str, redis_client: redis.Redis) -> Iterator[Flask]:
    application = cache_app(database_url, CACHE_REDIS_URL)
    yield application
    runtime_of(application).dispose()


@dataclass
class World:
    client: FlaskClient  # the cached app
    plain: FlaskClient  # the same database, no cache: what an uncached answer is
    redis: redis.Redis
    queries: QueryCounter
    author: Account
    fan: Account
    slug: str

    def generation(self) -> int:
        return generation_in(self.redis)

    def read(self, path: str, **kwargs: Any) -> tuple[TestResponse, int]:
        """The response and how many SQL statements it ran."""
        with self.queries:
            response = self.client.get(path.format(slug=self.slug), **kwargs)
        return response, self.queries.count


@pytest.fixture
def world(app: Flask, cached_app: Flask, redis_client: redis.Redis) -> Iterator[World]:
    with rolled_back(cached_app, app) as database:
        client = cached_app.test_client()
        author, fan = register(client), register(client)
        slug = create_article(client, author, tagList=["dragons"])["slug"]
        add_comment(client, author, slug)
        redis_client.flushdb()
        yield World(
            client,
            app.test_client(),
            redis_client,
            QueryCounter(database.engine),
            author,
            fan,
            slug,
        )
    redis_client.flushdb()


# Per request by nature: the request id, and the clock (two reads can straddle a second).
PER_REQUEST = frozenset({"X-Request-ID", "Date"})


def headers(response: TestResponse) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.items() if k not in PER_REQUEST]


@pytest.mark.parametrize("origin", [None, "https://frontend.example"])
@pytest.mark.parametrize("path", READS)
def test_a_hit_is_the_uncached_answer_and_runs_no_sql(
    world: World, path: str, origin: str | None
) -> None:
    sent = {"Origin": origin} if origin else {}  # CORS headers, added after the view, too
    uncached = world.plain.get(path.format(slug=world.slug), headers=sent)
    miss, miss_statements = world.read(path, headers=sent)
    hit, hit_statements = world.read(path, headers=sent)
    assert uncached.status_code == miss.status_code == hit.status_code == 200
    assert miss_statements > 0
    assert hit_statements == 0, "a hit must not reach the database"
    assert hit.data == miss.data == uncached.data
    assert headers(hit) == headers(miss) == headers(uncached)
    assert ("ETag" in hit.headers) == (path != "/api/tags")  # as without the cache


@pytest.mark.parametrize("path", CONDITIONAL_READS)
def test_a_hit_answers_if_none_match(world: World, path: str) -> None:
    etag = world.read(path)[0].headers["ETag"]
    not_modified, statements = world.read(path, headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.data, statements) == (304, b"", 0)
    assert not_modified.headers["ETag"] == etag
    assert headers(not_modified) == headers(
        world.plain.get(path.format(slug=world.slug), headers={"If-None-Match": etag})
    )
    full, statements = world.read(path, headers={"If-None-Match": '"another"'})
    assert (full.status_code, statements) == (200, 0)
    assert full.headers["ETag"] == etag


def test_a_worker_serves_entries_it_keeps_only_while_current(
    world: World, cached_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries a worker read or filled are answered from its memory (Redis sends the
    generation alone), only while their generation is current and within the TTL."""
    path = f"/api/articles/{world.slug}/comments"
    read_cache = cached_app.read_cache  # type: ignore[attr-defined]
    key = read_cache.prefix + request_digest({"PATH_INFO": path, "QUERY_STRING": ""})
    assert world.read(path)[1] > 0  # the fill, kept by this worker too
    assert world.redis.delete(key) == 1
    kept, statements = world.read(path)
    assert (kept.status_code, statements) == (200, 0), "answered from the worker's memory"
    _comment(world)  # a write moves the generation: what the worker keeps is stale
    fresh, statements = world.read(path)
    assert statements > 0
    assert fresh.data == world.plain.get(path).data
    assert len(body_of(fresh)["comments"]) == 2
    # Another worker's fill, read from Redis, is then kept here as well.
    assert world.redis.delete(key) == 1
    world.read(path)  # this worker fills again
    world.redis.delete(key)
    assert world.read(path)[1] == 0
    # Never past the TTL, even from memory and with the generation unchanged.
    later = time.time() + read_cache.ttl_seconds + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert world.read(path)[1] > 0


def test_kept_entries_are_bounded(
    world: World, cached_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_cache = cached_app.read_cache  # type: ignore[attr-defined]
    monkeypatch.setattr(cache_module, "LOCAL_BYTES", 3000)
    for offset in range(6):
        assert world.read(f"/api/articles?limit=5&offset={offset}")[0].status_code == 200
        assert read_cache.local_bytes <= 3000
        assert read_cache.local_bytes == sum(len(s.entry.body) for s in read_cache.local.values())
    assert read_cache.local, "the last fills are kept"


def _favorite(w: World) -> None:
    w.client.post(f"/api/articles/{w.slug}/favorite", headers=w.fan.headers)


def _comment(w: World) -> None:
    add_comment(w.client, w.fan, w.slug, "a second one")


def _uncomment(w: World) -> None:
    [comment] = body_of(w.plain.get(f"/api/articles/{w.slug}/comments"))["comments"]
    w.client.delete(f"/api/articles/{w.slug}/comments/{comment['id']}", headers=w.author.headers)


def _edit(w: World) -> None:
    body = {"article": {"body": "rewritten"}}
    w.client.put(f"/api/articles/{w.slug}", json=body, headers=w.author.headers)


def _bio(w: World) -> None:
    w.client.put("/api/user", json={"user": {"bio": "new bio"}}, headers=w.author.headers)


def _publish(w: World) -> None:
    create_article(w.client, w.fan, tagList=["dragons", "fresh"])


def _publish_keyed(w: World) -> None:
    # Its commits are savepoints of one transaction, committed last by the idempotency guard.
    article = {"title": "Keyed", "description": "d", "body": "b", "tagList": ["dragons"]}
    headers = {**w.fan.headers, "Idempotency-Key": "cache-test-key"}
    assert (
        w.client.post("/api/articles", json={"article": article}, headers=headers).status_code
        == 201
    )


def _delete(w: World) -> None:
    w.client.delete(f"/api/articles/{w.slug}", headers=w.author.headers)


# write, the read it must show in, and what that read must then say
WRITES: dict[str, tuple[Callable[[World], None], str, Callable[[dict[str, Any]], bool]]] = {
    "favorite": (_favorite, "/api/articles/{slug}", lambda b: b["article"]["favoritesCount"] == 1),
    "comment": (_comment, "/api/articles/{slug}/comments", lambda b: len(b["comments"]) == 2),
    "delete comment": (_uncomment, "/api/articles/{slug}/comments", lambda b: not b["comments"]),
    "update article": (
        _edit,
        "/api/articles/{slug}",
        lambda b: b["article"]["body"] == "rewritten",
    ),
    "profile": (
        _bio,
        "/api/articles?limit=5",
        lambda b: b["articles"][0]["author"]["bio"] == "new bio",
    ),
    "create article": (_publish, "/api/articles?tag=dragons", lambda b: b["articlesCount"] == 2),
    "new tag": (_publish, "/api/tags", lambda b: "fresh" in b["tags"]),
    "keyed create": (
        _publish_keyed,
        "/api/articles?tag=dragons",
        lambda b: b["articlesCount"] == 2,
    ),
    "delete article": (_delete, "/api/articles?limit=5", lambda b: b["articlesCount"] == 0),
}


@pytest.mark.parametrize("name", WRITES)
def test_the_next_read_after_a_write_sees_it(world: World, name: str) -> None:
    write, path, shows_it = WRITES[name]
    before, _ = world.read(path)
    assert not shows_it(body_of(before))
    assert world.read(path)[1] == 0  # cached
    generation = world.generation()
    write(world)
    assert world.generation() == generation + 1
    after, statements = world.read(path)
    assert statements > 0
    assert shows_it(body_of(after)), body_of(after)


def test_a_follow_invalidates_and_sessions_do_not(world: World) -> None:
    world.read("/api/tags")
    generation = world.generation()
    login = {"user": {"email": world.fan.email, "password": world.fan.password}}
    assert world.client.post("/api/users/login", json=login).status_code == 200
    register(world.client)
    assert world.client.post("/api/users/logout", headers=world.fan.headers).status_code == 204
    other = register(world.client)
    assert world.generation() == generation  # sessions and new users show in no cached read
    edit = {"article": {"body": "not yours"}}
    forbidden = world.client.put(f"/api/articles/{world.slug}", json=edit, headers=other.headers)
    assert forbidden.status_code == 403
    assert world.generation() == generation  # nothing committed, nothing invalidated
    follow = world.client.post(
        f"/api/profiles/{world.author.username}/follow", headers=other.headers
    )
    assert follow.status_code == 200
    assert world.generation() == generation + 1


@pytest.mark.parametrize("path", CONDITIONAL_READS)
def test_authenticated_reads_never_use_the_cache(world: World, path: str) -> None:
    world.client.post(f"/api/profiles/{world.author.username}/follow", headers=world.fan.headers)
    anonymous, _ = world.read(path)
    assert world.read(path)[1] == 0
    mine, statements = world.read(path, headers=world.fan.headers)
    assert statements > 0 and mine.headers["Cache-Control"] == "no-store"
    assert mine.headers["ETag"] != anonymous.headers["ETag"]  # following: another answer
    forged = {"Authorization": f"Token {world.fan.token[:-4]}AAAA"}
    refused, statements = world.read(path, headers=forged)
    assert statements > 0, "a request with a token, even a bad one, is not served from cache"
    assert "WWW-Authenticate" in refused.headers
    world.redis.flushdb()
    world.read(path, headers=world.fan.headers)
    world.read(path, headers=forged)
    assert not list(world.redis.scan_iter(f"{ENTRY_PREFIX}*")), "authenticated reads fill nothing"


def test_spellings_of_one_query_share_an_entry(world: World) -> None:
    world.read("/api/articles?limit=5&offset=0")
    assert world.read("/api/articles?offset=0&limit=5")[1] == 0
    assert world.read("/api/articles?offset=0&limit=%35")[1] == 0
    assert world.read("/api/articles?limit=4&offset=0")[1] > 0
    assert world.read("/api/articles?limit=5&offset=0&tag=dragons")[1] > 0


def test_a_dead_redis_is_served_around(app: Flask, database_url: str) -> None:
    dead = cache_app(database_url, f"redis://127.0.0.1:{free_port()}/0")
    try:
        with rolled_back(dead, app):
            client = dead.test_client()
            author = register(client)
            slug = create_article(client, author)["slug"]
            for path in [p.format(slug=slug) for p in READS]:
                for _ in range(2):
                    answer = client.get(path)
                    assert answer.status_code == 200
                    assert answer.data == app.test_client().get(path).data
            assert (
                client.put(
                    f"/api/articles/{slug}", json={"article": {"body": "x"}}, headers=author.headers
                ).status_code
                == 200
            )
            ready = client.get("/api/ready")
            assert (ready.status_code, ready_state(body_of(ready))) == (
                200,
                ("degraded", "degraded"),
            )
    finally:
        runtime_of(dead).dispose()


class Hung:
    """A port that accepts connections and never answers: a hung Redis. Counts connections."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def test_the_breaker_keeps_a_hung_redis_off_the_path(app: Flask, database_url: str) -> None:
    hung = Hung()
    application = cache_app(database_url, f"redis://127.0.0.1:{hung.port}/0")
    try:
        with rolled_back(application, app):
            client = application.test_client()
            author = register(client)
            slug = create_article(client, author)["slug"]  # its bump times out: breaker open
            assert len(hung.accepted) == 1
            for _ in range(5):
                assert client.get(f"/api/articles/{slug}").status_code == 200
            assert ready_state(client.get("/api/ready").json) == ("degraded", "degraded")
            assert len(hung.accepted) == 1, "an open breaker must not try Redis again"
    finally:
        runtime_of(application).dispose()
        hung.close()


def test_a_failed_bump_is_paid_before_the_next_read(app: Flask, database_url: str) -> None:
    with private_redis() as server:
        application = cache_app(database_url, server.url)
        cache = web_app(application).read_cache
        assert cache is not None
        cache.break_seconds = 0.3  # the test waits it out
        admin = redis.Redis.from_url(server.url)
        try:
            with rolled_back(application, app):
                client = application.test_client()
                author = register(client)
                slug = create_article(client, author)["slug"]
                assert client.get(f"/api/articles/{slug}").status_code == 200  # filled
                generation = generation_in(admin)
                admin.execute_command("CLIENT", "PAUSE", "400", "ALL")  # Redis stops answering
                edit = {"article": {"body": "while Redis was away"}}
                put = client.put(f"/api/articles/{slug}", json=edit, headers=author.headers)
                assert put.status_code == 200  # committed, so answered
                assert cache.owed
                time.sleep(0.6)  # the pause and the breaker are over
                assert generation_in(admin) == generation  # nobody bumped
                read = client.get(f"/api/articles/{slug}")
                assert body_of(read)["article"]["body"] == "while Redis was away"
                assert generation_in(admin) == generation + 1
                assert not cache.owed
        finally:
            admin.close()
            runtime_of(application).dispose()


def test_a_lookup_falls_back_when_redis_lacks_its_script(
    world: World, cached_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lookup runs its script when the generation is missing (a new or emptied Redis)
    or a bump is owed; when Redis answers NOSCRIPT (restarted, emptied, failed over), the
    script is sent and run. A digest Redis has never seen stands in for a lost script:
    SCRIPT FLUSH would empty every other test's scripts too."""
    read_cache = cached_app.read_cache  # type: ignore[attr-defined]
    unknown = "0" * 40
    assert world.redis.script_exists(unknown) == [False]
    monkeypatch.setattr(read_cache._lookup, "sha", unknown)
    world.redis.delete(GENERATION_KEY)
    assert read_cache.lookup("d") is not None
    assert generation_in(world.redis) > 0, "the script ran and started a generation"
    assert read_cache.available()
    world.read("/api/tags")
    response, statements = world.read("/api/tags")
    assert (response.status_code, statements) == (200, 0)


def test_remembered_digests_are_bounded_and_exact(
    world: World, cached_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    edge = cached_app.wsgi_app
    assert isinstance(edge, CacheEdge)
    monkeypatch.setattr(cache_edge, "DIGESTS_KEPT", 3)
    edge.digests.clear()
    for offset in range(5):
        world.read(f"/api/articles?limit=5&offset={offset}")
        assert len(edge.digests) <= 3
    # A remembered digest is the one the request would get anyway.
    for (path, query, origin), digest in edge.digests.items():
        environ = {"PATH_INFO": path, "QUERY_STRING": query, "HTTP_ORIGIN": origin}
        assert request_digest(environ) == digest
    # A long query is hashed each time, never kept.
    long_query = "limit=5&tag=" + "x" * cache_edge.DIGEST_QUERY_MAX
    world.read("/api/articles?" + long_query)
    assert all(query != long_query for _, query, _ in edge.digests)
