"""Floors on the offline evaluation (`make eval-ml`): the model must keep earning its place.

The floors are the figures measured when the shipped methods were chosen, rounded down to two
decimals, so a change to the model, the index, the suggestions or the fusion that loses
quality fails here. The bootstrap intervals must stay above 0: the shipped methods beat their
best baseline by a margin the data supports, not by the luck of these queries. One evaluation
(1,585 texts embedded, ~20 s on one thread) serves every test of the module.
"""

from __future__ import annotations

import os

import pytest

from ml.evaluate import DEFAULT_DATA, Report, evaluate
from ml.model import Embedder

SHIPPED = "MiniLM neighbours + tag-word bonus"
FULL_TEXT = "full text (SQLite FTS5, bm25)"
HYBRID = "full text + MiniLM (RRF, k=60)"


@pytest.fixture(scope="module")
def report(embedder: Embedder) -> Report:
    if not DEFAULT_DATA.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the evaluation set is missing: {DEFAULT_DATA}")
        pytest.skip(f"no evaluation set at {DEFAULT_DATA} (../shared beside the repository)")
    result, _ = evaluate(DEFAULT_DATA, embedder)
    return result


def test_tag_suggestions_keep_their_measured_quality(report: Report) -> None:
    assert len(report.tags[SHIPPED]["P@3"]) == 1558
    assert report.mean("tags", SHIPPED, "P@3") >= 0.39
    assert report.mean("tags", SHIPPED, "hit@3") >= 0.78
    assert report.mean("tags", "MiniLM neighbours' tags", "P@3") >= 0.31


def test_tag_suggestions_beat_the_best_baseline_beyond_chance(report: Report) -> None:
    [(name, (mean, low, _))] = [i for i in report.intervals.items() if i[0].startswith("tags")]
    print(f"{name}: {mean:+.3f}, 95% interval from {low:+.3f}")
    assert low > 0


def test_hybrid_search_keeps_its_measured_quality(report: Report) -> None:
    assert report.mean("search", HYBRID, "R@10") >= 0.35
    assert report.mean("search", HYBRID, "nDCG@10") >= 0.53
    assert report.mean("search", "MiniLM alone", "R@10") >= 0.32
    assert report.no_result[HYBRID] == 0
    # The baseline is pinned too: a weaker full text would flatter the fusion's gain.
    assert report.mean("search", FULL_TEXT, "R@10") >= 0.29


def test_hybrid_search_beats_full_text_beyond_chance(report: Report) -> None:
    (mean, low, _) = report.intervals["search R@10: RRF - full text"]
    print(f"R@10 gain over full text: {mean:+.3f}, 95% interval from {low:+.3f}")
    assert low > 0


def test_related_articles_share_tags_far_more_than_chance(report: Report) -> None:
    assert report.related["MiniLM 5 nearest"] >= 0.45
    assert report.related["MiniLM 5 nearest"] > 10 * report.related["random choice (expected)"]
