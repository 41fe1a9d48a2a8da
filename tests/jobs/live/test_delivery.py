"""Notifications through the real thing: gunicorn, the outbox, RabbitMQ, Celery workers.

Every count is read in SQL. "Lost" is a follower (or recipient) an event should have reached
and did not; "duplicated" is one reached twice. Faults: a worker SIGKILLed in the middle of
a fan-out, RabbitMQ restarted while events flow, the relay stopped between the commit and
the publish. Poison messages end in the dead-letter queue.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, literal, select, text

import runtime
from db.models import Notification, OutboxEvent, User, follows
from db.usernames import username_key
from testkit.http import call
from testkit.settings import make_settings
from testkit.workers import Worker, queue_depths, rabbitmqctl, wait_for
from tests.support.ops import gunicorn_server

# The RabbitMQ tests: one of them restarts the machine's RabbitMQ, which every other test of
# the broker would see, so one xdist worker runs them all, in order (pytest-xdist's
# loadgroup), beside the ops suite's group.
pytestmark = pytest.mark.xdist_group("broker")

USERS = User.metadata.tables["users"]


def register(base_url: str, prefix: str = "a") -> tuple[str, str]:
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    user = {"username": name, "email": f"{name}@example.com", "password": "jobs-test-pw"}
    reply = call(base_url, "POST", "/api/users", json_body={"user": user})
    assert reply.status == 201, reply.body
    return name, reply.json()["user"]["token"]


def seed_followers(sql: Engine, author: str, count: int) -> None:
    """`count` users following `author`, inserted in bulk (nobody logs in as them)."""
    prefix = f"f{uuid.uuid4().hex[:6]}_"
    names = [f"{prefix}{n}" for n in range(count)]
    now = datetime.now(UTC)
    with sql.begin() as conn:
        conn.execute(
            insert(USERS),
            [
                {
                    "username": n,
                    "username_key": username_key(n),
                    "email": f"{n}@example.com",
                    "password_hash": "-",
                    "created_at": now,
                }
                for n in names
            ],
        )
        author_id = conn.scalar(select(User.id).where(User.username == author))
        conn.execute(
            insert(follows).from_select(
                ["follower_id", "followed_id"],
                select(User.id, literal(author_id)).where(User.username.like(f"{prefix}%")),
            )
        )


def publish(base_url: str, token: str) -> float:
    """POST an article; the seconds its answer took (measured, never asserted)."""
    n = uuid.uuid4().hex[:8]
    article = {"title": f"Article {n}", "description": "d", "body": "b"}
    started = time.perf_counter()
    reply = call(base_url, "POST", "/api/articles", json_body={"article": article}, token=token)
    elapsed = time.perf_counter() - started
    assert reply.status == 201, reply.body
    return elapsed


def expected(sql: Engine) -> int:
    """What every event written so far should produce: 1, or its actor's follower count."""
    with sql.connect() as conn:
        direct = conn.scalar(select(func.count()).where(OutboxEvent.recipient_id.is_not(None)))
        fanned = conn.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .join(follows, follows.c.followed_id == OutboxEvent.actor_id)
            .where(OutboxEvent.recipient_id.is_(None))
        )
    return int(direct or 0) + int(fanned or 0)


def tally(sql: Engine) -> tuple[int, int, int]:
    """(notifications, lost, duplicated), in SQL."""
    with sql.connect() as conn:
        total = int(conn.scalar(select(func.count()).select_from(Notification)) or 0)
        twice = conn.scalar(
            select(func.count()).select_from(
                select(Notification.type, Notification.article_id, Notification.actor_id,
                       Notification.recipient_id)
                .where(Notification.type.in_(["article", "follow"]))
                .group_by(Notification.type, Notification.article_id, Notification.actor_id,
                          Notification.recipient_id)
                .having(func.count() > 1)
                .subquery()
            )
        )  # fmt: skip
    want = expected(sql)
    return total, max(0, want - total), int(twice or 0)


def settled(sql: Engine) -> Callable[[], bool]:
    return lambda: tally(sql)[0] >= expected(sql) > 0


def test_every_follower_is_told_once(
    sql: Engine, app_env: dict[str, str], worker: Callable[..., Worker]
) -> None:
    jobs = worker()
    jobs.start()
    with gunicorn_server(app_env["DATABASE_URL"], workers=2, env=app_env) as server:
        few, few_token = register(server.base_url)
        many, many_token = register(server.base_url)
        seed_followers(sql, few, 1)
        seed_followers(sql, many, 5000)
        timings: dict[str, list[float]] = {"1": [], "5000": []}
        for _ in range(3):
            timings["1"].append(publish(server.base_url, few_token))
            timings["5000"].append(publish(server.base_url, many_token))
        wait_for(settled(sql), 120, "every follower's notification")
    total, lost, duplicated = tally(sql)
    with sql.connect() as conn:
        per_follower = conn.execute(
            select(Notification.recipient_id, Notification.article_id, func.count()).group_by(
                Notification.recipient_id, Notification.article_id
            )
        ).all()
    assert (total, lost, duplicated) == (3 * 5001, 0, 0)
    assert len(per_follower) == 3 * 5001 and {n for *_, n in per_follower} == {1}
    medians = {k: round(statistics.median(v) * 1000, 1) for k, v in timings.items()}
    print(f"POST /api/articles median latency (ms) by follower count: {medians}; {timings}")


def test_worker_killed_mid_fan_out(
    sql: Engine, app_env: dict[str, str], worker: Callable[..., Worker]
) -> None:
    # Small batches: 3,000 followers are 150 tasks per article, so a kill lands mid-way.
    jobs = worker(OUTBOX_FAN_OUT_BATCH="20")
    jobs.start()
    with gunicorn_server(app_env["DATABASE_URL"], workers=2, env=app_env) as server:
        author, token = register(server.base_url)
        seed_followers(sql, author, 3000)
        for _ in range(2):
            publish(server.base_url, token)
        wait_for(lambda: tally(sql)[0] > 0, 60, "the fan-out to start")
        jobs.kill()
        at_kill = tally(sql)[0]
        jobs.start()
        wait_for(settled(sql), 120, "the fan-out to finish after the restart")
    total, lost, duplicated = tally(sql)
    print(f"SIGKILL at {at_kill}/6000 notifications; after recovery {total}, lost {lost}, "
          f"duplicated {duplicated}")  # fmt: skip
    assert at_kill < 6000, "the fan-out had finished before the kill: nothing was tested"
    assert (total, lost, duplicated) == (6000, 0, 0)


def test_rabbitmq_restarted_while_events_flow(
    sql: Engine, app_env: dict[str, str], worker: Callable[..., Worker]
) -> None:
    jobs = worker()
    jobs.start()
    with gunicorn_server(app_env["DATABASE_URL"], workers=2, env=app_env) as server:
        authors = [register(server.base_url) for _ in range(3)]
        for name, _ in authors:
            seed_followers(sql, name, 200)
        statuses: list[int] = []
        stop = threading.Event()

        def flow() -> None:
            n = 0
            while not stop.is_set():
                _name, token = authors[n % 3]
                commenter = authors[(n + 1) % 3][1]
                n += 1
                article = {"title": f"Flow {uuid.uuid4().hex[:8]}", "description": "d", "body": "b"}
                reply = call(server.base_url, "POST", "/api/articles",
                             json_body={"article": article}, token=token)  # fmt: skip
                statuses.append(reply.status)
                slug = reply.json()["article"]["slug"]
                reply = call(server.base_url, "POST", f"/api/articles/{slug}/comments",
                             json_body={"comment": {"body": "hi"}}, token=commenter)  # fmt: skip
                statuses.append(reply.status)
                time.sleep(0.05)

        flowing = threading.Thread(target=flow)
        flowing.start()
        try:
            time.sleep(2)
            assert rabbitmqctl("stop_app").returncode == 0
            time.sleep(3)
            assert rabbitmqctl("start_app").returncode == 0
            time.sleep(2)
        finally:
            stop.set()
            flowing.join(30)
            rabbitmqctl("start_app")  # whatever happened, leave the broker running
        wait_for(settled(sql), 120, "every event to be delivered after the restart")
    total, lost, duplicated = tally(sql)
    print(f"{len(statuses)} writes during a RabbitMQ restart: {total} notifications, "
          f"lost {lost}, duplicated {duplicated}")  # fmt: skip
    assert set(statuses) == {201}, "a write failed while the broker was down"
    assert (lost, duplicated) == (0, 0) and total == expected(sql)


def test_relay_stopped_between_commit_and_publish(
    sql: Engine, app_env: dict[str, str], worker: Callable[..., Worker]
) -> None:
    """No hint and no worker: the events wait in the outbox, visible in /api/ready and
    /metrics; the first sweep of a worker started later delivers them all."""
    env = {**app_env, "OUTBOX_HINT": "false", "METRICS_PUBLIC": "true"}
    with gunicorn_server(app_env["DATABASE_URL"], workers=1, env=env) as server:
        author, token = register(server.base_url)
        _fan, fan_token = register(server.base_url)
        assert call(server.base_url, "POST", f"/api/profiles/{author}/follow",
                    token=fan_token).status == 200  # fmt: skip
        publish(server.base_url, token)
        ready: dict[str, Any] = call(server.base_url, "GET", "/api/ready").json()
        metrics = call(server.base_url, "GET", "/metrics").body.decode()
        assert ready["outbox"]["pending"] == 2 and ready["outbox"]["oldestAgeSeconds"] > 0
        assert "conduit_outbox_pending_events 2.0" in metrics
        assert tally(sql)[0] == 0
        jobs = worker()
        jobs.start()
        wait_for(settled(sql), 60, "the sweep to deliver what the relay left")
        after = call(server.base_url, "GET", "/api/ready").json()["outbox"]
    assert tally(sql) == (2, 0, 0)
    assert after == {"pending": 0, "oldestAgeSeconds": 0.0}


def test_a_poison_message_is_dead_lettered(
    database_url: str, broker_url: str, worker: Callable[..., Worker]
) -> None:
    jobs = worker()
    jobs.start()
    celery = runtime.build(make_settings(database_url, celery_broker_url=broker_url)).celery
    assert celery is not None
    celery.send_task("jobs.deliver", args=["not an event id"])
    wait_for(lambda: queue_depths(broker_url).get("conduit.dead") == 1, 60, "a dead letter")
    assert queue_depths(broker_url).get("conduit", 0) == 0


def test_a_message_that_kills_its_process_is_dead_lettered_after_its_retries(
    database_url: str, broker_url: str, worker: Callable[..., Worker], tmp_path: Path
) -> None:
    """Put back as it was, it would kill a pool process again and again, forever."""
    retries = 2
    jobs = worker(app="tests.support.crashing_worker:celery_app", CRASH_RETRIES=str(retries))
    jobs.start()
    celery = runtime.build(make_settings(database_url, celery_broker_url=broker_url)).celery
    assert celery is not None
    runs = tmp_path / "runs"
    celery.send_task("tests.crash", args=[str(runs)])
    wait_for(lambda: queue_depths(broker_url).get("conduit.dead") == 1, 60, "a dead letter")
    pids = runs.read_text().split()
    print(f"\n{len(pids)} runs in pool processes {pids}, then dead-lettered")
    assert len(pids) == retries + 1 and len(set(pids)) == len(pids), pids
    assert queue_depths(broker_url).get("conduit", 0) == 0
    assert jobs.process is not None and jobs.process.poll() is None, "the worker went down"
    time.sleep(2)  # nothing runs it again
    assert len(runs.read_text().split()) == retries + 1


def test_in_process_mode_needs_no_broker(sql: Engine, database_url: str) -> None:
    """`make run`'s mode: no CELERY_BROKER_URL, a thread of the web process relays."""
    env = {"OUTBOX_SWEEP_SECONDS": "1"}
    with gunicorn_server(database_url, workers=2, env=env) as server:
        author, token = register(server.base_url)
        _fan, fan_token = register(server.base_url)
        call(server.base_url, "POST", f"/api/profiles/{author}/follow", token=fan_token)
        publish(server.base_url, token)

        def told(who: str) -> int:
            reply = call(server.base_url, "GET", "/api/notifications", token=who)
            return int(reply.json()["notificationsCount"])

        wait_for(lambda: told(token) == 1 and told(fan_token) == 1, 60, "in-process delivery")
    assert tally(sql) == (2, 0, 0)


def _deadlocks(sql: Engine) -> int:
    """PostgreSQL's deadlock count for this database (read once the servers have exited:
    a backend reports its counts when it ends)."""
    with sql.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        found = conn.scalar(
            text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        )
    return int(found or 0)


DELETE_RACE = {
    "DELETE": {204, 404},
    "PUT": {200, 404},
    "comment": {201, 404},
    "favorite": {200, 404},
}


def test_deletes_racing_writes_with_a_worker_fanning_out(
    sql: Engine, app_env: dict[str, str], worker: Callable[..., Worker]
) -> None:
    """Issue 21 with Celery: an author with 1,000 followers publishes and deletes while a fan
    comments and favorites; the worker fans out meanwhile. Only 2xx and 404 answer, nothing
    is left of the articles, and PostgreSQL counts no deadlock."""
    before = _deadlocks(sql)
    jobs = worker()
    jobs.start()
    statuses: dict[str, set[int]] = {name: set() for name in DELETE_RACE}
    with gunicorn_server(app_env["DATABASE_URL"], workers=2, env=app_env) as server:
        base = server.base_url
        author, author_token = register(base)
        _fan, fan_token = register(base, "fan")
        seed_followers(sql, author, 1000)
        for round_ in range(20):
            article = {"title": f"Doomed {round_}", "description": "d", "body": "b"}
            reply = call(base, "POST", "/api/articles", json_body={"article": article},
                         token=author_token)  # fmt: skip
            assert reply.status == 201, reply.body
            path = f"/api/articles/{reply.json()['article']['slug']}"
            sends = _racing_writes(base, path, round_, author_token, fan_token)
            barrier = threading.Barrier(len(sends), timeout=15)
            replies: dict[str, Any] = {}

            def run(name: str, send: Callable[[], Any], gate: threading.Barrier = barrier,
                    out: dict[str, Any] = replies) -> None:  # fmt: skip
                gate.wait()
                out[name] = send()

            threads = [threading.Thread(target=run, args=item) for item in sends.items()]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            for name, answer in replies.items():
                statuses[name].add(answer.status)
                assert answer.status in DELETE_RACE[name], (round_, name, answer.body)
        wait_for(lambda: _pending(sql) == 0, 60, "the outbox to drain")
    jobs.stop()
    with sql.connect() as conn:
        for table in ("articles", "comments", "favorites"):
            assert conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table  # noqa: S608
    assert _deadlocks(sql) == before, statuses


def _racing_writes(
    base: str, path: str, round_: int, author_token: str, fan_token: str
) -> dict[str, Callable[[], Any]]:
    def delete() -> Any:
        return call(base, "DELETE", path, token=author_token)

    def put() -> Any:
        retitle = {"article": {"title": f"Saved {round_}"}}
        return call(base, "PUT", path, json_body=retitle, token=author_token)

    def comment() -> Any:
        body = {"comment": {"body": "c"}}
        return call(base, "POST", f"{path}/comments", json_body=body, token=fan_token)

    def favorite() -> Any:
        return call(base, "POST", f"{path}/favorite", token=fan_token)

    return {"DELETE": delete, "PUT": put, "comment": comment, "favorite": favorite}


def _pending(sql: Engine) -> int:
    with sql.connect() as conn:
        return int(conn.scalar(select(func.count()).where(OutboxEvent.sent_at.is_(None))) or 0)
