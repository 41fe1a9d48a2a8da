"""Ranking metrics and a paired bootstrap, for the offline evaluation and its test floors."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np


def precision_at(ranked: Sequence[object], relevant: Collection[object], k: int) -> float:
    """Share of the k slots holding a relevant item (an empty slot counts as a miss)."""
    return sum(1 for item in ranked[:k] if item in relevant) / k


def hit_at(ranked: Sequence[object], relevant: Collection[object], k: int) -> float:
    return 1.0 if any(item in relevant for item in ranked[:k]) else 0.0


def recall_at(ranked: Sequence[object], relevant: Collection[object], k: int) -> float:
    if not relevant:
        return 0.0
    return sum(1 for item in ranked[:k] if item in relevant) / len(relevant)


def ndcg_at(ranked: Sequence[object], relevant: Collection[object], k: int) -> float:
    """Binary-relevance nDCG: 1.0 when the first min(k, |relevant|) slots are all relevant."""
    gains = sum(1 / math.log2(rank + 2) for rank, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return gains / ideal if ideal else 0.0


def paired_bootstrap(
    ours: Sequence[float], baseline: Sequence[float], resamples: int = 1000, seed: int = 23
) -> tuple[float, float, float]:
    """Mean difference (ours - baseline) over the same queries and its 95% interval.

    Paired: each resample draws queries, not scores, so both methods are judged on the same
    draw and the interval reflects the difference's own spread.
    """
    differences = np.asarray(ours, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    if differences.size == 0:
        raise ValueError("no queries to resample")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, differences.size, size=(resamples, differences.size))
    means = differences[draws].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(differences.mean()), float(low), float(high)
