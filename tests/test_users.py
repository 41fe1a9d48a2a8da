"""Registration, login, current user, update (operations CreateUser, Login, GetCurrentUser, UpdateCurrentUser)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.factories import PASSWORD, errors_of, register


def test_register_returns_user_with_token(client: FlaskClient) -> None:
    response = client.post(
        "/api/users",
        json={"user": {"username": "jake", "email": "Jake@Jake.jake", "password": "jakejake"}},
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    user = response.json["user"]
    assert user["username"] == "jake"
    assert user["email"] == "jake@jake.jake"
    assert user["bio"] == "" and user["image"] == ""
    assert user["token"].count(".") == 2
    assert "password" not in user


def test_register_duplicate_username_and_email_is_422(client: FlaskClient) -> None:
    register(client, "jake")
    response = client.post(
        "/api/users",
        json={"user": {"username": "jake", "email": "JAKE@example.com", "password": PASSWORD}},
    )
    assert response.status_code == 422
    assert errors_of(response) == [
        "username has already been taken",
        "email has already been taken",
    ]


def test_register_validation(client: FlaskClient) -> None:
    cases = [
        {},
        {"user": {}},
        {"user": {"username": "a", "email": "not-an-email", "password": PASSWORD}},
        {"user": {"username": "a", "email": "a@b.co", "password": "short"}},
        {"user": {"username": "   ", "email": "a@b.co", "password": PASSWORD}},
        {"user": {"username": "has space", "email": "a@b.co", "password": PASSWORD}},
        {"user": {"username": "nul\u0000", "email": "a@b.co", "password": PASSWORD}},
        {"user": {"username": "x" * 65, "email": "a@b.co", "password": PASSWORD}},
        {"user": {"username": 5, "email": "a@b.co", "password": PASSWORD}},
        {"user": {"username": "ok", "email": "a@b.co", "password": PASSWORD, "bio": "mass"}},
        {"user": {"username": "ok", "email": "a@b.co", "password": PASSWORD}, "admin": True},
        ["not", "an", "object"],
    ]
    for payload in cases:
        response = client.post("/api/users", json=payload)
        assert response.status_code == 422, (payload, response.json)
        errors_of(response)
    # nothing was half-written
    assert (
        client.post(
            "/api/users/login", json={"user": {"email": "a@b.co", "password": PASSWORD}}
        ).status_code
        == 401
    )


def test_login(client: FlaskClient) -> None:
    account = register(client, "login1")
    response = client.post(
        "/api/users/login", json={"user": {"email": account.email.upper(), "password": PASSWORD}}
    )
    assert response.status_code == 200
    assert response.json["user"]["username"] == "login1"
    assert response.json["user"]["token"]


def test_login_wrong_password_and_unknown_email_answer_alike(client: FlaskClient) -> None:
    account = register(client)
    wrong = client.post(
        "/api/users/login", json={"user": {"email": account.email, "password": "wrong password"}}
    )
    unknown = client.post(
        "/api/users/login", json={"user": {"email": "nobody@example.com", "password": PASSWORD}}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json == {"errors": {"body": ["email or password is invalid"]}}


def test_login_validation(client: FlaskClient) -> None:
    response = client.post("/api/users/login", json={"user": {"email": "x@y.z"}})
    assert response.status_code == 422
    assert any("password" in line for line in errors_of(response))


def test_current_user(client: FlaskClient) -> None:
    account = register(client, "me")
    response = client.get("/api/user", headers=account.headers)
    assert response.status_code == 200
    assert response.json["user"]["username"] == "me"
    assert response.json["user"]["email"] == account.email


def test_current_user_requires_token(client: FlaskClient) -> None:
    response = client.get("/api/user")
    assert response.status_code == 401
    assert errors_of(response) == ["missing authorization token"]


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
                "image": "https://i.stack.imgur.com/xHWG8.jpg",
                "password": "a new password",
            }
        },
    )
    assert response.status_code == 200, response.json
    user = response.json["user"]
    assert (user["username"], user["email"], user["bio"], user["image"]) == (
        "after",
        "after@example.com",
        "I like to skateboard",
        "https://i.stack.imgur.com/xHWG8.jpg",
    )
    login = client.post(
        "/api/users/login",
        json={"user": {"email": "after@example.com", "password": "a new password"}},
    )
    assert login.status_code == 200
    # the old token still names the same user
    assert client.get("/api/user", headers=account.headers).json["user"]["username"] == "after"


def test_update_user_frontend_form_blank_password_and_image(client: FlaskClient) -> None:
    account = register(client)
    client.put("/api/user", headers=account.headers, json={"user": {"image": "https://x.io/a.png"}})
    response = client.put(
        "/api/user",
        headers=account.headers,
        json={"user": {"password": "", "image": "", "bio": None, "email": account.email}},
    )
    assert response.status_code == 200, response.json
    assert response.json["user"]["image"] == "" and response.json["user"]["bio"] == ""
    login = client.post(
        "/api/users/login", json={"user": {"email": account.email, "password": PASSWORD}}
    )
    assert login.status_code == 200


def test_update_user_conflicts_and_validation(client: FlaskClient) -> None:
    register(client, "taken")
    account = register(client, "mine")
    cases = [
        ({"user": {"username": "taken"}}, "username has already been taken"),
        ({"user": {"email": "taken@example.com"}}, "email has already been taken"),
        ({"user": {}}, "at least one field is required"),
        ({"user": {"image": "javascript:alert(1)"}}, "image"),
        ({"user": {"token": "forged"}}, "token"),
    ]
    for payload, expected in cases:
        response = client.put("/api/user", headers=account.headers, json=payload)
        assert response.status_code == 422, payload
        assert any(expected in line for line in errors_of(response)), response.json
    # own username and email are not "taken"
    same = client.put("/api/user", headers=account.headers, json={"user": {"username": "mine"}})
    assert same.status_code == 200
