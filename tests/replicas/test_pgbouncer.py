"""The app unchanged behind Debian's PgBouncer: transaction pooling (the trap: psycopg 3
prepares a query on its fifth run, and PgBouncer 1.18 keeps no track of prepared statements)
and session pooling, with a server pool smaller than the workers' total."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import make_url

import tests.sdk.conftest  # noqa: F401  (puts the generated Python SDK on the path)
from testkit.database import PrivateCluster
from testkit.http import call, register
from testkit.pgbouncer import PoolMode, pgbouncer
from testkit.servers import free_port, gunicorn_server
from tests.ops import test_bad_input as bad_input
from tests.sdk import test_python_sdk as sdk
from tests.sdk import test_typescript_sdk as ts
from tests.sdk.test_typescript_sdk import node_package  # noqa: F401  (the fixture)
from tests.support.ops import QUIET

pytestmark = [pytest.mark.xdist_group("replicas"), pytest.mark.usefixtures("pgbouncer_program")]

WORKERS = 4  # per node, two nodes
REPEATS = 12  # more than psycopg's prepare threshold (5) per worker connection


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_prepared_statements_break_transaction_pooling_unless_disabled(
    private_cluster: PrivateCluster,
) -> None:
    """The trap is real here (so the journey below proves the setting, not luck)."""
    with pgbouncer(private_cluster, free_port(), pool_size=2) as bouncer:
        failures = []
        for threshold in (5, None):
            errors: list[str] = []
            connections = [
                psycopg.connect(
                    _conninfo(bouncer.url), autocommit=True, prepare_threshold=threshold
                )
                for _ in range(4)
            ]
            try:
                for _ in range(REPEATS):
                    for connection in connections:
                        try:
                            connection.execute("SELECT count(*) FROM pg_class WHERE oid > %s", [0])
                        except psycopg.Error as error:
                            errors.append(type(error).__name__)
            finally:
                for connection in connections:
                    connection.close()
            failures.append(errors)
        prepared, unprepared = failures
        assert prepared, "psycopg's default prepare threshold should fail behind PgBouncer"
        assert unprepared == []


@pytest.mark.usefixtures("node_package")
@pytest.mark.parametrize(("pool_mode", "pool_size"), [("transaction", 3), ("session", 40)])
def test_the_live_journey_passes_through_pgbouncer(
    private_cluster: PrivateCluster,
    pool_mode: PoolMode,
    pool_size: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In session pooling psycopg keeps preparing statements (REPEATS runs each past its
    # threshold on every worker connection): a client keeps its server connection there.
    env = {**QUIET, "BEHIND_PGBOUNCER": "true", "PGBOUNCER_POOL_MODE": pool_mode}
    monkeypatch.setenv("BEHIND_PGBOUNCER", "true")  # the migrations, run here, go through it too
    monkeypatch.setenv("PGBOUNCER_POOL_MODE", pool_mode)
    with (
        pgbouncer(
            private_cluster, free_port(), pool_mode=pool_mode, pool_size=pool_size
        ) as bouncer,
        gunicorn_server(bouncer.url, workers=WORKERS, env=env) as one,
        gunicorn_server(bouncer.url, workers=WORKERS, env=env) as two,
    ):
        statuses: list[int] = []
        lock = threading.Lock()

        def reads(base_url: str) -> None:
            token = register(base_url)
            article = {"title": "through pgbouncer", "description": "d", "body": "b"}
            created = call(base_url, "POST", "/api/articles", json_body={"article": article},
                           token=token)  # fmt: skip
            slug = created.json()["article"]["slug"]
            paths = ["/api/articles", f"/api/articles/{slug}", f"/api/articles/{slug}/comments",
                     "/api/tags", "/api/user"]  # fmt: skip
            seen = [created.status]
            for _ in range(REPEATS * WORKERS):
                seen.extend(call(base_url, "GET", path, token=token).status for path in paths)
            seen.append(
                call(base_url, "POST", f"/api/articles/{slug}/favorite", token=token).status
            )
            with lock:
                statuses.extend(seen)

        jobs: list[Callable[[], None]] = [
            lambda: sdk.test_journey(f"{one.base_url}/api"),
            lambda: ts.test_typescript_journey(None, f"{two.base_url}/api"),
            lambda: bad_input.test_no_bad_input_breaks_the_server(two.base_url),
            *[lambda url=url: reads(url) for url in (one.base_url, two.base_url) for _ in range(3)],
        ]
        with ThreadPoolExecutor(len(jobs)) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()
        assert statuses and all(200 <= status < 300 for status in statuses), sorted(set(statuses))
        for server in (one, two):
            assert "prepared statement" not in server.log()
            assert "Traceback" not in server.log()
        print(f"{pool_mode} pooling, {pool_size} server connections for 2 x {WORKERS} workers:"
              f" {len(statuses)} reads and writes besides the journeys, all 2xx")  # fmt: skip
