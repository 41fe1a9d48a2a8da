"""Query and draft embeddings: kept by each worker (its last few), shared through Redis under
sha256(model version + text), and a Redis outage costs only the cache. A private redis-server
(skipped on a bare machine, a failure under CI=true) so that the outage is real."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import pytest
import redis

from ml import serving
from ml.model import Embedder
from ml.serving import ModelService
from testkit.redis_server import PrivateRedis, private_redis


@pytest.fixture(scope="module")
def redis_server() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


def service(embedder: Embedder, redis_url: str | None) -> ModelService:
    """A worker's ModelService, on the suite's loaded model (one load for all)."""
    served = ModelService(None, redis_url)
    served.embedder = embedder
    return served


def counted(service: ModelService) -> list[int]:
    """How many times the model runs from now on."""
    runs: list[int] = []
    embed = service.embed

    def counting(texts: list[str], op: str) -> np.ndarray:
        runs.append(len(texts))
        return embed(texts, op)

    service.embed = counting  # type: ignore[method-assign,assignment]
    return runs


def test_a_text_embedded_by_one_worker_is_read_by_another_from_redis(
    embedder: Embedder, redis_server: PrivateRedis
) -> None:
    first, second = service(embedder, redis_server.url), service(embedder, redis_server.url)
    runs_first, runs_second = counted(first), counted(second)
    vector = first.embed_one("how dragons fly", "search")
    assert runs_first == [1]
    key = (
        "conduit:emb:" + hashlib.sha256(f"{embedder.version}\nhow dragons fly".encode()).hexdigest()
    )
    client = redis.Redis.from_url(redis_server.url)
    ttl = client.ttl(key)
    assert isinstance(ttl, int) and 0 < ttl <= serving.CACHE_TTL_SECONDS
    np.testing.assert_array_equal(second.embed_one("how dragons fly", "search"), vector)
    assert runs_second == []  # from Redis, not the model
    np.testing.assert_allclose(vector, embedder.embed(["how dragons fly"])[0], atol=1e-6)


def test_a_worker_keeps_its_last_vectors_and_forgets_the_oldest(
    embedder: Embedder, redis_server: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving, "RECENT_EMBEDDINGS", 2)
    worker = service(embedder, None)  # no Redis: only the worker's own
    runs = counted(worker)
    for text in ("alpha", "beta", "alpha", "gamma", "alpha", "beta"):
        worker.embed_one(text, "search")
    # alpha and beta run; alpha again is a hit (now the newest); gamma runs and pushes out
    # beta, the least recently used; alpha is a hit; beta runs again
    assert runs == [1, 1, 1, 1]
    assert len(worker._recent) == 2


def test_a_redis_outage_costs_only_the_cache(
    embedder: Embedder, redis_server: PrivateRedis
) -> None:
    worker = service(embedder, redis_server.url)
    runs = counted(worker)
    redis_server.stop()
    try:
        before = serving.CACHE.labels("unavailable")._value.get()
        vector = worker.embed_one("a text while Redis is down", "suggest")
        assert runs == [1] and vector.shape == (384,)
        assert serving.CACHE.labels("unavailable")._value.get() == before + 1
        # the worker's own copy still answers
        np.testing.assert_array_equal(
            worker.embed_one("a text while Redis is down", "suggest"), vector
        )
        assert runs == [1]
    finally:
        redis_server.start()
