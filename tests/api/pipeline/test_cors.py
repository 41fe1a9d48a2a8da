"""CORS: preflights answered without auth, every response (errors too) carries the origin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.context import runtime_of
from testkit.settings import make_settings
from tests.factories import Account, errors_of, register

ORIGIN = "https://frontend.example"
PREFLIGHT_PATHS = ["/api/user", "/api/articles/x/favorite", "/api/articles", "/api/users/login"]

AppFactory = Callable[..., Flask]


def _preflight(client: FlaskClient, path: str, method: str = "POST", origin: str = ORIGIN) -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def _split(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


@pytest.mark.parametrize("path", PREFLIGHT_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_preflight_is_answered_without_auth(client: FlaskClient, path: str, method: str) -> None:
    response = _preflight(client, path, method)
    assert response.status_code == 200, (response.status_code, response.get_data()[:200])
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    assert {"authorization", "content-type"} <= _split(headers.get("Access-Control-Allow-Headers"))
    assert {"get", "post", "put", "delete"} <= _split(headers.get("Access-Control-Allow-Methods"))
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert "WWW-Authenticate" not in headers


def test_preflight_with_a_bad_token_is_still_answered(client: FlaskClient) -> None:
    # Browsers never send credentials on a preflight, but a proxy might: it must not matter.
    response = client.options(
        "/api/user",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Authorization": "Token garbage",
        },
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" in response.headers


Errors = dict[str, list[str]] | None


def _actual_responses(client: FlaskClient, account: Account) -> list[tuple[int, Errors, Any]]:
    """(status, the errors expected, the response); None where the call succeeds."""
    origin = {"Origin": ORIGIN}
    authed = {**origin, **account.headers}
    bad = {**origin, "Authorization": "Token bad"}
    blank = ["can't be blank"]
    return [
        (200, None, client.get("/api/tags", headers=origin)),
        (200, None, client.get("/api/user", headers=authed)),
        (201, None, client.post("/api/articles", headers=authed, json={"article": _ARTICLE})),
        # an optional-auth read serves a bad token as anonymous
        (200, None, client.get("/api/articles", headers=bad)),
        (401, {"token": ["is missing"]}, client.get("/api/user", headers=origin)),
        (401, {"token": ["is invalid"]}, client.get("/api/user", headers=bad)),
        (
            422,
            {"username": blank, "email": blank, "password": blank},
            client.post("/api/users", headers=origin, json={"user": {}}),
        ),
        (
            404,
            {"article": ["not found"]},
            client.get("/api/articles/no-such-article", headers=origin),
        ),
        (404, {"path": ["not found"]}, client.get("/api/nope", headers=origin)),
        (405, {"method": ["is not allowed"]}, client.delete("/api/tags", headers=origin)),
        (
            415,
            {"request": ["must be application/json"]},
            client.post("/api/users", headers=origin, data="x", content_type="text/plain"),
        ),
    ]


_ARTICLE = {"title": "CORS", "description": "d", "body": "b"}


def test_actual_responses_and_errors_carry_allow_origin(client: FlaskClient) -> None:
    account = register(client)
    for status, errors, response in _actual_responses(client, account):
        assert response.status_code == status, (status, response.json)
        assert response.headers.get("Access-Control-Allow-Origin") in (ORIGIN, "*"), status
        if errors is not None:
            assert errors_of(response) == errors, status
        else:
            assert "errors" not in response.json, response.json
    # A browser may read the headers a client needs, errors included.
    response = client.get("/api/user", headers={"Origin": ORIGIN})
    assert response.headers["WWW-Authenticate"]
    assert "etag" in _split(response.headers.get("Access-Control-Expose-Headers"))


# --- fresh apps with other settings ------------------------------------------


@pytest.fixture
def build(sqlite_url: str) -> Iterator[AppFactory]:
    """Apps over the session's migrated SQLite file; only read from, so it stays clean."""
    built: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        application = create_app(make_settings(sqlite_url, **overrides))
        built.append(application)
        return application

    yield make
    for application in built:
        runtime_of(application).dispose()


def test_allowlist_echoes_allowed_origin_only(build: AppFactory) -> None:
    client = build(cors_origins=["https://a.example", "https://b.example"]).test_client()
    for origin in ("https://a.example", "https://b.example"):
        pre = _preflight(client, "/api/user", "PUT", origin=origin)
        assert pre.status_code == 200
        assert pre.headers["Access-Control-Allow-Origin"] == origin
        for response in (
            client.get("/api/tags", headers={"Origin": origin}),
            client.get("/api/user", headers={"Origin": origin}),
        ):
            assert response.headers["Access-Control-Allow-Origin"] == origin
            # Caches must not serve one origin's answer to another.
            assert "origin" in _split(response.headers.get("Vary"))
    for foreign in (
        "https://evil.example",
        "https://a.example.evil.com",
        "http://a.example",
        "null",
    ):
        pre = _preflight(client, "/api/user", "PUT", origin=foreign)
        assert "Access-Control-Allow-Origin" not in pre.headers, foreign
        actual = client.get("/api/tags", headers={"Origin": foreign})
        assert actual.status_code == 200
        assert "Access-Control-Allow-Origin" not in actual.headers, foreign
        assert (
            "Access-Control-Allow-Origin"
            not in client.get("/api/user", headers={"Origin": foreign}).headers
        )


def test_production_without_cors_origins_allows_no_origin(build: AppFactory) -> None:
    client = build(app_env="production").test_client()
    for origin in (ORIGIN, "https://a.example", "null"):
        pre = _preflight(client, "/api/user", "PUT", origin=origin)
        assert "Access-Control-Allow-Origin" not in pre.headers, origin
        actual = client.get("/api/tags", headers={"Origin": origin})
        assert actual.status_code == 200
        assert "Access-Control-Allow-Origin" not in actual.headers, origin


def test_production_with_cors_origins_allows_them(build: AppFactory) -> None:
    client = build(app_env="production", cors_origins=[ORIGIN]).test_client()
    response = client.get("/api/tags", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert (
        "Access-Control-Allow-Origin"
        not in client.get("/api/tags", headers={"Origin": "https://other.example"}).headers
    )


def test_development_without_cors_origins_allows_any(build: AppFactory) -> None:
    client = build(app_env="development").test_client()
    response = client.get("/api/tags", headers={"Origin": "http://localhost:4200"})
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:4200")


def test_only_what_a_browser_needs_and_only_for_it(build: AppFactory) -> None:
    client = build(app_env="production", cors_origins=[ORIGIN]).test_client()
    # not a cross-origin request: no CORS header at all
    plain = client.get("/api/tags")
    assert not [name for name in plain.headers.keys() if name.startswith("Access-Control")]  # noqa: SIM118
    # one allowed origin still varies: another origin is answered without the header
    assert "origin" in _split(client.get("/api/tags", headers={"Origin": ORIGIN}).headers["Vary"])
    foreign = client.get("/api/tags", headers={"Origin": "https://other.example"})
    assert "origin" in _split(foreign.headers["Vary"])
    # the origin matches case-insensitively (schemes and hosts are); the echo is verbatim
    upper = client.get("/api/tags", headers={"Origin": ORIGIN.upper()})
    assert upper.headers["Access-Control-Allow-Origin"] == ORIGIN.upper()
    # a preflight: requested headers we do not accept are left out; an unknown method gets
    # no method list
    pre = client.options(
        "/api/user",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "Content-Type, X-Unknown",
        },
    )
    assert pre.headers["Access-Control-Allow-Headers"] == "Content-Type"
    patch = _preflight(client, "/api/user", "PATCH")
    assert "Access-Control-Allow-Methods" not in patch.headers
    assert "Access-Control-Max-Age" not in patch.headers
    # outside /api: nothing
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": ORIGIN}).headers
