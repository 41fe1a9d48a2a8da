"""Every error, whatever raised it, leaves in the RealWorld shape with the right status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.context import runtime_of
from testkit.settings import make_settings
from tests.factories import Account, body_of, create_article, errors_of, register

JSON_TYPE = "application/json; charset=utf-8"
NUL = "bad\u0000value"


def _error(response: Any, status: int) -> dict[str, list[str]]:
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    assert response.headers["Content-Type"] == JSON_TYPE
    return errors_of(response)


@pytest.fixture
def author(client: FlaskClient) -> Account:
    return register(client)


@pytest.fixture
def slug(client: FlaskClient, author: Account) -> str:
    return str(create_article(client, author)["slug"])


# --- routing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/nope", "/api/articles/a/b/c/d", "/nope", "/", "/api/users/login/x"]
)
def test_unknown_route_is_404(client: FlaskClient, path: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        assert _error(client.open(path, method=method), 404) == {"path": ["not found"]}


def test_unknown_resource_is_404_keyed_by_its_type(
    client: FlaskClient, author: Account, slug: str
) -> None:
    assert _error(client.get("/api/articles/no-such-article"), 404) == {"article": ["not found"]}
    assert _error(client.get("/api/profiles/nobody"), 404) == {"profile": ["not found"]}
    missing_comment = client.delete(f"/api/articles/{slug}/comments/12345", headers=author.headers)
    assert _error(missing_comment, 404) == {"comment": ["not found"]}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/tags", {"GET"}),
        ("PATCH", "/api/user", {"GET", "PUT"}),
        ("GET", "/api/users", {"POST"}),
        ("PUT", "/api/users/login", {"POST"}),
        ("POST", "/api/articles/feed", {"GET"}),
        ("PATCH", "/api/articles/some-slug", {"GET", "PUT", "DELETE"}),
    ],
)
def test_wrong_method_is_405_with_allow(
    client: FlaskClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method)
    assert _error(response, 405) == {"method": ["is not allowed"]}
    advertised = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= advertised, advertised
    assert method not in advertised


# --- request bodies ----------------------------------------------------------


def test_body_over_max_content_length_is_413(client: FlaskClient, app: Flask) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit
    filler = "x" * (limit + 1)
    payload = {"user": {"username": "big", "email": "big@example.com", "password": filler}}
    too_large = {"request": [f"is too large (maximum is {limit} bytes)"]}
    response = client.post("/api/users", json=payload)
    assert _error(response, 413) == too_large
    assert client.get("/api/profiles/big").status_code == 404
    # ... on an authenticated route too, before anything is written.
    account = register(client)
    article = {"article": {"title": "t", "description": "d", "body": filler}}
    response = client.post("/api/articles", json=article, headers=account.headers)
    assert _error(response, 413) == too_large
    assert body_of(client.get(f"/api/articles?author={account.username}"))["articlesCount"] == 0


def test_body_just_under_the_limit_is_parsed(client: FlaskClient, app: Flask) -> None:
    """The control for the 413: a large body under the limit reaches validation."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    filler = "x" * (limit - 200)
    payload = {"user": {"username": "big", "email": "big@example.com", "password": filler}}
    response = client.post("/api/users", json=payload)
    assert _error(response, 422) == {"password": ["is too long (maximum is 256 characters)"]}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "",
    ],
)
def test_wrong_content_type_with_a_body_is_415(client: FlaskClient, content_type: str) -> None:
    body = '{"user": {"email": "a@b.co", "password": "whatever1"}}'
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/users/login", data=body, headers=headers)
    assert _error(response, 415) == {"request": ["must be application/json"]}


def test_json_content_type_with_charset_is_accepted(client: FlaskClient) -> None:
    account = register(client)
    body = f'{{"user": {{"email": "{account.email}", "password": "{account.password}"}}}}'
    response = client.post(
        "/api/users/login", data=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"user": }',
        b"{'user': {}}",
        b'{"user": {"email": "a@b.co", "password": "x"},}',
        b"NaN",
        b'{"user": {"email": "a@b.co"}} trailing',
    ],
)
def test_malformed_json_is_422(client: FlaskClient, body: bytes) -> None:
    response = client.post("/api/users", data=body, content_type="application/json")
    assert _error(response, 422) == {"request": ["is not valid JSON"]}


def test_malformed_json_on_an_update_is_422(client: FlaskClient, author: Account) -> None:
    response = client.put(
        "/api/user",
        data=b'{"user": {"bio": }',
        content_type="application/json",
        headers=author.headers,
    )
    assert _error(response, 422) == {"request": ["is not valid JSON"]}


@pytest.mark.parametrize("body", [b"\xff\xfe\x00", b'{"user": "\xed\xa0\x80"}'])
def test_invalid_utf8_json_is_called_invalid_json(client: FlaskClient, body: bytes) -> None:
    response = client.post("/api/users", data=body, content_type="application/json")
    assert _error(response, 422) == {"request": ["is not valid JSON"]}


def test_empty_json_body_is_422(client: FlaskClient) -> None:
    response = client.post("/api/users", data=b"", content_type="application/json")
    assert _error(response, 422) == {"user": ["can't be blank"]}


@pytest.mark.parametrize("body", [b"[]", b'["user"]', b'"user"', b"5", b"true", b"null"])
def test_non_object_json_body_is_422(client: FlaskClient, body: bytes) -> None:
    response = client.post("/api/users", data=body, content_type="application/json")
    assert _error(response, 422) == {"request": ["must be an object"]}


@pytest.mark.parametrize("envelope", [[], ["x"], "x", 5, True])
def test_non_object_envelope_is_422(client: FlaskClient, envelope: Any) -> None:
    response = client.post("/api/users", json={"user": envelope})
    assert _error(response, 422) == {"user": ["must be an object"]}


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deeply_nested_json_is_rejected_not_500(client: FlaskClient, opener: str) -> None:
    depth = 10_000
    closer = "]" if opener == "[" else "}"
    body = opener * depth + "1" + closer * depth
    response = client.post("/api/users", data=body, content_type="application/json")
    assert _error(response, 422) == {"request": ["is not valid JSON"]}


def test_moderately_nested_json_is_a_validation_error(client: FlaskClient, author: Account) -> None:
    body = {"article": {"title": "t", "description": "d", "body": "b", "tagList": [[[["x"]]]]}}
    response = client.post("/api/articles", json=body, headers=author.headers)
    assert _error(response, 422) == {"tagList": ["must be a string"]}


# --- NUL and other control characters ----------------------------------------

REGISTER = {"username": "nulcheck", "email": "nul@example.com", "password": "a fine password"}
ARTICLE = {"title": "Title", "description": "Description", "body": "Body", "tagList": ["tag"]}
CONTROL = ["must not contain control characters"]
# Control characters are named as such, before a field's own pattern; the password has its
# own NUL rule (it allows other control characters), an image its URL shape.
USER_NUL_ERRORS = {
    "username": CONTROL,
    "email": CONTROL,
    "password": ["must not contain NUL characters"],
    "bio": CONTROL,
    "image": ["must be an http(s) URL"],
}


def _with_nul(fields: dict[str, Any], name: str) -> dict[str, Any]:
    value = fields[name]
    return {**fields, name: [NUL] if isinstance(value, list) else NUL}


@pytest.mark.parametrize("field", sorted(REGISTER))
def test_nul_in_register_fields_is_422(client: FlaskClient, field: str) -> None:
    response = client.post("/api/users", json={"user": _with_nul(REGISTER, field)})
    assert _error(response, 422) == {field: USER_NUL_ERRORS[field]}
    # nothing was written
    assert client.get("/api/profiles/nulcheck").status_code == 404


@pytest.mark.parametrize("field", sorted(USER_NUL_ERRORS))
def test_nul_in_update_user_fields_is_422(client: FlaskClient, author: Account, field: str) -> None:
    response = client.put("/api/user", json={"user": {field: NUL}}, headers=author.headers)
    assert _error(response, 422) == {field: USER_NUL_ERRORS[field]}


@pytest.mark.parametrize("field", sorted(ARTICLE))
def test_nul_in_article_fields_is_422(client: FlaskClient, author: Account, field: str) -> None:
    response = client.post(
        "/api/articles", json={"article": _with_nul(ARTICLE, field)}, headers=author.headers
    )
    assert _error(response, 422) == {field: CONTROL}
    assert body_of(client.get(f"/api/articles?author={author.username}"))["articlesCount"] == 0


@pytest.mark.parametrize("field", sorted(ARTICLE))
def test_nul_in_article_update_fields_is_422(
    client: FlaskClient, author: Account, slug: str, field: str
) -> None:
    before = client.get(f"/api/articles/{slug}").json
    response = client.put(
        f"/api/articles/{slug}",
        json={"article": _with_nul(ARTICLE, field)},
        headers=author.headers,
    )
    assert _error(response, 422) == {field: CONTROL}
    assert client.get(f"/api/articles/{slug}").json == before


def test_nul_in_comment_body_is_422(client: FlaskClient, author: Account, slug: str) -> None:
    response = client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": NUL}}, headers=author.headers
    )
    assert _error(response, 422) == {"body": CONTROL}
    assert body_of(client.get(f"/api/articles/{slug}/comments"))["comments"] == []


@pytest.mark.parametrize("param", ["tag", "author", "favorited"])
def test_nul_in_list_filters_is_422(client: FlaskClient, param: str) -> None:
    response = client.get("/api/articles", query_string={param: NUL})
    assert _error(response, 422) == {param: CONTROL}


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/articles/a%00b", "article"),
        ("/api/profiles/a%00b", "profile"),
        ("/api/articles/a%00b/comments", "article"),
    ],
)
def test_nul_in_path_segments_is_not_500(
    client: FlaskClient, author: Account, backend: str, path: str, resource: str
) -> None:
    response = client.get(path, headers=author.headers)
    # SQLite looks the value up and finds nothing; PostgreSQL cannot compare text holding NUL
    # (a DataError, answered 422 for the request as a whole).
    if backend == "sqlite":
        assert _error(response, 404) == {resource: ["not found"]}
    else:
        assert _error(response, 422) == {"request": ["is invalid"]}


# --- numbers out of range ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"limit": "0"}, {"limit": ["must be greater than or equal to 1"]}),
        ({"limit": "-1"}, {"limit": ["must be greater than or equal to 1"]}),
        ({"limit": "1e400"}, {"limit": ["must be an integer"]}),
        ({"limit": "abc"}, {"limit": ["must be an integer"]}),
        ({"limit": ""}, {"limit": ["must be an integer"]}),
        ({"offset": "-1"}, {"offset": ["must be greater than or equal to 0"]}),
        ({"offset": "1.5"}, {"offset": ["must be an integer"]}),
        (
            {"limit": "0", "offset": "-1"},
            {
                "limit": ["must be greater than or equal to 1"],
                "offset": ["must be greater than or equal to 0"],
            },
        ),
    ],
)
def test_invalid_paging_is_422(
    client: FlaskClient, author: Account, query: dict[str, str], errors: dict[str, list[str]]
) -> None:
    assert _error(client.get("/api/articles", query_string=query), 422) == errors
    feed = client.get("/api/articles/feed", query_string=query, headers=author.headers)
    assert _error(feed, 422) == errors


def test_oversized_paging_is_clamped_not_refused(client: FlaskClient, author: Account) -> None:
    """A limit above 100 serves 100; an offset beyond 2**31-1 serves the (empty) end."""
    for _ in range(101):
        create_article(client, author)
    for limit in ("101", str(2**63), "99999999999999999999999999"):
        page = client.get("/api/articles", query_string={"limit": limit})
        assert page.status_code == 200, (limit, page.json)
        assert (len(body_of(page)["articles"]), body_of(page)["articlesCount"]) == (100, 101), limit
    for offset in (str(2**31 - 1), str(2**31), "99999999999999999999999999"):
        page = client.get("/api/articles", query_string={"offset": offset})
        assert page.status_code == 200, (offset, page.json)
        assert page.json == {"articles": [], "articlesCount": 101}, offset


def test_paging_bounds_are_accepted(client: FlaskClient, author: Account) -> None:
    ok = client.get("/api/articles", query_string={"limit": "100", "offset": str(2**31 - 1)})
    assert ok.status_code == 200 and ok.json == {"articles": [], "articlesCount": 0}
    for offset in ("2147483647", "2147483648"):
        feed = client.get(f"/api/articles/feed?limit=1&offset={offset}", headers=author.headers)
        assert feed.status_code == 200, (offset, feed.json)
        assert feed.json == {"articles": [], "articlesCount": 0}


@pytest.mark.parametrize(
    "comment_id", ["99999999999999999999999999", str(2**31), str(2**63), "0", "-1", "1.5", "x"]
)
def test_out_of_range_comment_ids_are_404(
    client: FlaskClient, author: Account, slug: str, comment_id: str
) -> None:
    # No comment can have such an id, so the route itself does not match.
    response = client.delete(f"/api/articles/{slug}/comments/{comment_id}", headers=author.headers)
    assert _error(response, 404) == {"path": ["not found"]}


# --- unicode -----------------------------------------------------------------

UNICODE = {
    "title": "Dragons 🐉 and ثعابين التنين",
    "description": "עברית ומילים 👩‍👩‍👧‍👦 mixed with English",
    "body": "Line one 🔥\nשורה שנייה\t\u202eRTL override\u202c\nZWJ: 👨‍💻 — café, naïve, 日本語",  # noqa: RUF001 (Hebrew on purpose)
    "tagList": ["🐉", "ثعبان", "日本語"],
}


def test_unicode_article_round_trips(client: FlaskClient, author: Account) -> None:
    created = create_article(client, author, **UNICODE)
    fetched = body_of(client.get(f"/api/articles/{created['slug']}"))["article"]
    for article in (created, fetched):
        assert article["title"] == UNICODE["title"]
        assert article["description"] == UNICODE["description"]
        assert article["body"] == UNICODE["body"]
        assert sorted(article["tagList"]) == sorted(UNICODE["tagList"])
    assert created["slug"].isascii() and created["slug"]
    listed = body_of(client.get("/api/articles", query_string={"tag": "🐉"}))
    assert [a["title"] for a in listed["articles"]] == [UNICODE["title"]]


def test_unicode_only_titles_get_distinct_usable_slugs(
    client: FlaskClient, author: Account
) -> None:
    slugs = [create_article(client, author, title=t)["slug"] for t in ("🐉🐉", "🐉🐉", "مرحبا")]
    assert len(set(slugs)) == 3
    for s in slugs:
        assert client.get(f"/api/articles/{s}").status_code == 200


def test_unicode_comment_and_bio_round_trip(
    client: FlaskClient, author: Account, slug: str
) -> None:
    text = "تعليق 💬 with \u200fRLM and emoji 🏳️‍🌈"
    response = client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": text}}, headers=author.headers
    )
    assert response.status_code == 201
    assert body_of(response)["comment"]["body"] == text
    assert body_of(client.get(f"/api/articles/{slug}/comments"))["comments"][0]["body"] == text
    updated = client.put("/api/user", json={"user": {"bio": text}}, headers=author.headers)
    assert body_of(updated)["user"]["bio"] == text
    assert body_of(client.get(f"/api/profiles/{author.username}"))["profile"]["bio"] == text


def test_unicode_is_sent_as_utf8(client: FlaskClient, author: Account) -> None:
    created = create_article(client, author, title="Ünïcødé 🐉")
    raw = client.get(f"/api/articles/{created['slug']}").get_data()
    assert "Ünïcødé 🐉".encode() in raw


# --- content type of every JSON response ------------------------------------


def test_json_responses_declare_utf8(client: FlaskClient, author: Account, slug: str) -> None:
    responses = [
        client.get("/api/tags"),
        client.get("/api/articles"),
        client.get(f"/api/articles/{slug}"),
        client.get("/api/user", headers=author.headers),
        client.get("/api/user"),
        client.get("/api/nope"),
        client.delete("/api/tags"),
        client.post("/api/users", json={}),
        client.post("/api/users", data="x", content_type="text/plain"),
        client.get("/api/openapi.json"),
    ]
    for response in responses:
        assert response.headers["Content-Type"] == JSON_TYPE, (
            response.request.path,
            response.status_code,
        )


# --- the unexpected ----------------------------------------------------------


class Boom(RuntimeError):
    pass


SECRET_DETAIL = "db password is hunter2"


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Flask]:
    """Not the shared app: routes cannot be added to one that has served requests."""
    application = create_app(make_settings(f"sqlite:///{tmp_path / 'unused.db'}"))

    def explode() -> Any:
        raise Boom(SECRET_DETAIL)

    def explode_key() -> Any:
        empty: dict[str, str] = {}
        return empty["missing"]

    application.add_url_rule("/api/boom", "boom", explode, methods=["GET", "POST"])
    application.add_url_rule("/api/boom-key", "boom_key", explode_key)
    yield application
    runtime_of(application).dispose()


@pytest.mark.parametrize("path", ["/api/boom", "/api/boom-key"])
def test_unexpected_exception_is_500_without_a_traceback(
    fresh_app: Flask, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = fresh_app.test_client()
    response = client.get(path)
    assert response.status_code == 500
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json == {"errors": {"server": ["internal error"]}}
    raw = response.get_data(as_text=True)
    for leak in ("Traceback", SECRET_DETAIL, "Boom", "KeyError", ".py", "missing"):
        assert leak not in raw
    # ... but the operator sees it.
    assert any(record.exc_info for record in caplog.records)


def test_unexpected_exception_while_authenticated_is_500(fresh_app: Flask) -> None:
    client = fresh_app.test_client()
    response = client.post("/api/boom", json={"x": 1}, headers={"Authorization": "Token whatever"})
    assert response.status_code == 500
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json == {"errors": {"server": ["internal error"]}}


def test_a_routing_redirect_is_json_too(client: FlaskClient) -> None:
    """werkzeug merges doubled slashes with a 308 that Flask sends past every error handler,
    as an HTML page: ours says where to go in JSON, like every other answer."""
    response = client.get("/api//articles")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/api/articles")
    assert response.mimetype == "application/json"
    assert response.json == {"location": response.headers["Location"]}
