"""The whole topology: primary and replica both behind PgBouncer in transaction pooling. The
monitor, the routing and read-your-writes work through it as they do directly."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from testkit.http import call
from testkit.pgbouncer import pgbouncer
from testkit.servers import free_port
from tests.replicas.conftest import Replicated
from tests.replicas.live import get, reads, replica_serves, user
from tests.support.ops import gunicorn_server

pytestmark = [pytest.mark.xdist_group("replicas"), pytest.mark.usefixtures("pgbouncer_program")]


def test_read_your_writes_through_pgbouncer(
    replicated: Replicated, redis_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with replicated.primary_sql.connect() as conn:
        conn.execute(text("ALTER DATABASE conduit SET statement_timeout = '10s'"))
    monkeypatch.setenv("BEHIND_PGBOUNCER", "true")  # the launcher's migration check, here
    with pgbouncer(replicated.primary, free_port(), replica=replicated.replica) as bouncer:
        env = {
            "BEHIND_PGBOUNCER": "true",
            "DATABASE_REPLICA_URLS": bouncer.replica_url,
            "REPLICA_MAX_LAG_SECONDS": "30",
            "REDIS_URL": redis_db,
            "READ_CACHE": "false",
        }
        with gunicorn_server(bouncer.url, workers=4, env=env) as server:
            url = server.base_url
            writer, name = user(url)
            replicated.caught_up()
            replica_serves(server, f"/api/profiles/{name}")
            replicated.pause()
            try:
                for n in range(8):  # past psycopg's prepare threshold on every connection
                    bio = f"bio {n}"
                    reply = call(url, "PUT", "/api/user", token=writer,
                                 json_body={"user": {"bio": bio}})  # fmt: skip
                    assert reply.status == 200, reply.body
                    assert get(url, f"/api/profiles/{name}", writer)["profile"]["bio"] == bio
                    assert get(url, f"/api/profiles/{name}")["profile"]["bio"] is None
                assert reads(url)["replica"] > 0
            finally:
                replicated.resume()
            replicated.caught_up()
            assert get(url, f"/api/profiles/{name}")["profile"]["bio"] == "bio 7"
            assert "prepared statement" not in server.log()
