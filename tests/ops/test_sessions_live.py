"""Sessions against gunicorn with 4 workers on PostgreSQL and Redis: every request on a connection of
its own, so any worker may answer it, and what one worker spent or revoked binds them all.

Rotation, reuse detection (the whole family dies, its newest tokens too), two tabs
refreshing at once within the grace window (concurrently, on different workers), token
types never crossing over, a password change and sign-out everywhere.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from testkit.http import Reply, call
from tests.support.ops import REDIS_URL, gunicorn_server

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

PASSWORD = "session password 1"
REFRESH = "/api/users/token/refresh"
INVALID = {"token": ["is invalid"]}
WORKERS = 4


@dataclass
class Pair:
    token: str
    refresh: str


@pytest.fixture(scope="module")
def base_url(database_url: str) -> Iterator[str]:
    # Redis as production has it (shared rate limits, and whatever else it serves there).
    with gunicorn_server(database_url, workers=WORKERS, env={"REDIS_URL": REDIS_URL}) as server:
        deadline = time.monotonic() + 30
        while len(server.worker_pids()) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.1)  # the master forks them one after another
        assert len(server.worker_pids()) == WORKERS
        yield server.base_url


def _pair(reply: Reply) -> Pair:
    assert reply.status in (200, 201), (reply.status, reply.body)
    user = reply.json()["user"]
    return Pair(user["token"], user["refreshToken"])


def new_user(base_url: str) -> tuple[str, Pair]:
    name = f"s{uuid.uuid4().hex[:10]}"
    body = {"user": {"username": name, "email": f"{name}@example.com", "password": PASSWORD}}
    return f"{name}@example.com", _pair(call(base_url, "POST", "/api/users", json_body=body))


def login(base_url: str, email: str, password: str = PASSWORD) -> Pair:
    body = {"user": {"email": email, "password": password}}
    return _pair(call(base_url, "POST", "/api/users/login", json_body=body))


def refresh(base_url: str, token: str) -> Reply:
    return call(base_url, "POST", REFRESH, json_body={"refreshToken": token})


def me(base_url: str, token: str) -> Reply:
    return call(base_url, "GET", "/api/user", token=token)


def taken(base_url: str, token: str, tries: int = WORKERS * 2) -> bool:
    """Whether the access token is taken; asked several times, so several workers answer."""
    statuses = {me(base_url, token).status for _ in range(tries)}
    assert len(statuses) == 1, statuses  # every worker agrees
    return statuses == {200}


def test_rotation(base_url: str) -> None:
    _, first = new_user(base_url)
    pair = first
    for _ in range(5):
        pair = _pair(refresh(base_url, pair.refresh))
        assert taken(base_url, pair.token)
    assert pair.refresh != first.refresh


def test_replay_kills_the_family_on_every_worker(base_url: str) -> None:
    email, _ = new_user(base_url)
    other = login(base_url, email)
    first = login(base_url, email)
    second = _pair(refresh(base_url, first.refresh))
    newest = _pair(refresh(base_url, second.refresh))
    assert taken(base_url, newest.token)
    # `first` was spent two rotations ago: beyond any grace, this is reuse.
    replay = refresh(base_url, first.refresh)
    assert replay.status == 401 and replay.errors() == INVALID
    assert not taken(base_url, newest.token)
    assert refresh(base_url, newest.refresh).status == 401
    assert refresh(base_url, second.refresh).status == 401
    assert taken(base_url, other.token)
    assert refresh(base_url, other.refresh).status == 200


def _at_once(base_url: str, token: str) -> list[Reply]:
    """Two refreshes of the same token released together, each on its own connection."""
    replies: list[Reply] = []
    start = threading.Barrier(2)

    def tab() -> None:
        start.wait()
        replies.append(refresh(base_url, token))

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def test_two_tabs_refreshing_at_once_both_succeed(base_url: str) -> None:
    email, _ = new_user(base_url)
    for _ in range(5):
        replies = _at_once(base_url, login(base_url, email).refresh)
        assert [r.status for r in replies] == [200, 200], [r.body for r in replies]
        tabs = [_pair(r) for r in replies]
        # one successor for both: the session goes on from either tab
        assert all(taken(base_url, t.token) for t in tabs)
        assert refresh(base_url, tabs[1].refresh).status == 200


def test_token_types_do_not_cross(base_url: str) -> None:
    _, pair = new_user(base_url)
    assert refresh(base_url, pair.token).status == 401
    as_access = me(base_url, pair.refresh)
    assert as_access.status == 401 and as_access.errors() == INVALID
    assert taken(base_url, pair.token)
    assert refresh(base_url, pair.refresh).status == 200


def test_password_change_ends_other_sessions(base_url: str) -> None:
    email, current = new_user(base_url)
    other = login(base_url, email)
    changed = call(
        base_url,
        "PUT",
        "/api/user",
        json_body={"user": {"password": "another password 2"}},
        token=current.token,
    )
    assert changed.status == 200 and changed.json()["user"]["token"] == current.token
    assert not taken(base_url, other.token)
    assert refresh(base_url, other.refresh).status == 401
    assert taken(base_url, current.token)
    assert taken(base_url, _pair(refresh(base_url, current.refresh)).token)


def test_logout_all(base_url: str) -> None:
    email, first = new_user(base_url)
    pairs = [first, *(login(base_url, email) for _ in range(3))]
    logout = call(base_url, "POST", "/api/users/logout?all=true", token=pairs[1].token)
    assert logout.status == 204
    for pair in pairs:
        assert not taken(base_url, pair.token)
        assert refresh(base_url, pair.refresh).status == 401


def test_reads_return_the_presented_token(base_url: str) -> None:
    _, pair = new_user(base_url)
    for _ in range(WORKERS):
        assert me(base_url, pair.token).json()["user"]["token"] == pair.token
