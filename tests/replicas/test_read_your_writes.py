"""Read-your-writes over a streaming replica whose replay is paused: the writer reads each of
its writes at once (from the primary), an anonymous reader is served the replica's older state
until replay resumes, and then both agree."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from testkit.http import PASSWORD, call
from testkit.servers import Server
from tests.replicas.conftest import Replicated
from tests.replicas.live import get, publish, reads, replica_serves, titles, user
from tests.support.ops import gunicorn_server

pytestmark = pytest.mark.xdist_group("replicas")

# Long enough for the whole paused sequence: the replica stays usable, lagging under it.
MAX_LAG = 30


@pytest.fixture
def server(replicated: Replicated, redis_db: str) -> Iterator[Server]:
    env = {
        "DATABASE_REPLICA_URLS": replicated.replica.url,
        "REPLICA_MAX_LAG_SECONDS": str(MAX_LAG),
        "REDIS_URL": redis_db,
        "READ_CACHE": "false",
    }
    with gunicorn_server(replicated.primary.url, workers=2, env=env) as live:
        yield live


def test_the_writer_reads_every_write_at_once_while_replay_is_paused(
    replicated: Replicated, server: Server
) -> None:
    url = server.base_url
    writer, name = user(url)
    other, other_name = user(url)
    edited, deleted = publish(url, writer, "to edit"), publish(url, writer, "to delete")
    theirs = publish(url, other, "theirs")
    replicated.caught_up()
    replica_serves(server, f"/api/profiles/{name}")
    replicated.pause()
    before = reads(url)
    stale_for_writer = 0

    def check(writer_sees: Callable[[str | None], bool], anonymous_sees_old: bool = True) -> None:
        nonlocal stale_for_writer
        if not writer_sees(writer):
            stale_for_writer += 1
        if anonymous_sees_old:
            assert not writer_sees(None), f"the anonymous reader read the primary: {reads(url)}"

    # publish
    publish(url, writer, "published while paused")
    check(lambda token: "published while paused" in titles(url, name, token))
    # edit
    reply = call(url, "PUT", f"/api/articles/{edited}", token=writer,
                 json_body={"article": {"title": "edited while paused"}})  # fmt: skip
    assert reply.status == 200, reply.body
    check(lambda token: "edited while paused" in titles(url, name, token))
    # delete
    assert call(url, "DELETE", f"/api/articles/{deleted}", token=writer).status == 204
    check(lambda token: "to delete" not in titles(url, name, token))
    # favorite
    assert call(url, "POST", f"/api/articles/{theirs}/favorite", token=writer).status == 200
    check(
        lambda token: get(url, f"/api/articles/{theirs}", token)["article"]["favoritesCount"] == 1
    )
    # follow (an anonymous reader follows nobody: the writer's own view only)
    assert call(url, "POST", f"/api/profiles/{other_name}/follow", token=writer).status == 200
    check(
        lambda token: (
            token is not None
            and get(url, f"/api/profiles/{other_name}", token)["profile"]["following"]
            and theirs in {a["slug"] for a in get(url, "/api/articles/feed", token)["articles"]}
        ),
        anonymous_sees_old=False,
    )
    # comment
    reply = call(url, "POST", f"/api/articles/{theirs}/comments", token=writer,
                 json_body={"comment": {"body": "said while paused"}})  # fmt: skip
    assert reply.status in (200, 201), reply.body
    check(lambda token: any(
        c["body"] == "said while paused"
        for c in get(url, f"/api/articles/{theirs}/comments", token)["comments"]
    ))  # fmt: skip
    # bio
    reply = call(url, "PUT", "/api/user", token=writer, json_body={"user": {"bio": "paused bio"}})
    assert reply.status == 200, reply.body
    check(lambda token: get(url, f"/api/profiles/{name}", token)["profile"]["bio"] == "paused bio")
    check(lambda token: token is None or get(url, "/api/user", token)["user"]["bio"] == "paused bio",
          anonymous_sees_old=False)  # fmt: skip

    # registration and login: the new session's user reads at once (its token's lookup too)
    late, late_name = user(url)
    assert call(url, "GET", "/api/user", token=late).json()["user"]["username"] == late_name
    login = {"user": {"email": f"{late_name}@example.com", "password": PASSWORD}}
    logged_in = call(url, "POST", "/api/users/login", json_body=login).json()["user"]["token"]
    assert call(url, "GET", "/api/user", token=logged_in).status == 200
    assert get(url, f"/api/profiles/{late_name}") is None  # not on the replica yet

    during = reads(url)
    assert stale_for_writer == 0
    served_by_replica = during.get("replica", 0) - before.get("replica", 0)
    assert served_by_replica >= 6, "the anonymous reads were not the replica's"

    replicated.resume()
    replicated.caught_up()
    assert "edited while paused" in titles(url, name) and "to delete" not in titles(url, name)
    assert "published while paused" in titles(url, name)
    assert get(url, f"/api/profiles/{name}")["profile"]["bio"] == "paused bio"
    assert get(url, f"/api/articles/{theirs}")["article"]["favoritesCount"] == 1
    after = reads(url)
    print(
        f"replay paused: 7 kinds of write, writer's stale reads {stale_for_writer}; reads served"
        f" while paused: primary {during.get('primary', 0) - before.get('primary', 0):.0f},"
        f" replica {served_by_replica:.0f}; after resume the replica serves again"
        f" (+{after.get('replica', 0) - during.get('replica', 0):.0f})"
    )


@pytest.fixture
def tight(replicated: Replicated, redis_db: str) -> Iterator[Server]:
    env = {
        "DATABASE_REPLICA_URLS": replicated.replica.url,
        "REPLICA_MAX_LAG_SECONDS": "2",
        "REDIS_URL": redis_db,
        "READ_CACHE": "false",
    }
    with gunicorn_server(replicated.primary.url, workers=2, env=env) as live:
        yield live


def test_an_anonymous_reader_sees_the_old_state_at_most_for_the_lag_bound(
    replicated: Replicated, tight: Server
) -> None:
    url = tight.base_url
    writer, name = user(url)
    replicated.caught_up()
    replica_serves(tight, f"/api/profiles/{name}")
    replicated.pause()
    try:
        assert call(url, "PUT", "/api/user", token=writer,
                    json_body={"user": {"bio": "new"}}).status == 200  # fmt: skip
        written = time.monotonic()
        old_until = written
        while time.monotonic() - written < 10:
            if get(url, f"/api/profiles/{name}")["profile"]["bio"] == "new":
                break
            old_until = time.monotonic()
            time.sleep(0.05)
        else:
            raise AssertionError("the lagging replica was still read from after 10 s")
        stale_for = old_until - written
        print(f"lag bound 2 s: the anonymous reader saw the old bio for {stale_for:.2f} s")
        assert 0 < stale_for < 2 + 1.5  # the bound, a poll and a request's time
    finally:
        replicated.resume()
