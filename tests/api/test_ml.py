"""Tag suggestions and related articles, on the real model, as a client sees them.

Articles are embedded in the background (jobs/embedding.py), never in the request; here the
test runs that pass itself, as the relay would right after the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.context import runtime_of
from db.session import Database
from jobs.embedding import embed_stale
from testkit.database import QueryCounter
from testkit.settings import make_settings
from tests.factories import Account, body_of, create_article, errors_of, register

DRAGONS = {
    "title": "Training your dragon to fly",
    "description": "Wings, fire and patience",
    "body": "A young dragon learns to fly with its rider over the mountains.",
    "tagList": ["dragons", "flying"],
}
DRAGONS_TOO = {
    "title": "Feeding a baby dragon",
    "description": "What dragons eat",
    "body": "Dragons eat a lot of fish and need warm fire to sleep.",
    "tagList": ["dragons", "pets"],
}
BAKING = {
    "title": "Baking sourdough bread",
    "description": "Flour, water and time",
    "body": "Knead the dough, let it rise overnight and bake it in a hot oven.",
    "tagList": ["baking", "bread"],
}


@pytest.fixture
def site(app: Flask, client: FlaskClient, db: Database) -> dict[str, Any]:
    model = runtime_of(app).model
    model.refresh_seconds = 0  # each test's rolled-back data: look again every time
    author = register(client)
    slugs = {name: create_article(client, author, **fields)["slug"]
             for name, fields in (("dragons", DRAGONS), ("dragons too", DRAGONS_TOO),
                                  ("baking", BAKING))}  # fmt: skip
    assert embed_stale(db.session(), model) == 3
    assert embed_stale(db.session(), model) == 0  # nothing stale any more
    return {"author": author, "slugs": slugs}


def test_related_articles_are_the_nearest_by_meaning(
    client: FlaskClient, site: dict[str, Any]
) -> None:
    slugs = site["slugs"]
    reply = client.get(f"/api/articles/{slugs['dragons']}/related", query_string={"limit": 2})
    assert reply.status_code == 200, reply.json
    page = body_of(reply)
    assert [a["slug"] for a in page["articles"]] == [slugs["dragons too"], slugs["baking"]]
    assert page["articlesCount"] == 2
    assert "body" not in page["articles"][0]  # the list shape
    one = body_of(client.get(f"/api/articles/{slugs['baking']}/related?limit=1"))
    assert len(one["articles"]) == 1 and one["articles"][0]["slug"] != slugs["baking"]


def test_related_of_an_article_not_embedded_yet_is_empty(
    client: FlaskClient, site: dict[str, Any]
) -> None:
    fresh = create_article(client, site["author"], title="Brand new")["slug"]
    reply = client.get(f"/api/articles/{fresh}/related")
    assert reply.status_code == 200
    assert body_of(reply) == {"articles": [], "articlesCount": 0}


@pytest.mark.parametrize("limit", ["0", "-1", "x"])
def test_related_limit_is_at_least_1(client: FlaskClient, site: dict[str, Any], limit: str) -> None:
    reply = client.get(f"/api/articles/{site['slugs']['dragons']}/related?limit={limit}")
    assert reply.status_code == 422 and "limit" in errors_of(reply)


def test_a_larger_related_limit_is_served_as_20(client: FlaskClient, site: dict[str, Any]) -> None:
    reply = client.get(f"/api/articles/{site['slugs']['dragons']}/related?limit=999999")
    assert reply.status_code == 200 and body_of(reply)["articlesCount"] == 2  # all there is


def test_related_of_no_such_article_is_404(client: FlaskClient) -> None:
    reply = client.get("/api/articles/nope/related")
    assert reply.status_code == 404 and errors_of(reply) == {"article": ["not found"]}


def suggest(client: FlaskClient, account: Account, **draft: Any) -> Any:
    body = {"title": "t", "description": "d", "body": "b", **draft}
    return client.post("/api/tags/suggestions", json={"article": body}, headers=account.headers)


def test_suggestions_come_from_the_nearest_articles_and_the_words(
    app: Flask, client: FlaskClient, site: dict[str, Any]
) -> None:
    reply = suggest(
        client,
        site["author"],
        title="How dragons sleep",
        description="Rest for young dragons",
        body="A dragon curls up near the fire after flying all day.",
    )
    assert reply.status_code == 200, reply.json
    answer = body_of(reply)
    tags = [s["tag"] for s in answer["suggestions"]]
    assert tags[0] == "dragons"
    assert set(tags) <= {"dragons", "flying", "pets", "baking", "bread"}  # the site's own only
    assert all(0 < s["score"] <= 1 for s in answer["suggestions"])  # 0: not a suggestion
    scores = [s["score"] for s in answer["suggestions"]]
    assert scores == sorted(scores, reverse=True) and len(tags) <= 5
    model = runtime_of(app).model
    assert answer["model"] == {"name": "all-MiniLM-L6-v2", "version": model.version()}
    # tags the draft already has are not suggested again
    again = suggest(client, site["author"], title="How dragons sleep", tagList=["dragons"])
    assert "dragons" not in [s["tag"] for s in body_of(again)["suggestions"]]


def test_suggestions_need_a_user_and_a_valid_draft(
    client: FlaskClient, site: dict[str, Any]
) -> None:
    anonymous = client.post("/api/tags/suggestions", json={"article": DRAGONS})
    assert anonymous.status_code == 401
    missing = client.post(
        "/api/tags/suggestions", json={"article": {"title": "t"}}, headers=site["author"].headers
    )
    assert missing.status_code == 422 and "description" in errors_of(missing)


@pytest.mark.parametrize(
    "text",
    ["", "   \t\n ", "dragon " * 10_000, "\x00\x01 ctrl", "é" * 150_000, "🐉" * 1000],
    ids=["empty", "blank", "10k tokens", "control", "300 KB", "emoji"],
)
def test_hostile_drafts_get_an_answer_or_a_422_never_a_5xx(
    client: FlaskClient, site: dict[str, Any], text: str
) -> None:
    reply = suggest(client, site["author"], body=text)
    assert reply.status_code in (200, 422), reply.json


@pytest.fixture
def no_model(tmp_path: Path) -> Iterator[Flask]:
    """An app whose MODEL_DIR holds nothing: the model cannot load."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    from db.migrate import upgrade

    upgrade(url)
    application = create_app(make_settings(url, model_dir=str(tmp_path / "missing")))
    application.config["TESTING"] = True
    yield application
    runtime_of(application).dispose()


def test_without_the_model_its_operations_answer_503_and_the_rest_works(
    no_model: Flask,
) -> None:
    client = no_model.test_client()
    author = register(client)
    slug = create_article(client, author, **DRAGONS)["slug"]
    for reply in (
        suggest(client, author, title="dragons"),
        client.get(f"/api/articles/{slug}/related"),
    ):
        assert reply.status_code == 503, reply.json
        assert reply.json == {"errors": {"model": ["is unavailable"]}}
        assert reply.headers["Retry-After"] == "5"
    ready = client.get("/api/ready")
    assert ready.status_code == 200
    assert body_of(ready)["status"] == "degraded"
    assert body_of(ready)["model"] == {"status": "degraded", "name": "all-MiniLM-L6-v2"}
    assert client.get(f"/api/articles/{slug}").status_code == 200
    assert client.get("/api/articles").status_code == 200


def test_readiness_names_the_model_once_loaded(app: Flask, client: FlaskClient) -> None:
    runtime_of(app).model.load()
    model = body_of(client.get("/api/ready"))["model"]
    assert model["status"] == "ok" and model["name"] == "all-MiniLM-L6-v2"
    assert model["version"] == runtime_of(app).model.version()


def search(client: FlaskClient, **query: Any) -> dict[str, Any]:
    reply = client.get("/api/articles", query_string=query)
    assert reply.status_code == 200, reply.json
    page: dict[str, Any] = body_of(reply)
    return page


def test_search_finds_by_words_and_by_meaning(client: FlaskClient, site: dict[str, Any]) -> None:
    slugs = site["slugs"]
    by_word = search(client, q="sourdough")
    assert by_word["articles"][0]["slug"] == slugs["baking"]
    # no article says "reptiles" or "wyrm": found by meaning, the dragons first
    by_meaning = search(client, q="winged fire-breathing reptiles")
    assert {a["slug"] for a in by_meaning["articles"][:2]} == {
        slugs["dragons"],
        slugs["dragons too"],
    }
    assert by_meaning["articlesCount"] == len(by_meaning["articles"])


def test_search_combines_with_filters_and_pages(client: FlaskClient, site: dict[str, Any]) -> None:
    slugs = site["slugs"]
    tagged = search(client, q="dragon", tag="pets")
    assert [a["slug"] for a in tagged["articles"]] == [slugs["dragons too"]]
    assert tagged["articlesCount"] == 1
    first = search(client, q="dragons", limit=1)
    second = search(client, q="dragons", limit=1, offset=1)
    assert first["articlesCount"] == second["articlesCount"] >= 2
    assert first["articles"][0]["slug"] != second["articles"][0]["slug"]


@pytest.mark.parametrize(
    "q", ['"', "NEAR * -", "'; DROP TABLE articles; --", "é" * 200, "\u202e\u0000x"]
)
def test_hostile_queries_are_answered_or_refused_never_a_5xx(
    client: FlaskClient, site: dict[str, Any], q: str
) -> None:
    reply = client.get("/api/articles", query_string={"q": q})
    assert reply.status_code in (200, 422), reply.json


def test_without_q_the_list_is_as_before(client: FlaskClient, site: dict[str, Any]) -> None:
    plain = search(client)
    assert [a["slug"] for a in plain["articles"]][:3] == [
        site["slugs"]["baking"],
        site["slugs"]["dragons too"],
        site["slugs"]["dragons"],
    ]


def test_the_index_reads_only_what_was_embedded_since_it_last_looked(
    app: Flask, client: FlaskClient, db: Database, site: dict[str, Any]
) -> None:
    dragons = site["slugs"]["dragons"]
    assert body_of(client.get(f"/api/articles/{dragons}/related"))["articlesCount"] == 2
    more = create_article(client, site["author"], **{**DRAGONS_TOO, "title": "Dragons at dusk"})
    assert embed_stale(db.session(), runtime_of(app).model) == 1
    with QueryCounter(db.engine) as seen:
        page = body_of(client.get(f"/api/articles/{dragons}/related"))
    assert more["slug"] in [a["slug"] for a in page["articles"]]
    reads = [s for s in seen.statements if "FROM article_embeddings" in s and "vector" in s]
    assert len(reads) == 1 and "embedded_at >=" in reads[0]  # not every vector again


def test_a_deleted_article_leaves_the_index_even_when_another_takes_its_place(
    app: Flask, client: FlaskClient, db: Database, site: dict[str, Any]
) -> None:
    slugs, author = site["slugs"], site["author"]
    assert len(body_of(client.get(f"/api/articles/{slugs['dragons']}/related"))["articles"]) == 2
    assert (
        client.delete(f"/api/articles/{slugs['baking']}", headers=author.headers).status_code == 204
    )
    create_article(client, author, **{**BAKING, "title": "Rye bread"})
    assert embed_stale(db.session(), runtime_of(app).model) == 1  # as many vectors as before
    page = body_of(client.get(f"/api/articles/{slugs['dragons']}/related?limit=5"))
    assert slugs["baking"] not in [a["slug"] for a in page["articles"]]
    assert page["articlesCount"] == 2


def test_related_of_an_article_asked_before_costs_one_statement(
    app: Flask,
    client: FlaskClient,
    db: Database,
    site: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dragons = site["slugs"]["dragons"]
    first = body_of(client.get(f"/api/articles/{dragons}/related"))
    # as between two looks at the vectors (the fixture looks every time)
    monkeypatch.setattr(runtime_of(app).model, "refresh_seconds", 60)
    with QueryCounter(db.engine) as counter:
        again = body_of(client.get(f"/api/articles/{dragons}/related"))
    assert again == first and counter.count == 1


def test_a_remembered_slug_follows_renames_and_deletions(
    client: FlaskClient, site: dict[str, Any]
) -> None:
    slugs, author = site["slugs"], site["author"]
    old = slugs["dragons"]
    assert body_of(client.get(f"/api/articles/{old}/related"))["articlesCount"] == 2
    renamed = client.put(
        f"/api/articles/{old}",
        json={"article": {"title": "Dragons in flight"}},
        headers=author.headers,
    )
    new = body_of(renamed)["article"]["slug"]
    assert new != old
    for slug in (old, new, old):  # the old slug still leads to the article
        reply = client.get(f"/api/articles/{slug}/related")
        assert reply.status_code == 200 and slugs["baking"] in [
            a["slug"] for a in body_of(reply)["articles"]
        ]
    assert client.delete(f"/api/articles/{new}", headers=author.headers).status_code == 204
    for slug in (new, old):
        reply = client.get(f"/api/articles/{slug}/related")
        assert reply.status_code == 404 and errors_of(reply) == {"article": ["not found"]}
    # a new article may take a freed slug: it answers for itself
    again = create_article(client, author, **{**BAKING, "title": "Dragons in flight"})
    assert again["slug"] == new
    page = body_of(client.get(f"/api/articles/{new}/related"))
    assert new not in [a["slug"] for a in page["articles"]]


def test_an_article_embedded_a_moment_ago_has_related_articles_at_once(
    app: Flask,
    client: FlaskClient,
    db: Database,
    site: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another worker may have looked at the vectors just before: it looks again for an
    article its index lacks, instead of answering none until its next look."""
    slugs, author = site["slugs"], site["author"]
    assert body_of(client.get(f"/api/articles/{slugs['dragons']}/related"))["articlesCount"] == 2
    monkeypatch.setattr(runtime_of(app).model, "refresh_seconds", 3600)
    fresh = create_article(client, author, **{**DRAGONS, "title": "Dragons again"})["slug"]
    assert embed_stale(db.session(), runtime_of(app).model) == 1
    page = body_of(client.get(f"/api/articles/{fresh}/related?limit=1"))
    assert [a["slug"] for a in page["articles"]] == [slugs["dragons"]]
