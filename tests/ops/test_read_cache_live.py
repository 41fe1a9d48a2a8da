"""The read cache on gunicorn with two workers sharing one Redis: a write answered by one worker
is in the very next anonymous read on the other worker; no read started after a write
was answered is ever older than that write, under concurrent load; and with Redis stopped the
API keeps answering, fresh, while /api/ready says `degraded`.
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.pipeline.cache import BREAK_SECONDS
from testkit.http import Reply, call, parked, ready_state, register, send
from testkit.redis_server import private_redis
from tests.support.ops import REDIS_URL, gunicorn_server, pid_log_env, workers_of

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

HITS = re.compile(r'^conduit_read_cache_lookups_total\{result="hit"\} (\S+)$', re.M)


def hits(base_url: str) -> float:
    """Cache hits so far, summed over the workers (/metrics)."""
    return sum(float(v) for v in HITS.findall(call(base_url, "GET", "/metrics").body.decode()))


def read(base_url: str, slug: str) -> Reply:
    return answered(call(base_url, "GET", f"/api/articles/{slug}"))


def answered(reply: Reply) -> Reply:
    assert reply.status == 200, (reply.status, reply.body)
    return reply


def body(reply: Reply) -> str:
    text: str = reply.json()["article"]["body"]
    return text


def rewrite(base_url: str, token: str, slug: str, text: str, request_id: str = "") -> None:
    headers = {"X-Request-ID": request_id} if request_id else {}
    reply = call(
        base_url,
        "PUT",
        f"/api/articles/{slug}",
        json_body={"article": {"body": text}},
        token=token,
        headers=headers,
    )
    assert reply.status == 200, (reply.status, reply.body)


def new_article(base_url: str, token: str) -> str:
    article = {"title": f"cached {uuid.uuid4().hex[:8]}", "description": "d", "body": "v0"}
    reply = call(base_url, "POST", "/api/articles", json_body={"article": article}, token=token)
    assert reply.status == 201, (reply.status, reply.body)
    slug: str = reply.json()["article"]["slug"]
    return slug


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="conduit-cache-") as tmp:
        access_log = Path(tmp) / "access.log"
        env = {"REDIS_URL": REDIS_URL, **pid_log_env(access_log)}
        with gunicorn_server(database_url, workers=2, env=env) as live:
            yield live.base_url, access_log


def test_a_write_is_in_the_next_read_on_another_worker(
    server: tuple[str, Path], redis_db: str
) -> None:
    base_url, access_log = server
    token = register(base_url)
    slug = new_article(base_url, token)
    hits_before = hits(base_url)
    pairs = []
    for n in range(1, 25):
        read(base_url, slug)  # cached, whichever worker answers
        write_id, read_id = uuid.uuid4().hex, uuid.uuid4().hex
        # One worker waits on the parked connection, so the other answers the write; the read
        # is then sent on the parked one.
        with parked(base_url) as later:
            rewrite(base_url, token, slug, f"v{n}", write_id)
            path, headers = f"/api/articles/{slug}", {"X-Request-ID": read_id}
            reply = answered(send(later, "GET", path, headers=headers))
        assert body(reply) == f"v{n}", f"write {n} read stale"
        pairs.append((write_id, read_id))
    pids = workers_of(access_log, [rid for pair in pairs for rid in pair])
    crossed = [pair for pair in pairs if pids[pair[0]][0] != pids[pair[1]][0]]
    print(f"\n{len(crossed)} of {len(pairs)} write/read pairs crossed workers")
    assert len(crossed) == len(pairs), "a read was answered by the worker that wrote"
    assert hits(base_url) > hits_before, "the cache was never hit: nothing shown"


def test_no_stale_read_under_concurrent_writes(server: tuple[str, Path], redis_db: str) -> None:
    """A read that starts after version n was acknowledged must show n or later."""
    base_url, _ = server
    token = register(base_url)
    slug = new_article(base_url, token)
    hits_before = hits(base_url)
    acknowledged = 0
    done = threading.Event()
    reads: list[int] = []
    stale: list[tuple[int, int]] = []

    def writer() -> None:
        nonlocal acknowledged
        try:
            for n in range(1, 41):
                rewrite(base_url, token, slug, f"v{n}")
                acknowledged = n
                time.sleep(0.01)  # leave the readers some hits between writes
        finally:
            done.set()

    def reader() -> None:
        while not done.is_set():
            floor = acknowledged
            seen = int(body(read(base_url, slug)).removeprefix("v"))
            reads.append(seen)
            if seen < floor:
                stale.append((floor, seen))

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    hit_count = hits(base_url) - hits_before
    print(f"\n{len(reads)} reads during 40 writes, {hit_count:.0f} cache hits, {len(stale)} stale")
    assert stale == [], f"reads older than an acknowledged write: {stale[:10]}"
    assert len(reads) > 40 and hit_count > 0, "too little concurrency or no hits: nothing shown"
    assert body(read(base_url, slug)) == "v40"


def test_a_redis_outage_serves_from_the_database(database_url: str) -> None:
    with (
        private_redis() as redis_server,
        gunicorn_server(database_url, workers=2, env={"REDIS_URL": redis_server.url}) as live,
    ):
        base_url = live.base_url
        token = register(base_url)
        slug = new_article(base_url, token)
        for _ in range(4):
            read(base_url, slug)
        assert hits(base_url) > 0
        assert ready_state(call(base_url, "GET", "/api/ready").json()) == ("ready", "ok")

        redis_server.stop()
        for n in range(1, 6):
            rewrite(base_url, token, slug, f"down {n}")
            for _ in range(3):
                assert body(read(base_url, slug)) == f"down {n}"
        for _ in range(4):  # each worker says so
            ready = call(base_url, "GET", "/api/ready")
            assert (ready.status, ready_state(ready.json())) == (200, ("degraded", "degraded"))
        tags = call(base_url, "GET", "/api/tags")
        assert tags.status == 200

        redis_server.start()  # empty: a new generation
        time.sleep(BREAK_SECONDS + 0.5)
        hits_before = hits(base_url)
        for _ in range(6):
            assert body(read(base_url, slug)) == "down 5"
        assert hits(base_url) > hits_before, "the cache did not come back"
        for _ in range(4):
            assert ready_state(call(base_url, "GET", "/api/ready").json()) == ("ready", "ok")
