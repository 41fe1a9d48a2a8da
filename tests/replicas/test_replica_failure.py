"""A replica killed under load costs clients nothing, and is read from again once back."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from testkit.http import call
from testkit.servers import Server
from tests.replicas.conftest import Replicated
from tests.replicas.live import publish, reads, replica_serves, user
from tests.support.ops import gunicorn_server

pytestmark = pytest.mark.xdist_group("replicas")

# The issue asks for 60 s of load; 20 s (REPLICA_LOAD_SECONDS to change it) keeps the suite
# short and still spans the kill, the seconds down and the return.
LOAD_SECONDS = float(os.environ.get("REPLICA_LOAD_SECONDS", "20"))
CLIENTS = 6


@pytest.fixture
def server(replicated: Replicated, redis_db: str) -> Iterator[Server]:
    env = {
        "DATABASE_REPLICA_URLS": replicated.replica.url,
        "REDIS_URL": redis_db,
        "READ_CACHE": "false",
    }
    with gunicorn_server(replicated.primary.url, workers=4, env=env) as live:
        yield live


def test_a_killed_replica_costs_no_error_and_serves_again_once_back(
    replicated: Replicated, server: Server
) -> None:
    url = server.base_url
    token, name = user(url)
    slug = publish(url, token, "under load")
    call(url, "POST", f"/api/articles/{slug}/comments", token=token,
         json_body={"comment": {"body": "hi"}})  # fmt: skip
    replicated.caught_up()
    replica_serves(server, f"/api/profiles/{name}")
    paths = ["/api/articles", f"/api/articles/{slug}", f"/api/articles/{slug}/comments",
             f"/api/profiles/{name}", "/api/tags"]  # fmt: skip
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def load(client: int) -> None:
        turn = client
        while not stop.is_set():
            signed = turn % 4 == 0  # a quarter of the reads carry the token
            status = call(url, "GET", paths[turn % len(paths)], token=token if signed else None,
                          timeout=10).status  # fmt: skip
            with lock:
                statuses[status] += 1
            turn += 1

    threads = [threading.Thread(target=load, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(LOAD_SECONDS * 0.2)
        before_kill = reads(url)
        replicated.replica.kill()
        time.sleep(LOAD_SECONDS * 0.3)
        while_down = reads(url)
        ready_down = call(url, "GET", "/api/ready").json()
        replicated.replica.start()
        time.sleep(LOAD_SECONDS * 0.1)
        back = reads(url)
        time.sleep(LOAD_SECONDS * 0.4)
        ready_back = call(url, "GET", "/api/ready").json()
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
    end = reads(url)
    total = sum(statuses.values())
    print(
        f"{total} reads in {LOAD_SECONDS:.0f} s by {CLIENTS} clients on 4 workers: {dict(statuses)};"
        f" served by the replica: before the kill {before_kill.get('replica', 0):.0f},"
        f" while down +{while_down.get('replica', 0) - before_kill.get('replica', 0):.0f},"
        f" after the restart +{end.get('replica', 0) - back.get('replica', 0):.0f};"
        f" by the primary while down +{while_down.get('primary', 0) - before_kill.get('primary', 0):.0f}"
    )
    assert set(statuses) == {200}, statuses
    # /api/ready: down (degraded) while killed, up again once back
    assert ready_down["status"] == "degraded"
    assert [r["state"] for r in ready_down["replicas"]] == ["down"]
    assert ready_back["status"] == "ready", ready_back
    (replica,) = ready_back["replicas"]
    assert replica["state"] == "up" and replica["lagSeconds"] < 5
    assert end.get("replica", 0) > back.get("replica", 0), "the replica was not read from again"
    assert while_down.get("primary", 0) > before_kill.get("primary", 0)
