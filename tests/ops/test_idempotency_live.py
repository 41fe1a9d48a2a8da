"""`Idempotency-Key` against real gunicorn workers on PostgreSQL: lost answers, races, deaths.

(a) Answers lost on the way back (a TCP proxy reads each answer and drops it): a client
    retrying with its key ends up with exactly one article, and gets it replayed; without a
    key the same retries make duplicates (the bug this fixes).
(b) 50 concurrent POSTs with one key: one article; the others are replays or 409s.
(c) A worker SIGKILLed after its COMMIT was sent and made durable, before anyone heard
    back: deterministic with a private cluster whose commits of articles wait for a
    synchronous standby that does not exist. The retry replays the committed answer.
(d) A worker SIGKILLed before its commit: nothing is stored but the claim; retries get 409
    until its lease lapses, then one of them takes the key over and creates the article.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from testkit.database import PrivateCluster
from testkit.http import Reply, call, register
from testkit.servers import Server
from tests.support.ops import gunicorn_server

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

KEY, REPLAYED = "Idempotency-Key", "idempotency-replayed"
IN_PROGRESS = {"errors": {KEY: ["is in use by a request still in progress, retry later"]}}


def article(title: str, body: str = "b") -> dict[str, Any]:
    return {"article": {"title": title, "description": "d", "body": body, "tagList": ["live"]}}


def create(
    base_url: str, token: str, body: dict[str, Any], key: str | None, timeout: float = 30
) -> Reply | str:
    """POST /api/articles; a lost answer is its exception's repr, not a Reply."""
    headers = {KEY: key} if key is not None else {}
    try:
        return call(
            base_url,
            "POST",
            "/api/articles",
            json_body=body,
            headers=headers,
            token=token,
            timeout=timeout,
        )
    except (OSError, http.client.HTTPException) as exc:
        return repr(exc)


def brief(reply: Reply | str) -> str:
    if isinstance(reply, str):
        return reply
    return f"{reply.status} (replayed: {reply.headers.get(REPLAYED, 'no')})"


def articles_titled(sql: Engine, title: str) -> int:
    with sql.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM articles WHERE title = :t"), {"t": title})
        return int(found.scalar_one())


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


class LossyProxy:
    """TCP in front of gunicorn that loses the next `drop` answers: it reads each one whole
    (the server has finished: committed, answered) and closes the client's connection
    without passing it on. Clients send `Connection: close`, so an answer ends at EOF."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.drop = 0
        self.lost: list[bytes] = []  # the status lines of the answers dropped
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with self._lock:
            dropping, self.drop = self.drop > 0, max(self.drop - 1, 0)
        with client, socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            answer = b""
            while chunk := upstream.recv(65536):
                answer += chunk
            if dropping:
                with self._lock:
                    self.lost.append(answer.split(b"\r\n", 1)[0])
            else:
                client.sendall(answer)
            # Wakes the pump blocked in recv; a bare close would leave the connection open.
            client.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    with gunicorn_server(database_url, workers=4, env={"GUNICORN_THREADS": "4"}) as running:
        yield running


@pytest.fixture
def proxy(server: Server) -> Iterator[LossyProxy]:
    lossy = LossyProxy(int(server.base_url.rsplit(":", 1)[1]))
    yield lossy
    lossy.close()


def test_lost_answers_retried_with_a_key_make_one_article(
    server: Server, proxy: LossyProxy, sql: Engine
) -> None:
    token = register(server.base_url)
    attempts = 4  # the first request and 3 retries; all but the last lose their answer

    title = f"lost-{uuid.uuid4().hex}"
    key = str(uuid.uuid4())
    proxy.drop = attempts - 1
    replies = [create(proxy.base_url, token, article(title), key) for _ in range(attempts)]
    print(
        f"\nwith a key: {len(proxy.lost)} answers lost ({proxy.lost[0]!r}), then {brief(replies[-1])}"
    )
    assert all("RemoteDisconnected" in r for r in replies[:-1] if isinstance(r, str)), replies
    assert all(isinstance(r, str) for r in replies[:-1]), replies  # answers lost
    assert [line.split()[1] for line in proxy.lost] == [b"201"] * (attempts - 1)
    last = replies[-1]
    assert isinstance(last, Reply) and last.status == 201, last
    assert last.headers[REPLAYED] == "true"
    assert last.json()["article"]["title"] == title
    assert articles_titled(sql, title) == 1

    # The control: the same lost answers without a key duplicate the article.
    title = f"lost-{uuid.uuid4().hex}"
    proxy.drop, proxy.lost = attempts - 1, []
    replies = [create(proxy.base_url, token, article(title), None) for _ in range(attempts)]
    print(f"without a key: {[brief(r) for r in replies]}; {articles_titled(sql, title)} articles")
    assert articles_titled(sql, title) == attempts


def test_concurrent_posts_with_one_key_make_one_article(server: Server, sql: Engine) -> None:
    token = register(server.base_url)
    title, key, clients = f"race-{uuid.uuid4().hex}", str(uuid.uuid4()), 50
    start = threading.Barrier(clients)
    replies: list[Reply | str] = [""] * clients

    def one(index: int) -> None:
        start.wait()
        replies[index] = create(server.base_url, token, article(title), key)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    outcomes = Counter(
        (r.status, r.headers.get(REPLAYED)) if isinstance(r, Reply) else r for r in replies
    )
    print(f"\n{clients} concurrent POSTs, one key: {dict(outcomes)}")
    assert articles_titled(sql, title) == 1
    assert outcomes[(201, None)] == 1, outcomes
    assert set(outcomes) <= {(201, None), (201, "true"), (409, None)}, outcomes
    slugs = {
        r.json()["article"]["slug"] for r in replies if isinstance(r, Reply) and r.status == 201
    }
    assert len(slugs) == 1
    for reply in replies:
        assert isinstance(reply, Reply)
        if reply.status == 409:
            assert reply.json() == IN_PROGRESS and reply.headers["retry-after"] == "1"

    other = create(server.base_url, token, article(title, body="another body"), key)
    assert isinstance(other, Reply) and other.status == 422
    assert other.json() == {"errors": {KEY: ["is already used for a different request"]}}
    assert articles_titled(sql, title) == 1


def _only_worker(server: Server) -> int:
    wait_for(lambda: len(server.worker_pids()) == 1, 30, "one worker")
    (pid,) = server.worker_pids()
    return pid


def _await_replacement(server: Server, victim: int) -> None:
    wait_for(lambda: server.worker_pids() - {victim} != set(), 30, "a new worker")
    wait_for(lambda: call(server.base_url, "GET", "/api/tags").status == 200, 30, "serving")


@pytest.fixture
def held_commits(private_cluster: PrivateCluster) -> Iterator[Engine]:
    """The private cluster, its commits of articles made to wait for a standby that is not
    there (durable locally, not yet acknowledged); `release` lets them through."""
    admin = create_engine(
        private_cluster.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text("ALTER SYSTEM SET synchronous_standby_names = 'nobody'"))
        conn.execute(text("ALTER SYSTEM SET synchronous_commit = 'local'"))
        conn.execute(text("SELECT pg_reload_conf()"))
    yield admin
    with admin.connect() as conn:
        conn.execute(text("ALTER SYSTEM RESET ALL"))
        conn.execute(text("SELECT pg_reload_conf()"))
    admin.dispose()


HOLD_ARTICLE_COMMITS = """
CREATE FUNCTION hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM set_config('synchronous_commit', 'on', true); RETURN NULL; END $$;
CREATE TRIGGER hold_commit AFTER INSERT ON articles FOR EACH ROW EXECUTE FUNCTION hold_commit();
"""


def _waiting(engine: Engine, event: str) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE wait_event = :e"), {"e": event}
        )
        return list(rows.scalars())


def test_worker_killed_after_its_commit_leaves_the_answer(
    private_cluster: PrivateCluster, held_commits: Engine
) -> None:
    sql = create_engine(private_cluster.url)
    with gunicorn_server(private_cluster.url, workers=1) as server:
        with sql.begin() as conn:
            conn.execute(text(HOLD_ARTICLE_COMMITS))
        token = register(server.base_url)
        title, key = f"killed-{uuid.uuid4().hex}", str(uuid.uuid4())
        victim = _only_worker(server)
        first: list[Reply | str] = []
        request = threading.Thread(
            target=lambda: first.append(create(server.base_url, token, article(title), key))
        )
        request.start()
        # The COMMIT is durable and waits for the standby: the outcome is decided, unheard.
        wait_for(lambda: bool(_waiting(held_commits, "SyncRep")), 15, "a held commit")
        os.kill(victim, signal.SIGKILL)
        _await_replacement(server, victim)
        request.join(30)
        with held_commits.connect() as conn:
            conn.execute(text("ALTER SYSTEM RESET synchronous_standby_names"))
            conn.execute(text("SELECT pg_reload_conf()"))
        wait_for(lambda: not _waiting(held_commits, "SyncRep"), 15, "the commit let through")

        retry = create(server.base_url, token, article(title), key)
        print(f"\nworker SIGKILLed in its COMMIT: the client got {first}; retry: {brief(retry)}")
        assert first and isinstance(first[0], str), first  # no answer reached the client
        assert isinstance(retry, Reply) and retry.status == 201, retry
        assert retry.headers[REPLAYED] == "true"
        assert articles_titled(sql, title) == 1
    sql.dispose()


SLOW_ARTICLE_INSERTS = """
CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$;
CREATE TRIGGER slow_insert AFTER INSERT ON articles FOR EACH ROW EXECUTE FUNCTION slow_insert();
"""
FAST_ARTICLE_INSERTS = """
CREATE OR REPLACE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END $$;
"""


def test_worker_killed_before_its_commit_is_taken_over_after_the_lease(
    database_url: str, sql: Engine
) -> None:
    timeout = 3  # GUNICORN_TIMEOUT; the lease is 5 s more
    with gunicorn_server(database_url, workers=1, env={"GUNICORN_TIMEOUT": str(timeout)}) as server:
        token = register(server.base_url)
        with sql.begin() as conn:
            conn.execute(text(SLOW_ARTICLE_INSERTS))
        title, key = f"died-{uuid.uuid4().hex}", str(uuid.uuid4())
        victim = _only_worker(server)
        first: list[Reply | str] = []
        request = threading.Thread(
            target=lambda: first.append(create(server.base_url, token, article(title), key))
        )
        claimed = time.monotonic()
        request.start()
        wait_for(lambda: bool(_waiting(sql, "PgSleep")), 10, "the insert under way")
        os.kill(victim, signal.SIGKILL)  # well within gunicorn's own timeout
        with sql.begin() as conn:
            for pid in _waiting(sql, "PgSleep"):
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.execute(text(FAST_ARTICLE_INSERTS))
        request.join(30)
        _await_replacement(server, victim)

        assert first and isinstance(first[0], str), first
        assert articles_titled(sql, title) == 0
        busy = create(server.base_url, token, article(title), key)
        assert isinstance(busy, Reply) and busy.status == 409 and busy.json() == IN_PROGRESS
        lease = timeout + 5
        time.sleep(max(lease - (time.monotonic() - claimed), 0) + 0.5)
        taken = create(server.base_url, token, article(title), key)
        again = create(server.base_url, token, article(title), key)
        print(
            f"\nworker SIGKILLed before its commit: {first}; a retry: {brief(busy)};"
            f" after the lease: {brief(taken)}, then {brief(again)}"
        )
        assert isinstance(taken, Reply) and taken.status == 201, taken
        assert REPLAYED not in taken.headers
        assert isinstance(again, Reply) and again.headers[REPLAYED] == "true"
        assert articles_titled(sql, title) == 1
