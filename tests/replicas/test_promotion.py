"""A replica promoted (or fenced out of recovery) is never read from again: within a second
its monitor sees it out of recovery, and the reads go to the primary."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from testkit.http import call
from testkit.servers import Server
from tests.replicas.conftest import Replicated
from tests.replicas.live import reads, replica_serves, user
from tests.support.ops import gunicorn_server

pytestmark = pytest.mark.xdist_group("replicas")


@pytest.fixture
def server(replicated: Replicated, redis_db: str) -> Iterator[Server]:
    env = {"DATABASE_REPLICA_URLS": replicated.replica.url, "REDIS_URL": redis_db}
    with gunicorn_server(replicated.primary.url, workers=2, env=env) as live:
        yield live


def test_a_promoted_replica_is_skipped_within_a_second(
    replicated: Replicated, server: Server
) -> None:
    url = server.base_url
    _, name = user(url)
    replicated.caught_up()
    replica_serves(server, f"/api/profiles/{name}")
    with replicated.replica_sql.connect() as conn:
        conn.exec_driver_sql("SELECT pg_promote(true, 10)")
    promoted = time.monotonic()
    time.sleep(1.0)
    before = reads(url)
    for _ in range(20):
        assert call(url, "GET", f"/api/profiles/{name}").status == 200
    after = reads(url)
    assert after.get("replica", 0) == before.get("replica", 0), "a promoted replica was read"
    assert after["primary"] - before.get("primary", 0) == 20
    ready = call(url, "GET", "/api/ready").json()
    assert ready["status"] == "degraded"
    assert [r["state"] for r in ready["replicas"]] == ["promoted"]
    print(f"promoted: no read went to it from {time.monotonic() - promoted:.1f} s after")
