"""Profiles, follows and tags (operations GetProfileByUsername, FollowUserByUsername,
UnfollowUserByUsername, GetTags)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from db.models import follows
from db.session import Database
from tests.factories import Account, body_of, create_article, errors_of, register


def follow_rows(db: Database) -> int:
    return db.session().scalar(select(func.count()).select_from(follows)) or 0


def profile(client: FlaskClient, username: str, viewer: Account | None = None) -> dict[str, Any]:
    response = client.get(f"/api/profiles/{username}", headers=viewer.headers if viewer else {})
    assert response.status_code == 200, response.json
    body: dict[str, Any] = body_of(response)["profile"]
    return body


# --- GetProfileByUsername --------------------------------------------------------------------


def test_get_profile(client: FlaskClient) -> None:
    jake = register(client, "jake")
    client.put(
        "/api/user",
        headers=jake.headers,
        json={"user": {"bio": "I work at statefarm", "image": "https://img.example/j.png"}},
    )
    response = client.get("/api/profiles/jake")
    assert response.status_code == 200
    assert response.json == {
        "profile": {
            "username": "jake",
            "bio": "I work at statefarm",
            "image": "https://img.example/j.png",
            "following": False,
        }
    }


def test_get_unknown_profile_is_404(client: FlaskClient) -> None:
    viewer = register(client)
    for headers in ({}, viewer.headers):
        response = client.get("/api/profiles/nobody", headers=headers)
        assert response.status_code == 404
        assert errors_of(response) == {"profile": ["not found"]}


def test_profile_never_edited_shows_null_bio_and_image(client: FlaskClient) -> None:
    register(client, "jake")
    assert profile(client, "jake") == {
        "username": "jake",
        "bio": None,
        "image": None,
        "following": False,
    }


def test_profile_following_with_and_without_token(client: FlaskClient) -> None:
    jake, fan, stranger = register(client, "jake"), register(client), register(client)
    client.post("/api/profiles/jake/follow", headers=fan.headers)
    assert profile(client, "jake", fan)["following"] is True
    assert profile(client, "jake", stranger)["following"] is False
    assert profile(client, "jake")["following"] is False
    assert profile(client, "jake", jake)["following"] is False
    # following is one-way
    assert profile(client, fan.username, jake)["following"] is False


def test_profile_with_bad_token_is_served_anonymously(client: FlaskClient) -> None:
    register(client, "jake")
    fan = register(client)
    client.post("/api/profiles/jake/follow", headers=fan.headers)
    forged = {"Authorization": f"Token {fan.token.rsplit('.', 1)[0]}.{'A' * 43}"}
    for headers in ({"Authorization": "Token bad.token.here"}, forged):
        response = client.get("/api/profiles/jake", headers=headers)
        assert response.status_code == 200, response.json
        # the fan follows jake, but their token was not taken: the anonymous view
        assert response.json == {
            "profile": {"username": "jake", "bio": None, "image": None, "following": False}
        }
        assert response.headers["WWW-Authenticate"] == (
            'Token realm="conduit", error="invalid_token"'
        )
    # an unknown profile stays a 404 whatever the token
    response = client.get("/api/profiles/nobody", headers=forged)
    assert response.status_code == 404
    assert errors_of(response) == {"profile": ["not found"]}


# --- FollowUserByUsername / UnfollowUserByUsername -------------------------------------------


def test_follow_and_unfollow(client: FlaskClient, db: Database) -> None:
    register(client, "jake")
    fan = register(client)
    response = client.post("/api/profiles/jake/follow", headers=fan.headers)
    assert response.status_code == 200
    assert response.json == {
        "profile": {"username": "jake", "bio": None, "image": None, "following": True}
    }
    response = client.delete("/api/profiles/jake/follow", headers=fan.headers)
    assert response.status_code == 200
    assert body_of(response)["profile"]["following"] is False
    assert profile(client, "jake", fan)["following"] is False
    assert follow_rows(db) == 0


def test_follow_is_idempotent(client: FlaskClient, db: Database) -> None:
    register(client, "jake")
    fan = register(client)
    for _ in range(2):
        response = client.post("/api/profiles/jake/follow", headers=fan.headers)
        assert response.status_code == 200
        assert body_of(response)["profile"]["following"] is True
    assert follow_rows(db) == 1
    # one unfollow undoes it
    client.delete("/api/profiles/jake/follow", headers=fan.headers)
    assert follow_rows(db) == 0


def test_unfollow_when_not_following_is_ok(client: FlaskClient, db: Database) -> None:
    register(client, "jake")
    fan, other = register(client), register(client)
    client.post("/api/profiles/jake/follow", headers=other.headers)
    for _ in range(2):
        response = client.delete("/api/profiles/jake/follow", headers=fan.headers)
        assert response.status_code == 200
        assert body_of(response)["profile"]["following"] is False
    # someone else's follow is untouched
    assert profile(client, "jake", other)["following"] is True
    assert follow_rows(db) == 1


def test_follow_unknown_user_is_404(client: FlaskClient, db: Database) -> None:
    fan = register(client)
    for method in (client.post, client.delete):
        response = method("/api/profiles/nobody/follow", headers=fan.headers)
        assert response.status_code == 404
        assert errors_of(response) == {"profile": ["not found"]}
    assert follow_rows(db) == 0


def test_follow_yourself_is_403(client: FlaskClient, db: Database) -> None:
    me = register(client, "narcissus")
    response = client.post("/api/profiles/narcissus/follow", headers=me.headers)
    assert response.status_code == 403
    assert errors_of(response) == {"profile": ["forbidden"]}
    assert follow_rows(db) == 0
    assert profile(client, "narcissus", me)["following"] is False
    # unfollowing yourself changes nothing and is not an error
    response = client.delete("/api/profiles/narcissus/follow", headers=me.headers)
    assert response.status_code == 200
    assert body_of(response)["profile"]["following"] is False


def test_follow_requires_token(client: FlaskClient, db: Database) -> None:
    register(client, "jake")
    for method in (client.post, client.delete):
        response = method("/api/profiles/jake/follow")
        assert response.status_code == 401
        assert errors_of(response) == {"token": ["is missing"]}
        assert response.headers["WWW-Authenticate"] == 'Token realm="conduit"'
    assert follow_rows(db) == 0


def test_follow_follows_a_renamed_user(client: FlaskClient) -> None:
    jake, fan = register(client, "jake"), register(client)
    client.post("/api/profiles/jake/follow", headers=fan.headers)
    client.put("/api/user", headers=jake.headers, json={"user": {"username": "jacob"}})
    assert profile(client, "jacob", fan)["following"] is True
    gone = client.get("/api/profiles/jake")
    assert gone.status_code == 404
    assert errors_of(gone) == {"profile": ["not found"]}


# --- GetTags ---------------------------------------------------------------------------------


def test_tags_empty(client: FlaskClient) -> None:
    response = client.get("/api/tags")
    assert response.status_code == 200
    assert response.json == {"tags": []}


def test_tags_in_use_only_most_used_first(client: FlaskClient) -> None:
    jake = register(client)
    first = create_article(client, jake, tagList=["dragons", "angular"])["slug"]
    create_article(client, jake, tagList=["dragons", "zebra"])
    create_article(client, jake, tagList=["zebra", "dragons", "beta"])
    # most used first, ties alphabetically
    assert client.get("/api/tags").json == {"tags": ["dragons", "zebra", "angular", "beta"]}

    client.put(f"/api/articles/{first}", headers=jake.headers, json={"article": {"tagList": []}})
    assert body_of(client.get("/api/tags"))["tags"] == ["dragons", "zebra", "beta"]

    last = body_of(client.get("/api/articles?tag=beta"))["articles"][0]["slug"]
    client.delete(f"/api/articles/{last}", headers=jake.headers)
    assert body_of(client.get("/api/tags"))["tags"] == ["dragons", "zebra"]


def test_tags_ignore_a_token(client: FlaskClient) -> None:
    jake = register(client)
    create_article(client, jake, tagList=["t"])
    for headers in (jake.headers, {"Authorization": "Token bogus"}):
        response = client.get("/api/tags", headers=headers)
        assert response.status_code == 200
        assert response.json == {"tags": ["t"]}
