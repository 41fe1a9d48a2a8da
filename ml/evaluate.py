"""Offline evaluation (`make eval-ml`): does the model earn its place against plain baselines?

Data: ../shared/ml/tagged-texts.jsonl (its README): real texts with their authors' tags, seeded
as articles (title, description = body = text). Each item is scored against the others, leaving
out itself and the items whose title shares its first dotted segment (near copies).
- Tag suggestions, top 3, for items with a tag some other item carries: the most popular tags
  (of all items but this one: popularity is site-wide); tags the text names (most popular
  first); MiniLM neighbours' tags; neighbours + tag-word bonus, the shipped method
  (ml/suggest.py). Its constants came from a small grid on this same set (10/20/40 neighbours,
  sharpness 1/2/4/8, bonus 0.2-0.5), so its figure is slightly optimistic.
- Search, each tag carried by >= 8 items as a query, the items carrying it relevant: full text
  (ml/lexical.py), MiniLM alone, and their reciprocal-rank fusion (ml/fusion.py).
- Related articles: share of the 5 nearest sharing a tag, against a random choice's expectation.
- Paired bootstrap intervals of the shipped methods' gain over the best baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ml import metrics, suggest
from ml.fusion import reciprocal_rank_fusion
from ml.index import VectorIndex
from ml.lexical import LexicalIndex
from ml.model import Embedder

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "ml" / "tagged-texts.jsonl"
TOP = 3
SEARCH_K = 10
RELATED_K = 5
MIN_QUERY_ITEMS = 8
CANDIDATES = 100  # each ranking's depth before fusion


@dataclass(frozen=True)
class Item:
    title: str
    text: str
    tags: frozenset[str]

    @property
    def group(self) -> str:
        return self.title.split(".", 1)[0].lower()

    @property
    def article(self) -> str:
        return suggest.article_text(self.title, self.text, self.text)


@dataclass
class Corpus:
    """The items, their vectors in the shipped index, and who must not see whom."""

    items: list[Item]
    vectors: NDArray[np.float32]
    index: VectorIndex
    groups: dict[str, set[int]]
    tag_items: dict[str, set[int]]

    def excluded(self, i: int) -> set[int]:
        return self.groups[self.items[i].group]


@dataclass
class Report:
    tags: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    search: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    no_result: dict[str, int] = field(default_factory=dict)
    related: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def mean(self, section: str, method: str, metric: str) -> float:
        table = self.tags if section == "tags" else self.search
        return float(np.mean(table[method][metric]))


def load_items(path: Path) -> list[Item]:
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [Item(r["title"], r["text"], frozenset(r["tags"])) for r in rows]


def build_corpus(items: list[Item], embedder: Embedder) -> Corpus:
    vectors = embedder.embed([item.article for item in items])
    index = VectorIndex(capacity=len(items))
    index.upsert(list(range(len(items))), vectors)
    groups: dict[str, set[int]] = defaultdict(set)
    tag_items: dict[str, set[int]] = defaultdict(set)
    for i, item in enumerate(items):
        groups[item.group].add(i)
        for tag in item.tags:
            tag_items[tag].add(i)
    return Corpus(items, vectors, index, dict(groups), dict(tag_items))


def evaluate_tags(corpus: Corpus, report: Report) -> None:
    totals = Counter(tag for item in corpus.items for tag in item.tags)
    left_out = {  # the tags of each group of near copies
        group: Counter(t for j in ids for t in corpus.items[j].tags)
        for group, ids in corpus.groups.items()
    }
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for i, item in enumerate(corpus.items):
        excluded = corpus.excluded(i)
        counts = totals - left_out[item.group]
        vocabulary = set(counts)
        if not item.tags & vocabulary:
            continue  # no other item carries any of its tags: no method could answer
        hits = corpus.index.search(corpus.vectors[i], suggest.NEIGHBOURS, exclude=excluded)
        neighbours = [(score, corpus.items[j].tags) for j, score in hits]
        named = suggest.mentioned_tags(item.article, vocabulary)
        ranked = {
            "most popular tags": [t for t, _ in (totals - Counter(item.tags)).most_common(TOP)],
            "a tag word appears in the text": sorted(named, key=lambda t: (-counts[t], t)),
            "MiniLM neighbours' tags": [
                t for t, _ in suggest.suggest_tags(neighbours, "", vocabulary, TOP, bonus=0.0)
            ],
            "MiniLM neighbours + tag-word bonus": [
                t for t, _ in suggest.suggest_tags(neighbours, item.article, vocabulary, TOP)
            ],
        }
        for method, tags in ranked.items():
            results[method]["P@3"].append(metrics.precision_at(tags, item.tags, TOP))
            results[method]["hit@3"].append(metrics.hit_at(tags, item.tags, TOP))
    report.tags = {method: dict(scores) for method, scores in results.items()}


def evaluate_search(corpus: Corpus, embedder: Embedder, report: Report) -> None:
    queries = sorted(t for t, ids in corpus.tag_items.items() if len(ids) >= MIN_QUERY_ITEMS)
    lexical = LexicalIndex((i, item.article) for i, item in enumerate(corpus.items))
    query_vectors = embedder.embed(queries)
    results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    no_result: Counter[str] = Counter()
    for query, vector in zip(queries, query_vectors, strict=True):
        words = lexical.search(query, CANDIDATES)
        meaning = [j for j, _ in corpus.index.search(vector, CANDIDATES)]
        rankings = {
            "full text (SQLite FTS5, bm25)": words,
            "MiniLM alone": meaning,
            "full text + MiniLM (RRF, k=60)": reciprocal_rank_fusion([words, meaning]),
        }
        relevant = corpus.tag_items[query]
        for method, ranked in rankings.items():
            no_result[method] += not ranked
            results[method]["R@10"].append(metrics.recall_at(ranked, relevant, SEARCH_K))
            results[method]["nDCG@10"].append(metrics.ndcg_at(ranked, relevant, SEARCH_K))
    lexical.close()
    report.search = {method: dict(scores) for method, scores in results.items()}
    report.no_result = {method: no_result[method] for method in results}


def evaluate_related(corpus: Corpus, report: Report) -> None:
    nearest: list[float] = []
    chance: list[float] = []
    for i, item in enumerate(corpus.items):
        excluded = corpus.excluded(i)
        candidates = len(corpus.items) - len(excluded)
        if candidates == 0:
            continue
        shared = set().union(*(corpus.tag_items[t] for t in item.tags)) - excluded
        chance.append(len(shared) / candidates)
        hits = corpus.index.search(corpus.vectors[i], RELATED_K, exclude=excluded)
        nearest.extend(1.0 if j in shared else 0.0 for j, _ in hits)
    report.related = {
        "MiniLM 5 nearest": float(np.mean(nearest)),
        "random choice (expected)": float(np.mean(chance)),
    }


def add_intervals(report: Report, resamples: int, seed: int) -> None:
    baselines = ("most popular tags", "a tag word appears in the text")
    best = max(baselines, key=lambda m: report.mean("tags", m, "P@3"))
    shipped = report.tags["MiniLM neighbours + tag-word bonus"]["P@3"]
    report.intervals[f"tags P@3: shipped - {best}"] = metrics.paired_bootstrap(
        shipped, report.tags[best]["P@3"], resamples, seed
    )
    hybrid = report.search["full text + MiniLM (RRF, k=60)"]["R@10"]
    full_text = report.search["full text (SQLite FTS5, bm25)"]["R@10"]
    report.intervals["search R@10: RRF - full text"] = metrics.paired_bootstrap(
        hybrid, full_text, resamples, seed
    )


def evaluate(
    path: Path, embedder: Embedder, resamples: int = 1000, seed: int = 23
) -> tuple[Report, Corpus]:
    """Every figure of the table; the corpus (with its vectors) is returned for reuse."""
    corpus = build_corpus(load_items(path), embedder)
    report = Report()
    evaluate_tags(corpus, report)
    evaluate_search(corpus, embedder, report)
    evaluate_related(corpus, report)
    add_intervals(report, resamples, seed)
    return report, corpus


def format_report(report: Report, resamples: int) -> str:
    queries = len(next(iter(report.tags.values()))["P@3"])
    lines = [
        f"Tag suggestions, top {TOP} ({queries:,} items)",
        f"{'method':<40}{'P@3':>7}{'hit@3':>8}",
    ]
    for method in report.tags:
        lines.append(
            f"{method:<40}{report.mean('tags', method, 'P@3'):>7.3f}"
            f"{report.mean('tags', method, 'hit@3'):>8.3f}"
        )
    searches = len(next(iter(report.search.values()))["R@10"])
    lines += [
        "",
        f"Search ({searches} tags as queries)",
        f"{'method':<40}{'R@10':>7}{'nDCG@10':>9}{'no result':>11}",
    ]
    for method in report.search:
        lines.append(
            f"{method:<40}{report.mean('search', method, 'R@10'):>7.3f}"
            f"{report.mean('search', method, 'nDCG@10'):>9.3f}{report.no_result[method]:>11}"
        )
    lines += ["", f"Related articles: share of the top {RELATED_K} sharing >= 1 tag"]
    lines += [f"{method:<40}{share:>7.3f}" for method, share in report.related.items()]
    lines += ["", f"Paired bootstrap ({resamples:,} resamples): mean difference [95% interval]"]
    for name, (mean, low, high) in report.intervals.items():
        lines.append(f"{name:<56}{mean:+.3f} [{low:+.3f}, {high:+.3f}]")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="tagged-texts.jsonl")
    parser.add_argument(
        "--model-dir", default=None, help="model.onnx + tokenizer.json (default: shipped)"
    )
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"no data at {args.data} (see --data)", file=sys.stderr)
        return 2
    embedder = Embedder(args.model_dir)
    started = time.perf_counter()
    report, corpus = evaluate(args.data, embedder, args.resamples, args.seed)
    print(
        f"model {embedder.name} {embedder.version}; {len(corpus.items):,} items embedded and "
        f"scored in {time.perf_counter() - started:.1f} s\n"
    )
    print(format_report(report, args.resamples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
