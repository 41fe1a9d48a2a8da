"""64 slow clients cannot stall the production topology (nginx in front of gunicorn).

The stack is started by deploy/serve.py's launcher code, as `make serve-proxy` starts it, with
2 sync workers. 64 clients at once trickle bytes at 1 byte/s for 40 s: half send their headers
that way (nginx cuts each off when its header timeout runs out; it reconnects and starts
again, as a slowloris does), half send complete headers and then a body that way (nginx waits,
since the body never pauses longer than its body timeout). Meanwhile normal requests keep
coming: none may fail (each has 10 s); no worker may be killed (no WORKER TIMEOUT in
gunicorn's log, the same worker pids before and after). Their number and latencies are
printed, not asserted: they depend on how fast the box is, the outcome above does not.

Without nginx (plain `make serve`, not asserted here): a sync worker reads a request to its
end before anything else, so the first 2 slow clients accepted hold both workers; normal
requests queue in the listen backlog behind the other slow clients and time out, until the
master kills the stuck workers after `timeout` (30 s: WORKER TIMEOUT) and their replacements
accept the next slow clients. Measured twice with these same 64 clients and this same load
against `make serve` with 2 workers (2 CPUs), with the same figures: the 4 load threads
managed 16 requests in 40 s (through nginx: about 2800), 12 of them (75%) timed out after
10 s, p50 10 s; 2 WORKER TIMEOUTs, both workers replaced.
"""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from db.migrate import upgrade
from deploy.nginx import Options, find_nginx
from deploy.serve import Stack
from testkit.servers import Server, free_port
from testkit.settings import unavailable
from tests.ops.conftest import JWT_SECRET, call

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

SLOW_CLIENTS = 64
DURATION = 40.0  # seconds of trickling, per slow client
NORMAL_THREADS = 4
PAUSE = 0.05  # between two normal requests of one thread


@dataclass
class Trickle:
    """One slow client: a byte a second for DURATION, reconnecting whenever it is cut off."""

    address: tuple[str, int]
    body: bool  # False: trickle the headers; True: complete headers, then trickle a body
    sent: int = 0
    connections: int = 0
    cut_off: int = 0
    longest: float = 0.0  # the longest a single connection of it stayed open

    def run(self, until: float) -> None:
        while time.monotonic() < until:
            self.connections += 1
            opened = time.monotonic()
            try:
                with socket.create_connection(self.address, timeout=5) as sock:
                    if self.body:
                        sock.sendall(
                            b"POST /api/users HTTP/1.1\r\nHost: conduit.test\r\n"
                            b"Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                        )
                    else:
                        sock.sendall(b"GET /api/tags HTTP/1.1\r\nHost: conduit.test\r\n")
                    self._trickle(sock, until)
            except OSError:
                self.cut_off += 1
            self.longest = max(self.longest, time.monotonic() - opened)

    def _trickle(self, sock: socket.socket, until: float) -> None:
        sock.setblocking(False)
        while time.monotonic() < until:
            try:
                if sock.recv(1024) == b"":  # the server closed on us
                    self.cut_off += 1
                    return
            except BlockingIOError:
                pass  # still open, nothing said: go on
            sock.send(b" " if self.body else b"X")  # a body of spaces; an endless header value
            self.sent += 1
            time.sleep(1.0)


@dataclass
class Load:
    """Normal requests, a few threads back to back (with a pause), every latency recorded."""

    base_url: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, until: float, index: int) -> None:
        paths = ("/api/tags", "/api/articles?limit=5", "/api/health")
        n = index
        while time.monotonic() < until:
            path = paths[n % len(paths)]
            n += 1
            started = time.monotonic()
            try:
                reply = call(self.base_url, "GET", path, timeout=10)
                outcome = (
                    "" if reply.status == 200 else f"{path}: {reply.status} {reply.body[:100]!r}"
                )
            except OSError as exc:
                outcome = f"{path}: {exc!r}"
            elapsed = time.monotonic() - started
            with self.lock:
                self.latencies.append(elapsed)
                if outcome:
                    self.failures.append(outcome)
            time.sleep(PAUSE)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@pytest.fixture
def topology(database_url: str, redis_db: str, tmp_path: Path) -> Iterator[tuple[Stack, Path]]:
    if not find_nginx():
        unavailable("nginx is not installed")
    upgrade(database_url)
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": JWT_SECRET,
        "REDIS_URL": redis_db,
        "RATE_LIMIT_DEFAULT": "1000000/minute",  # every client here is 127.0.0.1
        "ACCESS_LOG": "false",
        "WEB_CONCURRENCY": "2",
    }
    log = tmp_path / "stack.log"
    with (
        log.open("wb") as out,
        Stack(Options.from_environment(env, port=free_port()), env=env, stderr=out) as stack,
    ):
        yield stack, log


def test_slow_clients_do_not_stall_the_front_door(topology: tuple[Stack, Path]) -> None:
    stack, log = topology
    assert stack.gunicorn is not None
    master = Server(stack.url, stack.gunicorn, log)
    workers_before = master.worker_pids()
    assert len(workers_before) == 2
    name = f"slow{uuid.uuid4().hex[:8]}"
    user = {"username": name, "email": f"{name}@example.com", "password": "slow client pw"}
    assert call(stack.url, "POST", "/api/users", json_body={"user": user}).status == 201

    address = ("127.0.0.1", stack.options.port)
    trickles = [Trickle(address, body=i % 2 == 1) for i in range(SLOW_CLIENTS)]
    load = Load(stack.url)
    started = time.monotonic()
    until = started + DURATION
    threads = [threading.Thread(target=t.run, args=(until,), daemon=True) for t in trickles]
    threads += [
        threading.Thread(target=load.run, args=(until, i), daemon=True)
        for i in range(NORMAL_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DURATION + 30)
    elapsed = time.monotonic() - started
    workers_after = master.worker_pids()
    text = log.read_text(errors="replace")

    headers, bodies = [t for t in trickles if not t.body], [t for t in trickles if t.body]
    p50, p99 = percentile(load.latencies, 0.5), percentile(load.latencies, 0.99)
    print(
        f"\n{SLOW_CLIENTS} slow clients for {elapsed:.1f}s: "
        f"header tricklers sent {sum(t.sent for t in headers)} B over "
        f"{sum(t.connections for t in headers)} connections (cut off by nginx "
        f"{sum(t.cut_off for t in headers)} times, longest {max(t.longest for t in headers):.1f}s); "
        f"body tricklers sent {sum(t.sent for t in bodies)} B over "
        f"{sum(t.connections for t in bodies)} connections (longest "
        f"{min(t.longest for t in bodies):.1f}s..{max(t.longest for t in bodies):.1f}s)"
        f"\nnormal requests: {len(load.latencies)}, failures {len(load.failures)}, "
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {max(load.latencies) * 1000:.1f} ms, "
        f"mean {statistics.mean(load.latencies) * 1000:.1f} ms"
        f"\nworkers {sorted(workers_before)} -> {sorted(workers_after)}; "
        f"WORKER TIMEOUT lines: {text.count('WORKER TIMEOUT')}"
    )
    # The attack really ran: every slow client trickled all along, the body ones on one
    # connection each for the whole time.
    assert all(t.sent >= DURATION - 5 for t in trickles)
    assert all(t.longest >= DURATION - 5 for t in bodies)
    # Normal requests ran all along (each thread loops until the attack ends), and none
    # waited out its 10 s: without nginx 12 of 16 did.
    assert load.latencies
    assert not load.failures, load.failures[:10]
    assert "WORKER TIMEOUT" not in text
    assert workers_after == workers_before
