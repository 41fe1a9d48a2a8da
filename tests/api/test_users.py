"""Registration, login, current user, update (operations CreateUser, Login, GetCurrentUser, UpdateCurrentUser)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from db.models import User
from db.session import Database
from tests.factories import (
    PASSWORD,
    SESSION_FIELDS,
    USER_FIELDS,
    Account,
    add_comment,
    body_of,
    create_article,
    errors_of,
    register,
)

BLANK = ["can't be blank"]
TAKEN = ["has already been taken"]
INVALID = ["is invalid"]
USERNAME_CHARS = ["may only contain letters, digits, '_', '-' and '.'"]
TOO_SHORT = ["is too short (minimum is 8 characters)"]
TOO_LONG = ["is too long (maximum is 256 characters)"]
IMAGE = "https://i.stack.imgur.com/xHWG8.jpg"


def _login(client: FlaskClient, email: str, password: str) -> Any:
    return client.post("/api/users/login", json={"user": {"email": email, "password": password}})


def _me(client: FlaskClient, account: Account) -> dict[str, Any]:
    """The current user without its token (the one presented, which reads mint none)."""
    response = client.get("/api/user", headers=account.headers)
    assert response.status_code == 200, response.json
    user: dict[str, Any] = body_of(response)["user"]
    return {name: value for name, value in user.items() if name != "token"}


def _user_count(db: Database) -> int:
    # The test's session shares the rolled-back connection the app writes through.
    count = db.session().scalar(select(func.count()).select_from(User))
    db.session.remove()
    return int(count or 0)


# --- CreateUser --------------------------------------------------------------


def test_register_returns_user_with_token(client: FlaskClient) -> None:
    response = client.post(
        "/api/users",
        json={"user": {"username": "jake", "email": "Jake@Jake.jake", "password": "jakejake"}},
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    user = body_of(response)["user"]
    assert set(user) == SESSION_FIELDS
    assert user["username"] == "jake"
    assert user["email"] == "jake@jake.jake"
    # RealWorld 2.0: never set is null, not "".
    assert user["bio"] is None and user["image"] is None
    assert user["token"].count(".") == 2


def test_register_duplicate_username_and_email_is_409(client: FlaskClient, db: Database) -> None:
    register(client, "jake")
    before = _user_count(db)
    response = client.post(
        "/api/users",
        json={"user": {"username": "jake", "email": "JAKE@example.com", "password": PASSWORD}},
    )
    assert response.status_code == 409
    assert errors_of(response) == {"username": TAKEN, "email": TAKEN}
    assert _user_count(db) == before


def test_register_duplicate_username_alone_is_409(client: FlaskClient, db: Database) -> None:
    register(client, "jake")
    before = _user_count(db)
    response = client.post(
        "/api/users",
        json={"user": {"username": "jake", "email": "fresh@example.com", "password": PASSWORD}},
    )
    assert response.status_code == 409
    assert errors_of(response) == {"username": TAKEN}
    assert _user_count(db) == before
    assert _login(client, "fresh@example.com", PASSWORD).status_code == 401


def test_register_duplicate_email_alone_is_409(client: FlaskClient, db: Database) -> None:
    taken = register(client)
    before = _user_count(db)
    # Emails compare case-insensitively.
    response = client.post(
        "/api/users",
        json={"user": {"username": "fresh", "email": taken.email.upper(), "password": PASSWORD}},
    )
    assert response.status_code == 409
    assert errors_of(response) == {"email": TAKEN}
    assert _user_count(db) == before
    assert client.get("/api/profiles/fresh").status_code == 404


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"user": BLANK}),
        ({"user": None}, {"user": BLANK}),
        ({"user": []}, {"user": ["must be an object"]}),
        ({"user": "jake"}, {"user": ["must be an object"]}),
        (["not", "an", "object"], {"request": ["must be an object"]}),
        ({"user": {}}, {"username": BLANK, "email": BLANK, "password": BLANK}),
        (
            {"user": {"username": "", "email": "", "password": ""}},
            {"username": BLANK, "email": BLANK, "password": BLANK},
        ),
        (
            {"user": {"username": None, "email": None, "password": None}},
            {"username": BLANK, "email": BLANK, "password": BLANK},
        ),
        (
            {"user": {"email": "not-an-email"}},
            {"username": BLANK, "email": INVALID, "password": BLANK},
        ),
        (
            {"user": {"username": "has space", "email": "bad", "password": "short"}},
            {"username": USERNAME_CHARS, "email": INVALID, "password": TOO_SHORT},
        ),
        (
            {"user": {"username": "a", "email": "not-an-email", "password": PASSWORD}},
            {"email": INVALID},
        ),
        (
            {"user": {"username": "a", "email": "a@b.co", "password": "short"}},
            {"password": TOO_SHORT},
        ),
        # Blank and control characters are named as such; then the username's own rule.
        (
            {"user": {"username": "has space", "email": "a@b.co", "password": PASSWORD}},
            {"username": USERNAME_CHARS},
        ),
        (
            {"user": {"username": "nul\u0000", "email": "a@b.co", "password": PASSWORD}},
            {"username": ["must not contain control characters"]},
        ),
        (
            {"user": {"username": "   ", "email": "   ", "password": PASSWORD}},
            {"username": ["can't be blank"], "email": ["can't be blank"]},
        ),
        (
            {"user": {"username": "a", "email": 5, "password": PASSWORD}},
            {"email": ["must be a string"]},
        ),
        (
            {"user": {"username": "x" * 65, "email": "a@b.co", "password": PASSWORD}},
            {"username": ["is too long (maximum is 64 characters)"]},
        ),
        (
            {"user": {"username": 5, "email": "a@b.co", "password": PASSWORD}},
            {"username": ["must be a string"]},
        ),
    ],
)
def test_register_validation(
    client: FlaskClient, db: Database, payload: Any, errors: dict[str, list[str]]
) -> None:
    before = _user_count(db)
    response = client.post("/api/users", json=payload)
    assert response.status_code == 422, response.json
    assert errors_of(response) == errors
    # nothing was half-written
    assert _user_count(db) == before
    assert _login(client, "a@b.co", PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"username": "   "}, {"username": ["can't be blank"]}),
        ({"email": "   "}, {"email": ["can't be blank"]}),
        ({"email": ["a@b.co"]}, {"email": ["must be a string"]}),
        ({"email": 5}, {"email": ["must be a string"]}),
    ],
)
def test_register_whitespace_or_mistyped_username_and_email_are_422(
    client: FlaskClient, db: Database, fields: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    before = _user_count(db)
    user = {"username": "a", "email": "a@b.co", "password": PASSWORD, **fields}
    response = client.post("/api/users", json={"user": user})
    assert response.status_code == 422, response.json
    assert errors_of(response) == errors
    assert _user_count(db) == before


def test_nested_fields_are_keyed_by_their_own_name(client: FlaskClient) -> None:
    """`user.email` is reported as `email`: the envelope is not part of the key."""
    response = client.post(
        "/api/users", json={"user": {"username": "nested", "email": "x", "password": PASSWORD}}
    )
    assert response.status_code == 422
    assert errors_of(response) == {"email": INVALID}


def test_register_ignores_fields_it_does_not_define(client: FlaskClient) -> None:
    """Mass assignment is harmless: `bio` or an `admin` flag beside the user change nothing."""
    response = client.post(
        "/api/users",
        json={
            "user": {
                "username": "ok",
                "email": "ok@example.com",
                "password": PASSWORD,
                "bio": "mass",
                "image": IMAGE,
                "token": "forged",
            },
            "admin": True,
        },
    )
    assert response.status_code == 201, response.json
    user = body_of(response)["user"]
    assert set(user) == SESSION_FIELDS
    assert (user["username"], user["bio"], user["image"]) == ("ok", None, None)
    assert user["token"] != "forged"
    me = client.get("/api/user", headers={"Authorization": f"Token {user['token']}"})
    assert body_of(me)["user"]["username"] == "ok"


@pytest.mark.parametrize(
    ("length", "status", "errors"),
    [
        (7, 422, {"password": TOO_SHORT}),
        (8, 201, None),
        (64, 201, None),
        (65, 201, None),
        (256, 201, None),
        (257, 422, {"password": TOO_LONG}),
    ],
)
def test_register_password_length(
    client: FlaskClient, length: int, status: int, errors: dict[str, list[str]] | None
) -> None:
    password = "p" * length
    response = client.post(
        "/api/users",
        json={"user": {"username": "pw", "email": "pw@example.com", "password": password}},
    )
    assert response.status_code == status, response.json
    if errors is None:
        login = _login(client, "pw@example.com", password)
        assert login.status_code == 200
        assert body_of(login)["user"]["username"] == "pw"
    else:
        assert errors_of(response) == errors
        assert client.get("/api/profiles/pw").status_code == 404


# --- Login -------------------------------------------------------------------


def test_login(client: FlaskClient) -> None:
    account = register(client, "login1")
    response = _login(client, account.email.upper(), PASSWORD)
    assert response.status_code == 200
    assert set(body_of(response)["user"]) == SESSION_FIELDS
    assert body_of(response)["user"]["username"] == "login1"
    assert body_of(response)["user"]["token"]


def test_login_wrong_password_and_unknown_email_answer_alike(client: FlaskClient) -> None:
    account = register(client)
    wrong = _login(client, account.email, "wrong password")
    unknown = _login(client, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json == {"errors": {"credentials": ["invalid"]}}
    assert wrong.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"user": {"email": "x@example.com"}}, {"password": BLANK}),
        ({"user": {"password": PASSWORD}}, {"email": BLANK}),
        ({"user": {}}, {"email": BLANK, "password": BLANK}),
        ({"user": {"email": "x", "password": ""}}, {"email": INVALID, "password": BLANK}),
        ({"user": {"email": "x@example.com", "password": "p" * 257}}, {"password": TOO_LONG}),
        ({}, {"user": BLANK}),
        ([], {"request": ["must be an object"]}),
    ],
)
def test_login_validation(client: FlaskClient, payload: Any, errors: dict[str, list[str]]) -> None:
    response = client.post("/api/users/login", json=payload)
    assert response.status_code == 422
    assert errors_of(response) == errors


# --- GetCurrentUser ----------------------------------------------------------


def test_current_user(client: FlaskClient) -> None:
    account = register(client, "me")
    response = client.get("/api/user", headers=account.headers)
    assert response.status_code == 200
    assert set(body_of(response)["user"]) == USER_FIELDS
    assert body_of(response)["user"]["username"] == "me"
    assert body_of(response)["user"]["email"] == account.email
    assert body_of(response)["user"]["bio"] is None and body_of(response)["user"]["image"] is None


def test_current_user_requires_token(client: FlaskClient) -> None:
    response = client.get("/api/user")
    assert response.status_code == 401
    assert errors_of(response) == {"token": ["is missing"]}
    assert response.headers["WWW-Authenticate"] == 'Token realm="conduit"'


# --- UpdateCurrentUser -------------------------------------------------------


def test_update_user(client: FlaskClient) -> None:
    account = register(client, "before")
    response = client.put(
        "/api/user",
        headers=account.headers,
        json={
            "user": {
                "username": "after",
                "email": "after@example.com",
                "bio": "I like to skateboard",
                "image": IMAGE,
                "password": "a new password",
            }
        },
    )
    assert response.status_code == 200, response.json
    user = body_of(response)["user"]
    assert (user["username"], user["email"], user["bio"], user["image"]) == (
        "after",
        "after@example.com",
        "I like to skateboard",
        IMAGE,
    )
    assert _login(client, "after@example.com", "a new password").status_code == 200
    assert _login(client, "after@example.com", PASSWORD).status_code == 401
    # the old token still names the same user
    assert body_of(client.get("/api/user", headers=account.headers))["user"]["username"] == "after"


def test_update_user_frontend_settings_form(client: FlaskClient) -> None:
    """The official frontends send their whole settings form; a blank password is refused now."""
    account = register(client)
    client.put("/api/user", headers=account.headers, json={"user": {"image": "https://x.io/a.png"}})
    before = _me(client, account)
    form = {"image": "", "bio": None, "email": account.email, "username": account.username}
    refused = client.put(
        "/api/user", headers=account.headers, json={"user": {**form, "password": ""}}
    )
    assert refused.status_code == 422
    assert errors_of(refused) == {"password": BLANK}
    assert _me(client, account) == before
    # The same form without the password clears image and bio to null.
    response = client.put("/api/user", headers=account.headers, json={"user": form})
    assert response.status_code == 200, response.json
    assert body_of(response)["user"]["image"] is None and body_of(response)["user"]["bio"] is None
    assert _login(client, account.email, PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({}, {"user": ["must name at least one field to change"]}),
        ({"image": "javascript:alert(1)"}, {"image": ["must be an http(s) URL"]}),
        ({"image": "ftp://x.io/a.png"}, {"image": ["must be an http(s) URL"]}),
        ({"email": "not-an-email"}, {"email": INVALID}),
        ({"username": "has space"}, {"username": USERNAME_CHARS}),
        ({"bio": 5}, {"bio": ["must be a string"]}),
        ({"password": ""}, {"password": BLANK}),
        ({"password": None}, {"password": BLANK}),
        ({"password": "p" * 7}, {"password": TOO_SHORT}),
        ({"password": "p" * 257}, {"password": TOO_LONG}),
        ({"email": ""}, {"email": BLANK}),
        ({"email": None}, {"email": BLANK}),
        ({"username": ""}, {"username": BLANK}),
        ({"username": None}, {"username": BLANK}),
        (
            {"username": "", "email": "bad", "password": "short", "image": "x"},
            {
                "username": BLANK,
                "email": INVALID,
                "password": TOO_SHORT,
                "image": ["must be an http(s) URL"],
            },
        ),
        # A valid change beside an invalid one is not applied either.
        ({"bio": "applied?", "email": None}, {"email": BLANK}),
    ],
)
def test_update_user_validation_changes_nothing(
    client: FlaskClient, changes: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    account = register(client)
    before = _me(client, account)
    response = client.put("/api/user", headers=account.headers, json={"user": changes})
    assert response.status_code == 422, response.json
    assert errors_of(response) == errors
    assert _me(client, account) == before
    assert _login(client, account.email, PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"user": BLANK}),
        ({"user": None}, {"user": BLANK}),
        ({"user": "x"}, {"user": ["must be an object"]}),
        ([{"user": {"bio": "x"}}], {"request": ["must be an object"]}),
    ],
)
def test_update_user_envelope(
    client: FlaskClient, payload: Any, errors: dict[str, list[str]]
) -> None:
    account = register(client)
    response = client.put("/api/user", headers=account.headers, json=payload)
    assert response.status_code == 422
    assert errors_of(response) == errors


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"username": "taken"}, {"username": TAKEN}),
        ({"email": "taken@example.com"}, {"email": TAKEN}),
        ({"email": "TAKEN@Example.com"}, {"email": TAKEN}),
        ({"username": "taken", "email": "taken@example.com"}, {"username": TAKEN, "email": TAKEN}),
        # Both taken, by two different users.
        ({"username": "taken", "email": "other@example.com"}, {"username": TAKEN, "email": TAKEN}),
        # A taken name blocks the valid changes sent with it.
        ({"username": "taken", "bio": "applied?"}, {"username": TAKEN}),
    ],
)
def test_update_user_to_a_taken_name_is_409(
    client: FlaskClient, db: Database, changes: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    register(client, "taken")
    register(client, "other")
    account = register(client, "mine")
    before = _me(client, account)
    users = _user_count(db)
    response = client.put("/api/user", headers=account.headers, json={"user": changes})
    assert response.status_code == 409, response.json
    assert errors_of(response) == errors
    assert _me(client, account) == before
    assert _user_count(db) == users
    assert body_of(client.get("/api/profiles/taken"))["profile"]["username"] == "taken"


def test_update_user_to_own_name_is_not_taken(client: FlaskClient) -> None:
    account = register(client, "mine")
    same = client.put(
        "/api/user",
        headers=account.headers,
        json={"user": {"username": "mine", "email": account.email.upper()}},
    )
    assert same.status_code == 200, same.json
    assert (body_of(same)["user"]["username"], body_of(same)["user"]["email"]) == (
        "mine",
        account.email,
    )


@pytest.mark.parametrize("length", [8, 64, 65, 256])
def test_update_password_accepted_lengths(client: FlaskClient, length: int) -> None:
    account = register(client)
    password = "n" * length
    response = client.put(
        "/api/user", headers=account.headers, json={"user": {"password": password}}
    )
    assert response.status_code == 200, response.json
    assert "password" not in body_of(response)["user"]
    assert _login(client, account.email, password).status_code == 200
    assert _login(client, account.email, PASSWORD).status_code == 401


def test_update_user_ignores_read_only_fields(client: FlaskClient) -> None:
    account = register(client)
    before = _me(client, account)
    response = client.put(
        "/api/user",
        headers=account.headers,
        json={
            "user": {
                "token": "forged",
                "createdAt": "2000-01-01T00:00:00.000Z",
                "following": True,
                "id": 999_999,
                "bio": "the real change",
            }
        },
    )
    assert response.status_code == 200, response.json
    user = body_of(response)["user"]
    assert set(user) == USER_FIELDS
    assert user["token"] != "forged"
    assert _me(client, account) == {**before, "bio": "the real change"}
    # Still the same account behind both tokens: the id was not reassigned.
    fresh = {"Authorization": f"Token {user['token']}"}
    assert body_of(client.get("/api/user", headers=fresh))["user"]["username"] == account.username


def test_update_user_with_only_unknown_fields_changes_nothing(client: FlaskClient) -> None:
    account = register(client)
    client.put("/api/user", headers=account.headers, json={"user": {"bio": "kept"}})
    before = _me(client, account)
    response = client.put(
        "/api/user",
        headers=account.headers,
        json={"user": {"token": "forged", "id": 1, "following": True, "admin": True}},
    )
    assert response.status_code == 200, response.json
    assert {k: v for k, v in body_of(response)["user"].items() if k != "token"} == before
    assert _me(client, account) == before


# --- bio and image: null when unset, wherever the user is shown ---------------


def _shown(client: FlaskClient, account: Account, slug: str) -> list[tuple[Any, Any]]:
    """(bio, image) as the current user, profile, article author and comment author show them."""
    me = body_of(client.get("/api/user", headers=account.headers))["user"]
    profile = body_of(client.get(f"/api/profiles/{account.username}"))["profile"]
    author = body_of(client.get(f"/api/articles/{slug}"))["article"]["author"]
    commenter = body_of(client.get(f"/api/articles/{slug}/comments"))["comments"][0]["author"]
    return [(view["bio"], view["image"]) for view in (me, profile, author, commenter)]


def test_bio_and_image_null_round_trips(client: FlaskClient) -> None:
    response = client.post(
        "/api/users",
        json={"user": {"username": "nully", "email": "nully@example.com", "password": PASSWORD}},
    )
    assert response.status_code == 201
    registered = body_of(response)["user"]
    assert (registered["bio"], registered["image"]) == (None, None)
    account = Account(username="nully", email="nully@example.com", token=registered["token"])
    article = create_article(client, account)
    comment = add_comment(client, account, article["slug"])
    assert (article["author"]["bio"], article["author"]["image"]) == (None, None)
    assert (comment["author"]["bio"], comment["author"]["image"]) == (None, None)
    assert _shown(client, account, article["slug"]) == [(None, None)] * 4

    steps: list[tuple[dict[str, Any], tuple[Any, Any]]] = [
        ({"bio": ""}, (None, None)),
        ({"image": None}, (None, None)),
        ({"bio": "I write", "image": IMAGE}, ("I write", IMAGE)),
        ({"bio": ""}, (None, IMAGE)),
        ({"image": ""}, (None, None)),
        ({"bio": "again", "image": IMAGE}, ("again", IMAGE)),
        ({"bio": None, "image": None}, (None, None)),
    ]
    for changes, expected in steps:
        updated = client.put("/api/user", headers=account.headers, json={"user": changes})
        assert updated.status_code == 200, (changes, updated.json)
        assert (body_of(updated)["user"]["bio"], body_of(updated)["user"]["image"]) == expected, (
            changes
        )
        assert _shown(client, account, article["slug"]) == [expected] * 4, changes
