"""Streaming replicas: which one may serve a read, as a monitor thread learns it.

Each process that reads (a gunicorn worker, after fork) starts one thread per server on its
first read: every `POLL_SECONDS` it asks the primary for `pg_current_wal_lsn()` and each
replica for `pg_is_in_recovery(), pg_last_wal_replay_lsn()`, on connections of its own (not
the engines', so no request pays for it and the statement counts of tests are untouched).

A replica's lag is the age of the newest primary position it has replayed: the primary's
samples are kept for a while, and a replica at or past the newest one lags 0. A replica is
used when it answers (a poll or a read that fails, or a poll unanswered for
`SILENCE_SECONDS`, leaves it until it answers again), is still in recovery (a promoted or fenced
one is left alone), lags at most REPLICA_MAX_LAG_SECONDS, and has replayed the position the
read must see (the client's last write, or the read cache's last invalidation). A read that
fails on a replica marks it failed until it answers a poll again; the read runs on the
primary (api/errors.py), so clients see no error.

Positions are ints (`parse_lsn`): what the monitor knows of a replica is a lower bound of
what it has replayed, so a read routed by it never sees less than the position asked for.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from prometheus_client import Counter, Gauge
from sqlalchemy import Engine, make_url

from core import process

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
# A poll unanswered for this long: the replica is hung, not used until it answers.
SILENCE_SECONDS = 1.0
# No answer for this long, though none is awaited: the monitor itself is stuck (a safety net;
# a thread that is merely not scheduled on a busy machine says nothing of the replica).
STALE_SECONDS = 5.0
MONITOR_TIMEOUT_MS = 1000
# A position no server has reached: the read goes to the primary.
PRIMARY_ONLY = 1 << 64

State = Literal["up", "lagging", "down", "promoted"]

READS = Counter(
    "conduit_db_reads_total", "Safe requests' reads, by the server that served them", ["server"]
)
LAG = Gauge(
    "conduit_replica_lag_seconds",
    "Each replica's lag behind the primary (+Inf: unknown)",
    ["replica"],
    multiprocess_mode="livemax",
)
USABLE = Gauge(
    "conduit_replica_usable",
    "1 when the replica serves reads (up, in recovery, under the lag bound)",
    ["replica"],
    multiprocess_mode="livemin",
)


def parse_lsn(text: str) -> int:
    """`16/B374D848` as the int PostgreSQL compares."""
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Replica:
    """One replica: its engine, and what the monitor last learned of it."""

    def __init__(self, url: str, engine: Engine) -> None:
        parsed = make_url(url)
        self.name = f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"
        self.url = url
        self.engine = engine
        self.answered_at = -math.inf  # monotonic time of its last answer
        self.asking_since: float | None = None  # a poll awaits its answer since then
        self.polled_state: State | None = None  # as its last answer found it (logged on change)
        self.failed_at = -math.inf  # a read failed on it: unused until it answers again
        self.in_recovery = False
        self.replay_lsn = 0
        self.lag = math.inf

    def state(self, now: float, max_lag: float) -> State:
        asking = self.asking_since
        if (
            self.answered_at <= self.failed_at
            or (asking is not None and now - asking > SILENCE_SECONDS)
            or now - self.answered_at > STALE_SECONDS
        ):
            return "down"
        if not self.in_recovery:
            return "promoted"
        return "lagging" if self.lag > max_lag else "up"


@dataclass(frozen=True, slots=True)
class ReplicaStatus:
    name: str
    state: State
    lag_seconds: float | None  # None: unknown
    replay_lsn: str | None


class Replicas:
    """The replicas of one database, and the monitor that keeps their positions."""

    def __init__(
        self,
        primary_url: str,
        urls: Sequence[str],
        engine_for: Callable[[str], Engine],
        *,
        max_lag: float,
        connect_args: dict[str, Any],
    ) -> None:
        self.primary_url = primary_url
        self.replicas = [Replica(url, engine_for(url)) for url in urls]
        self.max_lag = max_lag
        self._connect_args = {**connect_args, "connect_timeout": 1}
        # (monotonic time, primary position), newest last: enough to tell any lag up to
        # twice the bound; older ones only say "more than that".
        self._samples: deque[tuple[float, int]] = deque(maxlen=int(2 * max_lag / POLL_SECONDS) + 10)
        self._sampling = threading.Lock()  # the primary's thread appends, the others read
        self._turn = itertools.count()
        self._pid = 0
        self._start = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- routing (request threads) ---

    def choose(self, position: int | None) -> Replica | None:
        """A usable replica that has replayed `position` (taking turns), or None: the primary."""
        self.watch()
        now = time.monotonic()
        count = len(self.replicas)
        first = next(self._turn)
        for offset in range(count):
            replica = self.replicas[(first + offset) % count]
            if replica.state(now, self.max_lag) == "up" and (
                position is None or replica.replay_lsn >= position
            ):
                return replica
        return None

    def failed(self, replica: Replica) -> None:
        """A read failed on `replica`: leave it until it answers a poll again."""
        replica.failed_at = time.monotonic()
        USABLE.labels(replica.name).set(0)
        log.warning("replica %s failed a read: reading from the primary", replica.name)

    def statuses(self) -> list[ReplicaStatus]:
        self.watch()
        now = time.monotonic()
        return [
            ReplicaStatus(
                r.name,
                r.state(now, self.max_lag),
                r.lag if math.isfinite(r.lag) else None,
                format_lsn(r.replay_lsn) if r.replay_lsn else None,
            )
            for r in self.replicas
        ]

    # --- the monitor (its own threads) ---

    def watch(self) -> None:
        """Start this process's monitor unless it runs (a web worker's boot calls it, so the
        monitor runs before the first read)."""
        if self._pid != process.pid():
            self._watch()

    def _watch(self) -> None:
        """Start this process's monitor threads (after a fork the parent's are gone)."""
        with self._start:
            if self._pid == process.pid():
                return
            self._pid = process.pid()
            self._stop.clear()
            with self._sampling:
                self._samples.clear()
            self._threads = [
                threading.Thread(
                    target=self._poll,
                    args=(self.primary_url, self._primary, "primary", None),
                    name="replicas-primary",
                    daemon=True,
                )
            ]
            for replica in self.replicas:
                replica.answered_at, replica.asking_since = -math.inf, None
                self._threads.append(
                    threading.Thread(
                        target=self._poll,
                        args=(replica.url, self._replica_poll(replica), replica.name, replica),
                        name=f"replicas-{replica.name}",
                        daemon=True,
                    )
                )
            for thread in self._threads:
                thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        self._threads = []
        self._pid = 0

    def _poll(
        self,
        url: str,
        ask: Callable[[psycopg.Connection[Any]], None],
        name: str,
        replica: Replica | None,
    ) -> None:
        connection: psycopg.Connection[Any] | None = None
        failing = False
        while not self._stop.is_set():
            if replica is not None:
                replica.asking_since = time.monotonic()
            try:
                if connection is None or connection.closed:
                    connection = psycopg.connect(
                        _conninfo(url), autocommit=True, **self._connect_args
                    )
                ask(connection)
                if failing:
                    log.info("database %s answers again", name)
                failing = False
            except Exception as error:  # the monitor outlives any one poll
                if replica is not None:
                    replica.failed_at = time.monotonic()
                    USABLE.labels(replica.name).set(0)
                if not failing:
                    log.warning("database %s does not answer: %s", name, error)
                failing = True
                if connection is not None:
                    with contextlib.suppress(psycopg.Error):
                        connection.close()
                connection = None
            self._stop.wait(POLL_SECONDS)
        if connection is not None:
            connection.close()

    def _primary(self, connection: psycopg.Connection[Any]) -> None:
        row = connection.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        if row is not None:
            with self._sampling:
                self._samples.append((time.monotonic(), parse_lsn(row[0])))

    def _replica_poll(self, replica: Replica) -> Callable[[psycopg.Connection[Any]], None]:
        def ask(connection: psycopg.Connection[Any]) -> None:
            row = connection.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text"
            ).fetchone()
            if row is None:
                return
            in_recovery, replayed = bool(row[0]), parse_lsn(row[1]) if row[1] else 0
            replica.in_recovery, replica.replay_lsn = in_recovery, replayed
            replica.lag = self._lag(replayed)
            replica.answered_at, replica.asking_since = time.monotonic(), None
            state = replica.state(replica.answered_at, self.max_lag)
            if state != replica.polled_state:
                log.info("replica %s: %s (lag %.2fs)", replica.name, state, replica.lag)
                replica.polled_state = state
            up = state == "up"
            LAG.labels(replica.name).set(replica.lag)
            USABLE.labels(replica.name).set(1 if up else 0)

        return ask

    def _lag(self, replayed: int) -> float:
        """How long ago the primary was last seen at a position the replica has replayed."""
        with self._sampling:
            samples = list(self._samples)
        if samples and samples[-1][1] <= replayed:
            return 0.0
        now = time.monotonic()
        for at, position in reversed(samples):
            if position <= replayed:
                return now - at
        return math.inf

    def dispose(self) -> None:
        self.stop()
        for replica in self.replicas:
            replica.engine.dispose()
