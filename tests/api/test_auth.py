"""`Authorization: Token <jwt>` on a required-auth and on the optional-auth endpoints.

Every presented-but-unusable token gets the same 401 body on a required-auth endpoint, so a
client cannot tell a forged token from an expired one; only an absent header is called
"missing". On an optional-auth read the same token is served as anonymous (RealWorld
frontends log their user out on a 401 from a public page), with a challenge saying so.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from api import create_app
from api.context import runtime_of
from db import writes
from db.models import User
from db.session import Database
from testkit.settings import make_settings
from tests.factories import Account, add_comment, body_of, create_article, errors_of, register

INVALID = {"errors": {"token": ["is invalid"]}}
MISSING = {"errors": {"token": ["is missing"]}}
CHALLENGE = 'Token realm="conduit"'
INVALID_CHALLENGE = 'Token realm="conduit", error="invalid_token"'

REQUIRED = "/api/user"

Forge = Callable[..., str]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


@pytest.fixture
def account(client: FlaskClient) -> Account:
    return register(client)


@pytest.fixture
def paths(client: FlaskClient, account: Account) -> list[str]:
    """The optional-auth reads, over data `account` follows and favorites.

    So a viewer who is recognised sees `following`/`favorited` true, and one served as
    anonymous sees them false.
    """
    author = register(client)
    slug = create_article(client, author)["slug"]
    add_comment(client, author, slug)
    follow = client.post(f"/api/profiles/{author.username}/follow", headers=account.headers)
    assert follow.status_code == 200, follow.json
    favorite = client.post(f"/api/articles/{slug}/favorite", headers=account.headers)
    assert favorite.status_code == 200, favorite.json
    return [
        "/api/articles",
        f"/api/articles/{slug}",
        f"/api/articles/{slug}/comments",
        f"/api/profiles/{author.username}",
    ]


@pytest.fixture
def user_id(account: Account) -> int:
    return int(_claims(account.token)["sub"])


@pytest.fixture
def forge(app: Flask, user_id: int) -> Forge:
    """Sign a token like the app does (same key, algorithm and claims), then apply overrides.

    A claim overridden to `None` is left out; `key` and `algorithm` change the signing.
    """

    def make(*, key: str | None = None, algorithm: str = "HS256", **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "fresh": False,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "type": "access",
            "sub": str(user_id),
            "nbf": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, key or app.config["JWT_SECRET_KEY"], algorithm=algorithm)

    return make


def _viewer_flags(body: Any) -> list[bool]:
    """Every `following` and `favorited` in a response body: what it knows about its viewer."""
    if isinstance(body, dict):
        flags = [v for k, v in body.items() if k in ("following", "favorited")]
        return flags + [f for v in body.values() for f in _viewer_flags(v)]
    if isinstance(body, list):
        return [f for item in body for f in _viewer_flags(item)]
    return []


def _assert_recognised(client: FlaskClient, paths: list[str], headers: dict[str, str]) -> None:
    """The token is taken: the optional reads see the viewer who follows and favorites."""
    for path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.json)
        flags = _viewer_flags(response.json)
        assert flags and all(flags), (path, response.json)
        assert "WWW-Authenticate" not in response.headers, path


def _assert_rejected(client: FlaskClient, paths: list[str], authorization: str) -> None:
    """401 where a token is required; served as anonymous, with a challenge, where optional."""
    response = client.get(REQUIRED, headers={"Authorization": authorization})
    assert response.status_code == 401, (authorization, response.json)
    assert response.json == INVALID, authorization
    assert response.headers["WWW-Authenticate"] == INVALID_CHALLENGE
    for path in paths:
        anonymous = client.get(path)
        served = client.get(path, headers={"Authorization": authorization})
        assert served.status_code == 200, (path, authorization, served.json)
        assert served.json == anonymous.json, (path, authorization)
        assert not any(_viewer_flags(served.json)), (path, served.json)
        assert served.headers["WWW-Authenticate"] == INVALID_CHALLENGE, path
        assert "WWW-Authenticate" not in anonymous.headers, path


# --- the happy paths ---------------------------------------------------------


def test_missing_header(client: FlaskClient, paths: list[str]) -> None:
    response = client.get(REQUIRED)
    assert response.status_code == 401
    assert response.json == MISSING
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    for path in paths:
        anonymous = client.get(path)
        assert anonymous.status_code == 200, (path, anonymous.json)
        assert not any(_viewer_flags(anonymous.json)), (path, anonymous.json)
        # No token, nothing to challenge.
        assert "WWW-Authenticate" not in anonymous.headers, path


def test_valid_token_works_on_required_and_optional(
    client: FlaskClient, account: Account, paths: list[str]
) -> None:
    _assert_recognised(client, paths, account.headers)
    me = client.get(REQUIRED, headers=account.headers)
    assert me.status_code == 200
    assert body_of(me)["user"]["username"] == account.username


def test_token_from_login_is_usable(
    client: FlaskClient, account: Account, paths: list[str]
) -> None:
    login = client.post(
        "/api/users/login", json={"user": {"email": account.email, "password": account.password}}
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Token {body_of(login)['user']['token']}"}
    _assert_recognised(client, paths, headers)
    assert body_of(client.get(REQUIRED, headers=headers))["user"]["email"] == account.email


def test_forged_token_with_the_app_key_is_accepted(
    client: FlaskClient, forge: Forge, account: Account, paths: list[str]
) -> None:
    """The control for the tests below: only the one thing each of them changes is wrong."""
    headers = {"Authorization": f"Token {forge()}"}
    _assert_recognised(client, paths, headers)
    assert body_of(client.get(REQUIRED, headers=headers))["user"]["username"] == account.username


# --- malformed headers -------------------------------------------------------


def test_wrong_scheme_is_invalid_not_missing(
    client: FlaskClient, account: Account, paths: list[str]
) -> None:
    # A client that sent credentials must learn they were rejected, not that they were absent.
    _assert_rejected(client, paths, f"Bearer {account.token}")
    _assert_rejected(client, paths, f"token {account.token}")


def test_scheme_without_token(client: FlaskClient, paths: list[str]) -> None:
    _assert_rejected(client, paths, "Token")
    _assert_rejected(client, paths, "Token ")


def test_token_with_extra_parts(client: FlaskClient, account: Account, paths: list[str]) -> None:
    _assert_rejected(client, paths, f"Token {account.token} extra")


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "a.b.c", "Zm9v.YmFy.YmF6", "e30.e30.", "....", "x" * 5000, "ünïcødé.token.☃"],
)
def test_garbage_token(client: FlaskClient, paths: list[str], garbage: str) -> None:
    _assert_rejected(client, paths, f"Token {garbage}")


# --- well-formed tokens that must not be trusted -----------------------------


def test_token_signed_with_another_key(client: FlaskClient, forge: Forge, paths: list[str]) -> None:
    _assert_rejected(client, paths, f"Token {forge(key='another-key-' + 'k' * 40)}")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_token_with_another_hmac_algorithm(
    client: FlaskClient, forge: Forge, paths: list[str]
) -> None:
    # Same key, but HS512 is not an algorithm the app decodes.
    _assert_rejected(client, paths, f"Token {forge(algorithm='HS512')}")


def test_alg_none_token(client: FlaskClient, forge: Forge, paths: list[str]) -> None:
    claims = _claims(forge())
    header = _b64(b'{"alg":"none","typ":"JWT"}')
    payload = _b64(json.dumps(claims).encode())
    _assert_rejected(client, paths, f"Token {header}.{payload}.")
    # ... and with the valid token's signature kept.
    signature = forge().split(".")[2]
    _assert_rejected(client, paths, f"Token {header}.{payload}.{signature}")


def test_tampered_payload_keeps_signature(
    client: FlaskClient, account: Account, paths: list[str]
) -> None:
    other = register(client)
    header, _payload, signature = account.token.split(".")
    claims = _claims(account.token)
    claims["sub"] = _claims(other.token)["sub"]
    payload = _b64(json.dumps(claims).encode())
    _assert_rejected(client, paths, f"Token {header}.{payload}.{signature}")


def test_expired_token(client: FlaskClient, forge: Forge, paths: list[str]) -> None:
    past = int(time.time()) - 120
    _assert_rejected(client, paths, f"Token {forge(iat=past - 3600, nbf=past - 3600, exp=past)}")


def test_token_not_yet_valid(client: FlaskClient, forge: Forge, paths: list[str]) -> None:
    _assert_rejected(client, paths, f"Token {forge(nbf=int(time.time()) + 3600)}")


@pytest.mark.parametrize(
    "sub", [None, "", "abc", "1.5", "-1", "0", "99999999999999999999999", "9" * 400]
)
def test_token_with_unusable_subject(
    client: FlaskClient, forge: Forge, paths: list[str], sub: str | None
) -> None:
    # `None` leaves `sub` out altogether.
    _assert_rejected(client, paths, f"Token {forge(sub=sub)}")


def test_token_with_non_string_subject(
    client: FlaskClient, forge: Forge, user_id: int, paths: list[str]
) -> None:
    # RFC 7519 makes `sub` a string; a numeric one naming a real user is still refused.
    _assert_rejected(client, paths, f"Token {forge(sub=user_id)}")
    _assert_rejected(client, paths, f"Token {forge(sub=[str(user_id)])}")


def test_refresh_token_is_not_an_access_token(
    client: FlaskClient, forge: Forge, paths: list[str]
) -> None:
    _assert_rejected(client, paths, f"Token {forge(type='refresh')}")


def test_token_of_a_deleted_user(
    client: FlaskClient, db: Database, account: Account, user_id: int, paths: list[str]
) -> None:
    assert client.get(REQUIRED, headers=account.headers).status_code == 200
    session = db.session()
    session.execute(delete(User).where(User.id == user_id))
    session.commit()
    db.session.remove()
    _assert_rejected(client, paths, f"Token {account.token}")
    # A new account does not inherit the deleted one's id, so the old token stays dead.
    newcomer = register(client)
    assert int(_claims(newcomer.token)["sub"]) != user_id
    _assert_rejected(client, paths, f"Token {account.token}")


def test_logged_out_token_is_revoked(
    client: FlaskClient, account: Account, paths: list[str]
) -> None:
    other_session = body_of(
        client.post(
            "/api/users/login",
            json={"user": {"email": account.email, "password": account.password}},
        )
    )["user"]["token"]
    logout = client.post("/api/users/logout", headers=account.headers)
    assert logout.status_code == 204
    assert logout.get_data() == b""
    _assert_rejected(client, paths, f"Token {account.token}")
    again = client.post("/api/users/logout", headers=account.headers)
    assert again.status_code == 401
    assert again.json == INVALID
    assert again.headers["WWW-Authenticate"] == INVALID_CHALLENGE
    # Only the presented token is revoked, not the user's other sessions.
    _assert_recognised(client, paths, {"Authorization": f"Token {other_session}"})


def test_logout_without_a_token(client: FlaskClient) -> None:
    response = client.post("/api/users/logout")
    assert response.status_code == 401
    assert response.json == MISSING
    assert response.headers["WWW-Authenticate"] == CHALLENGE


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_header_on_required_is_missing(client: FlaskClient, blank: str) -> None:
    response = client.get(REQUIRED, headers={"Authorization": blank})
    assert response.status_code == 401
    assert response.json == MISSING
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_rejections_are_indistinguishable(
    client: FlaskClient, forge: Forge, account: Account, paths: list[str]
) -> None:
    """Headers as well as bodies: nothing tells an attacker which check failed."""
    past = int(time.time()) - 120
    revoked = body_of(
        client.post(
            "/api/users/login",
            json={"user": {"email": account.email, "password": account.password}},
        )
    )["user"]["token"]
    logout = client.post("/api/users/logout", headers={"Authorization": f"Token {revoked}"})
    assert logout.status_code == 204
    tokens = [
        f"Token {forge(exp=past, nbf=past - 10, iat=past - 10)}",
        f"Token {forge(key='x' * 40)}",
        "Token garbage",
        f"Bearer {account.token}",
        f"Token {revoked}",
    ]
    for path in [REQUIRED, *paths]:
        seen = set()
        for authorization in tokens:
            response = client.get(path, headers={"Authorization": authorization})
            seen.add(
                (
                    response.status_code,
                    response.get_data(),
                    response.headers["WWW-Authenticate"],
                    response.headers["Content-Type"],
                )
            )
        assert len(seen) == 1, (path, seen)
    required = client.get(REQUIRED, headers={"Authorization": tokens[0]})
    assert errors_of(required) == {"token": ["is invalid"]}


def test_update_of_a_user_deleted_after_the_token_check_names_nobody(
    db: Database, user_id: int
) -> None:
    session = db.session()
    session.execute(delete(User).where(User.id == user_id))
    assert writes.update_user(session, user_id, {"bio": "too late"}) is None


def test_a_verified_token_is_remembered_until_it_expires(
    client: FlaskClient, forge: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token verified once is not decoded again on later requests, but is refused once its
    `exp` has passed, remembered or not."""
    decodes: list[str] = []
    real_decode = jwt.decode

    def counted(token: str | bytes, *args: Any, **kwargs: Any) -> Any:
        decodes.append(str(token))
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)  # as flask-jwt-extended calls it
    expires = int(time.time()) + 2
    token = forge(exp=expires)
    headers = {"Authorization": f"Token {token}"}
    assert client.get(REQUIRED, headers=headers).status_code == 200
    first = decodes.count(token)
    assert first >= 1
    for _ in range(3):
        assert client.get(REQUIRED, headers=headers).status_code == 200
    assert decodes.count(token) == first, "decoded again though already verified"
    time.sleep(max(0.0, expires + 0.1 - time.time()))  # past `exp` by the real clock
    response = client.get(REQUIRED, headers=headers)
    assert (response.status_code, response.json) == (401, INVALID)


def test_a_token_verified_by_one_app_is_not_taken_by_another_key(
    app: Flask, client: FlaskClient, account: Account, database_url: str
) -> None:
    """Apps remember their own verified tokens: another key refuses what this one took."""
    assert client.get(REQUIRED, headers=account.headers).status_code == 200
    other = create_app(make_settings(database_url, jwt_secret_key="another-key-" + "z" * 32))
    try:
        response = other.test_client().get(REQUIRED, headers=account.headers)
        assert (response.status_code, response.json) == (401, INVALID)
    finally:
        runtime_of(other).dispose()
