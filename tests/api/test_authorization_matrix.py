"""Every write operation x every kind of caller: who may do what, and that refusals change nothing.

anonymous is a 401 `{"token": ["is missing"]}`; a bad token (forged, or sent under another
scheme) a 401 `{"token": ["is invalid"]}`; another user is a 403 keyed by the resource
(`article`, `comment`) on someone else's article or comment, and succeeds where any user may act
(create, comment, favorite, follow, own account); the owner succeeds.

The reads that take an optional token are the other way round: a bad token there is served as
anonymous (200), only flagged by the `WWW-Authenticate` challenge.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api import sessions
from db.models import Base, User
from db.session import Database
from tests.factories import Account, add_comment, body_of, create_article, errors_of

MISSING = {"token": ["is missing"]}
INVALID = {"token": ["is invalid"]}
MISSING_CHALLENGE = 'Token realm="conduit"'
INVALID_CHALLENGE = 'Token realm="conduit", error="invalid_token"'
_seq = itertools.count(1)


def quick_account(app: Flask, db: Database, username: str) -> Account:
    """A user straight in the database: the matrix is about tokens, not password hashing."""
    session = db.session()
    user = User(
        username=f"{username}{next(_seq)}",
        email=f"{username}{next(_seq)}@example.com",
        password_hash="unusable",
        bio=None,  # as registration leaves them (RealWorld 2.0)
        image=None,
    )
    session.add(user)
    session.commit()
    with app.app_context():
        token = sessions.start(user.id).access
        session.commit()
    return Account(username=user.username, email=user.email, token=token)


@dataclass
class World:
    owner: Account
    other: Account
    celeb: Account
    slug: str
    comment_id: int

    def account(self, caller: str) -> Account:
        return self.owner if caller == "owner" else self.other

    def not_caller(self, caller: str) -> Account:
        return self.other if caller == "owner" else self.owner


@pytest.fixture
def world(app: Flask, db: Database, client: FlaskClient) -> World:
    owner = quick_account(app, db, "owner")
    other = quick_account(app, db, "other")
    celeb = quick_account(app, db, "celeb")
    slug = create_article(client, owner, title="Owned article", tagList=["owned"])["slug"]
    comment = add_comment(client, owner, slug, "owner's comment")
    return World(owner, other, celeb, slug, comment["id"])


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: a refused write must leave all of them as they were."""
    session = db.session()
    state = {
        table.name: [
            tuple(row) for row in session.execute(select(table).order_by(*table.primary_key))
        ]
        for table in Base.metadata.sorted_tables
    }
    db.session.remove()
    return state


def article_as(client: FlaskClient, w: World, account: Account) -> dict[str, Any]:
    article: dict[str, Any] = body_of(
        client.get(f"/api/articles/{w.slug}", headers=account.headers)
    )["article"]
    return article


def following(client: FlaskClient, w: World, account: Account) -> bool:
    response = client.get(f"/api/profiles/{w.celeb.username}", headers=account.headers)
    return bool(body_of(response)["profile"]["following"])


# Postconditions of a successful call, given the caller's name ("owner" or "other").
Check = Callable[[FlaskClient, World, str], None]
Setup = Callable[[FlaskClient, World], None]


def _created(client: FlaskClient, w: World, caller: str) -> None:
    article = body_of(client.get("/api/articles/matrix-article"))["article"]
    assert article["author"]["username"] == w.account(caller).username


def _updated(client: FlaskClient, w: World, caller: str) -> None:
    assert article_as(client, w, w.owner)["body"] == "changed by the matrix"


def _deleted(client: FlaskClient, w: World, caller: str) -> None:
    assert client.get(f"/api/articles/{w.slug}").status_code == 404


def _commented(client: FlaskClient, w: World, caller: str) -> None:
    comments = body_of(client.get(f"/api/articles/{w.slug}/comments"))["comments"]
    assert [(c["body"], c["author"]["username"]) for c in comments] == [
        ("matrix comment", w.account(caller).username),
        ("owner's comment", w.owner.username),
    ]


def _comment_deleted(client: FlaskClient, w: World, caller: str) -> None:
    assert body_of(client.get(f"/api/articles/{w.slug}/comments"))["comments"] == []


def _favorited(client: FlaskClient, w: World, caller: str) -> None:
    assert article_as(client, w, w.account(caller))["favorited"] is True
    assert article_as(client, w, w.not_caller(caller))["favorited"] is False
    assert article_as(client, w, w.owner)["favoritesCount"] == 1


def _both_favorite(client: FlaskClient, w: World) -> None:
    for account in (w.owner, w.other):
        client.post(f"/api/articles/{w.slug}/favorite", headers=account.headers)


def _unfavorited(client: FlaskClient, w: World, caller: str) -> None:
    assert article_as(client, w, w.account(caller))["favorited"] is False
    assert article_as(client, w, w.not_caller(caller))["favorited"] is True
    assert article_as(client, w, w.owner)["favoritesCount"] == 1


def _followed(client: FlaskClient, w: World, caller: str) -> None:
    assert following(client, w, w.account(caller)) is True
    assert following(client, w, w.not_caller(caller)) is False


def _both_follow(client: FlaskClient, w: World) -> None:
    for account in (w.owner, w.other):
        client.post(f"/api/profiles/{w.celeb.username}/follow", headers=account.headers)


def _unfollowed(client: FlaskClient, w: World, caller: str) -> None:
    assert following(client, w, w.account(caller)) is False
    assert following(client, w, w.not_caller(caller)) is True


def _user_updated(client: FlaskClient, w: World, caller: str) -> None:
    me = body_of(client.get("/api/user", headers=w.account(caller).headers))["user"]
    assert me["bio"] == "changed by the matrix"
    them = body_of(client.get("/api/user", headers=w.not_caller(caller).headers))["user"]
    assert them["bio"] is None


def _no_setup(client: FlaskClient, w: World) -> None:
    pass


@dataclass(frozen=True)
class Operation:
    method: str
    path: Callable[[World], str]
    body: dict[str, Any] | None
    other_status: int
    owner_status: int
    check: Check
    setup: Setup = _no_setup
    # What a 403 names: the resource the other user may not touch.
    forbidden: str | None = None


OPERATIONS = {
    "CreateArticle": Operation(
        "POST",
        lambda w: "/api/articles",
        {"article": {"title": "Matrix article", "description": "d", "body": "b"}},
        201,
        201,
        _created,
    ),
    "UpdateArticle": Operation(
        "PUT",
        lambda w: f"/api/articles/{w.slug}",
        {"article": {"body": "changed by the matrix"}},
        403,
        200,
        _updated,
        forbidden="article",
    ),
    "DeleteArticle": Operation(
        "DELETE",
        lambda w: f"/api/articles/{w.slug}",
        None,
        403,
        204,
        _deleted,
        forbidden="article",
    ),
    "CreateArticleComment": Operation(
        "POST",
        lambda w: f"/api/articles/{w.slug}/comments",
        {"comment": {"body": "matrix comment"}},
        201,
        201,
        _commented,
    ),
    "DeleteArticleComment": Operation(
        "DELETE",
        lambda w: f"/api/articles/{w.slug}/comments/{w.comment_id}",
        None,
        403,
        204,
        _comment_deleted,
        forbidden="comment",
    ),
    "CreateArticleFavorite": Operation(
        "POST", lambda w: f"/api/articles/{w.slug}/favorite", None, 200, 200, _favorited
    ),
    "DeleteArticleFavorite": Operation(
        "DELETE",
        lambda w: f"/api/articles/{w.slug}/favorite",
        None,
        200,
        200,
        _unfavorited,
        _both_favorite,
    ),
    "FollowUserByUsername": Operation(
        "POST", lambda w: f"/api/profiles/{w.celeb.username}/follow", None, 200, 200, _followed
    ),
    "UnfollowUserByUsername": Operation(
        "DELETE",
        lambda w: f"/api/profiles/{w.celeb.username}/follow",
        None,
        200,
        200,
        _unfollowed,
        _both_follow,
    ),
    "UpdateCurrentUser": Operation(
        "PUT",
        lambda w: "/api/user",
        {"user": {"bio": "changed by the matrix"}},
        200,
        200,
        _user_updated,
    ),
}
CALLERS = ("anonymous", "bad token", "Bearer scheme", "other user", "owner")
# Credentials were sent, and refused.
REFUSED = {"bad token", "Bearer scheme"}


def caller_headers(w: World, caller: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "bad token":
        # The owner's own token with its signature replaced: well-formed, but not ours.
        header_and_payload = w.owner.token.rsplit(".", 1)[0]
        return {"Authorization": f"Token {header_and_payload}.{'A' * 43}"}
    if caller == "Bearer scheme":
        # The owner's valid token under the scheme RealWorld does not use.
        return {"Authorization": f"Bearer {w.owner.token}"}
    return w.account("owner" if caller == "owner" else "other").headers


def test_matrix_covers_every_write_operation(app: Flask) -> None:
    """A new write operation must join the matrix."""
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    writes = {
        operation["operationId"]
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method in {"post", "put", "delete", "patch"}
    }
    # Open to all (CreateUser, Login), or only ever about the caller's own token (Logout,
    # RefreshToken: tests/api/test_sessions.py) or notifications (tests/jobs/test_notifications.py);
    # SuggestTags writes nothing, any user may ask (tests/api/test_ml.py: its 401).
    outside = {
        "CreateUser",
        "Login",
        "Logout",
        "RefreshToken",
        "MarkNotificationsRead",
        "SuggestTags",
    }
    assert writes - outside == set(OPERATIONS)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", list(OPERATIONS))
def test_write_authorization(
    client: FlaskClient, db: Database, world: World, name: str, caller: str
) -> None:
    op = OPERATIONS[name]
    op.setup(client, world)
    before = snapshot(db)
    assert before["articles"] and before["comments"] and before["users"]

    response = client.open(
        op.path(world), method=op.method, json=op.body, headers=caller_headers(world, caller)
    )

    if caller == "anonymous" or caller in REFUSED:
        assert response.status_code == 401, response.json
        refused = caller in REFUSED
        assert errors_of(response) == (INVALID if refused else MISSING)
        assert response.headers["WWW-Authenticate"] == (
            INVALID_CHALLENGE if refused else MISSING_CHALLENGE
        )
        assert snapshot(db) == before
        return
    expected = op.owner_status if caller == "owner" else op.other_status
    assert response.status_code == expected, response.json
    if expected == 403:
        assert op.forbidden is not None
        assert errors_of(response) == {op.forbidden: ["forbidden"]}
        assert snapshot(db) == before
        return
    assert "WWW-Authenticate" not in response.headers
    if expected == 204:
        assert response.data == b""
    else:
        assert isinstance(response.json, dict)
    op.check(client, world, "owner" if caller == "owner" else "other")


# --- reads ------------------------------------------------------------------------------------


def _viewer_flags(response: Any) -> list[bool]:
    """Every `favorited` and `following` flag a read shows: what a viewer's token changes."""
    body = response.json
    if "profile" in body:
        return [body["profile"]["following"]]
    if "comments" in body:
        return [c["author"]["following"] for c in body["comments"]]
    items = body["articles"] if "articles" in body else [body["article"]]
    return [flag for a in items for flag in (a["favorited"], a["author"]["following"])]


OPTIONAL_AUTH_READS: dict[str, Callable[[World], str]] = {
    "GetArticles": lambda w: "/api/articles",
    "GetArticle": lambda w: f"/api/articles/{w.slug}",
    "GetArticleComments": lambda w: f"/api/articles/{w.slug}/comments",
    "GetProfileByUsername": lambda w: f"/api/profiles/{w.owner.username}",
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", list(OPTIONAL_AUTH_READS))
def test_optional_auth_reads(client: FlaskClient, world: World, name: str, caller: str) -> None:
    """Any caller may read; a refused token is served what anonymous gets, never a 401."""
    # The other user favorites the owner's article and follows the owner, so their view differs.
    client.post(f"/api/articles/{world.slug}/favorite", headers=world.other.headers)
    client.post(f"/api/profiles/{world.owner.username}/follow", headers=world.other.headers)
    url = OPTIONAL_AUTH_READS[name](world)
    anonymous = client.get(url)
    assert anonymous.status_code == 200, anonymous.json

    response = client.get(url, headers=caller_headers(world, caller))

    assert response.status_code == 200, response.json
    if caller in REFUSED:
        assert response.json == anonymous.json
        assert response.headers["WWW-Authenticate"] == INVALID_CHALLENGE
        return
    assert "WWW-Authenticate" not in response.headers
    flags = _viewer_flags(response)
    assert flags
    if caller == "other user":
        # the comment is by the owner too, so every flag is theirs to see
        assert all(flags), response.json
    else:
        assert not any(flags), response.json


REQUIRED_AUTH_READS = {
    "GetCurrentUser": "/api/user",
    "GetArticlesFeed": "/api/articles/feed",
}


@pytest.mark.parametrize("caller", ["anonymous", *sorted(REFUSED)])
@pytest.mark.parametrize("name", list(REQUIRED_AUTH_READS))
def test_required_auth_reads_refuse_bad_tokens(
    client: FlaskClient, world: World, name: str, caller: str
) -> None:
    response = client.get(REQUIRED_AUTH_READS[name], headers=caller_headers(world, caller))
    assert response.status_code == 401, response.json
    refused = caller in REFUSED
    assert errors_of(response) == (INVALID if refused else MISSING)
    assert response.headers["WWW-Authenticate"] == (
        INVALID_CHALLENGE if refused else MISSING_CHALLENGE
    )
