"""What the replica tests ask of a live server: its read counters, and users and articles."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from testkit.http import call, register
from testkit.servers import Server

USABLE = re.compile(r'^conduit_replica_usable\{replica="[^"]+"\} ([0-9.e+]+)$', re.MULTILINE)
READS = re.compile(r'^conduit_db_reads_total\{server="(\w+)"\} ([0-9.e+]+)$', re.MULTILINE)


def reads(base_url: str) -> dict[str, float]:
    """The server's reads so far, by who served them (`primary`, `replica`)."""
    reply = call(base_url, "GET", "/metrics")
    assert reply.status == 200, reply.status
    return {server: float(n) for server, n in READS.findall(reply.body.decode())}


def replica_serves(
    server: Server, path: str, token: str | None = None, timeout: float = 20
) -> None:
    """Wait until every worker's monitor finds the replica usable and `path` (read anonymously,
    or with `token`: routed by its user's last write) is served by it 20 times in a row.

    Every worker: gunicorn answers once one has booted, and `conduit_replica_usable` is the
    minimum over the workers that have set it, so the test waits for each worker's file.
    """
    base_url = server.base_url
    metrics_dir = server.log_path.parent
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        polled = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("gauge_livemin_*.db")}
        booted = {str(pid) for pid in server.worker_pids()}
        usable = USABLE.findall(call(base_url, "GET", "/metrics").body.decode())
        if not booted or not booted <= polled or usable != ["1.0"]:
            time.sleep(0.2)
            continue
        before = reads(base_url)
        for _ in range(20):
            assert call(base_url, "GET", path, token=token).status == 200
        after = reads(base_url)
        if after.get("primary", 0) == before.get("primary", 0) and after.get("replica", 0) > 0:
            return
        time.sleep(0.3)
    raise AssertionError(f"the replica did not serve every worker's reads within {timeout}s")


def user(base_url: str) -> tuple[str, str]:
    """A new user's (token, username)."""
    name = f"r{uuid.uuid4().hex[:10]}"
    return register(base_url, name), name


def publish(base_url: str, token: str, title: str) -> str:
    article = {"title": title, "description": "d", "body": "b", "tagList": []}
    reply = call(base_url, "POST", "/api/articles", json_body={"article": article}, token=token)
    assert reply.status == 201, (reply.status, reply.body)
    slug: str = reply.json()["article"]["slug"]
    return slug


def get(base_url: str, path: str, token: str | None = None) -> Any:
    reply = call(base_url, "GET", path, token=token)
    assert reply.status in (200, 404), (path, reply.status, reply.body)
    return reply.json() if reply.status == 200 else None


def titles(base_url: str, author: str, token: str | None = None) -> set[str]:
    found = get(base_url, f"/api/articles?author={author}&limit=100", token)
    return {a["title"] for a in found["articles"]}
