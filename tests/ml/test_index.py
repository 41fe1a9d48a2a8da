"""The vector index against a brute-force reference: same neighbours, same order."""

from __future__ import annotations

import numpy as np
import pytest

from ml.index import VectorIndex, bytes_per_article, estimate_bytes
from ml.tools.index_timing import main, measure, unit_vectors

STORAGES = ["int8", "float16"]


def brute_force(
    stored: dict[int, np.ndarray], query: np.ndarray, k: int, exclude: set[int]
) -> list[tuple[int, float]]:
    scored = [(i, float(v @ query)) for i, v in stored.items() if i not in exclude]
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:k]


def as_stored(index: VectorIndex, vectors: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """The reference scores what the index holds, rounding included."""
    with index._lock:
        return {
            i: index._vectors[index._rows[i]].astype(np.float32) * index._scales[index._rows[i]]
            for i in vectors
        }


def assert_same(got: list[tuple[int, float]], expected: list[tuple[int, float]]) -> None:
    assert [i for i, _ in got] == [i for i, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)


@pytest.mark.parametrize("storage", STORAGES)
def test_search_matches_brute_force_through_upserts_and_removals(storage: str) -> None:
    rng = np.random.default_rng(7)
    index = VectorIndex(capacity=8, storage=storage)  # type: ignore[arg-type]
    model: dict[int, np.ndarray] = {}
    for step in range(60):
        ids = [int(i) for i in rng.choice(500, size=20, replace=False)]
        vectors = unit_vectors(20, seed=step)
        index.upsert(ids, vectors)
        model.update(zip(ids, vectors, strict=True))
        gone = [int(i) for i in rng.choice(500, size=8, replace=False)]
        index.remove(gone)
        for i in gone:
            model.pop(i, None)
        assert len(index) == len(model)
        assert sorted(index.ids()) == sorted(model)
        query = unit_vectors(1, seed=1000 + step)[0]
        exclude = set(rng.choice(list(model), size=min(3, len(model)), replace=False).tolist())
        exclude.add(10_000)  # an id the index never saw
        expected = brute_force(as_stored(index, model), query, 10, exclude)
        assert_same(index.search(query, 10, exclude=exclude), expected)


@pytest.mark.parametrize(("storage", "tolerance"), [("int8", 0.01), ("float16", 0.002)])
def test_stored_vectors_score_close_to_the_originals(storage: str, tolerance: float) -> None:
    vectors = unit_vectors(2000, seed=3)
    index = VectorIndex(storage=storage)  # type: ignore[arg-type]
    index.upsert(list(range(2000)), vectors)
    queries = unit_vectors(20, seed=4)
    error = np.abs(index.scores(queries) - queries @ vectors.T).max()
    print(f"{storage}: largest score error {error:.5f}")
    assert error < tolerance


def test_upsert_replaces_a_vector_in_place() -> None:
    index = VectorIndex()
    a, b = unit_vectors(2, seed=5)
    index.upsert([1, 2], np.stack([a, b]))
    index.upsert([1], b)  # 1 now points the same way as 2
    assert len(index) == 2
    assert {i for i, _ in index.search(b, 2)} == {1, 2}
    assert index.search(b, 1, exclude={2})[0][1] == pytest.approx(1.0, abs=0.01)


def test_edges_answer_without_errors() -> None:
    index = VectorIndex()
    query = unit_vectors(1, seed=6)[0]
    assert index.search(query, 5) == []
    assert index.scores(query).shape == (1, 0)
    index.upsert([4, 5], unit_vectors(2, seed=8))
    assert index.search(query, 0) == []
    assert len(index.search(query, 50)) == 2  # k beyond the size
    assert index.search(query, 5, exclude={4, 5}) == []
    index.remove([4, 4, 99])  # unknown and repeated ids are ignored
    assert 4 not in index
    assert 5 in index
    assert [i for i, _ in index.search(query, 5)] == [5]
    with pytest.raises(ValueError, match="ids for"):
        index.upsert([1, 2, 3], unit_vectors(2, seed=9))


def test_a_zero_vector_is_stored_without_dividing_by_zero() -> None:
    index = VectorIndex()
    index.upsert([1], np.zeros(384, dtype=np.float32))
    assert index.search(unit_vectors(1, seed=1)[0], 1) == [(1, 0.0)]


def test_memory_figures() -> None:
    assert bytes_per_article() == 384 + 4 + 112
    assert bytes_per_article(storage="float16") == 768 + 4 + 112
    assert estimate_bytes(100_000) == 50_000_000
    index = VectorIndex(capacity=1000)
    index.upsert(list(range(1000)), unit_vectors(1000, seed=2))
    assert index.nbytes < estimate_bytes(1000) + 2_000_000  # arrays, plus the scratch buffer


def test_the_timing_tool_runs() -> None:
    """Its figures are printed for the README, not asserted: timings depend on the machine."""
    figures = measure(3000, "int8", queries=3)
    assert figures["articles"] == 3000
    main([1500])


@pytest.mark.parametrize("storage", STORAGES)
def test_neighbours_of_a_stored_article_rank_by_its_stored_vector(storage: str) -> None:
    vectors = dict(enumerate(unit_vectors(50, seed=3), start=100))
    index = VectorIndex(capacity=8, storage=storage)  # type: ignore[arg-type]
    index.upsert(list(vectors), np.vstack(list(vectors.values())))
    stored = as_stored(index, vectors)
    for article in (100, 127, 149):
        expected = brute_force(stored, stored[article], 5, {article})
        assert_same(index.neighbours(article, 5), expected)
    assert index.neighbours(99, 5) == []  # not stored: nothing, not an error
    index.remove([127])
    assert index.neighbours(127, 5) == []
