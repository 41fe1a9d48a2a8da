"""What a read-cache hit still does though Flask never sees it (api/pipeline/cache_edge.py): the
default rate-limit budget counts it, the metrics and the access log record it, the request
id is echoed or made, HEAD is answered without a body, and a filling request answered 304
stores nothing. That a hit is the uncached answer byte for byte: tests/api/pipeline/test_read_cache.py."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

import pytest
import redis
from flask import Flask

from api import create_app
from api.context import runtime_of
from core import process
from core.logs import JsonFormatter
from testkit.database import QueryCounter
from testkit.redis_server import CACHE_REDIS_URL, shared_redis
from testkit.settings import make_settings
from tests.api.pipeline.test_read_cache import rolled_back
from tests.factories import create_article, errors_of, register

# These modules share Redis db 12 (testkit CACHE_REDIS_URL) and flush it: one xdist worker.
pytestmark = pytest.mark.xdist_group("redis-db-12")


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = shared_redis()
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def edge_app(database_url: str, **overrides: object) -> Flask:
    application = create_app(make_settings(database_url, redis_url=CACHE_REDIS_URL, **overrides))
    application.config["TESTING"] = True
    return application


@pytest.fixture
def slug_and_app(
    app: Flask, database_url: str, redis_client: redis.Redis, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Flask]]:
    overrides = getattr(request, "param", {})
    cached = edge_app(database_url, **overrides)
    try:
        with rolled_back(cached, app):
            writer = app.test_client()  # the plain app: the budget counts only reads here
            slug = create_article(writer, register(writer))["slug"]
            redis_client.flushdb()
            yield slug, cached
    finally:
        runtime_of(cached).dispose()


@pytest.mark.parametrize(
    "slug_and_app",
    [{"rate_limit_enabled": True, "rate_limit_default": "3/minute"}],
    indirect=True,
)
def test_hits_count_against_the_default_budget(slug_and_app: tuple[str, Flask]) -> None:
    slug, cached = slug_and_app
    client = cached.test_client()
    queries = QueryCounter(runtime_of(cached).database.engine)
    statuses = []
    for _ in range(3):
        with queries:
            statuses.append((client.get(f"/api/articles/{slug}").status_code, queries.count))
    assert statuses[0][0] == 200 and statuses[0][1] > 0  # the miss
    assert statuses[1:] == [(200, 0), (200, 0)]  # two hits
    refused = client.get(f"/api/articles/{slug}")
    assert refused.status_code == 429
    assert errors_of(refused) == {"rate_limit": ["exceeded: at most 3 per 1 minute"]}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "X-Request-ID" in refused.headers


def _metric(cached: Flask, slug: str, name: str, labels: str) -> float:
    text = cached.test_client().get("/metrics").get_data(as_text=True)
    prefix = f"{name}{{{labels}}} "
    found = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(found[0].split()[-1]) if found else 0.0


@pytest.mark.parametrize("slug_and_app", [{"access_log": True}], indirect=True)
def test_a_hit_is_logged_and_counted_like_any_request(
    slug_and_app: tuple[str, Flask], caplog: pytest.LogCaptureFixture
) -> None:
    slug, cached = slug_and_app
    client = cached.test_client()
    requests_label = 'endpoint="/api/articles/<slug:slug>",method="GET",status="200"'
    hits_label = 'result="hit"'
    before = _metric(cached, slug, "conduit_http_requests_total", requests_label)
    hits = _metric(cached, slug, "conduit_read_cache_lookups_total", hits_label)
    client.get(f"/api/articles/{slug}")  # the miss
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="conduit.access"):
        hit = client.get(f"/api/articles/{slug}", headers={"X-Request-ID": "hit-1"})
    records = list(caplog.records)
    assert (hit.status_code, hit.headers["X-Request-ID"]) == (200, "hit-1")
    assert _metric(cached, slug, "conduit_http_requests_total", requests_label) == before + 2
    assert _metric(cached, slug, "conduit_read_cache_lookups_total", hits_label) == hits + 1
    lines = [json.loads(JsonFormatter().format(r)) for r in records]
    access = [line for line in lines if line["logger"] == "conduit.access"]
    assert len(access) == 1
    assert {k: access[0][k] for k in ("method", "path", "status", "request_id")} == {
        "method": "GET",
        "path": f"/api/articles/{slug}",
        "status": 200,
        "request_id": "hit-1",
    }
    assert isinstance(access[0]["duration_ms"], float)


def test_a_hit_makes_a_request_id_when_none_or_a_bad_one_is_sent(
    slug_and_app: tuple[str, Flask],
) -> None:
    slug, cached = slug_and_app
    client = cached.test_client()
    client.get(f"/api/articles/{slug}")
    ids = {
        client.get(f"/api/articles/{slug}", headers=sent).headers["X-Request-ID"]
        for sent in ({}, {}, {"X-Request-ID": "bad id\x7f"})
    }
    assert len(ids) == 3
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_head_is_a_hit_without_a_body(slug_and_app: tuple[str, Flask]) -> None:
    slug, cached = slug_and_app
    client = cached.test_client()
    queries = QueryCounter(runtime_of(cached).database.engine)
    got = client.get(f"/api/articles/{slug}")
    with queries:
        head = client.head(f"/api/articles/{slug}")
    assert (head.status_code, head.data, queries.count) == (200, b"", 0)
    assert head.headers["Content-Length"] == str(len(got.data))
    assert head.headers["ETag"] == got.headers["ETag"]


def test_a_head_miss_goes_to_the_app_and_stores_nothing(slug_and_app: tuple[str, Flask]) -> None:
    slug, cached = slug_and_app
    client = cached.test_client()
    queries = QueryCounter(runtime_of(cached).database.engine)
    for _ in range(2):
        with queries:
            assert client.head(f"/api/articles/{slug}").status_code == 200
        assert queries.count > 0


def test_a_fill_answered_304_stores_nothing(slug_and_app: tuple[str, Flask], app: Flask) -> None:
    slug, cached = slug_and_app
    etag = app.test_client().get(f"/api/articles/{slug}").headers["ETag"]
    client = cached.test_client()
    queries = QueryCounter(runtime_of(cached).database.engine)
    with queries:
        assert (
            client.get(f"/api/articles/{slug}", headers={"If-None-Match": etag}).status_code == 304
        )
    assert queries.count > 0
    with queries:
        assert client.get(f"/api/articles/{slug}").status_code == 200
    assert queries.count > 0, "the 304 must not have stored an entry"
    with queries:
        assert client.get(f"/api/articles/{slug}").status_code == 200
    assert queries.count == 0


def test_process_state_is_renewed_in_a_forked_child() -> None:
    parent_pid, parent_id = process.pid(), process.new_id()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's coverage is not collected)
        os.close(read)
        os.write(write, f"{process.pid()} {os.getpid()} {process.new_id()}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        reported_pid, real_pid, child_id = pipe.read().split()
    os.waitpid(child, 0)
    assert parent_pid == os.getpid()
    assert reported_pid == real_pid != str(parent_pid)
    assert child_id[:16] != parent_id[:16]
    assert len(child_id) == len(parent_id) == 32


def test_queries_the_view_reads_apart_never_share_an_entry(
    slug_and_app: tuple[str, Flask],
) -> None:
    _slug, cached = slug_and_app
    client = cached.test_client()
    queries = QueryCounter(runtime_of(cached).database.engine)
    # werkzeug keeps invalid UTF-8 percent-encoded: two different tags to the view.
    for query in ("tag=%FF", "tag=%FE"):
        with queries:
            assert client.get(f"/api/articles?{query}").status_code == 200
        assert queries.count > 0, query
    with queries:  # the very tag `%FF` the view read for the first: the same answer
        client.get("/api/articles?tag=%25FF")
    assert queries.count == 0
