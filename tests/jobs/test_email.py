"""Notifications by email, against a real SMTP server (aiosmtpd) on a loopback port: one
mail per notification, none for users who opted out, none again on redelivery."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api import create_app
from api.context import runtime_of
from db.models import OutboxEvent
from db.session import Database
from jobs import relay
from testkit.servers import free_port
from testkit.settings import make_settings
from tests.factories import add_comment, body_of, create_article, register


class Sink:
    """Keeps every message it is handed."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def mailing_app(app: Flask, db: Database, sink: tuple[Sink, int]) -> Iterator[Flask]:
    """The app with SMTP on the sink, in the test's transaction."""
    settings = make_settings(runtime_of(app).database.url, smtp_host="127.0.0.1", smtp_port=sink[1])
    other = create_app(settings)
    runtime_of(other).database.bind(db.session().connection())
    with other.app_context():
        yield other
    runtime_of(other).database.bind(None)
    runtime_of(other).dispose()


def test_one_mail_per_notification_and_none_for_opted_out(
    client: FlaskClient, db: Database, sink: tuple[Sink, int], mailing_app: Flask
) -> None:
    author, keen, quiet = register(client), register(client), register(client)
    reply = client.put(
        "/api/user", json={"user": {"emailNotifications": False}}, headers=quiet.headers
    )
    assert reply.status_code == 200, reply.json
    for fan in (keen, quiet):
        client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    slug = create_article(client, author, title="Dragons")["slug"]
    add_comment(client, keen, slug)
    session = db.session()
    assert (
        relay.drain(runtime_of(mailing_app).settings, session) == 4
    )  # two follows, the article, the comment
    mails = sink[0].mails
    got = sorted((to, m["Subject"]) for to, m in mails)
    assert got == sorted(
        [
            ([author.email], f"{keen.username} followed you"),
            ([author.email], f"{quiet.username} followed you"),
            ([author.email], f"{keen.username} commented on Dragons"),
            ([keen.email], f"{author.username} published Dragons"),
        ]
    )  # the quiet follower got no mail of the article: opted out
    deliver = relay.deliver_inline(runtime_of(mailing_app).settings, session)
    events = list(session.scalars(select(OutboxEvent.id)))
    assert len(events) == 4
    for event_id in events:  # every event redelivered: no notification, no mail again
        deliver(event_id)
    assert len(mails) == 4


def test_opting_out_takes_a_boolean(client: FlaskClient) -> None:
    me = register(client)
    reply = client.put(
        "/api/user", json={"user": {"emailNotifications": "maybe"}}, headers=me.headers
    )
    assert reply.status_code == 422
    assert reply.json == {"errors": {"emailNotifications": ["must be a boolean"]}}


def test_the_user_body_says_whether_mail_is_on(client: FlaskClient) -> None:
    """Registration, login, reads and updates all show `emailNotifications` (default on)."""

    def mail_on(response: Any) -> Any:
        assert response.status_code in (200, 201), response.json
        return body_of(response)["user"]["emailNotifications"]

    me = register(client)
    assert mail_on(client.get("/api/user", headers=me.headers)) is True
    quiet = {"user": {"emailNotifications": False}}
    assert mail_on(client.put("/api/user", json=quiet, headers=me.headers)) is False
    assert mail_on(client.get("/api/user", headers=me.headers)) is False
    login = {"user": {"email": me.email, "password": me.password}}
    assert mail_on(client.post("/api/users/login", json=login)) is False
    bio = {"user": {"bio": "still quiet"}}
    assert mail_on(client.put("/api/user", json=bio, headers=me.headers)) is False
    fresh = client.post(
        "/api/users",
        json={"user": {"username": "mailer", "email": "mailer@x.io", "password": me.password}},
    )
    assert mail_on(fresh) is True
