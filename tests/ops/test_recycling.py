"""Worker recycling (GUNICORN_MAX_REQUESTS) under concurrent load: no request lost, recycles
spread by the jitter, and one "Autorestarting worker" line per recycled worker, not one per
request its drain serves (deploy/gunicorn_conf.py's worker_exit)."""

from __future__ import annotations

import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from testkit.http import call
from tests.support.ops import gunicorn_server, pid_log_env, workers_of

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

MAX_REQUESTS = 20
REQUESTS = 300


def test_recycled_workers_log_once_and_lose_nothing(database_url: str) -> None:
    with tempfile.TemporaryDirectory(prefix="conduit-recycle-") as tmp:
        access_log = Path(tmp) / "access.log"
        env = {"GUNICORN_MAX_REQUESTS": str(MAX_REQUESTS), **pid_log_env(access_log)}
        with gunicorn_server(database_url, workers=2, env=env) as server:
            ids = [uuid.uuid4().hex for _ in range(REQUESTS)]

            def get(request_id: str) -> int:
                return call(
                    server.base_url, "GET", "/api/tags", headers={"X-Request-ID": request_id}
                ).status

            # More clients than workers: connections queue while a worker drains and leaves.
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(get, ids))
            served = workers_of(access_log, ids)
            time.sleep(1)  # a worker that decided to recycle is gone by now
            live = server.worker_pids()
            log = server.log()
    assert statuses == [200] * REQUESTS
    by_worker: dict[int, int] = {}
    for pid, _status in served.values():
        by_worker[pid] = by_worker.get(pid, 0) + 1
    recycled = set(by_worker) - live
    lines = log.count("Autorestarting worker")
    print(f"\n{len(recycled)} workers recycled, {lines} lines; requests per worker {by_worker}")
    assert len(recycled) >= 2, "too few recycles to show anything"
    assert lines == len(recycled), "one line per recycled worker"
    # Each left after max_requests plus its jitter (up to 50% more), having drained nothing:
    # the others and its successor serve what was queued.
    served_by_recycled = [by_worker[pid] for pid in recycled]
    assert all(MAX_REQUESTS <= n <= MAX_REQUESTS * 3 // 2 for n in served_by_recycled), by_worker
    assert len(set(served_by_recycled)) > 1, "the jitter should spread the recycles"
