"""The read cache over a replica whose replay is paused: after a write invalidates it, a fill
reads at or past that write (on the primary here), never the replica's older answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from testkit.http import call
from testkit.servers import Server
from tests.replicas.conftest import Replicated
from tests.replicas.live import get, publish, reads, replica_serves, user
from tests.support.ops import gunicorn_server

pytestmark = pytest.mark.xdist_group("replicas")


@pytest.fixture
def server(replicated: Replicated, redis_db: str) -> Iterator[Server]:
    env = {
        "DATABASE_REPLICA_URLS": replicated.replica.url,
        "REPLICA_MAX_LAG_SECONDS": "30",
        "REDIS_URL": redis_db,
        "READ_CACHE": "true",
    }
    with gunicorn_server(replicated.primary.url, workers=2, env=env) as live:
        yield live


def test_a_fill_after_an_invalidation_never_stores_the_replicas_stale_answer(
    replicated: Replicated, server: Server
) -> None:
    url = server.base_url
    writer, name = user(url)
    slug = publish(url, writer, "cached")
    path = f"/api/articles/{slug}"
    replicated.caught_up()
    # Not cached: served by the database. Read by the writer, so routed by the publish's
    # position, which the fill below must see too: every worker's monitor has seen the
    # replica replay it (a monitor polls every 200 ms; `caught_up` waits for the replica).
    replica_serves(server, f"/api/profiles/{name}", writer)
    before = reads(url)
    assert get(url, path)["article"]["body"] == "b"  # a fill, from the replica
    assert reads(url).get("replica", 0) > before.get("replica", 0)
    assert get(url, path)["article"]["body"] == "b"  # a hit

    replicated.pause()
    try:
        reply = call(url, "PUT", path, token=writer, json_body={"article": {"body": "edited"}})
        assert reply.status == 200, reply.body
        for _ in range(5):  # the fill after the write, then hits: never the replica's "b"
            assert get(url, path)["article"]["body"] == "edited"
            assert get(url, path, writer)["article"]["body"] == "edited"
        # The list, filled after the write too, while the replica still has the old body.
        listed = get(url, f"/api/articles?author={name}")["articles"]
        assert [a["slug"] for a in listed] == [slug]
        with replicated.replica_sql.connect() as conn:
            found = conn.execute(text("SELECT body FROM articles WHERE slug = :s"), {"s": slug})
            old = found.scalar()
        assert old == "b", "replay was not paused: this test proves nothing"
    finally:
        replicated.resume()
    replicated.caught_up()
    assert get(url, path)["article"]["body"] == "edited"
