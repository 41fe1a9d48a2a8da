"""Crafted and stolen tokens against a live gunicorn: every one is the same 401, nothing leaks.

Tokens are forged with PyJWT and the server's own secret (so only the claim or the algorithm
is wrong), or are genuine tokens whose user was deleted or which were logged out. Each one is
presented to an endpoint that requires auth (GET /user) and to one where auth is optional
(GET /articles: a presented-but-bad token must not silently downgrade to anonymous).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import Engine, text

from tests.live import gunicorn
from tests.ops.conftest import JWT_SECRET, QUIET, Reply, call, register

ENDPOINTS = ("/api/user", "/api/articles")  # auth required, auth optional
REJECTED = {"errors": {"body": ["invalid or expired authorization token"]}}


@pytest.fixture(scope="module")
def base_url(database_url: str) -> Iterator[str]:
    with gunicorn(database_url, workers=2, env=QUIET) as url:
        yield url


def claims(user_id: int, **changes: Any) -> dict[str, Any]:
    """The claims flask-jwt-extended issues, with `changes` applied (None removes a claim)."""
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "fresh": False,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "type": "access",
        "sub": str(user_id),
        "nbf": now,
        "exp": now + timedelta(hours=1),
    }
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def forge(user_id: int, key: str = JWT_SECRET, algorithm: str = "HS256", **changes: Any) -> str:
    return jwt.encode(claims(user_id, **changes), key, algorithm=algorithm)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def alg_none(user_id: int) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims(user_id), default=lambda d: int(d.timestamp())).encode())
    return f"{header}.{payload}."


def alg_rs256_confusion(user_id: int) -> str:
    """An HMAC signature under an `RS256` header: the classic algorithm-confusion attempt."""
    good = forge(user_id)
    _header, payload, signature = good.split(".")
    return f"{b64(json.dumps({'alg': 'RS256', 'typ': 'JWT'}).encode())}.{payload}.{signature}"


def tampered(genuine: str, victim_id: int) -> str:
    """Someone's real token with `sub` switched to another user; the signature is kept."""
    header, payload, signature = genuine.split(".")
    body = json.loads(unb64(payload))
    body["sub"] = str(victim_id)
    return f"{header}.{b64(json.dumps(body).encode())}.{signature}"


def user_id_of(sql: Engine, token: str) -> int:
    sub = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])["sub"]
    with sql.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM users WHERE id = :id"), {"id": int(sub)}).scalar()
    return int(sub)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_every_crafted_token_is_the_same_401(base_url: str, sql: Engine) -> None:
    attacker_token = register(base_url)
    user_id_of(sql, attacker_token)
    victim = user_id_of(sql, register(base_url))

    # Controls: the genuine token works, so a 401 below is the attack's, not a broken server.
    for path in ENDPOINTS:
        assert call(base_url, "GET", path, token=attacker_token).status == 200

    doomed_token = register(base_url)
    with sql.begin() as conn:
        conn.execute(
            text("DELETE FROM users WHERE id = :id"), {"id": user_id_of(sql, doomed_token)}
        )

    revoked_token = register(base_url)
    assert call(base_url, "POST", "/api/users/logout", token=revoked_token).status == 204

    past = datetime.now(UTC) - timedelta(minutes=5)
    future = datetime.now(UTC) + timedelta(minutes=5)
    attacks: dict[str, Callable[[], str]] = {
        "alg none": lambda: f"Token {alg_none(victim)}",
        "alg RS256 header, HMAC signature": lambda: f"Token {alg_rs256_confusion(victim)}",
        "wrong key": lambda: f"Token {forge(victim, key='not-the-server-key-' + 'x' * 32)}",
        "HS512 with the right key": lambda: f"Token {forge(victim, algorithm='HS512')}",
        "HS384 with the right key": lambda: f"Token {forge(victim, algorithm='HS384')}",
        "tampered sub, signature kept": lambda: f"Token {tampered(attacker_token, victim)}",
        "expired": lambda: (
            f"Token {forge(victim, exp=past, iat=past - timedelta(hours=1), nbf=past - timedelta(hours=1))}"
        ),
        "nbf in the future": lambda: f"Token {forge(victim, nbf=future)}",
        "missing sub": lambda: f"Token {forge(victim, sub=None)}",
        "sub as a JSON number": lambda: f"Token {forge(victim, sub=victim)}",
        "non-numeric sub": lambda: f"Token {forge(victim, sub='admin')}",
        "huge sub (10**30)": lambda: f"Token {forge(victim, sub=str(10**30))}",
        "sub 0": lambda: f"Token {forge(victim, sub='0')}",
        "negative sub": lambda: f"Token {forge(victim, sub='-1')}",
        "missing jti": lambda: f"Token {forge(victim, jti=None)}",
        "missing exp": lambda: f"Token {forge(victim, exp=None)}",
        "refresh-type token": lambda: f"Token {forge(victim, type='refresh')}",
        "deleted user": lambda: f"Token {doomed_token}",
        "revoked by logout": lambda: f"Token {revoked_token}",
        "garbage": lambda: "Token not.a.jwt",
        "empty token": lambda: "Token ",
        "wrong scheme (Bearer)": lambda: f"Bearer {attacker_token}",
        "no scheme": lambda: attacker_token,
    }
    assert len(attacks) >= 12

    rows: list[tuple[str, int, int]] = []
    failures: list[str] = []
    reference: tuple[int, Any, str | None] | None = None
    for name, make in attacks.items():
        header = make()
        statuses = []
        for path in ENDPOINTS:
            reply: Reply = call(base_url, "GET", path, headers={"Authorization": header})
            statuses.append(reply.status)
            seen = (reply.status, _json_or_text(reply), reply.headers.get("www-authenticate"))
            reference = reference or seen
            if reply.status != 401 or seen != reference or seen[1] != REJECTED:
                failures.append(f"{name} on {path}: {seen}")
        rows.append((name, statuses[0], statuses[1]))

    print(f"\n{'attack':<36} {'GET /user':>9} {'GET /articles':>13}")
    for name, required, optional in rows:
        print(f"{name:<36} {required:>9} {optional:>13}")
    assert not failures, "\n".join(failures)
    assert reference is not None and reference[2] == 'Token realm="conduit"'


def _json_or_text(reply: Reply) -> Any:
    try:
        return reply.json()
    except ValueError:
        return reply.body.decode(errors="replace")
