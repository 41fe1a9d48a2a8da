"""Notifications end to end in-process: each write emits in its own transaction, the relay
delivers (jobs.relay.drain, what the in-process thread runs), the API lists and marks read.

Runs on SQLite and PostgreSQL, each test in a rolled-back transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, literal, select
from sqlalchemy.exc import IntegrityError

from db import outbox, writes
from db.models import Article, Notification, OutboxEvent, User, favorites, follows
from db.session import Database
from jobs import relay
from testkit.database import QueryCounter
from testkit.settings import make_settings
from tests.factories import Account, add_comment, body_of, create_article, errors_of, register


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    """Delivery runs in the app's context (its settings decide about email), as in a task."""
    with app.app_context():
        yield


# What delivery reads of the settings: no SMTP, the default fan-out batch.
SETTINGS = make_settings("sqlite://")  # never connected to


def drain(db: Database) -> int:
    return relay.drain(SETTINGS, db.session())


def inbox(client: FlaskClient, account: Account, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/notifications{query}", headers=account.headers)
    assert response.status_code == 200, response.json
    return body_of(response)


def user_id(db: Database, account: Account) -> int:
    found = db.session().scalar(select(User.id).where(User.username == account.username))
    assert found is not None
    return found


def test_each_write_notifies_its_recipient_once(client: FlaskClient, db: Database) -> None:
    author, fan = register(client), register(client)
    assert (
        client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers).status_code
        == 200
    )
    slug = create_article(client, author, title="Dragons")["slug"]
    add_comment(client, fan, slug)
    for _ in range(2):  # favoriting twice, and again after an unfavorite, tells once
        client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
    client.delete(f"/api/articles/{slug}/favorite", headers=fan.headers)
    client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
    # self-actions tell nobody
    client.post(f"/api/articles/{slug}/favorite", headers=author.headers)
    add_comment(client, author, slug)
    assert drain(db) == 4  # follow, article, comment, favorite
    assert drain(db) == 0  # all sent

    mine = inbox(client, author)
    assert [n["type"] for n in mine["notifications"]] == ["favorite", "comment", "follow"]
    assert (mine["notificationsCount"], mine["unreadCount"]) == (3, 3)
    first = mine["notifications"][0]
    assert first["actor"] == {
        "username": fan.username,
        "bio": None,
        "image": None,
        "following": False,
    }
    assert first["article"] == {"slug": slug, "title": "Dragons"}
    assert first["read"] is False and first["createdAt"].endswith("Z")
    assert mine["notifications"][2]["article"] is None

    theirs = inbox(client, fan)
    assert [(n["type"], n["actor"]["following"]) for n in theirs["notifications"]] == [
        ("article", True)
    ]


def test_redelivery_changes_nothing(client: FlaskClient, db: Database) -> None:
    author, fan = register(client), register(client)
    client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    create_article(client, author)
    drain(db)
    session = db.session()
    ids = list(session.scalars(select(OutboxEvent.id)))
    deliver = relay.deliver_inline(SETTINGS, session)
    for event_id in ids * 2:  # as if the broker delivered every event twice more
        deliver(event_id)
    assert session.scalar(select(func.count()).select_from(Notification)) == 2


def test_marking_read(client: FlaskClient, db: Database) -> None:
    author = register(client)
    fans = [register(client) for _ in range(3)]
    for fan in fans:
        client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    drain(db)
    newest, middle, _oldest = (n["id"] for n in inbox(client, author)["notifications"])

    response = client.post("/api/notifications/read", json={"upTo": middle}, headers=author.headers)
    assert response.status_code == 200 and body_of(response) == {"unreadCount": 1}
    assert [n["read"] for n in inbox(client, author)["notifications"]] == [False, True, True]
    client.post(f"/api/profiles/{fans[0].username}/follow", headers=author.headers)
    drain(db)
    response = client.post("/api/notifications/read", headers=author.headers)  # no body: all
    assert body_of(response) == {"unreadCount": 0}
    assert inbox(client, author)["unreadCount"] == 0
    assert inbox(client, fans[0])["unreadCount"] == 1  # only the caller's own are marked
    assert newest > middle


def test_a_whole_number_written_with_a_fraction_is_that_integer(
    client: FlaskClient, db: Database
) -> None:
    """JSON Schema's `integer` (the spec's type for `upTo`) is any number without a fraction."""
    author, fan = register(client), register(client)
    client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    drain(db)
    (only,) = (n["id"] for n in inbox(client, author)["notifications"])
    for up_to, unread in ((only - 1, 1), (only, 0)):
        response = client.post(
            "/api/notifications/read",
            data=f'{{"upTo": {up_to}.0}}',
            content_type="application/json",
            headers=author.headers,
        )
        assert response.status_code == 200 and body_of(response) == {"unreadCount": unread}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('{"upTo": "soon"}', "upTo"),
        ('{"upTo": -1}', "upTo"),
        ('{"upTo": 1.5}', "upTo"),
        ('{"upTo": true}', "upTo"),
        ('{"upTo": NaN}', "request"),  # not JSON
        ('{"upTo": 1e300}', "upTo"),
        (f'{{"upTo": {2**64}}}', "upTo"),
        ("[]", "request"),
        ("{", "request"),
    ],
)
def test_mark_read_refuses_bad_input(client: FlaskClient, body: str, key: str) -> None:
    me = register(client)
    response = client.post(
        "/api/notifications/read", data=body, content_type="application/json", headers=me.headers
    )
    assert response.status_code == 422, response.json
    assert key in errors_of(response), errors_of(response)


def test_auth_is_required(client: FlaskClient) -> None:
    assert client.get("/api/notifications").status_code == 401
    assert errors_of(client.post("/api/notifications/read")) == {"token": ["is missing"]}


def test_paging_is_clamped_like_articles(client: FlaskClient, db: Database) -> None:
    author = register(client)
    for _ in range(3):
        client.post(f"/api/profiles/{author.username}/follow", headers=register(client).headers)
    drain(db)
    assert len(inbox(client, author, "?limit=2")["notifications"]) == 2
    page = inbox(client, author, "?limit=1000&offset=2")
    assert len(page["notifications"]) == 1 and page["notificationsCount"] == 3
    assert inbox(client, author, f"?offset={2**40}")["notifications"] == []
    assert client.get("/api/notifications?limit=0", headers=author.headers).status_code == 422


def test_a_failed_write_emits_nothing(client: FlaskClient, db: Database) -> None:
    author, fan = register(client), register(client)
    slug = create_article(client, author)["slug"]
    drain(db)
    session = db.session()
    article_id = session.scalar(select(Article.id).where(Article.slug == slug))
    assert article_id is not None
    fan_id = user_id(db, fan)
    writes.favorite(session, fan_id, slug)
    outbox.favorited(session, fan_id, article_id)  # the event is in the transaction...
    writes.create_user(session, author.username, "other@example.com", "x")  # a taken name
    with pytest.raises(IntegrityError):
        session.commit()  # ...which fails after it
    session.rollback()
    assert session.scalar(select(func.count()).select_from(favorites)) == 0
    assert drain(db) == 0
    assert session.scalar(select(func.count()).select_from(Notification)) == 0
    assert inbox(client, author)["notificationsCount"] == 0


def test_counts_are_fixed(client: FlaskClient, db: Database, queries: QueryCounter) -> None:
    author = register(client)
    for _ in range(5):
        client.post(f"/api/profiles/{author.username}/follow", headers=register(client).headers)
    drain(db)
    counts = []
    for limit in (1, 5):
        with queries:
            page = inbox(client, author, f"?limit={limit}")
        assert len(page["notifications"]) == limit
        counts.append(queries.count)
    assert counts == [3, 3]  # the token's user, the counts, the page


def test_publishing_costs_the_same_with_1_or_5000_followers(
    client: FlaskClient, db: Database, queries: QueryCounter
) -> None:
    """The POST emits one event whatever the audience: the fan-out is the relay's work."""
    few, many = register(client), register(client)
    client.post(f"/api/profiles/{few.username}/follow", headers=register(client).headers)
    session = db.session()
    password = session.scalar(select(User.password_hash).limit(1))
    session.execute(
        insert(User),
        [
            {
                "username": f"f{n}",
                "username_key": f"f{n}",
                "email": f"f{n}@x.io",
                "password_hash": password,
            }
            for n in range(5000)
        ],
    )
    many_id = user_id(db, many)
    session.execute(
        insert(follows).from_select(
            ["follower_id", "followed_id"],
            select(User.id, literal(many_id)).where(User.username.like("f%")),
        )
    )
    session.commit()
    costs = []
    for author in (few, many):
        with queries:
            create_article(client, author)
        costs.append(queries.count)
    assert costs[0] == costs[1]
    drain(db)
    per_follower = session.execute(
        select(Notification.recipient_id, func.count())
        .where(Notification.type == "article")
        .group_by(Notification.recipient_id)
    ).all()
    assert len(per_follower) == 5001 and {n for _, n in per_follower} == {1}
