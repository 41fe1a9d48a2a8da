"""Cookie mode (`SESSION_COOKIE=true`): the refresh token lives in an HttpOnly cookie.

Login, registration and refresh set `conduit_refresh` (HttpOnly, Secure, SameSite=Strict,
Path=/api/users) and leave `refreshToken` out of the body; a refresh may take the token from
the cookie, but only with the `X-CSRF-Protection` header and an allowed (or no) `Origin`;
logout expires the cookie. With the mode off (the default) no cookie is ever set.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.context import runtime_of
from api.cookies import COOKIE, CSRF_HEADER
from core.settings import Settings
from testkit.settings import make_settings
from tests.factories import PASSWORD, body_of, errors_of, register

REFRESH = "/api/users/token/refresh"
ALLOWED = "https://app.example"
GUARD = {CSRF_HEADER: "1"}


@pytest.fixture
def cookie_mode(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    settings: Settings = runtime_of(app).settings
    monkeypatch.setattr(settings, "session_cookie", True)
    monkeypatch.setattr(settings, "cors_origins", [ALLOWED])


def _set_cookie(response: Any) -> str:
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    return str(header)


def _login(client: FlaskClient, email: str) -> Any:
    return client.post("/api/users/login", json={"user": {"email": email, "password": PASSWORD}})


def test_login_sets_an_httponly_cookie_and_keeps_the_token_out_of_the_body(
    client: FlaskClient, cookie_mode: None
) -> None:
    account = register(client)
    response = _login(client, account.email)
    assert response.status_code == 200
    user = body_of(response)["user"]
    assert "refreshToken" not in user and user["token"]
    attributes = [part.strip() for part in _set_cookie(response).split(";")]
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/api/users"} <= set(attributes)
    assert any(part.startswith("Max-Age=") and int(part[8:]) > 0 for part in attributes)


def test_registration_sets_the_cookie_too(client: FlaskClient, cookie_mode: None) -> None:
    body = {
        "user": {"username": "cookie_new", "email": "cookie_new@x.example", "password": "p" * 9}
    }
    response = client.post("/api/users", json=body)
    assert response.status_code == 201
    assert "refreshToken" not in body_of(response)["user"]
    assert _set_cookie(response)


def test_refresh_from_the_cookie_rotates_it(client: FlaskClient, cookie_mode: None) -> None:
    account = register(client)
    first = _login(client, account.email)
    before = client.get_cookie(COOKIE, path="/api/users")
    assert before is not None
    response = client.post(REFRESH, json={}, headers={**GUARD, "Origin": ALLOWED})
    assert response.status_code == 200, response.json
    user = body_of(response)["user"]
    assert "refreshToken" not in user and user["token"] != body_of(first)["user"]["token"]
    after = client.get_cookie(COOKIE, path="/api/users")
    assert after is not None and after.value != before.value
    headers = {"Authorization": f"Token {user['token']}"}
    assert client.get("/api/user", headers=headers).status_code == 200


def test_a_cookie_refresh_without_the_csrf_header_is_refused(
    client: FlaskClient, cookie_mode: None
) -> None:
    account = register(client)
    _login(client, account.email)
    response = client.post(REFRESH, json={}, headers={"Origin": ALLOWED})
    assert response.status_code == 403
    assert errors_of(response) == {"csrf": [f"{CSRF_HEADER} header is missing"]}
    # Nothing was spent: the same cookie still refreshes once the header is there.
    assert client.post(REFRESH, json={}, headers=GUARD).status_code == 200


def test_a_cookie_refresh_from_another_origin_is_refused(
    client: FlaskClient, cookie_mode: None
) -> None:
    account = register(client)
    _login(client, account.email)
    response = client.post(REFRESH, json={}, headers={**GUARD, "Origin": "https://evil.example"})
    assert response.status_code == 403
    assert errors_of(response) == {"csrf": ["origin is not allowed"]}
    # The API's own origin is always allowed (a frontend served beside it).
    own = client.post(REFRESH, json={}, headers={**GUARD, "Origin": "http://localhost"})
    assert own.status_code == 200, own.json


def test_the_origin_check_matches_as_cors_does(
    app: Flask, client: FlaskClient, cookie_mode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An allowlist written with capitals admits what a browser sends (always lower case),
    as CORS does: a page CORS lets read our answers may refresh from the cookie too."""
    monkeypatch.setattr(runtime_of(app).settings, "cors_origins", ["https://App.Example"])
    account = register(client)
    _login(client, account.email)
    response = client.post(REFRESH, json={}, headers={**GUARD, "Origin": ALLOWED})
    assert response.status_code == 200, response.json
    own = client.post(REFRESH, json={}, headers={**GUARD, "Origin": "HTTP://LOCALHOST"})
    assert own.status_code == 200, own.json


def test_a_body_token_needs_no_csrf_header(client: FlaskClient, cookie_mode: None) -> None:
    """Nothing ambient is used, so nothing can be forged: the body works as without cookies."""
    account = register(client)
    _login(client, account.email)
    cookie = client.get_cookie(COOKIE, path="/api/users")
    assert cookie is not None
    client.delete_cookie(COOKIE, path="/api/users")
    response = client.post(
        REFRESH, json={"refreshToken": cookie.value}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 200, response.json


def test_no_cookie_and_no_body_token_is_a_401(client: FlaskClient, cookie_mode: None) -> None:
    response = client.post(REFRESH, json={}, headers=GUARD)
    assert response.status_code == 401
    assert errors_of(response) == {"token": ["is missing"]}


def test_logout_expires_the_cookie(client: FlaskClient, cookie_mode: None) -> None:
    account = register(client)
    token = body_of(_login(client, account.email))["user"]["token"]
    response = client.post("/api/users/logout", headers={"Authorization": f"Token {token}"})
    assert response.status_code == 204
    assert "Max-Age=0" in _set_cookie(response)
    assert client.get_cookie(COOKIE, path="/api/users") is None
    assert client.post(REFRESH, json={}, headers=GUARD).status_code == 401


def test_without_cookie_mode_no_cookie_is_set_or_read(client: FlaskClient) -> None:
    account = register(client)
    response = _login(client, account.email)
    assert not [h for h in response.headers.getlist("Set-Cookie") if COOKIE in h]
    refresh_token = body_of(response)["user"]["refreshToken"]
    client.set_cookie(COOKIE, refresh_token, path="/api/users")
    refused = client.post(REFRESH, json={}, headers=GUARD)
    assert refused.status_code == 401
    assert errors_of(refused) == {"token": ["is missing"]}


def test_credentialed_cors_only_for_an_explicit_allowlist(sqlite_url: str) -> None:
    preflight = {
        "Origin": ALLOWED,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": f"content-type, {CSRF_HEADER.lower()}",
    }
    cases: list[tuple[dict[str, Any], str | None]] = [
        ({"session_cookie": True, "cors_origins": [ALLOWED]}, "true"),
        ({"session_cookie": True}, None),  # development's any-origin: never with credentials
        ({"cors_origins": [ALLOWED]}, None),  # cookie mode off
    ]
    for overrides, credentials in cases:
        application = create_app(make_settings(sqlite_url, **overrides))
        try:
            answer = application.test_client().options(REFRESH, headers=preflight)
            assert answer.status_code == 200
            assert answer.headers.get("Access-Control-Allow-Credentials") == credentials, overrides
            allowed = answer.headers.get("Access-Control-Allow-Headers", "").lower()
            assert CSRF_HEADER.lower() in allowed
        finally:
            runtime_of(application).dispose()
