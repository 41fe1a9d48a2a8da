"""The model as a process serves it: loaded once (after fork), timed, cached, and the vector
index of the site's articles kept in step with the database.

Every web worker and every Celery pool process holds one `ModelService` (the runtime's); it
loads the model when told to (gunicorn's `post_worker_init`) or on first use, counts each
load, times each inference by operation, and caches query and draft embeddings in Redis
under sha256(model version + text) when Redis is set: an outage of Redis only costs the cache.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Collection, Sequence
from datetime import timedelta

import numpy as np
import redis
from numpy.typing import NDArray
from prometheus_client import Counter, Histogram
from sqlalchemy import Connection

from db import embeddings
from ml.index import VectorIndex
from ml.model import DIMENSIONS, Embedder, ModelError, ModelUnavailable
from ml.suggest import NEIGHBOURS, suggest_tags

log = logging.getLogger(__name__)

INFERENCE = Histogram(
    "conduit_inference_seconds",
    "Model inference latency, by operation",
    ["op"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
LOADS = Counter("conduit_model_loads_total", "Model loads in this process", ["result"])
CACHE = Counter(
    "conduit_embedding_cache_total",
    "Embedding cache lookups: local (the worker's own), hit, miss, unavailable (Redis's)",
    ["result"],
)
CACHE_TTL_SECONDS = 24 * 3600
# Query and draft vectors a worker keeps itself (1.5 KB each): a popular query skips Redis.
RECENT_EMBEDDINGS = 1024
# How often a request may look whether the stored vectors changed (one cheap statement).
REFRESH_SECONDS = 1.0
# How far before the newest embedding seen a refresh reads again: a pass stamps its vectors
# just before it commits, so one that commits after a later-stamped pass is still read.
REFRESH_OVERLAP = timedelta(seconds=60)
# Cosine below which an article is not a match by meaning (MiniLM: unrelated texts ~0-0.15).
MIN_SIMILARITY = 0.25


def to_bytes(vector: NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> NDArray[np.float32]:
    return np.frombuffer(data, dtype="<f4").reshape(-1, DIMENSIONS)


class ModelService:
    def __init__(self, model_dir: str | None, redis_url: str | None) -> None:
        self.embedder = Embedder(model_dir)
        self._redis = (
            redis.Redis.from_url(redis_url, socket_timeout=0.2, socket_connect_timeout=0.2)
            if redis_url
            else None
        )
        self.index = VectorIndex()
        self._recent: dict[str, NDArray[np.float32]] = {}
        self._recent_lock = threading.Lock()
        self._lock = threading.Lock()
        self._state: embeddings.State | None = None
        self._checked = 0.0
        self.refresh_seconds = REFRESH_SECONDS

    @property
    def name(self) -> str:
        return self.embedder.name

    def load(self) -> bool:
        """Load the model now (a worker after fork); False, logged, when it cannot be."""
        if self.embedder.loaded:
            return True
        try:
            self.embedder.load()
        except ModelUnavailable as error:
            LOADS.labels("failed").inc()
            log.error("model unavailable: %s", error)
            return False
        LOADS.labels("ok").inc()
        log.info("model %s %s loaded", self.embedder.name, self.embedder.version)
        return True

    def version(self) -> str:
        """The weights' version; raises ModelUnavailable when the model cannot load."""
        if not self.embedder.loaded:
            self.load()
        return self.embedder.version

    def status(self) -> dict[str, str]:
        """For /api/ready, without loading anything: `ok` with the model's name and version,
        `degraded` when it could not load (everything else works), `idle` before first use
        (MODEL_PRELOAD=false)."""
        if self.embedder.loaded:
            return {"status": "ok", "name": self.name, "version": self.embedder.version}
        if self.embedder.failure is not None:
            return {"status": "degraded", "name": self.name}
        return {"status": "idle", "name": self.name}

    def embed(self, texts: Sequence[str], op: str) -> NDArray[np.float32]:
        """Unit vectors for `texts`; raises ModelError (answered 503) when it cannot."""
        self.version()  # loads the model, or raises ModelUnavailable
        started = time.perf_counter()
        try:
            return self.embedder.embed(texts)
        finally:
            INFERENCE.labels(op).observe(time.perf_counter() - started)

    def embed_one(self, text: str, op: str) -> NDArray[np.float32]:
        """One text's vector: from this worker's own few recent ones, else from the Redis
        cache, else from the model."""
        key = "conduit:emb:" + hashlib.sha256(f"{self.version()}\n{text}".encode()).hexdigest()
        with self._recent_lock:  # least recently used out first: a hit moves to the end
            recent = self._recent.pop(key, None)
            if recent is not None:
                self._recent[key] = recent
        if recent is not None:
            CACHE.labels("local").inc()
            return recent
        cached = self._cached(key)
        if cached is not None:
            self._remember(key, cached)
            return cached
        vector: NDArray[np.float32] = self.embed([text], op)[0]
        self._remember(key, vector)
        if self._redis is not None:
            try:
                self._redis.set(key, to_bytes(vector), ex=CACHE_TTL_SECONDS)
            except redis.RedisError:
                log.debug("embedding cache unavailable", exc_info=True)
        return vector

    def _remember(self, key: str, vector: NDArray[np.float32]) -> None:
        """Keep a vector among the worker's RECENT_EMBEDDINGS most recently used ones."""
        with self._recent_lock:
            self._recent[key] = vector
            while len(self._recent) > RECENT_EMBEDDINGS:
                self._recent.pop(next(iter(self._recent)))

    def _cached(self, key: str) -> NDArray[np.float32] | None:
        if self._redis is None:
            return None
        try:
            found = self._redis.get(key)
        except redis.RedisError:
            CACHE.labels("unavailable").inc()
            return None
        CACHE.labels("hit" if found else "miss").inc()
        if not isinstance(found, bytes):
            return None
        vector: NDArray[np.float32] = from_bytes(found)[0]
        return vector

    def suggestions(
        self, connection: Connection, text: str, exclude: Collection[str], k: int = 5
    ) -> list[tuple[str, float]]:
        """The top k of the site's tags for a draft, without those it already has."""
        vector = self.embed_one(text, "suggest")
        hits = self.refreshed_index(connection).search(vector, NEIGHBOURS)
        tags = embeddings.tags_of(connection, [article for article, _ in hits])
        neighbours = [(score, tags[article]) for article, score in hits]
        vocabulary = embeddings.vocabulary(connection)
        ranked = suggest_tags(neighbours, text, vocabulary, k + len(exclude))
        # A tag neither near nor named scores 0: not a suggestion at all.
        return [(tag, score) for tag, score in ranked if tag not in exclude and score > 0][:k]

    def related(self, connection: Connection, article_id: int, k: int) -> list[int]:
        """The ids of the k articles nearest to this one, nearest first; none when it has no
        embedding yet. An article this worker's index lacks makes it look at the database at
        once: embedded a moment ago, its related articles show on every worker alike."""
        index = self.refreshed_index(connection)
        if article_id not in index:
            index = self.refreshed_index(connection, now=True)
        return [found for found, _ in index.neighbours(article_id, k)]

    def by_meaning(self, connection: Connection, q: str, k: int) -> list[int]:
        """The ids of the k articles nearest in meaning to a query, nearest first (those at
        least MIN_SIMILARITY near: a query about nothing on the site finds nothing)."""
        vector = self.embed_one(q, "search")
        hits = self.refreshed_index(connection).search(vector, k)
        return [article for article, score in hits if score >= MIN_SIMILARITY]

    def refreshed_index(self, connection: Connection, *, now: bool = False) -> VectorIndex:
        """The index of the stored vectors, kept in step with the database: looked at most
        every REFRESH_SECONDS per process (one small statement), or `now`; when they changed, only
        the vectors embedded since the last look are read (with an overlap, for a pass that
        committed late), and all of them only when that leaves the index apart from the
        database (an article deleted, the model changed)."""
        version = self.version()
        clock = time.monotonic()
        if not now and self._state is not None and clock - self._checked < self.refresh_seconds:
            return self.index
        with self._lock:
            self._checked = clock
            current = embeddings.state(connection, version)
            if current == self._state:
                return self.index
            seen = self._state
            if seen is not None and seen.newest is not None and current.newest is not None:
                since = seen.newest - REFRESH_OVERLAP
                self._upsert(self.index, embeddings.vectors(connection, version, since))
                ids = self.index.ids()
                if len(ids) == current.count and sum(ids) == current.id_sum:
                    self._state = current
                    return self.index
            index = VectorIndex(capacity=max(1024, current.count))
            self._upsert(index, embeddings.vectors(connection, version))
            self.index, self._state = index, current
        return self.index

    @staticmethod
    def _upsert(index: VectorIndex, stored: list[tuple[int, bytes]]) -> None:
        if stored:
            index.upsert(
                [article for article, _ in stored],
                np.vstack([from_bytes(vector) for _, vector in stored]),
            )


__all__ = ["ModelError", "ModelService", "ModelUnavailable", "from_bytes", "to_bytes"]
