"""An article's deletion racing every other write on it, on real PostgreSQL transactions.

Each write answers what the client can act on (2xx, or 404 when the article vanished under
it), never a 5xx, and the database never picks a deadlock victim: the lock order in
db/writes/__init__.py holds. The deterministic tests pin one interleaving each (a lock held
open by hand); the rounds mix them all with the in-process relay fanning out to 1,000
followers, and assert only invariants that hold however the threads are scheduled.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from api import create_app
from api.context import runtime_of
from db import embeddings, outbox
from db.models import Base, utcnow
from db.session import Database
from jobs import relay as relaying
from testkit.database import PostgresServer
from testkit.settings import make_settings
from tests.factories import TAG_ARTICLES_SQL, USER_ARTICLES_SQL, Account, create_article, register

pytestmark = pytest.mark.postgres_only

FOLLOWERS = 1000
ROUNDS = 25


@pytest.fixture(scope="module")
def url(postgres_server: PostgresServer) -> Iterator[str]:
    with postgres_server.database(migrate=True) as found:
        yield found


@contextmanager
def _app(url: str, **overrides: Any) -> Iterator[Flask]:
    application = create_app(make_settings(url, **overrides))
    application.config["TESTING"] = True
    try:
        yield application
    finally:
        runtime_of(application).dispose()


@pytest.fixture(scope="module")
def app(url: str) -> Iterator[Flask]:
    """Events stay pending until a test relays them (so a test can hold one claimed)."""
    with _app(url) as application:
        yield application


@pytest.fixture(scope="module")
def live_app(url: str) -> Iterator[Flask]:
    """In-process mode as `make serve` runs it without a broker: the relay thread is woken
    by each commit that emitted, and sweeps every 0.2 s."""
    with _app(url, outbox_hint=True, outbox_sweep_seconds=0.2) as application:
        yield application


@pytest.fixture(scope="module")
def admin(url: str) -> Iterator[Engine]:
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def empty_tables(admin: Engine) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with admin.connect() as conn:
        conn.execute(text(f"TRUNCATE TABLE {tables} RESTART IDENTITY CASCADE"))


def database(app: Flask) -> Database:
    found: Database = runtime_of(app).database
    return found


def scalar(admin: Engine, sql: str, **params: Any) -> Any:
    with admin.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def deadlocks(app: Flask, admin: Engine) -> int:
    """Deadlocks PostgreSQL has counted in this database, all of them: a backend reports its
    counts when it exits, so the app's connections are closed first."""
    database(app).engine.dispose()
    with admin.connect() as conn:
        for _ in range(100):
            others = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
            if not others:
                break
            time.sleep(0.05)
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        found = conn.execute(
            text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        ).scalar()
    return int(found or 0)


def with_followers(admin: Engine, author: Account, count: int = FOLLOWERS) -> None:
    """`count` users following the author, written in SQL (registering each would hash)."""
    with admin.connect() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, username_key, email, password_hash, created_at)"
                " SELECT 'fan' || n, 'fan' || n, 'fan' || n || '@example.com', 'x', now()"
                " FROM generate_series(1, :count) AS n"
            ),
            {"count": count},
        )
        conn.execute(
            text(
                "INSERT INTO follows (follower_id, followed_id)"
                " SELECT id, (SELECT id FROM users WHERE username = :author)"
                " FROM users WHERE username LIKE 'fan%'"
            ),
            {"author": author.username},
        )


def in_thread(send: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(send()), daemon=True)
    thread.start()
    return thread, result


def wait_until_blocked(admin: Engine) -> None:
    """Until some backend of this database waits for a lock (the request under test)."""
    for _ in range(200):
        waiting = scalar(
            admin,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'",
        )
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the request never waited for the lock held open")


# --- one interleaving each ----------------------------------------------------------------------


def _deleting(admin: Engine, slug: str) -> Any:
    """An open transaction that has deleted the article (row lock held), not yet committed."""
    conn = admin.connect().execution_options(isolation_level="READ COMMITTED")
    conn.begin()
    conn.execute(text("DELETE FROM articles WHERE slug = :slug"), {"slug": slug})
    return conn


@pytest.mark.parametrize(
    ("name", "send", "status"),
    [
        (
            "update",
            lambda c, slug, a, _o: c.put(
                f"/api/articles/{slug}", json={"article": {"title": "New"}}, headers=a.headers
            ),
            404,
        ),
        (
            "comment",
            lambda c, slug, _a, o: c.post(
                f"/api/articles/{slug}/comments",
                json={"comment": {"body": "hi"}},
                headers=o.headers,
            ),
            404,
        ),
        (
            "favorite",
            lambda c, slug, _a, o: c.post(f"/api/articles/{slug}/favorite", headers=o.headers),
            404,
        ),
    ],
)
def test_a_write_waiting_for_the_deletion_answers_404(
    app: Flask, admin: Engine, name: str, send: Any, status: int
) -> None:
    """The write reads the article, then waits for a deletion's row lock; the deletion
    commits. Before: the update answered 500 (NoResultFound), comment and favorite 409."""
    client = app.test_client()
    author, other = register(client), register(client)
    slug = create_article(client, author)["slug"]
    deletion = _deleting(admin, slug)
    try:
        thread, result = in_thread(lambda: send(app.test_client(), slug, author, other))
        wait_until_blocked(admin)
        deletion.commit()
    finally:
        deletion.close()
    thread.join(30)
    (response,) = result
    assert response.status_code == status, (name, response.json)
    assert response.json == {"errors": {"article": ["not found"]}}
    assert scalar(admin, "SELECT count(*) FROM comments") == 0
    assert scalar(admin, "SELECT count(*) FROM favorites") == 0


def test_a_relay_holding_an_event_does_not_deadlock_the_deletion(app: Flask, admin: Engine) -> None:
    """The relay has claimed the article's event (its row locked) when the author deletes
    the article; then the relay fans out. Before: the deletion's cascade waited for the
    event's row, the fan-out for the article: PostgreSQL killed one of them (40P01)."""
    client = app.test_client()
    author = register(client)
    with_followers(admin, author, 50)
    slug = create_article(client, author)["slug"]
    before = deadlocks(app, admin)
    relay = database(app).engine.connect()
    try:
        session = Session(bind=relay, expire_on_commit=False)
        claimed = outbox.claim_pending(session, relaying.RELAY_BATCH)
        assert claimed  # the article's event, its row locked by this "relay"
        thread, result = in_thread(
            lambda: app.test_client().delete(f"/api/articles/{slug}", headers=author.headers)
        )
        thread.join(20)
        assert not thread.is_alive(), "the deletion waited for the relay's claimed event"
        assert result[0].status_code == 204
        publish = relaying.deliver_inline(runtime_of(app).settings, session)
        for event_id in claimed:
            publish(event_id)
        outbox.mark_sent(session, claimed, utcnow())
        session.commit()
        session.close()
    finally:
        relay.close()
    assert scalar(admin, "SELECT count(*) FROM notifications") == 0
    assert scalar(admin, "SELECT count(*) FROM articles") == 0
    assert deadlocks(app, admin) == before


def _writes_on(
    slug: str, round_: int, author: Account, fan: Account
) -> dict[str, Callable[[FlaskClient], Any]]:
    path = f"/api/articles/{slug}"
    retitle = {"article": {"title": f"Renamed {round_}", "tagList": ["race", "y"]}}

    def delete(c: FlaskClient) -> Any:
        return c.delete(path, headers=author.headers)

    def update(c: FlaskClient) -> Any:
        return c.put(path, json=retitle, headers=author.headers)

    def comment(c: FlaskClient) -> Any:
        return c.post(f"{path}/comments", json={"comment": {"body": "b"}}, headers=fan.headers)

    def favorite(c: FlaskClient) -> Any:
        return c.post(f"{path}/favorite", headers=fan.headers)

    def unfavorite(c: FlaskClient) -> Any:
        return c.delete(f"{path}/favorite", headers=fan.headers)

    return {
        "delete": delete,
        "update": update,
        "comment": comment,
        "favorite": favorite,
        "unfavorite": unfavorite,
    }


def race(app: Flask, sends: dict[str, Callable[[FlaskClient], Any]]) -> dict[str, Any]:
    """Each request from its own thread and client, all released at once; the responses."""
    barrier = threading.Barrier(len(sends), timeout=15)
    answers: dict[str, Any] = {}

    def run(name: str, send: Callable[[FlaskClient], Any]) -> None:
        own = app.test_client()
        barrier.wait()
        answers[name] = send(own)

    threads = [threading.Thread(target=run, args=item) for item in sends.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


# --- everything at once, many rounds ------------------------------------------------------------

OK = {
    "delete": {204, 404},
    "update": {200, 404},
    "comment": {201, 404},
    "favorite": {200, 404},
    "unfavorite": {200, 404},
}


def test_deletes_racing_every_write_on_the_article(live_app: Flask, admin: Engine) -> None:
    app = live_app
    client = app.test_client()
    author, fan = register(client), register(client)
    with_followers(admin, author)
    before = deadlocks(app, admin)
    seen: Counter[tuple[str, int]] = Counter()
    for round_ in range(ROUNDS):
        slug = create_article(client, author, title=f"Round {round_}", tagList=["race", "x"])[
            "slug"
        ]
        client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
        sends = _writes_on(slug, round_, author, fan)
        answers = race(app, sends)
        for name, response in answers.items():
            seen[(name, response.status_code)] += 1
            assert response.status_code in OK[name], (round_, name, response.json)
            if response.status_code == 404:
                assert response.json == {"errors": {"article": ["not found"]}}
        assert set(answers) == set(sends)
    # Every article is gone and took what hung off it; the relay finishes what is pending.
    for _ in range(200):
        if not scalar(admin, "SELECT count(*) FROM outbox_events WHERE sent_at IS NULL"):
            break
        time.sleep(0.05)
    assert scalar(admin, "SELECT count(*) FROM outbox_events WHERE sent_at IS NULL") == 0
    assert scalar(admin, "SELECT count(*) FROM articles") == 0
    for table in ("comments", "favorites", "article_tags", "slug_history"):
        assert scalar(admin, f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608 (ours)
    assert scalar(admin, "SELECT count(*) FROM notifications WHERE article_id IS NOT NULL") == 0
    assert scalar(admin, f"SELECT sum({TAG_ARTICLES_SQL}) FROM tags") == 0  # noqa: S608 (our own SQL)
    assert scalar(admin, f"SELECT sum({USER_ARTICLES_SQL}) FROM users") == 0  # noqa: S608 (our own SQL)
    assert deadlocks(app, admin) == before, seen


def test_one_embedding_pass_at_a_time(url: str) -> None:
    """Two processes' passes do not embed the same articles twice: the second one waits its
    turn (db/embeddings.py claim_pass), until the first one's transaction ends."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as first, Session(engine) as second:
            assert embeddings.claim_pass(first)
            assert not embeddings.claim_pass(second)
            second.rollback()
            first.commit()
            assert embeddings.claim_pass(second)
            second.rollback()
    finally:
        engine.dispose()
