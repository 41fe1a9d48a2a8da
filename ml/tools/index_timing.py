"""Print what an exact search costs at 10,000 and 100,000 articles (`python -m ml.tools.index_timing`).

Figures, not assertions: timings depend on the machine and its load, so no test checks them.
Vectors are random unit vectors; search cost does not depend on their content.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
from numpy.typing import NDArray

from ml.index import Storage, VectorIndex, estimate_bytes
from ml.model import DIMENSIONS


def unit_vectors(n: int, seed: int) -> NDArray[np.float32]:
    vectors = np.random.default_rng(seed).standard_normal((n, DIMENSIONS), dtype=np.float32)
    return np.asarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=np.float32)


def measure(
    articles: int, storage: Storage = "int8", queries: int = 50, k: int = 10
) -> dict[str, float]:
    """Median and worst milliseconds of one top-k search that excludes one id."""
    index = VectorIndex(capacity=articles, storage=storage)
    index.upsert(list(range(articles)), unit_vectors(articles, seed=1))
    timings = []
    for n, query in enumerate(unit_vectors(queries, seed=2)):
        start = time.perf_counter()
        index.search(query, k, exclude={n})
        timings.append((time.perf_counter() - start) * 1000)
    return {
        "articles": articles,
        "median_ms": statistics.median(timings),
        "max_ms": max(timings),
        "index_mb": index.nbytes / 1e6,
        "estimate_mb": estimate_bytes(articles, storage=storage) / 1e6,
    }


def main(sizes: list[int]) -> None:
    print(
        f"{'storage':>8} {'articles':>9} {'median ms':>10} {'max ms':>8} {'arrays MB':>10} {'est. MB':>8}"
    )
    storages: tuple[Storage, ...] = ("int8", "float16")
    for storage in storages:
        for size in sizes:
            m = measure(size, storage)
            print(
                f"{storage:>8} {m['articles']:>9,.0f} {m['median_ms']:>10.2f} {m['max_ms']:>8.2f}"
                f" {m['index_mb']:>10.1f} {m['estimate_mb']:>8.1f}"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
