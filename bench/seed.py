"""A realistic dataset, created through the API itself with concurrent clients."""

from __future__ import annotations

import functools
import http.client
import itertools
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from db import counters
from testkit.settings import ROOT

PASSWORD = "bench-password-0123"
CLIENTS = 8
TAG_NAMES = [
    "python", "flask", "sqlalchemy", "postgresql", "javascript", "typescript", "react", "vue",
    "angular", "svelte", "rust", "go", "devops", "docker", "kubernetes", "testing", "security",
    "performance", "databases", "css", "html", "career", "productivity", "opensource", "linux",
    "cloud", "machine-learning", "data", "api-design", "architecture",
]  # fmt: skip
WORDS = [
    "how", "why", "what", "when", "building", "scaling", "testing", "shipping", "debugging",
    "designing", "a", "the", "your", "our", "fast", "simple", "robust", "modern", "practical",
    "hidden", "real-world", "production-grade", "tiny", "big", "first", "last", "guide", "notes",
    "lessons", "patterns", "mistakes", "tricks", "introduction", "deep-dive", "review",
]  # fmt: skip
LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco "
    "laboris nisi ut aliquip ex ea commodo consequat."
)


@dataclass(frozen=True, slots=True)
class Size:
    users: int
    articles: int
    favorites: int
    comments: int
    follows: int
    tags: int


FULL = Size(users=50, articles=1000, favorites=5000, comments=3000, follows=500, tags=30)
QUICK = Size(users=6, articles=40, favorites=100, comments=60, follows=12, tags=8)


@dataclass
class Dataset:
    """What the scenarios need to address the seeded data."""

    users: list[dict[str, str]] = field(default_factory=list)  # username, email, token
    slugs: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    followers: list[str] = field(default_factory=list)  # tokens of users who follow someone
    commented: list[str] = field(default_factory=list)  # slugs with comments


class Client:
    """JSON over http.client; a new connection per request, as gunicorn's sync workers close it."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def call(
        self, method: str, path: str, body: Any = None, token: str = "", expect: int = 200
    ) -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, payload, headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status != expect:
            raise RuntimeError(f"{method} {path} -> {response.status}: {data[:300]!r}")
        return json.loads(data) if data else None


@functools.cache
def _cumulative_weights(n: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1 / (i + 1) ** exponent for i in range(n)))


def _skewed(rng: random.Random, population: Sequence[Any], k: int, exponent: float) -> list[Any]:
    """k picks (with replacement) where the i-th item weighs 1/(i+1)^exponent: a few are popular."""
    weights = _cumulative_weights(len(population), exponent)
    return rng.choices(population, cum_weights=weights, k=k)


def _unique_pairs(
    rng: random.Random, count: int, pick: Callable[[], tuple[int, int]], *, distinct: bool
) -> list[tuple[int, int]]:
    """`count` different pairs from `pick`; with `distinct`, never (a, a)."""
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < count:
        a, b = pick()
        if not (distinct and a == b):
            pairs.add((a, b))
    ordered = sorted(pairs)
    rng.shuffle(ordered)
    return ordered


def _run(tasks: Iterable[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(task) for task in tasks]
        return [f.result() for f in futures]


# Title words that are not English stop words (full-text search drops those).
CONTENT_WORDS = [
    w for w in WORDS if w not in {"a", "the", "your", "our", "how", "why", "what", "when"}
]
DRAFT_BYTES = 1024


def drafts(count: int, rng_seed: int = 7) -> list[dict[str, str]]:
    """`count` different drafts of about 1 KB each (title, description, body), for SuggestTags:
    different texts, so that no answer comes from the embedding cache."""
    rng = random.Random(rng_seed)
    found = []
    for i in range(count):
        topic = rng.sample(TAG_NAMES, 2)
        title = " ".join(rng.sample(CONTENT_WORDS, 4)).capitalize() + f" with {topic[0]} {i}"
        description = f"Notes on {topic[0]} and {topic[1]}: " + LOREM[: rng.randint(40, 100)]
        words: list[str] = []
        while len(" ".join(words)) < DRAFT_BYTES - len(title) - len(description):
            words.append(rng.choice(CONTENT_WORDS + topic + LOREM.lower().split()))
        found.append({"title": title, "description": description, "body": " ".join(words)})
    return found


def search_terms(rng_seed: int = 8) -> list[str]:
    """Two-word queries, every one different: two title words (a match by words and by
    meaning), or a title word and a tag name (mostly by meaning), shuffled."""
    pairs = [f"{a} {b}" for a in CONTENT_WORDS for b in CONTENT_WORDS if a != b]
    pairs += [f"{a} {tag}" for a in CONTENT_WORDS for tag in TAG_NAMES if a != tag]
    unique = list(dict.fromkeys(pairs))  # "testing" is a title word and a tag
    random.Random(rng_seed).shuffle(unique)
    return unique


def seed(base_url: str, size: Size, progress: Callable[[str], None], rng_seed: int = 6) -> Dataset:
    rng = random.Random(rng_seed)
    api = Client(base_url)
    data = Dataset()
    tags = TAG_NAMES[: size.tags]

    # Everything random is drawn here, in order, so the dataset is the same on every run.
    profiles = [
        {
            "bio": f"I write about {' and '.join(rng.sample(tags, 2))}. "
            + LOREM[: rng.randint(20, 120)],
            "image": f"https://images.bench.example/avatars/{i:03d}.png",
        }
        for i in range(size.users)
    ]
    articles = [
        (
            author,
            {
                "title": " ".join(rng.sample(WORDS, rng.randint(3, 7))).capitalize() + f" {i}",
                "description": LOREM[: rng.randint(60, 180)],
                "body": "\n\n".join([LOREM] * rng.randint(2, 8)),
                "tagList": sorted(set(_skewed(rng, tags, rng.randint(1, 4), 0.8))),
            },
        )
        for i, author in enumerate(_skewed(rng, range(size.users), size.articles, 0.7))
    ]
    users, article_ids = range(size.users), range(size.articles)
    follow_pairs = _unique_pairs(
        rng,
        size.follows,
        lambda: (rng.choice(users), _skewed(rng, users, 1, 0.8)[0]),
        distinct=True,
    )
    favorite_pairs = _unique_pairs(
        rng,
        size.favorites,
        lambda: (rng.choice(users), _skewed(rng, article_ids, 1, 0.6)[0]),
        distinct=False,
    )
    comments = [
        (article, rng.choice(users), LOREM[: rng.randint(40, len(LOREM))])
        for article in _skewed(rng, article_ids, size.comments, 0.6)
    ]

    def register(i: int) -> dict[str, str]:
        name = f"bench_user_{i:03d}"
        user = {"username": name, "email": f"{name}@bench.example", "password": PASSWORD}
        token = api.call("POST", "/api/users", {"user": user}, expect=201)["user"]["token"]
        api.call("PUT", "/api/user", {"user": profiles[i]}, token=token)
        return {"username": name, "email": user["email"], "token": token}

    data.users = _run([functools.partial(register, i) for i in users])
    progress(f"{size.users} users (registered, profiles set)")

    def create(author: int, article: dict[str, Any]) -> str:
        token = data.users[author]["token"]
        response = api.call("POST", "/api/articles", {"article": article}, token=token, expect=201)
        slug: str = response["article"]["slug"]
        return slug

    data.slugs = _run([functools.partial(create, *a) for a in articles])
    data.tags = sorted({t for _, article in articles for t in article["tagList"]})
    progress(f"{size.articles} articles with 1-4 tags from {size.tags}")

    def follow(follower: int, followed: int) -> None:
        name = quote(data.users[followed]["username"])
        api.call("POST", f"/api/profiles/{name}/follow", token=data.users[follower]["token"])

    def favorite(user: int, article: int) -> None:
        slug = data.slugs[article]
        api.call("POST", f"/api/articles/{slug}/favorite", token=data.users[user]["token"])

    def comment(article: int, user: int, body: str) -> None:
        slug = data.slugs[article]
        payload = {"comment": {"body": body}}
        token = data.users[user]["token"]
        api.call("POST", f"/api/articles/{slug}/comments", payload, token=token, expect=201)

    tasks: list[Callable[[], None]] = [functools.partial(follow, *p) for p in follow_pairs]
    tasks += [functools.partial(favorite, *p) for p in favorite_pairs]
    tasks += [functools.partial(comment, *c) for c in comments]
    rng.shuffle(tasks)
    _run(tasks)
    data.followers = sorted({data.users[f]["token"] for f, _ in follow_pairs})
    data.commented = sorted({data.slugs[a] for a, _, _ in comments})
    progress(f"{size.follows} follows, {size.favorites} favorites, {size.comments} comments")
    return data


def analyze(database_url: str) -> None:
    """What production's background work does after many inserts: the workers' relay folds
    the article counters' deltas into their rows (db/counters.py; no worker runs here), and
    autovacuum gathers planner statistics and sets the visibility map that lets a count be
    answered from an index alone."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with Session(engine) as session:
            counters.fold(session)
            session.commit()
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def embed(database_url: str, log: Path) -> None:
    """`make embed` on the bench database: every seeded article gets its vector."""
    with log.open("ab") as out:
        subprocess.run(
            [sys.executable, "-m", "runtime.embed"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, "APP_ENV": "development"},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )
