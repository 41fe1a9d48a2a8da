"""Sessions: rotating refresh tokens, reuse detection, the grace window, signing out.

A login (or registration) starts a session: an access `token` and a `refreshToken`.
`RefreshToken` spends the refresh token for a new pair; a spent one presented again ends
the whole session (every token of its family), except within `REFRESH_GRACE_SECONDS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, insert, select, update

from db import writes
from db.models import TokenFamily, User
from db.session import Database
from tests.factories import PASSWORD, SESSION_FIELDS, body_of, errors_of, register

REFRESH = "/api/users/token/refresh"
INVALID = {"token": ["is invalid"]}


@dataclass
class Pair:
    token: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def _pair(response: Any) -> Pair:
    assert response.status_code in (200, 201), response.json
    user = body_of(response)["user"]
    return Pair(user["token"], user["refreshToken"])


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Pair:
    return _pair(
        client.post("/api/users/login", json={"user": {"email": email, "password": password}})
    )


def refresh(client: FlaskClient, token: str) -> Any:
    return client.post(REFRESH, json={"refreshToken": token})


def access_ok(client: FlaskClient, pair: Pair) -> bool:
    return client.get("/api/user", headers=pair.headers).status_code == 200


@pytest.fixture
def grace(app: Flask) -> timedelta:
    configured: timedelta = app.config["REFRESH_GRACE"]
    return configured


@pytest.fixture
def no_grace(app: Flask) -> Iterator[None]:
    saved = app.config["REFRESH_GRACE"]
    app.config["REFRESH_GRACE"] = timedelta(0)
    yield
    app.config["REFRESH_GRACE"] = saved


def test_registration_and_login_start_sessions(client: FlaskClient) -> None:
    account = register(client)
    first = login(client, account.email)
    claims = jwt.decode(first.refresh, options={"verify_signature": False})
    access = jwt.decode(first.token, options={"verify_signature": False})
    assert claims["type"] == "refresh" and access["type"] == "access"
    assert claims["fam"] == access["fam"]
    assert login(client, account.email).token != first.token
    assert access_ok(client, first)


def test_refresh_rotates(client: FlaskClient) -> None:
    account = register(client)
    first = login(client, account.email)
    response = refresh(client, first.refresh)
    assert response.status_code == 200
    user = body_of(response)["user"]
    assert set(user) == SESSION_FIELDS
    assert user["username"] == account.username
    second = _pair(response)
    assert second.token != first.token and second.refresh != first.refresh
    assert access_ok(client, second)
    third = _pair(refresh(client, second.refresh))
    assert access_ok(client, third)


def test_replaying_a_spent_refresh_token_kills_the_family(
    client: FlaskClient, no_grace: None
) -> None:
    account = register(client)
    other = login(client, account.email)  # another session of the same user
    first = login(client, account.email)
    second = _pair(refresh(client, first.refresh))
    third = _pair(refresh(client, second.refresh))
    replay = refresh(client, first.refresh)
    assert replay.status_code == 401 and errors_of(replay) == INVALID
    # the newest of the family is dead too, access and refresh alike
    assert not access_ok(client, third)
    assert refresh(client, third.refresh).status_code == 401
    # other sessions go on
    assert access_ok(client, other)
    assert refresh(client, other.refresh).status_code == 200


def test_two_refreshes_within_the_grace_window_both_succeed(
    client: FlaskClient, grace: timedelta
) -> None:
    assert grace > timedelta(0)
    account = register(client)
    first = login(client, account.email)
    tab_a = _pair(refresh(client, first.refresh))
    tab_b = _pair(refresh(client, first.refresh))
    assert access_ok(client, tab_a) and access_ok(client, tab_b)
    # both got the same successor refresh token: the session goes on
    assert tab_a.refresh != first.refresh
    assert _pair(refresh(client, tab_b.refresh)).token


def test_grace_window_lapses(client: FlaskClient, db: Database) -> None:
    account = register(client)
    first = login(client, account.email)
    second = _pair(refresh(client, first.refresh))
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    session = db.session()
    session.execute(update(TokenFamily).values(rotated_at=long_ago))
    session.commit()
    assert refresh(client, first.refresh).status_code == 401
    assert not access_ok(client, second)


def test_access_token_as_refresh_token_and_back_are_refused(client: FlaskClient) -> None:
    account = register(client)
    pair = login(client, account.email)
    as_refresh = refresh(client, pair.token)
    assert as_refresh.status_code == 401 and errors_of(as_refresh) == INVALID
    as_access = client.get("/api/user", headers={"Authorization": f"Token {pair.refresh}"})
    assert as_access.status_code == 401 and errors_of(as_access) == INVALID
    # neither attempt harmed the session
    assert access_ok(client, pair)
    assert refresh(client, pair.refresh).status_code == 200


@pytest.mark.parametrize("body", [{}, {"refreshToken": ""}, {"refreshToken": "not.a.jwt"}])
def test_malformed_refresh_requests(client: FlaskClient, body: dict[str, str]) -> None:
    response = client.post(REFRESH, json=body)
    assert response.status_code in (401, 422), response.json


def test_forged_refresh_token_is_refused(client: FlaskClient) -> None:
    account = register(client)
    pair = login(client, account.email)
    claims = jwt.decode(pair.refresh, options={"verify_signature": False})
    forged = jwt.encode(claims, "another secret " * 4, algorithm="HS256")
    assert refresh(client, forged).status_code == 401
    assert refresh(client, pair.refresh).status_code == 200


def test_reads_return_the_presented_token(client: FlaskClient) -> None:
    account = register(client)
    pair = login(client, account.email)
    me = body_of(client.get("/api/user", headers=pair.headers))["user"]
    assert me["token"] == pair.token and "refreshToken" not in me
    changed = client.put("/api/user", json={"user": {"bio": "hi"}}, headers=pair.headers)
    assert body_of(changed)["user"]["token"] == pair.token


def test_password_change_ends_other_sessions_only(client: FlaskClient) -> None:
    account = register(client)
    current = login(client, account.email)
    other = login(client, account.email)
    changed = client.put(
        "/api/user", json={"user": {"password": "a brand new password"}}, headers=current.headers
    )
    assert changed.status_code == 200, changed.json
    assert body_of(changed)["user"]["token"] == current.token
    assert not access_ok(client, other)
    assert refresh(client, other.refresh).status_code == 401
    assert access_ok(client, current)
    assert access_ok(client, _pair(refresh(client, current.refresh)))


def test_logout_ends_the_presented_session(client: FlaskClient) -> None:
    account = register(client)
    gone = login(client, account.email)
    kept = login(client, account.email)
    renewed = _pair(refresh(client, gone.refresh))
    assert client.post("/api/users/logout", headers=renewed.headers).status_code == 204
    assert not access_ok(client, renewed)
    assert refresh(client, renewed.refresh).status_code == 401
    assert access_ok(client, kept)


def test_logout_all_ends_every_session(client: FlaskClient) -> None:
    account = register(client)
    pairs = [login(client, account.email) for _ in range(3)]
    response = client.post("/api/users/logout?all=true", headers=pairs[0].headers)
    assert response.status_code == 204
    for pair in pairs:
        assert not access_ok(client, pair)
        assert refresh(client, pair.refresh).status_code == 401
    assert access_ok(client, login(client, account.email))  # a new login works


def test_expired_families_are_purged(client: FlaskClient, db: Database) -> None:
    account = register(client)
    login(client, account.email)
    session = db.session()
    count = select(func.count()).select_from(TokenFamily)
    before = session.scalar(count)
    assert before and before >= 2
    later = datetime.now(UTC) + timedelta(days=400)
    assert writes.purge_families(session, later, limit=1) == 1
    assert writes.purge_families(session, later, limit=None) == before - 1
    session.commit()


def test_purge_command(sqlite_url: str) -> None:
    """`python -m db.purge` sweeps what has lapsed, and nothing that has not."""
    from db.purge import purge
    from db.session import make_engine

    engine = make_engine(sqlite_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        user = conn.execute(
            insert(User)
            .values(
                username="purged",
                username_key="purged",
                email="p@example.com",
                password_hash="x",
                created_at=now,
            )
            .returning(User.id)
        ).scalar_one()
        for family, expires in (
            ("lapsed", now - timedelta(seconds=1)),
            ("live", now + timedelta(days=1)),
        ):
            conn.execute(
                insert(TokenFamily).values(
                    id=family, user_id=user, current_jti=family, created_at=now, expires_at=expires
                )
            )
    try:
        assert (
            purge(sqlite_url, now)["families"] >= 1
        )  # the database is the run's: other tests may leave rows too
        with engine.connect() as conn:
            mine = select(TokenFamily.id).where(TokenFamily.id.in_(["lapsed", "live"]))
            assert conn.scalars(mine).all() == ["live"]
    finally:
        with engine.begin() as conn:
            conn.execute(delete(User).where(User.id == user))
        engine.dispose()
