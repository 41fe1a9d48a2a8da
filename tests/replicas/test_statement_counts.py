"""Routing costs no statement: a read served by a replica runs what it runs on the primary."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from api import create_app
from api.app import Conduit
from testkit.database import QueryCounter
from testkit.settings import make_settings
from tests.replicas.conftest import Replicated

pytestmark = pytest.mark.xdist_group("replicas")


@pytest.fixture
def apps(replicated: Replicated, redis_db: str) -> Iterator[tuple[Conduit, Conduit]]:
    """The same database, read without replicas and with one."""
    common = {"redis_url": redis_db, "read_cache": False}
    plain = create_app(make_settings(replicated.primary.url, **common))
    routed = create_app(
        make_settings(
            replicated.primary.url, database_replica_urls=[replicated.replica.url], **common
        )
    )
    try:
        yield plain, routed
    finally:
        for app in (plain, routed):
            app.runtime.dispose()


def test_a_read_served_by_a_replica_costs_no_extra_statement(
    replicated: Replicated, apps: tuple[Conduit, Conduit]
) -> None:
    plain, routed = apps
    client = plain.test_client()
    user = {"username": "counted", "email": "counted@example.com", "password": "password 123"}
    token = client.post("/api/users", json={"user": user}).get_json()["user"]["token"]
    article = {"title": "counted", "description": "d", "body": "b", "tagList": ["t"]}
    posted = client.post("/api/articles", json={"article": article},
                         headers={"Authorization": f"Token {token}"})  # fmt: skip
    slug = posted.get_json()["article"]["slug"]
    replicated.caught_up()
    database = routed.runtime.database
    assert database.replicas is not None
    deadline = time.monotonic() + 10
    while database.replicas.statuses()[0].state != "up":
        assert time.monotonic() < deadline, database.replicas.statuses()
        time.sleep(0.05)
    primary_engine = plain.runtime.database.engine
    replica_engine = database.replicas.replicas[0].engine
    paths = ["/api/articles", f"/api/articles/{slug}", f"/api/articles/{slug}/comments",
             "/api/profiles/counted", "/api/tags"]  # fmt: skip
    for signed in (False, True):
        headers = {"Authorization": f"Token {token}"} if signed else {}
        for path in paths:
            with QueryCounter(primary_engine) as alone:
                assert client.get(path, headers=headers).status_code == 200
            with (
                QueryCounter(database.engine) as primary,
                QueryCounter(replica_engine) as replica,
            ):
                assert routed.test_client().get(path, headers=headers).status_code == 200
            assert primary.count == 0, (path, primary.statements)
            assert replica.count == alone.count > 0, (path, replica.statements, alone.statements)
