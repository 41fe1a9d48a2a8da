"""Articles and the feed (operations CreateArticle, GetArticle, UpdateArticle, DeleteArticle,
GetArticles, GetArticlesFeed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select, update

from db.models import Article, User
from db.session import Database
from tests.factories import Account, body_of, create_article, errors_of, register

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


INVALID_CHALLENGE = 'Token realm="conduit", error="invalid_token"'
MISSING_CHALLENGE = 'Token realm="conduit"'


def forged(account: Account) -> dict[str, str]:
    """The account's own token with its signature replaced: well-formed, but not ours."""
    header_and_payload = account.token.rsplit(".", 1)[0]
    return {"Authorization": f"Token {header_and_payload}.{'A' * 43}"}


def post_article(client: FlaskClient, account: Account, **fields: Any) -> Any:
    article = {"title": "A title", "description": "A description", "body": "A body", **fields}
    return client.post("/api/articles", json={"article": article}, headers=account.headers)


def listing(client: FlaskClient, query: str = "", account: Account | None = None) -> dict[str, Any]:
    response = client.get(f"/api/articles{query}", headers=account.headers if account else {})
    assert response.status_code == 200, response.json
    return body_of(response)


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
    article = body_of(response)["article"]
    assert set(article) == ARTICLE_KEYS
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["title"] == "How to train your dragon"
    assert article["description"] == "Ever wonder how?"
    assert article["body"] == "You have to believe"
    assert article["tagList"] == ["angularjs", "dragons", "reactjs"]
    assert article["favorited"] is False
    assert article["favoritesCount"] == 0
    assert article["author"] == {"username": "jake", "bio": None, "image": None, "following": False}
    assert article["createdAt"].endswith("Z")
    assert article["createdAt"] == article["updatedAt"]
    datetime.fromisoformat(article["createdAt"])
    # and it can be read back
    fetched = client.get(f"/api/articles/{article['slug']}")
    assert fetched.status_code == 200
    assert body_of(fetched)["article"] == article


def test_create_article_without_tags_has_empty_tag_list(client: FlaskClient) -> None:
    jake = register(client)
    response = post_article(client, jake)
    assert response.status_code == 201
    assert body_of(response)["article"]["tagList"] == []
    response = post_article(client, jake, title="Other", tagList=[])
    assert body_of(response)["article"]["tagList"] == []


def test_tag_list_deduplicated_and_sorted(client: FlaskClient) -> None:
    jake = register(client)
    response = post_article(client, jake, tagList=["zeta", "alpha", "zeta", "Mid", " alpha "])
    assert response.status_code == 201
    # tags are trimmed, de-duplicated and sorted (code point order: upper case first)
    assert body_of(response)["article"]["tagList"] == ["Mid", "alpha", "zeta"]
    fetched = client.get(f"/api/articles/{body_of(response)['article']['slug']}")
    assert body_of(fetched)["article"]["tagList"] == ["Mid", "alpha", "zeta"]
    assert listing(client)["articles"][0]["tagList"] == ["Mid", "alpha", "zeta"]


def test_slug_numeric_suffix_when_taken(client: FlaskClient) -> None:
    jake, anna = register(client), register(client)
    assert body_of(post_article(client, jake, title="Title"))["article"]["slug"] == "title"
    assert body_of(post_article(client, anna, title="title"))["article"]["slug"] == "title-2"
    assert body_of(post_article(client, jake, title="TITLE!"))["article"]["slug"] == "title-3"
    # each slug names its own article
    assert body_of(client.get("/api/articles/title-2"))["article"]["author"]["username"] == (
        anna.username
    )
    assert body_of(client.get("/api/articles/title"))["article"]["title"] == "Title"


def test_slug_without_suffix_when_only_a_suffixed_one_exists(client: FlaskClient) -> None:
    jake = register(client)
    assert body_of(post_article(client, jake, title="Hello 2"))["article"]["slug"] == "hello-2"
    # "hello" itself is free, so it gets no suffix
    assert body_of(post_article(client, jake, title="Hello"))["article"]["slug"] == "hello"
    assert body_of(post_article(client, jake, title="Hello"))["article"]["slug"] == "hello-3"


def test_slug_suffixes_too_long_to_count_are_left_alone(client: FlaskClient) -> None:
    """A suffix beyond nine digits is no integer to count from: never an overflow (a 500)."""
    jake = register(client)
    huge = "big-99999999999999999999"
    assert body_of(post_article(client, jake, title=huge))["article"]["slug"] == huge
    assert body_of(post_article(client, jake, title="Big"))["article"]["slug"] == "big"
    assert body_of(post_article(client, jake, title="Big"))["article"]["slug"] == "big-2"
    assert body_of(post_article(client, jake, title="Big 41"))["article"]["slug"] == "big-41"
    assert body_of(post_article(client, jake, title="Big"))["article"]["slug"] == "big-42"


def test_a_create_answers_what_a_read_of_it_answers(client: FlaskClient) -> None:
    """The created article is built from what was written, not read back: it must agree."""
    jake = register(client)
    client.put(
        "/api/user",
        json={"user": {"bio": "bio", "image": "https://x.test/i.png"}},
        headers=jake.headers,
    )
    created = post_article(client, jake, title="Agree", tagList=["b", "a", "b"])
    assert created.status_code == 201
    read = client.get("/api/articles/agree", headers=jake.headers)
    assert body_of(created) == body_of(read)
    assert body_of(created)["article"]["author"]["bio"] == "bio"


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
    assert body_of(response)["article"]["slug"] == slug
    assert body_of(response)["article"]["title"] == title.strip()
    assert body_of(client.get(f"/api/articles/{slug}"))["article"]["title"] == title.strip()


def test_punctuation_only_titles_get_distinct_slugs(client: FlaskClient) -> None:
    jake = register(client)
    first = body_of(post_article(client, jake, title="???"))["article"]["slug"]
    second = body_of(post_article(client, jake, title="..."))["article"]["slug"]
    assert (first, second) == ("article", "article-2")


# What the API computes; the official frontends send them back, and they must change nothing.
READ_ONLY_FIELDS: list[dict[str, Any]] = [
    {"author": {"username": "someone-else", "bio": "forged", "image": None, "following": True}},
    {"slug": "chosen-slug"},
    {"favoritesCount": 1000},
    {"favorited": True},
    {"createdAt": "2000-01-01T00:00:00.000Z"},
    {"updatedAt": "2000-01-01T00:00:00.000Z"},
    {"id": 1},
]


def assert_computed_on_create(article: dict[str, Any], title: str, author: Account) -> None:
    """Every read-only field holds what the API computed, whatever the body said."""
    assert set(article) == ARTICLE_KEYS
    assert article["slug"] == title.lower().replace(" ", "-")
    assert article["author"] == {
        "username": author.username,
        "bio": None,
        "image": None,
        "following": False,
    }
    assert article["favorited"] is False
    assert article["favoritesCount"] == 0
    assert article["createdAt"] == article["updatedAt"]
    assert not article["createdAt"].startswith("2000-")


def test_create_ignores_read_only_fields(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    register(client, "someone-else")
    for n, extra in enumerate(READ_ONLY_FIELDS):
        title = f"Read only {n}"
        response = post_article(client, jake, title=title, **extra)
        assert response.status_code == 201, (extra, response.json)
        assert_computed_on_create(body_of(response)["article"], title, jake)
    assert article_count(db) == len(READ_ONLY_FIELDS)
    # no article was filed under the author it named, nor under the slug it chose
    assert listing(client, "?author=someone-else") == {"articles": [], "articlesCount": 0}
    assert client.get("/api/articles/chosen-slug").status_code == 404


def test_create_with_every_read_only_field_at_once(client: FlaskClient, db: Database) -> None:
    """What the official Angular editor posts: its whole article model, computed fields too."""
    jake = register(client)
    register(client, "someone-else")
    article = {
        "title": "Editor draft",
        "description": "d",
        "body": "b",
        "tagList": ["draft"],
        **{k: v for extra in READ_ONLY_FIELDS for k, v in extra.items()},
    }
    response = client.post("/api/articles", headers=jake.headers, json={"article": article})
    assert response.status_code == 201, response.json
    created = body_of(response)["article"]
    assert_computed_on_create(created, "Editor draft", jake)
    assert (created["title"], created["description"], created["body"]) == ("Editor draft", "d", "b")
    assert created["tagList"] == ["draft"]
    assert body_of(client.get("/api/articles/editor-draft"))["article"] == created
    assert article_count(db) == 1


def test_create_ignores_unknown_top_level_field(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    register(client, "x")
    article = {"title": "Top level", "description": "d", "body": "b"}
    response = client.post(
        "/api/articles", headers=jake.headers, json={"article": article, "author": "x"}
    )
    assert response.status_code == 201, response.json
    assert_computed_on_create(body_of(response)["article"], "Top level", jake)
    assert article_count(db) == 1


VALID = {"title": "Valid title", "description": "Valid description", "body": "Valid body"}


BLANK = ["can't be blank"]
CONTROL = ["must not contain control characters"]

CREATE_INVALID: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
    ({"description": "d", "body": "b"}, {"title": BLANK}),
    ({"title": "t", "body": "b"}, {"description": BLANK}),
    ({"title": "t", "description": "d"}, {"body": BLANK}),
    ({"body": 5}, {"title": BLANK, "description": BLANK, "body": ["must be a string"]}),
    ({**VALID, "title": ""}, {"title": BLANK}),
    ({**VALID, "title": "   "}, {"title": BLANK}),
    ({**VALID, "description": " \n\t "}, {"description": BLANK}),
    ({**VALID, "body": ""}, {"body": BLANK}),
    ({**VALID, "title": None}, {"title": BLANK}),
    ({**VALID, "title": 5}, {"title": ["must be a string"]}),
    ({**VALID, "body": ["a", "b"]}, {"body": ["must be a string"]}),
    ({**VALID, "description": {"x": 1}}, {"description": ["must be a string"]}),
    ({**VALID, "tagList": "dragons"}, {"tagList": ["must be a list"]}),
    ({**VALID, "tagList": None}, {"tagList": BLANK}),
    ({**VALID, "tagList": [1, 2]}, {"tagList": ["must be a string"]}),
    ({**VALID, "tagList": [""]}, {"tagList": BLANK}),
    ({**VALID, "tagList": ["x" * 65]}, {"tagList": ["is too long (maximum is 64 characters)"]}),
    (
        {**VALID, "tagList": [f"tag{i}" for i in range(21)]},
        {"tagList": ["is too long (maximum is 20 items)"]},
    ),
    ({**VALID, "tagList": ["bad\ttag"]}, {"tagList": CONTROL}),
    ({**VALID, "title": "x" * 201}, {"title": ["is too long (maximum is 200 characters)"]}),
    (
        {**VALID, "description": "x" * 2001},
        {"description": ["is too long (maximum is 2000 characters)"]},
    ),
    ({**VALID, "body": "x" * 200_001}, {"body": ["is too long (maximum is 200000 characters)"]}),
    ({**VALID, "title": "nul\u0000byte"}, {"title": CONTROL}),
    ({**VALID, "description": "nul\u0000byte"}, {"description": CONTROL}),
    ({**VALID, "body": "nul\u0000byte"}, {"body": CONTROL}),
    ({**VALID, "tagList": ["nul\u0000"]}, {"tagList": CONTROL}),
    ({**VALID, "title": "two\nlines"}, {"title": CONTROL}),
]


def test_create_validation(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    for payload, expected in CREATE_INVALID:
        response = client.post("/api/articles", headers=jake.headers, json={"article": payload})
        assert response.status_code == 422, (payload, response.json)
        assert errors_of(response) == expected, payload
    assert article_count(db) == 0
    assert client.get("/api/tags").json == {"tags": []}


def test_create_malformed_envelopes(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    envelopes: list[tuple[Any, dict[str, list[str]]]] = [
        ({}, {"article": BLANK}),
        ({"article": None}, {"article": BLANK}),
        ({"article": "text"}, {"article": ["must be an object"]}),
        ({"article": [VALID]}, {"article": ["must be an object"]}),
        ([VALID], {"request": ["must be an object"]}),
        ("just a string", {"request": ["must be an object"]}),
        ({"article": {}}, {"title": BLANK, "description": BLANK, "body": BLANK}),
    ]
    for payload, expected in envelopes:
        response = client.post("/api/articles", headers=jake.headers, json=payload)
        assert response.status_code == 422, payload
        assert errors_of(response) == expected, payload
    assert article_count(db) == 0


def test_create_invalid_json_and_wrong_content_type(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    bad_json = client.post(
        "/api/articles",
        headers={**jake.headers, "Content-Type": "application/json"},
        data=b'{"article": {',
    )
    assert bad_json.status_code == 422
    assert errors_of(bad_json) == {"request": ["is not valid JSON"]}
    form = client.post("/api/articles", headers=jake.headers, data={"title": "x"})
    assert form.status_code == 415
    assert errors_of(form) == {"request": ["must be application/json"]}
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
    assert len(body_of(response)["article"]["tagList"]) == 20


# --- GetArticle ------------------------------------------------------------------------------


def test_get_unknown_article_is_404(client: FlaskClient) -> None:
    response = client.get("/api/articles/no-such-article")
    assert response.status_code == 404
    assert errors_of(response) == {"article": ["not found"]}


def test_get_article_favorited_and_following_for_viewer(client: FlaskClient) -> None:
    author, reader = register(client), register(client)
    slug = create_article(client, author)["slug"]
    anonymous = body_of(client.get(f"/api/articles/{slug}"))["article"]
    assert anonymous["favorited"] is False and anonymous["author"]["following"] is False

    client.post(f"/api/profiles/{author.username}/follow", headers=reader.headers)
    client.post(f"/api/articles/{slug}/favorite", headers=reader.headers)

    seen = body_of(client.get(f"/api/articles/{slug}", headers=reader.headers))["article"]
    assert seen["favorited"] is True
    assert seen["favoritesCount"] == 1
    assert seen["author"]["following"] is True
    # anonymously: counts are public, the viewer flags are not
    anonymous = body_of(client.get(f"/api/articles/{slug}"))["article"]
    assert anonymous["favorited"] is False and anonymous["author"]["following"] is False
    assert anonymous["favoritesCount"] == 1
    # the author's own view: not favorited by them, not following themselves
    own = body_of(client.get(f"/api/articles/{slug}", headers=author.headers))["article"]
    assert own["favorited"] is False and own["author"]["following"] is False


def test_get_article_with_bad_token_is_served_anonymously(client: FlaskClient) -> None:
    author, fan = register(client), register(client)
    slug = create_article(client, author)["slug"]
    client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
    anonymous = body_of(client.get(f"/api/articles/{slug}"))
    for headers in ({"Authorization": "Token nope"}, forged(fan)):
        response = client.get(f"/api/articles/{slug}", headers=headers)
        assert response.status_code == 200, response.json
        # the fan's favorite and follow are not shown: the token was not taken
        assert response.json == anonymous
        assert body_of(response)["article"]["favorited"] is False
        assert body_of(response)["article"]["author"]["following"] is False
        assert response.headers["WWW-Authenticate"] == INVALID_CHALLENGE


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
    article = body_of(response)["article"]
    assert article["slug"] == "stay" and article["title"] == "Stay"
    assert (article["description"], article["body"]) == ("New description", "New body")
    assert article["tagList"] == ["old"]  # not sent, not changed
    assert article["createdAt"] == created["createdAt"]
    assert article["updatedAt"] >= created["updatedAt"]
    assert body_of(client.get("/api/articles/stay"))["article"] == article


def test_update_title_changes_slug(client: FlaskClient) -> None:
    jake = register(client)
    create_article(client, jake, title="How to train your dragon")
    response = client.put(
        "/api/articles/how-to-train-your-dragon",
        headers=jake.headers,
        json={"article": {"title": "Did you train your dragon?"}},
    )
    assert response.status_code == 200
    assert body_of(response)["article"]["slug"] == "did-you-train-your-dragon"
    assert body_of(response)["article"]["title"] == "Did you train your dragon?"
    assert client.get("/api/articles/did-you-train-your-dragon").status_code == 200
    # old links keep working: the old slug answers with the article under its new slug
    old = client.get("/api/articles/how-to-train-your-dragon")
    assert old.status_code == 200
    assert body_of(old)["article"]["slug"] == "did-you-train-your-dragon"
    comment = client.post(
        "/api/articles/how-to-train-your-dragon/comments",
        headers=jake.headers,
        json={"comment": {"body": "via the old link"}},
    )
    assert comment.status_code == 201, comment.json
    assert body_of(comment)["comment"]["body"] == "via the old link"
    listed = client.get("/api/articles/how-to-train-your-dragon/comments")
    assert [c["body"] for c in body_of(listed)["comments"]] == ["via the old link"]
    # a former slug never changes owner: a new article of that title gets a suffix, and the
    # old link (and the comment made through it) still lead to the renamed article
    assert create_article(client, jake, title="How to train your dragon")["slug"] == (
        "how-to-train-your-dragon-2"
    )
    still = body_of(client.get("/api/articles/how-to-train-your-dragon"))["article"]
    assert still["slug"] == "did-you-train-your-dragon"
    comment_id = body_of(comment)["comment"]["id"]
    deleted = client.delete(
        f"/api/articles/how-to-train-your-dragon/comments/{comment_id}", headers=jake.headers
    )
    assert deleted.status_code == 204
    # renaming back to a former title takes the slug back out of the history
    client.put(
        "/api/articles/did-you-train-your-dragon",
        headers=jake.headers,
        json={"article": {"title": "Did you train your dragon again?"}},
    )
    again = client.get("/api/articles/did-you-train-your-dragon")
    assert body_of(again)["article"]["slug"] == "did-you-train-your-dragon-again"


def test_update_title_to_a_taken_slug_gets_a_suffix(client: FlaskClient) -> None:
    jake = register(client)
    create_article(client, jake, title="Taken")
    create_article(client, jake, title="Mine")
    response = client.put(
        "/api/articles/mine", headers=jake.headers, json={"article": {"title": "Taken"}}
    )
    assert body_of(response)["article"]["slug"] == "taken-2"
    assert body_of(client.get("/api/articles/taken"))["article"]["title"] == "Taken"


def test_update_title_with_the_same_slug_keeps_it(client: FlaskClient) -> None:
    jake = register(client)
    create_article(client, jake, title="Same words")
    response = client.put(
        "/api/articles/same-words", headers=jake.headers, json={"article": {"title": "SAME words!"}}
    )
    assert response.status_code == 200
    assert body_of(response)["article"]["slug"] == "same-words"
    assert body_of(response)["article"]["title"] == "SAME words!"


def test_update_tag_list_replaces_tags(client: FlaskClient) -> None:
    jake = register(client)
    slug = create_article(client, jake, tagList=["a", "b"])["slug"]
    response = client.put(
        f"/api/articles/{slug}",
        headers=jake.headers,
        json={"article": {"tagList": ["c", "a", "c"]}},
    )
    assert body_of(response)["article"]["tagList"] == ["a", "c"]
    assert body_of(client.get("/api/tags"))["tags"] == ["a", "c"]
    cleared = client.put(
        f"/api/articles/{slug}", headers=jake.headers, json={"article": {"tagList": []}}
    )
    assert body_of(cleared)["article"]["tagList"] == []
    assert body_of(client.get("/api/tags"))["tags"] == []


UPDATE_INVALID: list[tuple[Any, dict[str, list[str]]]] = [
    ({}, {"article": ["must name at least one field to change"]}),
    ({"title": ""}, {"title": BLANK}),
    ({"title": "  "}, {"title": BLANK}),
    ({"title": None}, {"title": BLANK}),
    ({"description": ""}, {"description": BLANK}),
    ({"body": None}, {"body": BLANK}),
    ({"tagList": None}, {"tagList": BLANK}),
    ({"body": 42}, {"body": ["must be a string"]}),
    ({"description": "x" * 2001}, {"description": ["is too long (maximum is 2000 characters)"]}),
    ({"title": "x" * 201}, {"title": ["is too long (maximum is 200 characters)"]}),
    ({"body": "nul\u0000"}, {"body": CONTROL}),
    ({"tagList": [f"t{i}" for i in range(21)]}, {"tagList": ["is too long (maximum is 20 items)"]}),
    # one bad field refuses the whole change, read-only fields alongside it included
    ({"body": "fine", "title": ""}, {"title": BLANK}),
    ({"slug": "hijack", "title": ""}, {"title": BLANK}),
    ("text", {"article": ["must be an object"]}),
]


def test_update_validation_changes_nothing(client: FlaskClient) -> None:
    jake = register(client)
    before = create_article(client, jake, title="Keep me", tagList=["kept"])
    for changes, expected in UPDATE_INVALID:
        response = client.put(
            "/api/articles/keep-me", headers=jake.headers, json={"article": changes}
        )
        assert response.status_code == 422, (changes, response.json)
        assert errors_of(response) == expected, changes
    for envelope, expected in (
        ({}, {"article": BLANK}),
        ({"article": None}, {"article": BLANK}),
        ([{"body": "x"}], {"request": ["must be an object"]}),
    ):
        response = client.put("/api/articles/keep-me", headers=jake.headers, json=envelope)
        assert response.status_code == 422, (envelope, response.json)
        assert errors_of(response) == expected, envelope
    assert body_of(client.get("/api/articles/keep-me"))["article"] == before
    assert body_of(client.get("/api/tags"))["tags"] == ["kept"]


def test_update_with_only_read_only_fields_changes_nothing(client: FlaskClient) -> None:
    jake, other = register(client), register(client)
    create_article(client, jake, title="Keep me", tagList=["kept"])
    client.post("/api/articles/keep-me/favorite", headers=other.headers)
    before = body_of(client.get("/api/articles/keep-me"))["article"]
    for changes in [
        *READ_ONLY_FIELDS,
        {"author": {"username": other.username}},
        {k: v for extra in READ_ONLY_FIELDS for k, v in extra.items()},
    ]:
        response = client.put(
            "/api/articles/keep-me", headers=jake.headers, json={"article": changes}
        )
        assert response.status_code == 200, (changes, response.json)
        # not even updatedAt moves: nothing was changed
        assert body_of(response)["article"] == before, changes
    assert body_of(client.get("/api/articles/keep-me"))["article"] == before
    assert client.get("/api/articles/chosen-slug").status_code == 404


def angular_editor_body(article: dict[str, Any], **edits: Any) -> dict[str, Any]:
    """The official Angular editor PUTs back the article it loaded, with the form's edits merged
    in: every read-only field comes along."""
    return {"article": {**article, **edits}}


def test_update_with_the_whole_article_as_the_angular_editor_sends_it(
    client: FlaskClient,
) -> None:
    jake, fan = register(client, "jake"), register(client)
    register(client, "mallory")
    created = create_article(client, jake, title="Editor original", tagList=["old"])
    client.post(f"/api/articles/{created['slug']}/favorite", headers=fan.headers)
    reply = client.get(f"/api/articles/{created['slug']}", headers=jake.headers)
    loaded = body_of(reply)["article"]
    assert (loaded["favorited"], loaded["favoritesCount"]) == (False, 1)

    # The form's edits, and read-only fields that disagree with the server: all of those lose.
    body = angular_editor_body(
        loaded,
        title="Editor renamed",
        description="New description",
        body="New body",
        tagList=["new", "old"],
        slug="chosen-by-client",
        author={"username": "mallory", "bio": "x", "image": None, "following": True},
        favorited=True,
        favoritesCount=1000,
        createdAt="2000-01-01T00:00:00.000Z",
        updatedAt="2000-01-01T00:00:00.000Z",
    )
    response = client.put(f"/api/articles/{created['slug']}", headers=jake.headers, json=body)
    assert response.status_code == 200, response.json
    article = body_of(response)["article"]
    assert set(article) == ARTICLE_KEYS
    assert article["slug"] == "editor-renamed"  # from the new title, not the body's slug
    assert article["title"] == "Editor renamed"
    assert (article["description"], article["body"]) == ("New description", "New body")
    assert article["tagList"] == ["new", "old"]
    assert article["author"] == loaded["author"]
    assert article["favorited"] is False
    assert article["favoritesCount"] == 1
    assert article["createdAt"] == created["createdAt"]
    assert article["updatedAt"] >= created["updatedAt"]
    assert not article["updatedAt"].startswith("2000-")
    assert body_of(client.get("/api/articles/editor-renamed", headers=jake.headers))["article"] == (
        article
    )
    assert client.get("/api/articles/chosen-by-client").status_code == 404
    assert listing(client, "?author=mallory")["articlesCount"] == 0

    # The editor saved again without touching the form: the article it sends is the current one.
    again = client.put(
        "/api/articles/editor-renamed",
        headers=jake.headers,
        json=angular_editor_body(article),
    )
    assert again.status_code == 200, again.json
    assert {k: v for k, v in body_of(again)["article"].items() if k != "updatedAt"} == {
        k: v for k, v in article.items() if k != "updatedAt"
    }


def test_update_unknown_article_is_404(client: FlaskClient) -> None:
    jake = register(client)
    response = client.put(
        "/api/articles/nope", headers=jake.headers, json={"article": {"body": "x"}}
    )
    assert response.status_code == 404
    assert errors_of(response) == {"article": ["not found"]}


def test_update_and_delete_someone_elses_article_is_403(client: FlaskClient) -> None:
    jake, intruder = register(client), register(client)
    before = create_article(client, jake, title="Not yours")
    for method, body in ((client.put, {"article": {"body": "mine now"}}), (client.delete, None)):
        response = method("/api/articles/not-yours", headers=intruder.headers, json=body)
        assert response.status_code == 403, response.json
        assert errors_of(response) == {"article": ["forbidden"]}
    assert body_of(client.get("/api/articles/not-yours"))["article"] == before


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
    assert body_of(client.get("/api/tags"))["tags"] == []
    assert article_count(db) == 0
    again = client.delete(f"/api/articles/{slug}", headers=jake.headers)
    assert again.status_code == 404
    assert errors_of(again) == {"article": ["not found"]}


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


LIMIT_TOO_SMALL = {"limit": ["must be greater than or equal to 1"]}
OFFSET_NEGATIVE = {"offset": ["must be greater than or equal to 0"]}
NOT_AN_INTEGER = ["must be an integer"]

PAGE_INVALID: list[tuple[str, dict[str, list[str]]]] = [
    ("?limit=0", LIMIT_TOO_SMALL),
    ("?limit=-1", LIMIT_TOO_SMALL),
    ("?limit=-99999999999999999999", LIMIT_TOO_SMALL),
    ("?limit=abc", {"limit": NOT_AN_INTEGER}),
    ("?limit=1.5", {"limit": NOT_AN_INTEGER}),
    ("?limit=", {"limit": NOT_AN_INTEGER}),
    ("?offset=-1", OFFSET_NEGATIVE),
    ("?offset=x", {"offset": NOT_AN_INTEGER}),
    ("?limit=0&offset=-1", {**LIMIT_TOO_SMALL, **OFFSET_NEGATIVE}),
]
LIST_INVALID: list[tuple[str, dict[str, list[str]]]] = [
    *PAGE_INVALID,
    ("?tag=" + "x" * 65, {"tag": ["is too long (maximum is 64 characters)"]}),
    ("?tag=%00", {"tag": CONTROL}),
    ("?author=%00", {"author": CONTROL}),
    ("?favorited=%00", {"favorited": CONTROL}),
]


def test_list_query_validation(client: FlaskClient) -> None:
    for query, expected in LIST_INVALID:
        response = client.get(f"/api/articles{query}")
        assert response.status_code == 422, (query, response.json)
        assert errors_of(response) == expected, query


def many_articles(db: Database, author: Account, count: int) -> list[str]:
    """`count` articles by `author`, inserted in one statement (the API would take seconds);
    their slugs newest first, as lists order them."""
    session = db.session()
    author_id = session.scalar(select(User.id).where(User.username == author.username))
    start = datetime(2021, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = [
        {
            "slug": f"bulk-{n:03d}",
            "title": f"Bulk {n:03d}",
            "description": "d",
            "body": "b",
            "author_id": author_id,
            "created_at": start + timedelta(minutes=n),
            "updated_at": start + timedelta(minutes=n),
        }
        for n in range(count)
    ]
    session.execute(insert(Article), rows)
    session.commit()
    db.session.remove()
    return [row["slug"] for row in reversed(rows)]


HUGE = str(10**30)


def test_list_limit_above_the_maximum_is_served_clamped(client: FlaskClient, db: Database) -> None:
    jake = register(client)
    newest_first = many_articles(db, jake, 105)
    assert listing(client, "?limit=100") == listing(client, "?limit=101")
    for limit in ("101", "1000", HUGE):
        page = listing(client, f"?limit={limit}")
        assert slugs(page) == newest_first[:100], limit
        assert page["articlesCount"] == 105
    page = listing(client, f"?limit={HUGE}&offset=100")
    assert slugs(page) == newest_first[100:]
    assert page["articlesCount"] == 105
    # filters count every match, not the clamped page
    page = listing(client, f"?author={jake.username}&limit=1000")
    assert (len(page["articles"]), page["articlesCount"]) == (100, 105)


def test_list_huge_offset_is_an_empty_page(client: FlaskClient) -> None:
    jake = register(client)
    for _ in range(3):
        create_article(client, jake)
    for offset in ("2147483647", "2147483648", HUGE):
        assert listing(client, f"?offset={offset}") == {"articles": [], "articlesCount": 3}
        assert listing(client, f"?offset={offset}&limit={HUGE}") == {
            "articles": [],
            "articlesCount": 3,
        }


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


def test_list_with_bad_token_is_served_anonymously(client: FlaskClient) -> None:
    author, fan = register(client), register(client)
    slug = create_article(client, author)["slug"]
    client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
    anonymous = listing(client)
    for headers in ({"Authorization": "Token not.a.jwt"}, forged(fan)):
        response = client.get("/api/articles", headers=headers)
        assert response.status_code == 200, response.json
        assert response.json == anonymous
        item = body_of(response)["articles"][0]
        assert item["favorited"] is False and item["author"]["following"] is False
        assert item["favoritesCount"] == 1
        assert response.headers["WWW-Authenticate"] == INVALID_CHALLENGE
    # without a token there is nothing to refuse, so no challenge
    assert "WWW-Authenticate" not in client.get("/api/articles").headers


# --- GetArticlesFeed -------------------------------------------------------------------------


def test_feed_requires_token(client: FlaskClient) -> None:
    response = client.get("/api/articles/feed")
    assert response.status_code == 401
    assert errors_of(response) == {"token": ["is missing"]}
    assert response.headers["WWW-Authenticate"] == MISSING_CHALLENGE
    # the feed is not an optional-auth read: a bad token is refused, not served anonymously
    reader = register(client)
    for headers in ({"Authorization": "Token not.a.jwt"}, forged(reader)):
        response = client.get("/api/articles/feed", headers=headers)
        assert response.status_code == 401
        assert errors_of(response) == {"token": ["is invalid"]}
        assert response.headers["WWW-Authenticate"] == INVALID_CHALLENGE


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

    feed = body_of(client.get("/api/articles/feed", headers=reader.headers))
    assert slugs(feed) == [j2, a1, j1]
    assert feed["articlesCount"] == 3
    for item in feed["articles"]:
        assert "body" not in item
        assert item["author"]["following"] is True
        assert item["favorited"] is (item["slug"] == a1)

    paged = body_of(client.get("/api/articles/feed?limit=1&offset=1", headers=reader.headers))
    assert paged == {"articles": [feed["articles"][1]], "articlesCount": 3}
    beyond = body_of(client.get("/api/articles/feed?offset=3", headers=reader.headers))
    assert beyond == {"articles": [], "articlesCount": 3}

    client.delete(f"/api/profiles/{anna.username}/follow", headers=reader.headers)
    feed = body_of(client.get("/api/articles/feed", headers=reader.headers))
    assert slugs(feed) == [j2, j1]
    assert feed["articlesCount"] == 2


def test_feed_query_validation(client: FlaskClient) -> None:
    reader = register(client)
    for query, expected in PAGE_INVALID:
        response = client.get(f"/api/articles/feed{query}", headers=reader.headers)
        assert response.status_code == 422, (query, response.json)
        assert errors_of(response) == expected, query


def test_feed_limit_and_offset_are_served_clamped(client: FlaskClient, db: Database) -> None:
    author, reader = register(client), register(client)
    newest_first = many_articles(db, author, 102)
    client.post(f"/api/profiles/{author.username}/follow", headers=reader.headers)
    for limit in ("101", "1000", HUGE):
        response = client.get(f"/api/articles/feed?limit={limit}", headers=reader.headers)
        assert response.status_code == 200, (limit, response.json)
        assert slugs(body_of(response)) == newest_first[:100], limit
        assert body_of(response)["articlesCount"] == 102
    for offset in ("2147483648", HUGE):
        response = client.get(f"/api/articles/feed?offset={offset}", headers=reader.headers)
        assert response.status_code == 200, (offset, response.json)
        assert response.json == {"articles": [], "articlesCount": 102}
