"""Test data, built through the public API so tests read like the spec."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient

_seq = itertools.count(1)
PASSWORD = "correct horse battery"
# The user body: RealWorld 2.0's fields and our extension emailNotifications (since 2.2.0).
USER_FIELDS = frozenset({"email", "token", "username", "bio", "image", "emailNotifications"})
# Registration, login and refresh start or renew a session: the body also has its refresh token.
SESSION_FIELDS = USER_FIELDS | {"refreshToken"}


@dataclass
class Account:
    username: str
    email: str
    token: str
    password: str = PASSWORD
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"Authorization": f"Token {self.token}"}


def register(client: FlaskClient, username: str | None = None, **extra: Any) -> Account:
    n = next(_seq)
    username = username or f"user{n}"
    email = extra.pop("email", f"{username}@example.com")
    response = client.post(
        "/api/users", json={"user": {"username": username, "email": email, "password": PASSWORD}}
    )
    assert response.status_code == 201, response.json
    user = body_of(response)["user"]
    return Account(username=user["username"], email=user["email"], token=user["token"])


def create_article(client: FlaskClient, author: Account, **fields: Any) -> dict[str, Any]:
    n = next(_seq)
    article = {
        "title": f"Article {n}",
        "description": f"About {n}",
        "body": f"Body of article {n}",
        **fields,
    }
    response = client.post("/api/articles", json={"article": article}, headers=author.headers)
    assert response.status_code == 201, response.json
    created: dict[str, Any] = body_of(response)["article"]
    return created


def add_comment(
    client: FlaskClient, author: Account, slug: str, body: str = "Nice one"
) -> dict[str, Any]:
    response = client.post(
        f"/api/articles/{slug}/comments", json={"comment": {"body": body}}, headers=author.headers
    )
    assert response.status_code == 201, response.json
    comment: dict[str, Any] = body_of(response)["comment"]
    return comment


def body_of(response: Any) -> dict[str, Any]:
    """The JSON object a response carries, asserting that it is one (`.json` may be None)."""
    body = response.json
    assert isinstance(body, dict), (response.status_code, response.get_data(as_text=True)[:500])
    return body


def errors_of(response: Any) -> dict[str, list[str]]:
    """The RealWorld 2.0 errors, `{key: [message, ...]}`, asserting the shape on the way."""
    body = response.json
    assert isinstance(body, dict) and set(body) == {"errors"}, body
    errors = body["errors"]
    assert isinstance(errors, dict) and errors, body
    for key, messages in errors.items():
        assert isinstance(key, str) and key, body
        assert isinstance(messages, list) and messages, body
        assert all(isinstance(m, str) and m for m in messages), body
    return errors


# The article counts of a tag and of a user as db/counters.py reads them (migration 0014): the
# row's counter plus its pending deltas, for tests that check them in SQL.
TAG_ARTICLES_SQL = (
    "(tags.articles_count + COALESCE("
    "(SELECT sum(delta) FROM tag_count_deltas d WHERE d.tag_id = tags.id), 0))"
)
USER_ARTICLES_SQL = (
    "(users.articles_count + COALESCE("
    "(SELECT sum(delta) FROM user_count_deltas d WHERE d.user_id = users.id), 0))"
)
