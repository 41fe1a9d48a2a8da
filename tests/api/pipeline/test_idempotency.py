"""`Idempotency-Key` on CreateArticle, CreateArticleComment and CreateUser.

A retry with the same key and body replays the first answer (status and body, with
`Idempotency-Replayed: true`) and creates nothing; another body is a 422; a key whose
first request is still running is a 409. Only completed creates are remembered: an error
(a 4xx of the view, validation, a 5xx) stores nothing and releases the key.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select, update

from api.pipeline import idempotency
from db import idempotency as keys
from db.models import Article, Comment, IdempotencyKey, TokenFamily, User, utcnow
from db.session import Database
from testkit.database import QueryCounter
from tests.factories import PASSWORD, Account, body_of, create_article, errors_of, register

ARTICLE = {"article": {"title": "Retry me", "description": "d", "body": "b", "tagList": ["x"]}}
KEY = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"


def new_key() -> str:
    return str(uuid.uuid4())


def post(
    client: FlaskClient,
    path: str,
    body: Any,
    key: str | None,
    account: Account | None = None,
) -> Any:
    headers = dict(account.headers) if account else {}
    if key is not None:
        headers[KEY] = key
    return client.post(path, json=body, headers=headers)


def count(db: Database, model: Any) -> int:
    found = db.session().scalar(select(func.count()).select_from(model))
    db.session.remove()
    return int(found or 0)


def user_id(db: Database, account: Account) -> int:
    found = db.session().scalar(select(User.id).where(User.username == account.username))
    db.session.remove()
    assert found is not None
    return found


def stored_rows(db: Database) -> list[Any]:
    rows = db.session().execute(select(IdempotencyKey)).scalars().all()
    db.session.remove()
    return list(rows)


def fingerprint(app: Flask, path: str, body: Any) -> str:
    with app.test_request_context(path, method="POST", json=body):
        return idempotency.fingerprint()


def new_user(n: int) -> dict[str, Any]:
    name = f"idem{uuid.uuid4().hex[:8]}{n}"
    return {"user": {"username": name, "email": f"{name}@example.com", "password": PASSWORD}}


# --- replays ------------------------------------------------------------------------------------


def test_retried_article_replays_the_first_answer(client: FlaskClient, db: Database) -> None:
    author = register(client)
    key = new_key()
    first = post(client, "/api/articles", ARTICLE, key, author)
    assert first.status_code == 201, first.json
    assert REPLAYED not in first.headers
    before = count(db, Article)

    for _ in range(3):
        again = post(client, "/api/articles", ARTICLE, key, author)
        assert again.status_code == 201
        assert again.headers[REPLAYED] == "true"
        assert again.get_data() == first.get_data()
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert count(db, Article) == before == 1
    # The body's key order or spacing is not the request: the same JSON replays.
    reordered = {"article": dict(reversed(list(ARTICLE["article"].items())))}
    assert post(client, "/api/articles", reordered, key, author).headers[REPLAYED] == "true"


def test_retried_comment_replays_the_first_answer(client: FlaskClient, db: Database) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    path, body, key = f"/api/articles/{slug}/comments", {"comment": {"body": "hi"}}, new_key()
    first = post(client, path, body, key, author)
    again = post(client, path, body, key, author)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_data() == first.get_data() and again.headers[REPLAYED] == "true"
    assert count(db, Comment) == 1


def test_retried_registration_replays_the_same_live_session(
    client: FlaskClient, db: Database
) -> None:
    body, key = new_user(1), new_key()
    first = post(client, "/api/users", body, key)
    again = post(client, "/api/users", body, key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers[REPLAYED] == "true" and REPLAYED not in first.headers
    replayed, answered = again.json, first.json
    token = replayed["user"].pop("token")
    answered["user"].pop("token")
    # The replay is the first answer's session again, not a new one: its refresh token is
    # that session's newest, and works like the first one would.
    refresh = replayed["user"].pop("refreshToken")
    assert answered["user"].pop("refreshToken") and replayed == answered
    me = client.get("/api/user", headers={"Authorization": f"Token {token}"})
    assert me.status_code == 200 and body_of(me)["user"]["username"] == body["user"]["username"]
    renewed = client.post("/api/users/token/refresh", json={"refreshToken": refresh})
    assert renewed.status_code == 200, renewed.json
    assert count(db, User) == 1
    assert count(db, TokenFamily) == 1
    # A token is not kept for a day in the database: only its subject and session are.
    (row,) = stored_rows(db)
    assert row.body is not None and first.get_json()["user"]["email"] in row.body
    assert "eyJ" not in row.body


def _signed_out(client: FlaskClient, first: Any, how: str) -> None:
    headers = {"Authorization": f"Token {first.json['user']['token']}"}
    if how == "logout":
        assert client.post("/api/users/logout", headers=headers).status_code == 204
    elif how == "logout everywhere":
        response = client.post("/api/users/logout?all=true", headers=headers)
        assert response.status_code == 204
    else:  # a new password, from the sign-up's own session (which it keeps)
        changed = client.put(
            "/api/user", json={"user": {"password": "another-password-1"}}, headers=headers
        )
        assert changed.status_code == 200, changed.json


@pytest.mark.parametrize("how", ["logout", "logout everywhere", "password change"])
def test_a_replay_after_the_session_ended_gives_no_credentials(
    client: FlaskClient, db: Database, how: str
) -> None:
    """Whoever holds the sign-up request (a proxy log) gets nothing once the owner secured
    the account: a 409 that says to sign in, and no new session in the database."""
    body, key = new_user(2), new_key()
    first = post(client, "/api/users", body, key)
    assert first.status_code == 201
    _signed_out(client, first, how)
    families = count(db, TokenFamily)
    again = post(client, "/api/users", body, key)
    assert again.status_code == 409, again.json
    assert errors_of(again) == {KEY: [idempotency.SESSION_ENDED]}
    assert "eyJ" not in again.get_data(as_text=True)  # no JWT of any kind
    assert count(db, TokenFamily) == families
    if how == "password change":  # the old password no longer signs in either
        credentials = {"email": body["user"]["email"], "password": PASSWORD}
        login = client.post("/api/users/login", json={"user": credentials})
        assert login.status_code == 401


# --- refusals -----------------------------------------------------------------------------------


def test_same_key_for_another_request_is_422(client: FlaskClient, db: Database) -> None:
    author = register(client)
    key = new_key()
    assert post(client, "/api/articles", ARTICLE, key, author).status_code == 201
    other = {"article": {**ARTICLE["article"], "title": "Another"}}
    response = post(client, "/api/articles", other, key, author)
    assert response.status_code == 422
    assert errors_of(response) == {KEY: ["is already used for a different request"]}
    # Another operation (path) with the key is another request too.
    slug = create_article(client, author)["slug"]
    response = post(
        client, f"/api/articles/{slug}/comments", {"comment": {"body": "x"}}, key, author
    )
    assert response.status_code == 422 and errors_of(response) == {KEY: [idempotency.OTHER_REQUEST]}
    assert count(db, Article) == 2 and count(db, Comment) == 0


def test_keys_are_per_user(client: FlaskClient, db: Database) -> None:
    alice, bob = register(client), register(client)
    key = new_key()
    for account in (alice, bob):
        response = post(client, "/api/articles", ARTICLE, key, account)
        assert response.status_code == 201 and REPLAYED not in response.headers
        assert body_of(response)["article"]["author"]["username"] == account.username
    assert count(db, Article) == 2
    other = {"article": {**ARTICLE["article"], "title": "Bob's other"}}
    # Bob's use of the key does not bind Alice's: her retry still replays hers.
    assert post(client, "/api/articles", other, key, bob).status_code == 422
    assert post(client, "/api/articles", ARTICLE, key, alice).headers[REPLAYED] == "true"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "can't be blank"),
        ("k" * 256, "is too long (maximum is 255 characters)"),
        ("has space", "must contain only visible ASCII characters"),
        ("tab\there", "must contain only visible ASCII characters"),
        ("caf\u00e9", "must contain only visible ASCII characters"),
    ],
)
def test_invalid_key_is_422(client: FlaskClient, db: Database, key: str, message: str) -> None:
    author = register(client)
    response = post(client, "/api/articles", ARTICLE, key, author)
    assert response.status_code == 422
    assert errors_of(response) == {KEY: [message]}
    assert count(db, Article) == 0 and stored_rows(db) == []


def test_longest_and_oddest_valid_keys(client: FlaskClient) -> None:
    author = register(client)
    for key in ("k" * 255, "!", '"quoted"', "~`{}[]<>"):
        first = post(client, "/api/articles", ARTICLE, key, author)
        assert first.status_code == 201, (key, first.json)
        assert post(client, "/api/articles", ARTICLE, key, author).headers[REPLAYED] == "true"


def test_without_a_key_nothing_changes(client: FlaskClient, db: Database) -> None:
    author = register(client)
    slugs = [
        body_of(post(client, "/api/articles", ARTICLE, None, author))["article"]["slug"]
        for _ in "ab"
    ]
    assert slugs == ["retry-me", "retry-me-2"]
    assert count(db, Article) == 2 and stored_rows(db) == []


def test_key_in_progress_is_409_until_its_lease_lapses(
    app: Flask, client: FlaskClient, db: Database
) -> None:
    """A claim without an answer: a live lease is another request running; a lapsed one,
    a worker that died before committing (nothing of it was stored), taken over."""
    author = register(client)
    key, now = new_key(), utcnow()
    db.session().execute(
        insert(IdempotencyKey).values(
            user_id=user_id(db, author),
            key=key,
            fingerprint=fingerprint(app, "/api/articles", ARTICLE),
            created_at=now,
            owner="a-live-worker",
            leased_until=now + timedelta(seconds=30),
        )
    )
    db.session().commit()
    db.session.remove()

    busy = post(client, "/api/articles", ARTICLE, key, author)
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
    assert errors_of(busy) == {KEY: ["is in use by a request still in progress, retry later"]}
    other = {"article": {**ARTICLE["article"], "title": "Other"}}
    assert post(client, "/api/articles", other, key, author).status_code == 422

    db.session().execute(update(IdempotencyKey).values(leased_until=now - timedelta(seconds=1)))
    db.session().commit()
    db.session.remove()
    assert post(client, "/api/articles", other, key, author).status_code == 422  # still bound
    taken = post(client, "/api/articles", ARTICLE, key, author)
    assert taken.status_code == 201 and REPLAYED not in taken.headers
    assert post(client, "/api/articles", ARTICLE, key, author).headers[REPLAYED] == "true"
    assert count(db, Article) == 1
    (row,) = stored_rows(db)
    assert row.owner != "a-live-worker" and row.status == 201


def lapsed_rows(owner: int, names: list[str]) -> list[dict[str, Any]]:
    long_ago = utcnow() - timedelta(hours=25)
    return [
        {
            "user_id": owner,
            "key": name,
            "fingerprint": "0" * 64,
            "created_at": long_ago,
            "owner": "gone",
            "leased_until": long_ago,
            "status": 201,
            "body": "{}",
        }
        for name in names
    ]


@pytest.mark.parametrize("purged", [True, False], ids=["purged", "not-yet-purged"])
def test_a_lapsed_key_is_free_again(
    client: FlaskClient, db: Database, monkeypatch: pytest.MonkeyPatch, purged: bool
) -> None:
    """A day after its first use, a key is forgotten, whatever it was used for."""
    if not purged:
        monkeypatch.setattr(keys, "PURGE_BATCH", 0)  # the claim meets the lapsed row itself
    author = register(client)
    key = new_key()
    db.session().execute(insert(IdempotencyKey), lapsed_rows(user_id(db, author), [key]))
    db.session().commit()
    db.session.remove()
    response = post(client, "/api/articles", ARTICLE, key, author)
    assert response.status_code == 201 and REPLAYED not in response.headers
    assert post(client, "/api/articles", ARTICLE, key, author).headers[REPLAYED] == "true"


def test_lapsed_keys_are_purged_in_bounded_batches(client: FlaskClient, db: Database) -> None:
    author = register(client)
    names = [f"old-{n}" for n in range(keys.PURGE_BATCH + 50)]
    db.session().execute(insert(IdempotencyKey), lapsed_rows(user_id(db, author), names))
    db.session().commit()
    db.session.remove()

    assert post(client, "/api/articles", ARTICLE, "new-1", author).status_code == 201
    assert len(stored_rows(db)) == 50 + 1  # one batch purged, the new key stored
    other = {"article": {**ARTICLE["article"], "title": "2"}}
    assert post(client, "/api/articles", other, "new-2", author).status_code == 201
    assert {row.key for row in stored_rows(db)} == {"new-1", "new-2"}


# --- what is not stored -------------------------------------------------------------------------


def test_refused_bodies_claim_no_key(client: FlaskClient, db: Database) -> None:
    """Validation failures (422, 415) store nothing: the corrected request may reuse the key."""
    author = register(client)
    key = new_key()
    blank = {"article": {**ARTICLE["article"], "title": ""}}
    response = post(client, "/api/articles", blank, key, author)
    assert response.status_code == 422 and "title" in errors_of(response)
    headers = {**author.headers, KEY: key, "Content-Type": "text/plain"}
    assert client.post("/api/articles", data="x", headers=headers).status_code == 415
    assert stored_rows(db) == []
    fixed = post(client, "/api/articles", ARTICLE, key, author)
    assert fixed.status_code == 201 and REPLAYED not in fixed.headers


def test_errors_of_the_operation_release_the_key(client: FlaskClient, db: Database) -> None:
    """A 409 (name taken) or 404 (no such article) wrote nothing: a retry runs again."""
    taken = register(client)
    body = new_user(2)
    body["user"]["username"] = taken.username
    key = new_key()
    for _ in range(2):
        response = post(client, "/api/users", body, key)
        assert response.status_code == 409 and REPLAYED not in response.headers
        assert errors_of(response) == {"username": ["has already been taken"]}
    assert stored_rows(db) == []

    missing = post(client, "/api/articles/nope/comments", {"comment": {"body": "x"}}, key, taken)
    assert missing.status_code == 404 and stored_rows(db) == []
    body["user"]["username"] = f"free{uuid.uuid4().hex[:8]}"
    created = post(client, "/api/users", body, key)  # the key is free for the corrected body
    assert created.status_code == 201 and REPLAYED not in created.headers


def test_a_server_error_releases_the_key_and_writes_nothing(
    client: FlaskClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = register(client)
    key = new_key()

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the outbox broke")

    # After the article is written, on either backend (one statement, or one each).
    with monkeypatch.context() as patch:
        patch.setattr("db.outbox.published", broken)
        patch.setattr("db.outbox.wake_after_commit", broken)
        response = post(client, "/api/articles", ARTICLE, key, author)
    assert response.status_code == 500
    assert count(db, Article) == 0 and stored_rows(db) == []
    retry = post(client, "/api/articles", ARTICLE, key, author)
    assert retry.status_code == 201 and REPLAYED not in retry.headers


def test_a_run_that_lost_its_lease_is_rolled_back(
    client: FlaskClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its lease lapsed and a retry took the key over: its article must not be committed."""
    author = register(client)
    real = keys.store_answer

    def after_a_takeover(session: Any, user: int, key: str, owner: str, *rest: Any) -> bool:
        session.execute(update(IdempotencyKey).values(owner="the-retry"))
        return real(session, user, key, owner, *rest)

    monkeypatch.setattr(keys, "store_answer", after_a_takeover)
    response = post(client, "/api/articles", ARTICLE, new_key(), author)
    assert response.status_code == 409 and errors_of(response) == {KEY: [idempotency.IN_PROGRESS]}
    assert count(db, Article) == 0


# --- cost and documentation ---------------------------------------------------------------------


def test_a_keyed_create_costs_three_statements_more(
    client: FlaskClient, queries: QueryCounter
) -> None:
    """Purge (bounded), claim, answer; a replay is the token's user, purge, claim, read."""
    author = register(client)
    with queries:
        assert post(client, "/api/articles", ARTICLE, None, author).status_code == 201
    plain = queries.count
    key = new_key()
    with queries:
        assert post(client, "/api/articles", ARTICLE, key, author).status_code == 201
    assert queries.count == plain + 3, queries.statements
    with queries:
        assert post(client, "/api/articles", ARTICLE, key, author).headers[REPLAYED] == "true"
    assert queries.count == 4, queries.statements


def test_the_spec_documents_the_header(client: FlaskClient) -> None:
    spec = body_of(client.get("/api/openapi.json"))
    operations = {
        op["operationId"]: op
        for path in spec["paths"].values()
        for op in path.values()
        if isinstance(op, dict)
    }
    for name in ("CreateArticle", "CreateArticleComment", "CreateUser"):
        operation = operations[name]
        (parameter,) = [p for p in operation["parameters"] if p["name"] == KEY]
        assert parameter["in"] == "header" and parameter["required"] is False
        assert parameter["schema"]["maxLength"] == 255
        assert {"409", "422"} <= set(operation["responses"])
        assert REPLAYED in operation["responses"]["201"]["headers"]
    assert not any(
        p.get("name") == KEY
        for name, op in operations.items()
        if name not in {"CreateArticle", "CreateArticleComment", "CreateUser"}
        for p in op.get("parameters", [])
    )
