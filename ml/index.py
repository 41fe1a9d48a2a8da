"""Exact nearest-neighbour search over article vectors, in numpy, one copy per worker.

Exact, not approximate: a matrix product over 100,000 x 384 costs milliseconds, needs no
index to build or tune, and finds the true neighbours (which the offline evaluation assumes).
Storage is int8 by default: each unit vector scaled by its largest component to [-127, 127],
its scale kept as one float32 (388 bytes per 384-dimension vector, a quarter of float32).
float16 (half of float32) is the alternative, but numpy converts float16 to float32 slowly:
measured here, 10-15 ms per 10,000 x 384 against 0.4 ms from int8, and a search has to convert
every row. Scoring converts one chunk of rows at a time to float32 for a BLAS product, so no
float32 copy of the whole matrix ever exists. int8 rounding moves a score by ~1e-3.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ml.model import DIMENSIONS

Storage = Literal["int8", "float16"]
# Rows converted to float32 at a time, into one reused buffer (1.5 MB at 384 dimensions, within
# cache): a fresh allocation per chunk costs more in page faults than the product itself.
CHUNK_ROWS = 1024
# Bookkeeping beyond the vector itself: the id array (8 bytes) and the id -> row dict entry
# with its int objects (~104 bytes: tracemalloc on CPython 3.11, 100,000 articles).
OVERHEAD_BYTES_PER_ARTICLE = 112


def bytes_per_article(dimensions: int = DIMENSIONS, storage: Storage = "int8") -> int:
    """Memory one article costs in the index: its stored vector, its scale, bookkeeping."""
    return dimensions * np.dtype(storage).itemsize + 4 + OVERHEAD_BYTES_PER_ARTICLE


def estimate_bytes(articles: int, dimensions: int = DIMENSIONS, storage: Storage = "int8") -> int:
    """What `articles` vectors cost per worker (the README's figure at 100,000)."""
    return articles * bytes_per_article(dimensions, storage)


class VectorIndex:
    """Vectors by article id: add, replace and remove them; score and rank queries.

    A lock makes each mutation and each search atomic (removal moves the last row into the
    hole, so a search must not see half of it); a search at 100,000 articles holds it for
    milliseconds.
    """

    def __init__(
        self, dimensions: int = DIMENSIONS, capacity: int = 1024, storage: Storage = "int8"
    ) -> None:
        self.dimensions = dimensions
        self.storage = storage
        self._vectors = np.zeros((capacity, dimensions), dtype=storage)
        self._scales = np.ones(capacity, dtype=np.float32)
        self._ids = np.zeros(capacity, dtype=np.int64)
        self._scratch = np.empty((CHUNK_ROWS, dimensions), dtype=np.float32)
        self._rows: dict[int, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._rows

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (capacity, not just the rows in use)."""
        arrays = (self._vectors, self._scales, self._ids, self._scratch)
        return sum(int(a.nbytes) for a in arrays)

    def ids(self) -> list[int]:
        with self._lock:
            return [int(i) for i in self._ids[: len(self._rows)]]

    def upsert(self, ids: Sequence[int], vectors: NDArray[np.floating]) -> None:
        """Add vectors, or replace those of ids already present."""
        matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimensions)
        if len(ids) != len(matrix):
            raise ValueError(f"{len(ids)} ids for {len(matrix)} vectors")
        stored, scales = self._encode(matrix)
        with self._lock:
            for article_id, vector, scale in zip(ids, stored, scales, strict=True):
                row = self._rows.get(article_id)
                if row is None:
                    row = len(self._rows)
                    self._grow(row + 1)
                    self._rows[article_id] = row
                    self._ids[row] = article_id
                self._vectors[row] = vector
                self._scales[row] = scale

    def remove(self, ids: Iterable[int]) -> None:
        """Forget these ids; unknown ones are ignored (removal is idempotent)."""
        with self._lock:
            for article_id in ids:
                row = self._rows.pop(article_id, None)
                if row is None:
                    continue
                last = len(self._rows)
                if row != last:  # keep rows contiguous: the last one fills the hole
                    moved = int(self._ids[last])
                    self._vectors[row] = self._vectors[last]
                    self._scales[row] = self._scales[last]
                    self._ids[row] = moved
                    self._rows[moved] = row

    def scores(self, queries: NDArray[np.floating]) -> NDArray[np.float32]:
        """Dot products of each query with every stored vector: (queries, articles)."""
        with self._lock:
            return self._scores(queries)

    def search(
        self, query: NDArray[np.floating], k: int, exclude: Collection[int] = ()
    ) -> list[tuple[int, float]]:
        """The k nearest (id, score), best first, without the excluded ids."""
        with self._lock:
            return self._search(query, k, exclude)

    def neighbours(self, article_id: int, k: int) -> list[tuple[int, float]]:
        """The k nearest (id, score) to a stored article, itself excluded; none when it is
        not stored. Its stored vector is the query: no round trip for it."""
        with self._lock:
            row = self._rows.get(article_id)
            if row is None:
                return []
            query = self._vectors[row].astype(np.float32) * self._scales[row]
            return self._search(query, k, (article_id,))

    def _search(
        self, query: NDArray[np.floating], k: int, exclude: Collection[int]
    ) -> list[tuple[int, float]]:
        """search(), for a caller holding the lock."""
        n = len(self._rows)
        if n == 0 or k <= 0:
            return []
        scores = self._scores(query)[0]
        excluded = [r for r in (self._rows.get(i) for i in exclude) if r is not None]
        scores[excluded] = -np.inf
        wanted = min(k + len(excluded), n)  # excluded rows may sit in the top k
        top = np.argpartition(-scores, wanted - 1)[:wanted] if wanted < n else np.arange(n)
        # Ties in a stable order: by score, then by id.
        ranked = sorted(top.tolist(), key=lambda r: (-scores[r], int(self._ids[r])))
        hits = [(int(self._ids[r]), float(scores[r])) for r in ranked if scores[r] > -np.inf]
        return hits[:k]

    def _scores(self, queries: NDArray[np.floating]) -> NDArray[np.float32]:
        matrix = np.asarray(queries, dtype=np.float32).reshape(-1, self.dimensions)
        n = len(self._rows)
        out = np.empty((len(matrix), n), dtype=np.float32)
        for start in range(0, n, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, n)
            chunk = self._scratch[: stop - start]
            np.copyto(chunk, self._vectors[start:stop])
            np.matmul(matrix, chunk.T, out=out[:, start:stop])
        out *= self._scales[:n]
        return out

    def _encode(
        self, matrix: NDArray[np.float32]
    ) -> tuple[NDArray[np.generic], NDArray[np.float32]]:
        if self.storage == "float16":
            return matrix.astype(np.float16), np.ones(len(matrix), dtype=np.float32)
        peaks = np.abs(matrix).max(axis=1)
        scales = np.where(peaks > 0, peaks / 127, 1).astype(np.float32)
        return np.rint(matrix / scales[:, None]).astype(np.int8), scales

    def _grow(self, rows: int) -> None:
        if rows <= len(self._ids):
            return
        # x1.5, not x2: at 100,000 articles a doubling would leave 25 MB of int8 unused.
        capacity = max(rows, len(self._ids) * 3 // 2)
        vectors = np.zeros((capacity, self.dimensions), dtype=self.storage)
        vectors[: len(self._vectors)] = self._vectors
        scales = np.ones(capacity, dtype=np.float32)
        scales[: len(self._scales)] = self._scales
        ids = np.zeros(capacity, dtype=np.int64)
        ids[: len(self._ids)] = self._ids
        self._vectors, self._scales, self._ids = vectors, scales, ids
