"""The pieces the evaluation and the app share: metrics, fusion, full text, suggestions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from db.search import fts_query
from ml import metrics
from ml.evaluate import format_report, main
from ml.fusion import reciprocal_rank_fusion
from ml.lexical import LexicalIndex
from ml.suggest import BONUS, article_text, mentioned_tags, suggest_tags


def test_metrics_on_a_known_ranking() -> None:
    ranked, relevant = ["a", "x", "b", "y"], {"a", "b", "c"}
    assert metrics.precision_at(ranked, relevant, 3) == pytest.approx(2 / 3)
    assert metrics.precision_at(["a"], relevant, 3) == pytest.approx(1 / 3)  # empty slots miss
    assert metrics.hit_at(["x", "y", "a"], relevant, 2) == 0.0
    assert metrics.recall_at(ranked, relevant, 10) == pytest.approx(2 / 3)
    assert metrics.recall_at(ranked, set(), 10) == 0.0
    assert metrics.ndcg_at(["a", "b", "c"], relevant, 10) == pytest.approx(1.0)
    assert metrics.ndcg_at(["x", "a"], {"a"}, 10) == pytest.approx(1 / 1.5849625)
    assert metrics.ndcg_at([], set(), 10) == 0.0


def test_the_bootstrap_interval_follows_the_paired_difference() -> None:
    same = [0.1, 0.5, 0.9] * 20
    assert metrics.paired_bootstrap(same, same) == (0.0, 0.0, 0.0)
    mean, low, high = metrics.paired_bootstrap([s + 0.1 for s in same], same)
    assert low == pytest.approx(0.1) and mean == pytest.approx(0.1) and high == pytest.approx(0.1)
    noisy = metrics.paired_bootstrap([1, 0, 0, 0] * 10, [0, 0, 0, 1] * 10)
    assert noisy[1] < 0 < noisy[2]
    assert metrics.paired_bootstrap([1, 0], [0, 1], seed=5) == metrics.paired_bootstrap(
        [1, 0], [0, 1], seed=5
    )
    with pytest.raises(ValueError, match="no queries"):
        metrics.paired_bootstrap([], [])


def test_fusion_rewards_items_both_rankings_found() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "d", "a"]])
    assert fused[:2] == ["a", "c"]
    assert set(fused) == {"a", "b", "c", "d"}
    assert reciprocal_rank_fusion([["a", "b"], []], limit=1) == ["a"]
    assert reciprocal_rank_fusion([[], []]) == []


def test_full_text_quotes_every_word_of_user_input() -> None:
    assert fts_query('asp.net-core "NEAR" OR *') == '"asp" AND "net" AND "core" AND "near" AND "or"'
    assert fts_query("  -- !! ") is None
    index = LexicalIndex(
        [(1, "ASP.NET Core middleware for JSON"), (2, "A JSON parser"), (3, "Actors")]
    )
    assert index.search("json") == [2, 1] or index.search("json") == [1, 2]
    assert index.search("asp.net") == [1]
    assert index.search("actor") == [3]  # stemmed
    assert index.search('") OR NEAR(x') == []
    assert index.search("") == []
    index.close()


def test_article_text_puts_title_and_description_first_once() -> None:
    assert article_text(" Title ", "Same", "Same") == "Title\nSame"
    assert article_text("T", "", "Body") == "T\nBody"


def test_tag_words_match_whole_terms_and_phrases() -> None:
    vocabulary = {"asp.net", "net", "json", "machine-learning", "c", "java"}
    text = "An ASP.NET library for JSON and machine learning, written in C#; JavaScript-free."
    assert mentioned_tags(text, vocabulary) == {"asp.net", "net", "json", "machine-learning", "c"}


def test_suggestions_weigh_neighbours_and_the_tag_word_bonus() -> None:
    neighbours = [(0.9, {"json", "parser"}), (0.5, {"xml"}), (-0.2, {"noise"})]
    vocabulary = {"json", "parser", "xml", "serialization", "noise"}
    plain = suggest_tags(neighbours, "", vocabulary, k=5, bonus=0.0)
    assert [t for t, _ in plain][:2] in (["json", "parser"], ["parser", "json"])
    assert "noise" not in {t for t, _ in plain}  # a dissimilar neighbour does not vote
    ranked = dict(suggest_tags(neighbours, "A fast serialization library", vocabulary))
    assert ranked["serialization"] == BONUS  # named in the text, though no neighbour has it
    assert all(0 <= score <= 1 for _, score in suggest_tags(neighbours, "json", vocabulary))
    assert suggest_tags([], "nothing here", vocabulary) == []


def test_the_command_refuses_a_missing_data_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", "/nonexistent/tagged-texts.jsonl"]) == 2
    assert "no data" in capsys.readouterr().err


def test_the_table_prints_every_section() -> None:
    from ml.evaluate import Report

    report = Report(
        tags={"m": {"P@3": [0.5], "hit@3": [1.0]}},
        search={"s": {"R@10": [0.25], "nDCG@10": [0.5]}},
        no_result={"s": 1},
        related={"r": 0.4},
        intervals={"gain": (0.1, 0.05, 0.15)},
    )
    table = format_report(report, 1000)
    for expected in ("0.500", "0.250", "0.400", "+0.100 [+0.050, +0.150]", "1 items"):
        assert expected in table


def test_the_command_prints_the_table_for_a_small_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topics = {
        "json": "Fast JSON serializer and parser",
        "logging": "Structured logging sink for files",
        "testing": "Unit testing assertions and mocks",
    }
    lines = [
        json.dumps({"title": f"Pkg{n}.{tag}", "text": f"{text}, variant {n}", "tags": [tag, "net"]})
        for n in range(10)
        for tag, text in topics.items()
    ]
    data = tmp_path / "tagged-texts.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["--data", str(data), "--resamples", "50"]) == 0
    out = capsys.readouterr().out
    assert "Tag suggestions, top 3 (30 items)" in out
    assert "Paired bootstrap (50 resamples)" in out
