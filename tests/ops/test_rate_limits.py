"""Login and registration limits on gunicorn with 4 workers, counted in one Redis database.

Every request goes on its own connection, so the kernel hands them to different workers;
gunicorn's access log records which worker pid answered which request id. If the counters
were per worker, a request reaching a worker that had not seen the first five would pass.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from testkit.http import Reply, call
from testkit.servers import gunicorn
from tests.support.ops import JWT_SECRET, REDIS_URL

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

LIMIT = 5
EXTRA = 20
WORKERS = 4
LOG_FORMAT = "%(p)s %({x-request-id}i)s %(s)s"
LINE = re.compile(r"^<(\d+)> (\S+) (\d{3})$")
LIMITED = {"rate_limit": [f"exceeded: at most {LIMIT} per 1 minute"]}


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[str, Path]]:
    """One server for the module; each test's `redis_db` empties the counters first."""
    with tempfile.TemporaryDirectory(prefix="conduit-ratelimit-") as tmp:
        access_log = Path(tmp) / "access.log"
        env = {
            "JWT_SECRET_KEY": JWT_SECRET,
            "RATE_LIMIT_ENABLED": "true",
            "REDIS_URL": REDIS_URL,
            "RATE_LIMIT_LOGIN": f"{LIMIT}/minute",
            "RATE_LIMIT_REGISTER": f"{LIMIT}/minute",
            "ACCESS_LOG": "false",
            # gunicorn's own access log can name the worker pid; our JSON log does not.
            "GUNICORN_ACCESS_LOG": str(access_log),
            "GUNICORN_CMD_ARGS": f"--access-logformat '{LOG_FORMAT}'",
        }
        with gunicorn(database_url, workers=WORKERS, env=env) as base_url:
            yield base_url, access_log


def worker_of(access_log: Path, request_ids: list[str]) -> dict[str, tuple[int, int]]:
    """request id -> (worker pid, status), from gunicorn's access log.

    A worker logs a request after answering it, so wait briefly for the last lines.
    """
    deadline = time.monotonic() + 10
    while True:
        found = {}
        for line in access_log.read_text().splitlines():
            if match := LINE.match(line):
                found[match.group(2)] = (int(match.group(1)), int(match.group(3)))
        if set(request_ids) <= set(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def send(base_url: str, path: str, body: Mapping[str, object]) -> tuple[str, Reply]:
    request_id = uuid.uuid4().hex
    return request_id, call(
        base_url, "POST", path, json_body=body, headers={"X-Request-ID": request_id}
    )


def assert_limited(
    base_url: str,
    access_log: Path,
    path: str,
    bodies: Sequence[Mapping[str, object]],
    allowed_status: int,
) -> None:
    allowed = [send(base_url, path, body) for body in bodies[:LIMIT]]
    assert [r.status for _, r in allowed] == [allowed_status] * LIMIT, [
        (r.status, r.body) for _, r in allowed
    ]
    # The rest concurrently too, so that all four workers are busy answering them.
    with ThreadPoolExecutor(WORKERS) as pool:
        refused = list(pool.map(lambda b: send(base_url, path, b), bodies[LIMIT:]))

    pids = worker_of(access_log, [rid for rid, _ in allowed + refused])
    statuses = Counter(r.status for _, r in refused)
    by_worker = Counter(pids[rid][0] for rid, _ in refused if rid in pids)
    print(f"\n{path}: first {LIMIT} -> {allowed_status}; next {len(refused)} -> {dict(statuses)}")
    print(
        f"  allowed answered by pids {sorted({pids[rid][0] for rid, _ in allowed if rid in pids})}"
    )
    print(f"  429s answered by pids {dict(by_worker)}")
    for _, reply in refused:
        assert reply.status == 429, (reply.status, reply.body)
        assert reply.errors() == LIMITED, reply.body
        assert int(reply.headers["retry-after"]) > 0
    missing = [rid for rid, _ in allowed + refused if rid not in pids]
    assert not missing, "every request should be in gunicorn's access log"
    assert len({pid for pid, _ in pids.values()}) >= 2, "requests never reached two workers"
    assert len(by_worker) >= 2, "the 429s all came from one worker: sharing is not shown"


def test_login_limit_is_shared_by_all_workers(server: tuple[str, Path], redis_db: str) -> None:
    base_url, access_log = server
    name = f"rl{uuid.uuid4().hex[:10]}"
    user = {"username": name, "email": f"{name}@example.com", "password": "rate limit pw"}
    assert call(base_url, "POST", "/api/users", json_body={"user": user}).status == 201
    login = {"user": {"email": user["email"], "password": user["password"]}}
    assert_limited(base_url, access_log, "/api/users/login", [login] * (LIMIT + EXTRA), 200)
    # The counters really live in Redis (not in the in-memory fallback of each worker).
    keys = list(redis.Redis.from_url(redis_db).scan_iter("*conduit*"))
    assert any(key.startswith(b"conduit:budget:login:") for key in keys), keys


def test_registration_limit_is_shared_by_all_workers(
    server: tuple[str, Path], redis_db: str
) -> None:
    base_url, access_log = server
    bodies: list[dict[str, object]] = []
    for _ in range(LIMIT + EXTRA // 2):
        name = f"rg{uuid.uuid4().hex[:10]}"
        bodies.append(
            {"user": {"username": name, "email": f"{name}@example.com", "password": "reg pw 123"}}
        )
    assert_limited(base_url, access_log, "/api/users", bodies, 201)
