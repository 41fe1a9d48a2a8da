"""Which replica may serve a read, from what the monitor learned (no servers: its state set)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine

from core import process
from db.replicas import SILENCE_SECONDS, STALE_SECONDS, Replica, Replicas, format_lsn, parse_lsn
from db.session import connect_args
from testkit.settings import make_settings

URLS = ["postgresql+psycopg://u@replica-a:5432/conduit", "postgresql+psycopg://u@replica-b/conduit"]


@pytest.fixture
def replicas() -> Replicas:
    found = Replicas(
        "postgresql+psycopg://u@primary/conduit",
        URLS,
        lambda url: create_engine(url),
        max_lag=5.0,
        connect_args={},
    )
    found._pid = process.pid()  # no monitor: the test plays its part
    return found


def seen(replica: Replica, replayed: int, lag: float = 0.0, *, in_recovery: bool = True) -> None:
    replica.replay_lsn, replica.lag, replica.in_recovery = replayed, lag, in_recovery
    replica.answered_at = time.monotonic()


def test_positions_read_as_postgresql_compares_them() -> None:
    assert parse_lsn("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert parse_lsn("0/3016040") < parse_lsn("0/30160A8") < parse_lsn("1/0")
    assert format_lsn(parse_lsn("16/B374D848")) == "16/B374D848"


def test_a_replica_serves_a_position_only_once_it_has_replayed_it(replicas: Replicas) -> None:
    a, b = replicas.replicas
    assert [r.name for r in replicas.replicas] == [
        "replica-a:5432/conduit",
        "replica-b:5432/conduit",
    ]
    seen(a, 100)
    seen(b, 200)
    assert {replicas.choose(None) for _ in range(4)} == {a, b}  # taking turns
    assert {replicas.choose(150) for _ in range(4)} == {b}
    assert replicas.choose(201) is None  # the primary


@pytest.mark.parametrize(
    ("change", "state"),
    [
        (lambda r: seen(r, 100, lag=5.5), "lagging"),
        (lambda r: seen(r, 100, in_recovery=False), "promoted"),
        (lambda r: setattr(r, "asking_since", time.monotonic() - SILENCE_SECONDS - 0.1), "down"),
        (lambda r: setattr(r, "answered_at", time.monotonic() - STALE_SECONDS - 0.1), "down"),
    ],
)
def test_a_lagging_promoted_or_silent_replica_is_skipped(
    replicas: Replicas, change: Callable[[Replica], None], state: str
) -> None:
    a, _ = replicas.replicas
    seen(a, 100)
    change(a)
    assert replicas.statuses()[0].state == state
    assert {replicas.choose(None) for _ in range(4)} == {None}  # b never answered


def test_a_poll_in_flight_under_a_second_or_a_late_one_does_not_leave_it(
    replicas: Replicas,
) -> None:
    a, _ = replicas.replicas
    seen(a, 100)
    a.asking_since = time.monotonic() - SILENCE_SECONDS / 2
    assert replicas.choose(None) is a
    a.answered_at = time.monotonic() - STALE_SECONDS / 2  # its thread was not scheduled
    a.asking_since = None
    assert replicas.choose(None) is a


def test_a_failed_read_leaves_it_until_it_answers_again(replicas: Replicas) -> None:
    a, _ = replicas.replicas
    seen(a, 100)
    replicas.failed(a)
    assert replicas.choose(None) is None
    seen(a, 100)
    assert replicas.choose(None) is a


def test_the_lag_is_the_age_of_the_newest_primary_position_replayed(replicas: Replicas) -> None:
    assert replicas._lag(0) == math.inf  # no sample yet: not known
    now = time.monotonic()
    replicas._samples.extend([(now - 3, 100), (now - 2, 200), (now - 1, 300)])
    assert replicas._lag(300) == 0.0
    assert replicas._lag(350) == 0.0
    assert 1.9 < replicas._lag(250) < 2.5  # replayed 200, not yet 300: 2 s behind
    assert replicas._lag(50) == math.inf  # older than every sample kept


def test_psycopg_prepares_behind_pgbouncer_only_in_session_pooling() -> None:
    """Transaction pooling would run a statement prepared on one server connection on
    another; session pooling keeps a client's server connection, so statements stay
    prepared there. Neither sends the startup `options` PgBouncer refuses."""
    direct = connect_args()
    transaction = connect_args(pgbouncer="transaction")
    session = connect_args(pgbouncer="session")
    assert "options" in direct and "prepare_threshold" not in direct
    assert transaction == {"connect_timeout": 5, "prepare_threshold": None}
    assert session == {"connect_timeout": 5}
    assert make_settings("sqlite://", behind_pgbouncer=True).pgbouncer == "transaction"
    assert (
        make_settings("sqlite://", behind_pgbouncer=True, pgbouncer_pool_mode="session").pgbouncer
        == "session"
    )
    assert make_settings("sqlite://", pgbouncer_pool_mode="session").pgbouncer is None
