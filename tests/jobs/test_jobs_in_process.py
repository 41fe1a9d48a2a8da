"""The background machinery in this process, on the test's own rolled-back transaction:
the relay when its publisher fails half-way, the hint after a commit, the Celery task bodies
(on kombu's in-memory transport: what they publish is read back, no worker runs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api import create_app
from api.context import runtime_of
from core.settings import Settings
from db.models import (
    ArticleEmbedding,
    Notification,
    OutboxEvent,
    Tag,
    User,
    tag_count_deltas,
    user_count_deltas,
)
from db.session import Database
from jobs import relay, tasks
from jobs.hint import Relay
from testkit.database import QueryCounter
from testkit.settings import make_settings
from tests.factories import create_article, register


def count(db: Database, what: Any) -> int:
    return int(db.session().scalar(select(func.count()).select_from(what)) or 0)


def pending(db: Database) -> int:
    session = db.session()
    return int(session.scalar(select(func.count()).where(OutboxEvent.sent_at.is_(None))) or 0)


def test_a_relay_that_dies_half_way_publishes_again_and_nothing_doubles(
    client: FlaskClient, db: Database
) -> None:
    author = register(client)
    for _ in range(3):
        client.post(f"/api/profiles/{author.username}/follow", headers=register(client).headers)
    session = db.session()
    deliver = relay.deliver_inline(runtime_of(client.application).settings, session)
    published: list[int] = []

    def crashing(event_id: int) -> None:
        if len(published) == 2:
            raise ConnectionError("the broker went away")
        published.append(event_id)
        deliver(event_id)

    with pytest.raises(ConnectionError):
        relay.relay(session, crashing)
    session.rollback()  # what the hint thread and the tasks do on an error
    assert pending(db) == 3  # nothing marked sent: the two published go out again
    assert relay.drain(runtime_of(client.application).settings, session) == 3
    assert count(db, Notification) == 3 and pending(db) == 0


@pytest.fixture
def broker_app(app: Flask, db: Database) -> Iterator[Flask]:
    """An app in broker mode on kombu's memory transport, in the test's transaction."""
    settings = make_settings(
        runtime_of(app).database.url, celery_broker_url="memory://", outbox_fan_out_batch=2
    )
    other = create_app(settings)
    runtime_of(other).database.bind(db.session().connection())
    with other.app_context():
        yield other
    runtime_of(other).database.bind(None)
    runtime_of(other).dispose()


def published(app: Flask) -> list[tuple[str, list[Any]]]:
    """The task messages waiting on the memory transport, drained."""
    celery = runtime_of(app).celery
    assert celery is not None
    messages = []
    with celery.connection_for_read() as conn:
        queue = conn.SimpleQueue("conduit")
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            messages.append((message.headers["task"], message.payload[0]))
            message.ack()
        queue.close()
    return messages


def test_tasks_deliver_fan_out_in_batches_and_chain_the_next(
    client: FlaskClient, db: Database, broker_app: Flask
) -> None:
    author = register(client)
    for _ in range(3):
        client.post(f"/api/profiles/{author.username}/follow", headers=register(client).headers)
    create_article(client, author)
    published(broker_app)
    assert tasks.relay() == 4  # three follows and the article, published as deliver tasks
    sent = published(broker_app)
    # ... then one task to embed what was written since (jobs/embedding.py)
    assert [name for name, _ in sent] == ["jobs.deliver"] * 4 + ["jobs.embed"]
    for _name, (event_id,) in sent[:4]:
        tasks.deliver(event_id)
    assert count(db, Notification) == 3  # the follows; the article starts a fan-out instead
    ((name, (event_id, actor_id, after)),) = published(broker_app)
    assert (name, after) == ("jobs.fan_out", 0)
    tasks.fan_out(event_id, actor_id, after)  # a batch of 2, then the next one is published
    ((name, args),) = published(broker_app)
    assert name == "jobs.fan_out" and count(db, Notification) == 5
    tasks.fan_out(*args)  # the last follower: no batch after it
    assert published(broker_app) == [] and count(db, Notification) == 6
    tasks.fan_out(event_id, actor_id, 0)  # redelivered: nothing doubles
    assert count(db, Notification) == 6
    tasks.deliver(10**12)  # an event purged since: nothing to do
    assert tasks.purge()["events"] == 0  # just sent: kept for the dedupe window


def test_the_hint_relays_after_a_commit_that_emitted(client: FlaskClient, db: Database) -> None:
    """The in-process relay's work, run once as its thread would after a hint."""
    app = client.application
    author, fan = register(client), register(client)
    client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    worker = Relay(runtime_of(app).settings, db, relay.deliver_inline, 3600)
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    assert count(db, Notification) == 1


def test_a_failing_relay_run_is_logged_not_fatal(
    client: FlaskClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    author, fan = register(client), register(client)
    client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)

    def broken(_settings: Settings, _session: Any) -> Any:
        def publish(_event_id: int) -> None:
            raise ConnectionError("broker down")

        return publish

    assert Relay(runtime_of(client.application).settings, db, broken, None).run_once() == 0
    assert "events stay pending" in caplog.text
    assert pending(db) == 1


def test_the_in_process_relay_fans_out_in_batches_of_the_setting(
    client: FlaskClient, db: Database, queries: QueryCounter
) -> None:
    """OUTBOX_FAN_OUT_BATCH is the in-process relay's batch too, not only the Celery task's
    (it fell back to a constant of its own: one statement for 5 followers, not 3)."""
    author = register(client)
    for _ in range(5):
        client.post(f"/api/profiles/{author.username}/follow", headers=register(client).headers)
    relay.drain(make_settings("sqlite://"), db.session())  # the follows' own notifications
    create_article(client, author)
    with queries:
        relay.drain(make_settings("sqlite://", outbox_fan_out_batch=2), db.session())
    fan_outs = [s for s in queries.statements if s.lstrip().startswith("INSERT INTO notifications")]
    assert len(fan_outs) == 3, queries.statements  # 2 + 2 + 1 followers
    assert count(db, Notification) == 5 + 5


def test_the_embed_task_embeds_what_is_stale_and_only_that(
    client: FlaskClient, db: Database, broker_app: Flask
) -> None:
    """New and edited articles get a vector in the background; a second pass has nothing."""
    author = register(client)
    slug = create_article(client, author, title="Dragons at dawn")["slug"]
    published(broker_app)
    assert tasks.embed() >= 1
    assert tasks.embed() == 0
    edited = client.put(
        f"/api/articles/{slug}", json={"article": {"body": "new"}}, headers=author.headers
    )
    assert edited.status_code == 200
    assert tasks.embed() == 1  # the edit made it stale
    assert count(db, ArticleEmbedding) >= 1


def test_the_relay_folds_the_article_counters_after_its_pass(
    client: FlaskClient, db: Database
) -> None:
    """Creates append counter deltas (PostgreSQL); the relay's pass moves them into the rows."""
    app = client.application
    author = register(client)
    client.post(f"/api/profiles/{author.username}/follow", headers=register(client).headers)
    for tags in (["fold", "me"], ["fold"]):
        create_article(client, author, tagList=tags)
    postgres = db.engine.dialect.name == "postgresql"
    assert count(db, tag_count_deltas) == (3 if postgres else 0)  # a row per tag per create
    assert Relay(runtime_of(app).settings, db, relay.deliver_inline, 3600).run_once() >= 1
    assert count(db, tag_count_deltas) == 0 and count(db, user_count_deltas) == 0
    session = db.session()
    assert session.scalar(select(Tag.articles_count).where(Tag.name == "fold")) == 2
    assert session.scalar(select(User.articles_count).where(User.username == author.username)) == 2
