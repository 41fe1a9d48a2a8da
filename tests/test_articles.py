"""Articles and the feed (operations CreateArticle, GetArticle, UpdateArticle, DeleteArticle,
GetArticles, GetArticlesFeed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from db.models import Article
from db.session import Database
from tests.factories import Account, create_article, errors_of, register

ARTICLE_KEYS = {
    "slug",
    "title",
    "description",
    "body",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}


def post_article(client: FlaskClient, account: Account, **fields: Any) -> Any:
    article = {"title": "A title", "description": "A description", "body": "A body", **fields}
    return client.post("/api/articles", json={"article": article}, headers=account.headers)


def listing(client: FlaskClient, query: str = "", account: Account | None = None) -> Any:
    response = client.get(f"/api/articles{query}", headers=account.headers if account else {})
    assert response.status_code == 200, response.json
    return response.json


def slugs(page: dict[str, Any]) -> list[str]:
    return [a["slug"] for a in page["articles"]]


def article_count(db: Database) -> int:
    return db.session().scalar(select(func.count()).select_from(Article)) or 0


def set_created_at(db: Database, slug_list: list[str], moment: datetime) -> None:
    session = db.session()
    session.execute(update(Article).where(Article.slug.in_(slug_list)).values(created_at=moment))
    session.commit()


# --- CreateArticle ---------------------------------------------------------------------------


def test_create_article(client: FlaskClient) -> None:
    jake = register(client, "jake")
    response = client.post(
        "/api/articles",
        headers=jake.headers,
        json={
            "article": {
                "title": "How to train your dragon",
                "description": "Ever wonder how?",
                "body": "You have to believe",
                "tagList": ["reactjs", "angularjs", "dragons"],
            }
        },
    )
    assert response.status_code == 201, response.json
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    article = response.json["article"]
    assert set(article) == ARTICLE_KEYS
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["title"] == "How to train your dragon"
    assert article["description"] == "Ever wonder how?"
    assert article["body"] == "You have to believe"
    assert article["tagList"] == ["angularjs", "dragons", "reactjs"]
    assert article["favorited"] is False
    assert article["favoritesCount"] == 0
    assert article["author"] == {"username": "jake", "bio": "", "image": "", "following": False}
    assert article["createdAt"].endswith("Z")
    assert article["createdAt"] == article["updatedAt"]
    datetime.fromisoformat(article["createdAt"])
    # and it can be read back
    fetched = client.get(f"/api/articles/{article['slug']}")
    assert fetched.status_code == 200
    assert fetched.json["article"] == article


def test_create_article_without_tags_has_empty_tag_list(client: FlaskClient) -> None:
    jake = register(client)
    response = post_article(client, jake)
    assert response.status_code == 201
    assert response.json["article"]["tagList"] == []
    response = post_article(client, jake, title="Other", tagList=[])
    assert response.json["article"]["tagList"] == []


def test_tag_list_deduplicated_and_sorted(client: FlaskClient) -> None:
    jake = register(client)
    response = post_article(client, jake, tagList=["zeta", "alpha", "zeta", "Mid", " alpha "])
    assert response.status_code == 201
    # tags are trimmed, de-duplicated and sorted (code point order: upper case first)
    assert response.json["article"]["tagList"] == ["Mid", "alpha", "zeta"]
    fetched = client.get(f"/api/articles/{response.json['article']['slug']}")
    assert fetched.json["article"]["tagList"] == ["Mid", "alpha", "zeta"]
    assert listing(client)["articles"][0]["tagList"] == ["Mid", "alpha", "zeta"]


def test_slug_numeric_suffix_when_taken(client: FlaskClient) -> None:
    jake, anna = register(client), register(client)
    assert post_article(client, jake, title="Title").json["article"]["slug"] == "title"
    assert post_article(client, anna, title="title").json["article"]["slug"] == "title-2"
    assert post_article(client, jake, title="TITLE!").json["article"]["slug"] == "title-3"
    # each slug names its own article
    assert client.get("/api/articles/title-2").json["article"]["author"]["username"] == (
        anna.username
    )
    assert client.get("/api/articles/title").json["article"]["title"] == "Title"


def test_slug_without_suffix_when_only_a_suffixed_one_exists(client: FlaskClient) -> None:
    jake = register(client)
    assert post_article(client, jake, title="Hello 2").json["article"]["slug"] == "hello-2"
    # "hello" itself is free, so it gets no suffix
    assert post_article(client, jake, title="Hello").json["article"]["slug"] == "hello"
    assert post_article(client, jake, title="Hello").json["article"]["slug"] == "hello-3"


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Ünïcödé Çafé crème", "unicode-cafe-creme"),
        ("  Hello,   World!!  ", "hello-world"),
        ("C++ & Rust: 2024 edition", "c-rust-2024-edition"),
        ("!!!", "article"),
        ("日本語のタイトル", "article"),
        ("feed", "feed-article"),
    ],
)
def test_slug_from_unicode_and_punctuation_titles(
    client: FlaskClient, title: str, slug: str
) -> None:
    jake = register(client)
    response = post_article(client, jake, title=title)
    assert response.status_code == 201, response.json
    assert response.json["article"]["slug"] == slug
    assert response.json["article"]["title"] == title.strip()
    assert client.get(f"/api/articles/{slug}").json["article"]["title"] == title.strip()


def test_punctuation_only_titles_get_distinct_slugs(client: FlaskClient) -> None:
    jake = register(client)
    first = post_article(client, jake, title="???").json["article"]["slug"]
    second = post_article(client, jake, title="...").json["article"]["slug"]
    assert (first, second) == ("article", "article-2")


UNKNOWN_FIELDS: list[dict[str, Any]] = [
    {"author": {"username": "someone-else"}},
    {"slug": "chosen-slug"},
    {"favoritesCount": 1000},
    {"favorited": True},
    {"createdAt": "2000-01-01T00:00:00.000Z"},
    {"updatedAt": "2000-01-01T00:00:00.000Z"},
    {"id": 1},
]


def test_create_rejects_unknown_fields(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    register(client, "someone-else")
    for extra in UNKNOWN_FIELDS:
        response = post_article(client, jake, **extra)
        assert response.status_code == 422, extra
        (name,) = extra
        assert any(line.startswith(f"{name}:") for line in errors_of(response)), response.json
    assert article_count(db) == 0


def test_create_rejects_unknown_top_level_field(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    article = {"title": "t", "description": "d", "body": "b"}
    response = client.post(
        "/api/articles", headers=jake.headers, json={"article": article, "author": "x"}
    )
    assert response.status_code == 422
    assert any(line.startswith("author:") for line in errors_of(response))
    assert article_count(db) == 0


VALID = {"title": "Valid title", "description": "Valid description", "body": "Valid body"}


CREATE_INVALID: list[tuple[dict[str, Any], str]] = [
    ({"description": "d", "body": "b"}, "title"),
    ({"title": "t", "body": "b"}, "description"),
    ({"title": "t", "description": "d"}, "body"),
    ({**VALID, "title": ""}, "title"),
    ({**VALID, "title": "   "}, "title"),
    ({**VALID, "description": " \n\t "}, "description"),
    ({**VALID, "body": ""}, "body"),
    ({**VALID, "title": None}, "title"),
    ({**VALID, "title": 5}, "title"),
    ({**VALID, "body": ["a", "b"]}, "body"),
    ({**VALID, "description": {"x": 1}}, "description"),
    ({**VALID, "tagList": "dragons"}, "tagList"),
    ({**VALID, "tagList": [1, 2]}, "tagList"),
    ({**VALID, "tagList": [""]}, "tagList"),
    ({**VALID, "tagList": ["x" * 65]}, "tagList"),
    ({**VALID, "tagList": [f"tag{i}" for i in range(21)]}, "tagList"),
    ({**VALID, "tagList": ["bad\ttag"]}, "tagList"),
    ({**VALID, "title": "x" * 201}, "title"),
    ({**VALID, "description": "x" * 2001}, "description"),
    ({**VALID, "body": "x" * 200_001}, "body"),
    ({**VALID, "title": "nul\u0000byte"}, "title"),
    ({**VALID, "description": "nul\u0000byte"}, "description"),
    ({**VALID, "body": "nul\u0000byte"}, "body"),
    ({**VALID, "tagList": ["nul\u0000"]}, "tagList"),
    ({**VALID, "title": "two\nlines"}, "title"),
]


def test_create_validation(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    for payload, field in CREATE_INVALID:
        response = client.post("/api/articles", headers=jake.headers, json={"article": payload})
        assert response.status_code == 422, (payload, response.json)
        assert any(line.startswith(field) for line in errors_of(response)), response.json
    assert article_count(db) == 0
    assert client.get("/api/tags").json == {"tags": []}


def test_create_malformed_envelopes(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    envelopes: list[Any] = [
        {},
        {"article": None},
        {"article": "text"},
        [VALID],
        "just a string",
        {"article": {}},
    ]
    for payload in envelopes:
        response = client.post("/api/articles", headers=jake.headers, json=payload)
        assert response.status_code == 422, payload
        errors_of(response)
    assert article_count(db) == 0


def test_create_invalid_json_and_wrong_content_type(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    bad_json = client.post(
        "/api/articles",
        headers={**jake.headers, "Content-Type": "application/json"},
        data=b'{"article": {',
    )
    assert bad_json.status_code == 422
    errors_of(bad_json)
    form = client.post("/api/articles", headers=jake.headers, data={"title": "x"})
    assert form.status_code == 415
    errors_of(form)
    assert article_count(db) == 0


def test_limits_are_inclusive(client: FlaskClient) -> None:
    jake = register(client)
    response = post_article(
        client,
        jake,
        title="x" * 200,
        description="d" * 2000,
        tagList=[f"t{i:02d}" + "x" * 61 for i in range(20)],
    )
    assert response.status_code == 201, response.json
    assert len(response.json["article"]["tagList"]) == 20


# --- GetArticle ------------------------------------------------------------------------------


def test_get_unknown_article_is_404(client: FlaskClient) -> None:
    response = client.get("/api/articles/no-such-article")
    assert response.status_code == 404
    assert errors_of(response) == ["article not found"]


def test_get_article_favorited_and_following_for_viewer(client: FlaskClient) -> None:
    author, reader = register(client), register(client)
    slug = create_article(client, author)["slug"]
    anonymous = client.get(f"/api/articles/{slug}").json["article"]
    assert anonymous["favorited"] is False and anonymous["author"]["following"] is False

    client.post(f"/api/profiles/{author.username}/follow", headers=reader.headers)
    client.post(f"/api/articles/{slug}/favorite", headers=reader.headers)

    seen = client.get(f"/api/articles/{slug}", headers=reader.headers).json["article"]
    assert seen["favorited"] is True
    assert seen["favoritesCount"] == 1
    assert seen["author"]["following"] is True
    # anonymously: counts are public, the viewer flags are not
    anonymous = client.get(f"/api/articles/{slug}").json["article"]
    assert anonymous["favorited"] is False and anonymous["author"]["following"] is False
    assert anonymous["favoritesCount"] == 1
    # the author's own view: not favorited by them, not following themselves
    own = client.get(f"/api/articles/{slug}", headers=author.headers).json["article"]
    assert own["favorited"] is False and own["author"]["following"] is False


def test_get_article_with_bad_token_is_401(client: FlaskClient) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    response = client.get(f"/api/articles/{slug}", headers={"Authorization": "Token nope"})
    assert response.status_code == 401
    errors_of(response)


# --- UpdateArticle ---------------------------------------------------------------------------


def test_update_article_fields(client: FlaskClient) -> None:
    jake = register(client)
    created = create_article(client, jake, title="Stay", tagList=["old"])
    response = client.put(
        f"/api/articles/{created['slug']}",
        headers=jake.headers,
        json={"article": {"description": "New description", "body": "New body"}},
    )
    assert response.status_code == 200, response.json
    article = response.json["article"]
    assert article["slug"] == "stay" and article["title"] == "Stay"
    assert (article["description"], article["body"]) == ("New description", "New body")
    assert article["tagList"] == ["old"]  # not sent, not changed
    assert article["createdAt"] == created["createdAt"]
    assert article["updatedAt"] >= created["updatedAt"]
    assert client.get("/api/articles/stay").json["article"] == article


def test_update_title_changes_slug(client: FlaskClient) -> None:
    jake = register(client)
    create_article(client, jake, title="How to train your dragon")
    response = client.put(
        "/api/articles/how-to-train-your-dragon",
        headers=jake.headers,
        json={"article": {"title": "Did you train your dragon?"}},
    )
    assert response.status_code == 200
    assert response.json["article"]["slug"] == "did-you-train-your-dragon"
    assert response.json["article"]["title"] == "Did you train your dragon?"
    assert client.get("/api/articles/did-you-train-your-dragon").status_code == 200
    # old links keep working: the old slug answers with the article under its new slug
    old = client.get("/api/articles/how-to-train-your-dragon")
    assert old.status_code == 200
    assert old.json["article"]["slug"] == "did-you-train-your-dragon"
    comment = client.post(
        "/api/articles/how-to-train-your-dragon/comments",
        headers=jake.headers,
        json={"comment": {"body": "via the old link"}},
    )
    assert comment.status_code == 200
    # a new article may take the old slug; it then names the new article
    assert create_article(client, jake, title="How to train your dragon")["slug"] == (
        "how-to-train-your-dragon"
    )
    fresh = client.get("/api/articles/how-to-train-your-dragon").json["article"]
    assert fresh["title"] == "How to train your dragon"
    # renaming back to a former title takes the slug back out of the history
    client.put(
        "/api/articles/did-you-train-your-dragon",
        headers=jake.headers,
        json={"article": {"title": "Did you train your dragon again?"}},
    )
    again = client.get("/api/articles/did-you-train-your-dragon")
    assert again.json["article"]["slug"] == "did-you-train-your-dragon-again"


def test_update_title_to_a_taken_slug_gets_a_suffix(client: FlaskClient) -> None:
    jake = register(client)
    create_article(client, jake, title="Taken")
    create_article(client, jake, title="Mine")
    response = client.put(
        "/api/articles/mine", headers=jake.headers, json={"article": {"title": "Taken"}}
    )
    assert response.json["article"]["slug"] == "taken-2"
    assert client.get("/api/articles/taken").json["article"]["title"] == "Taken"


def test_update_title_with_the_same_slug_keeps_it(client: FlaskClient) -> None:
    jake = register(client)
    create_article(client, jake, title="Same words")
    response = client.put(
        "/api/articles/same-words", headers=jake.headers, json={"article": {"title": "SAME words!"}}
    )
    assert response.status_code == 200
    assert response.json["article"]["slug"] == "same-words"
    assert response.json["article"]["title"] == "SAME words!"


def test_update_tag_list_replaces_tags(client: FlaskClient) -> None:
    jake = register(client)
    slug = create_article(client, jake, tagList=["a", "b"])["slug"]
    response = client.put(
        f"/api/articles/{slug}",
        headers=jake.headers,
        json={"article": {"tagList": ["c", "a", "c"]}},
    )
    assert response.json["article"]["tagList"] == ["a", "c"]
    assert client.get("/api/tags").json["tags"] == ["a", "c"]
    cleared = client.put(
        f"/api/articles/{slug}", headers=jake.headers, json={"article": {"tagList": []}}
    )
    assert cleared.json["article"]["tagList"] == []
    assert client.get("/api/tags").json["tags"] == []


UPDATE_INVALID: list[tuple[dict[str, Any], str]] = [
    ({}, "at least one field is required"),
    ({"title": ""}, "title"),
    ({"title": "  "}, "title"),
    ({"title": None}, "title"),
    ({"body": 42}, "body"),
    ({"description": "x" * 2001}, "description"),
    ({"title": "x" * 201}, "title"),
    ({"body": "nul\u0000"}, "body"),
    ({"tagList": [f"t{i}" for i in range(21)]}, "tagList"),
    ({"slug": "hijack"}, "slug"),
    ({"author": {"username": "other"}}, "author"),
    ({"favoritesCount": 9}, "favoritesCount"),
    ({"createdAt": "2000-01-01T00:00:00.000Z"}, "createdAt"),
]


def test_update_validation_changes_nothing(client: FlaskClient) -> None:
    jake = register(client)
    before = create_article(client, jake, title="Keep me", tagList=["kept"])
    for changes, field in UPDATE_INVALID:
        response = client.put(
            "/api/articles/keep-me", headers=jake.headers, json={"article": changes}
        )
        assert response.status_code == 422, (changes, response.json)
        assert any(field in line for line in errors_of(response)), response.json
    assert client.get("/api/articles/keep-me").json["article"] == before
    assert client.get("/api/tags").json["tags"] == ["kept"]


def test_update_unknown_article_is_404(client: FlaskClient) -> None:
    jake = register(client)
    response = client.put(
        "/api/articles/nope", headers=jake.headers, json={"article": {"body": "x"}}
    )
    assert response.status_code == 404
    errors_of(response)


# --- DeleteArticle ---------------------------------------------------------------------------


def test_delete_article(client: FlaskClient, db: Database) -> None:
    jake, fan = register(client), register(client)
    slug = create_article(client, jake, tagList=["gone"])["slug"]
    client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
    response = client.delete(f"/api/articles/{slug}", headers=jake.headers)
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers
    assert client.get(f"/api/articles/{slug}").status_code == 404
    assert listing(client) == {"articles": [], "articlesCount": 0}
    assert listing(client, f"?favorited={fan.username}")["articlesCount"] == 0
    assert client.get("/api/tags").json["tags"] == []
    assert article_count(db) == 0
    again = client.delete(f"/api/articles/{slug}", headers=jake.headers)
    assert again.status_code == 404
    errors_of(again)


# --- GetArticles -----------------------------------------------------------------------------


def test_list_empty(client: FlaskClient) -> None:
    assert listing(client) == {"articles": [], "articlesCount": 0}


def test_list_newest_first_without_body(client: FlaskClient) -> None:
    jake = register(client)
    created = [create_article(client, jake) for _ in range(3)]
    page = listing(client)
    assert page["articlesCount"] == 3
    assert slugs(page) == [a["slug"] for a in reversed(created)]
    for item, original in zip(page["articles"], reversed(created), strict=True):
        assert "body" not in item
        assert set(item) == ARTICLE_KEYS - {"body"}
        assert {k: v for k, v in original.items() if k != "body"} == item


def test_list_ties_are_ordered_deterministically(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    created = [create_article(client, jake)["slug"] for _ in range(4)]
    newer = create_article(client, jake)["slug"]
    set_created_at(db, created, datetime(2020, 1, 1, tzinfo=UTC))
    expected = [newer, *reversed(created)]  # equal timestamps: latest created first
    assert slugs(listing(client)) == expected
    assert slugs(listing(client)) == expected
    walked = [slugs(listing(client, f"?limit=1&offset={i}"))[0] for i in range(5)]
    assert walked == expected


def test_list_ordered_by_creation_not_update(client: FlaskClient) -> None:
    jake = register(client)
    first = create_article(client, jake)["slug"]
    second = create_article(client, jake)["slug"]
    client.put(f"/api/articles/{first}", headers=jake.headers, json={"article": {"body": "new"}})
    assert slugs(listing(client)) == [second, first]


def test_list_filters(client: FlaskClient) -> None:
    jake, anna, fan = register(client, "jake"), register(client, "anna"), register(client, "fan")
    j_dragons = create_article(client, jake, tagList=["dragons"])["slug"]
    j_other = create_article(client, jake, tagList=["other"])["slug"]
    a_dragons = create_article(client, anna, tagList=["dragons", "other"])["slug"]
    a_none = create_article(client, anna)["slug"]
    for slug in (j_dragons, a_dragons, a_none):
        client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
    client.post(f"/api/articles/{j_other}/favorite", headers=anna.headers)

    cases = {
        "?tag=dragons": [a_dragons, j_dragons],
        "?tag=other": [a_dragons, j_other],
        "?tag=Dragons": [],
        "?tag=unknown": [],
        "?author=jake": [j_other, j_dragons],
        "?author=anna": [a_none, a_dragons],
        "?author=nobody": [],
        "?favorited=fan": [a_none, a_dragons, j_dragons],
        "?favorited=anna": [j_other],
        "?favorited=jake": [],
        "?favorited=nobody": [],
        "?tag=dragons&author=jake": [j_dragons],
        "?tag=dragons&favorited=fan": [a_dragons, j_dragons],
        "?author=anna&favorited=fan": [a_none, a_dragons],
        "?tag=other&author=anna&favorited=fan": [a_dragons],
        "?tag=other&author=jake&favorited=fan": [],
        "?author=jake&limit=1": [j_other],
        "?favorited=fan&limit=2&offset=1": [a_dragons, j_dragons],
    }
    totals = {"?author=jake&limit=1": 2, "?favorited=fan&limit=2&offset=1": 3}
    for query, expected in cases.items():
        page = listing(client, query)
        assert slugs(page) == expected, query
        assert page["articlesCount"] == totals.get(query, len(expected)), query


def test_list_favorited_filter_reports_viewer_flags(client: FlaskClient) -> None:
    author, fan, viewer = register(client), register(client), register(client)
    slug = create_article(client, author)["slug"]
    client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
    # filtering on someone else's favorites does not make them the viewer's favorites
    item = listing(client, f"?favorited={fan.username}", viewer)["articles"][0]
    assert item["favorited"] is False and item["favoritesCount"] == 1
    item = listing(client, f"?favorited={fan.username}", fan)["articles"][0]
    assert item["favorited"] is True


def test_list_pagination(client: FlaskClient) -> None:
    jake = register(client)
    created = [create_article(client, jake)["slug"] for _ in range(25)]
    newest_first = list(reversed(created))

    default = listing(client)
    assert len(default["articles"]) == 20
    assert default["articlesCount"] == 25
    assert slugs(default) == newest_first[:20]

    second = listing(client, "?limit=20&offset=20")
    assert slugs(second) == newest_first[20:]
    assert second["articlesCount"] == 25

    middle = listing(client, "?limit=3&offset=5")
    assert slugs(middle) == newest_first[5:8]
    assert middle["articlesCount"] == 25

    assert slugs(listing(client, "?limit=100")) == newest_first
    beyond = listing(client, "?offset=25")
    assert beyond == {"articles": [], "articlesCount": 25}
    assert listing(client, "?offset=1000&limit=5") == {"articles": [], "articlesCount": 25}


LIST_INVALID = [
    "?limit=0",
    "?limit=101",
    "?limit=-1",
    "?limit=abc",
    "?offset=-1",
    "?offset=x",
    "?offset=2147483648",
    "?limit=99999999999999999999",
    "?tag=" + "x" * 65,
    "?tag=%00",
    "?author=%00",
]


def test_list_query_validation(client: FlaskClient) -> None:
    for query in LIST_INVALID:
        response = client.get(f"/api/articles{query}")
        assert response.status_code == 422, (query, response.json)
        errors_of(response)


def test_list_ignores_unknown_query_parameters(client: FlaskClient) -> None:
    jake = register(client)
    create_article(client, jake)
    assert listing(client, "?_=12345")["articlesCount"] == 1


def test_list_viewer_flags(client: FlaskClient) -> None:
    followed, stranger, viewer = register(client), register(client), register(client)
    liked = create_article(client, followed)["slug"]
    plain = create_article(client, stranger)["slug"]
    client.post(f"/api/profiles/{followed.username}/follow", headers=viewer.headers)
    client.post(f"/api/articles/{liked}/favorite", headers=viewer.headers)

    by_slug = {a["slug"]: a for a in listing(client, "", viewer)["articles"]}
    assert by_slug[liked]["favorited"] is True
    assert by_slug[liked]["author"]["following"] is True
    assert by_slug[plain]["favorited"] is False
    assert by_slug[plain]["author"]["following"] is False

    for item in listing(client)["articles"]:
        assert item["favorited"] is False
        assert item["author"]["following"] is False
    assert {a["slug"]: a["favoritesCount"] for a in listing(client)["articles"]} == {
        liked: 1,
        plain: 0,
    }


def test_list_with_bad_token_is_401(client: FlaskClient) -> None:
    response = client.get("/api/articles", headers={"Authorization": "Token not.a.jwt"})
    assert response.status_code == 401
    errors_of(response)


# --- GetArticlesFeed -------------------------------------------------------------------------


def test_feed_requires_token(client: FlaskClient) -> None:
    response = client.get("/api/articles/feed")
    assert response.status_code == 401
    assert errors_of(response) == ["missing authorization token"]


def test_feed_empty_when_following_nobody(client: FlaskClient) -> None:
    author, reader = register(client), register(client)
    create_article(client, author)
    create_article(client, reader)  # one's own articles are not in one's feed
    response = client.get("/api/articles/feed", headers=reader.headers)
    assert response.status_code == 200
    assert response.json == {"articles": [], "articlesCount": 0}


def test_feed_only_followed_authors(client: FlaskClient) -> None:
    jake, anna, bob, reader = (register(client) for _ in range(4))
    j1 = create_article(client, jake)["slug"]
    create_article(client, bob)
    a1 = create_article(client, anna)["slug"]
    j2 = create_article(client, jake)["slug"]
    create_article(client, reader)
    for author in (jake, anna):
        client.post(f"/api/profiles/{author.username}/follow", headers=reader.headers)
    client.post(f"/api/articles/{a1}/favorite", headers=reader.headers)

    feed = client.get("/api/articles/feed", headers=reader.headers).json
    assert slugs(feed) == [j2, a1, j1]
    assert feed["articlesCount"] == 3
    for item in feed["articles"]:
        assert "body" not in item
        assert item["author"]["following"] is True
        assert item["favorited"] is (item["slug"] == a1)

    paged = client.get("/api/articles/feed?limit=1&offset=1", headers=reader.headers).json
    assert paged == {"articles": [feed["articles"][1]], "articlesCount": 3}
    beyond = client.get("/api/articles/feed?offset=3", headers=reader.headers).json
    assert beyond == {"articles": [], "articlesCount": 3}

    client.delete(f"/api/profiles/{anna.username}/follow", headers=reader.headers)
    feed = client.get("/api/articles/feed", headers=reader.headers).json
    assert slugs(feed) == [j2, j1]
    assert feed["articlesCount"] == 2


def test_feed_query_validation(client: FlaskClient) -> None:
    reader = register(client)
    for query in ("?limit=0", "?limit=101", "?offset=-1", "?limit=x"):
        response = client.get(f"/api/articles/feed{query}", headers=reader.headers)
        assert response.status_code == 422, query
        errors_of(response)
