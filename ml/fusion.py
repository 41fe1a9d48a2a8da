"""Reciprocal-rank fusion: one ranking from several, without comparing their scores.

bm25 and cosine similarity live on unrelated scales; RRF uses only ranks, so neither needs
calibrating, and an item found by both rankings rises above one found by either alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import TypeVar

K = 60  # the constant of the original paper (Cormack et al., 2009); damps the top ranks' lead

Item = TypeVar("Item", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Item]], k: int = K, limit: int | None = None
) -> list[Item]:
    """Items by the sum of 1 / (k + rank) over the rankings holding them, best first."""
    scores: dict[Item, float] = defaultdict(float)
    first_seen: dict[Item, int] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] += 1.0 / (k + rank)
            first_seen.setdefault(item, len(first_seen))
    fused = sorted(scores, key=lambda item: (-scores[item], first_seen[item]))
    return fused if limit is None else fused[:limit]
