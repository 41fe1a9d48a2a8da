"""`Authorization: Token <jwt>` on a required-auth and on the optional-auth endpoints.

Every presented-but-unusable token gets the same 401 body, so a client cannot tell a
forged token from an expired one; only an absent header is called "missing".
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

from db.models import User
from db.session import Database
from tests.factories import Account, errors_of, register

INVALID = {"errors": {"body": ["invalid or expired authorization token"]}}
MISSING = {"errors": {"body": ["missing authorization token"]}}

REQUIRED = "/api/user"
OPTIONAL = ("/api/articles", "/api/profiles/{profile}")

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
def profile(client: FlaskClient) -> str:
    return register(client).username


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


def _get_all(client: FlaskClient, profile: str, headers: dict[str, str]) -> list[Any]:
    paths = [REQUIRED, *(p.format(profile=profile) for p in OPTIONAL)]
    return [(path, client.get(path, headers=headers)) for path in paths]


def _assert_rejected(client: FlaskClient, profile: str, authorization: str) -> None:
    for path, response in _get_all(client, profile, {"Authorization": authorization}):
        assert response.status_code == 401, (path, authorization, response.json)
        assert response.json == INVALID, (path, authorization)
        assert response.headers["WWW-Authenticate"].startswith("Token"), path


# --- the happy paths ---------------------------------------------------------


def test_missing_header(client: FlaskClient, profile: str) -> None:
    response = client.get(REQUIRED)
    assert response.status_code == 401
    assert response.json == MISSING
    assert response.headers["WWW-Authenticate"].startswith("Token")
    for path in OPTIONAL:
        anonymous = client.get(path.format(profile=profile))
        assert anonymous.status_code == 200, (path, anonymous.json)
    profile_view = client.get(f"/api/profiles/{profile}").json["profile"]
    assert profile_view["following"] is False


def test_valid_token_works_on_required_and_optional(
    client: FlaskClient, account: Account, profile: str
) -> None:
    for path, response in _get_all(client, profile, account.headers):
        assert response.status_code == 200, (path, response.json)
    assert client.get(REQUIRED, headers=account.headers).json["user"]["username"] == (
        account.username
    )


def test_token_from_login_is_usable(client: FlaskClient, account: Account, profile: str) -> None:
    login = client.post(
        "/api/users/login", json={"user": {"email": account.email, "password": account.password}}
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Token {login.json['user']['token']}"}
    for path, response in _get_all(client, profile, headers):
        assert response.status_code == 200, (path, response.json)
    assert client.get(REQUIRED, headers=headers).json["user"]["email"] == account.email


def test_forged_token_with_the_app_key_is_accepted(
    client: FlaskClient, forge: Forge, account: Account, profile: str
) -> None:
    """The control for the tests below: only the one thing each of them changes is wrong."""
    headers = {"Authorization": f"Token {forge()}"}
    for path, response in _get_all(client, profile, headers):
        assert response.status_code == 200, (path, response.json)
    assert client.get(REQUIRED, headers=headers).json["user"]["username"] == account.username


# --- malformed headers -------------------------------------------------------


def test_wrong_scheme_is_invalid_not_missing(
    client: FlaskClient, account: Account, profile: str
) -> None:
    # A client that sent credentials must learn they were rejected, not that they were absent.
    _assert_rejected(client, profile, f"Bearer {account.token}")
    _assert_rejected(client, profile, f"token {account.token}")


def test_scheme_without_token(client: FlaskClient, profile: str) -> None:
    _assert_rejected(client, profile, "Token")
    _assert_rejected(client, profile, "Token ")


def test_token_with_extra_parts(client: FlaskClient, account: Account, profile: str) -> None:
    _assert_rejected(client, profile, f"Token {account.token} extra")


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "a.b.c", "Zm9v.YmFy.YmF6", "e30.e30.", "....", "x" * 5000, "ünïcødé.token.☃"],
)
def test_garbage_token(client: FlaskClient, profile: str, garbage: str) -> None:
    _assert_rejected(client, profile, f"Token {garbage}")


# --- well-formed tokens that must not be trusted -----------------------------


def test_token_signed_with_another_key(client: FlaskClient, forge: Forge, profile: str) -> None:
    _assert_rejected(client, profile, f"Token {forge(key='another-key-' + 'k' * 40)}")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_token_with_another_hmac_algorithm(client: FlaskClient, forge: Forge, profile: str) -> None:
    # Same key, but HS512 is not an algorithm the app decodes.
    _assert_rejected(client, profile, f"Token {forge(algorithm='HS512')}")


def test_alg_none_token(client: FlaskClient, forge: Forge, profile: str) -> None:
    claims = _claims(forge())
    header = _b64(b'{"alg":"none","typ":"JWT"}')
    payload = _b64(json.dumps(claims).encode())
    _assert_rejected(client, profile, f"Token {header}.{payload}.")
    # ... and with the valid token's signature kept.
    signature = forge().split(".")[2]
    _assert_rejected(client, profile, f"Token {header}.{payload}.{signature}")


def test_tampered_payload_keeps_signature(
    client: FlaskClient, account: Account, profile: str
) -> None:
    other = register(client)
    header, _payload, signature = account.token.split(".")
    claims = _claims(account.token)
    claims["sub"] = _claims(other.token)["sub"]
    payload = _b64(json.dumps(claims).encode())
    _assert_rejected(client, profile, f"Token {header}.{payload}.{signature}")


def test_expired_token(client: FlaskClient, forge: Forge, profile: str) -> None:
    past = int(time.time()) - 120
    _assert_rejected(client, profile, f"Token {forge(iat=past - 3600, nbf=past - 3600, exp=past)}")


def test_token_not_yet_valid(client: FlaskClient, forge: Forge, profile: str) -> None:
    _assert_rejected(client, profile, f"Token {forge(nbf=int(time.time()) + 3600)}")


@pytest.mark.parametrize(
    "sub", [None, "", "abc", "1.5", "-1", "0", "99999999999999999999999", "9" * 400]
)
def test_token_with_unusable_subject(
    client: FlaskClient, forge: Forge, profile: str, sub: str | None
) -> None:
    # `None` leaves `sub` out altogether.
    _assert_rejected(client, profile, f"Token {forge(sub=sub)}")


def test_token_with_non_string_subject(
    client: FlaskClient, forge: Forge, user_id: int, profile: str
) -> None:
    # RFC 7519 makes `sub` a string; a numeric one naming a real user is still refused.
    _assert_rejected(client, profile, f"Token {forge(sub=user_id)}")
    _assert_rejected(client, profile, f"Token {forge(sub=[str(user_id)])}")


def test_refresh_token_is_not_an_access_token(
    client: FlaskClient, forge: Forge, profile: str
) -> None:
    _assert_rejected(client, profile, f"Token {forge(type='refresh')}")


def test_token_of_a_deleted_user(
    client: FlaskClient, db: Database, account: Account, user_id: int, profile: str
) -> None:
    assert client.get(REQUIRED, headers=account.headers).status_code == 200
    session = db.session()
    session.execute(delete(User).where(User.id == user_id))
    session.commit()
    db.session.remove()
    _assert_rejected(client, profile, f"Token {account.token}")
    # A new account does not inherit the deleted one's id, so the old token stays dead.
    newcomer = register(client)
    assert int(_claims(newcomer.token)["sub"]) != user_id
    _assert_rejected(client, profile, f"Token {account.token}")


def test_rejections_are_indistinguishable(
    client: FlaskClient, forge: Forge, account: Account, profile: str
) -> None:
    """Headers as well as bodies: nothing tells an attacker which check failed."""
    past = int(time.time()) - 120
    tokens = [
        f"Token {forge(exp=past, nbf=past - 10, iat=past - 10)}",
        f"Token {forge(key='x' * 40)}",
        "Token garbage",
        f"Bearer {account.token}",
    ]
    seen = set()
    for authorization in tokens:
        response = client.get(REQUIRED, headers={"Authorization": authorization})
        errors_of(response)
        seen.add(
            (
                response.status_code,
                response.get_data(),
                response.headers["WWW-Authenticate"],
                response.headers["Content-Type"],
            )
        )
    assert len(seen) == 1, seen
