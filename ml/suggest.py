"""Tag suggestions: the nearest articles' tags, weighted by similarity, plus a tag-word bonus.

Why both: neighbours know which tags a topic usually carries even when the draft never says
the word; the bonus catches a site tag the draft names outright. Offline (ml/evaluate.py) the
mix beats either part alone. Scores lie in [0, 1]: (1 - BONUS) x the neighbours' weighted vote
+ BONUS when the draft mentions the tag.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence

# Tuned lightly on the offline set (ml/evaluate.py's docstring has the grid): P@3 moved from
# 0.366 (plain similarity weights, bonus 0.3) to 0.393; the top configurations differ by < 0.01.
NEIGHBOURS = 20
SHARPNESS = 8.0  # a neighbour votes with similarity ** SHARPNESS: the closest ones dominate
BONUS = 0.35

_WORDS = re.compile(r"[a-z0-9]+")
# Words with their inner punctuation kept, for tags such as "asp.net", "http/2" or "c++".
_COMPOUNDS = re.compile(r"[a-z0-9][a-z0-9.+#/-]*[a-z0-9+#]")


def article_text(title: str, description: str, body: str) -> str:
    """What is embedded for an article: title and description first (the model reads 256
    tokens), a part repeating an earlier one only once."""
    parts: list[str] = []
    for part in (title.strip(), description.strip(), body.strip()):
        if part and part not in parts:
            parts.append(part)
    return "\n".join(parts)


def text_terms(text: str) -> set[str]:
    """The words and punctuated compounds of a text, lower-cased, that a tag may equal."""
    lowered = text.lower()
    return set(_WORDS.findall(lowered)) | set(_COMPOUNDS.findall(lowered))


def mentions(tag: str, terms: Collection[str], text: str) -> bool:
    """Whether the text names the tag: as one term, or as a phrase for "machine-learning"."""
    if tag in terms:
        return True
    if "-" not in tag:
        return False
    phrase = " ".join(_WORDS.findall(tag))
    return f" {phrase} " in f" {' '.join(_WORDS.findall(text.lower()))} "


def mentioned_tags(text: str, vocabulary: Iterable[str]) -> set[str]:
    terms = text_terms(text)
    return {tag for tag in vocabulary if mentions(tag, terms, text)}


def suggest_tags(
    neighbours: Sequence[tuple[float, Collection[str]]],
    text: str,
    vocabulary: Collection[str],
    k: int = 5,
    *,
    sharpness: float = SHARPNESS,
    bonus: float = BONUS,
) -> list[tuple[str, float]]:
    """The top k (tag, score) for a draft, best first.

    `neighbours` are (similarity, tags) of the nearest articles, nearest first; `vocabulary`
    is the site's tags, the only ones suggested.
    """
    weights = [max(similarity, 0.0) ** sharpness for similarity, _ in neighbours]
    total = sum(weights) or 1.0
    votes: dict[str, float] = defaultdict(float)
    for weight, (_, tags) in zip(weights, neighbours, strict=True):
        for tag in tags:
            votes[tag] += weight / total
    mentioned = mentioned_tags(text, vocabulary)
    for tag in mentioned:
        votes[tag] += 0.0  # a candidate even if no neighbour carries it
    scored = {
        tag: (1 - bonus) * vote + (bonus if tag in mentioned else 0.0)
        for tag, vote in votes.items()
        if tag in vocabulary and (vote > 0 or tag in mentioned)
    }
    ranked = sorted(scored.items(), key=lambda pair: (-pair[1], pair[0]))
    return [(tag, round(score, 4)) for tag, score in ranked[:k]]
