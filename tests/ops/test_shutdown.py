"""After SIGTERM every connection is either served or refused, never accepted and then reset.

Twelve registrations are sent at once (argon2id keeps both sync workers busy, so most of them
wait in a queue), then the server is told to stop while a prober keeps opening new
connections, one every 10 ms, until it is gone. Every registration must get its complete
201; every probe must get a complete answer or have its connection refused.

(a) The production topology, run exactly as `make serve-proxy` runs it (`python -m
    deploy.serve`, its own process), SIGTERM to the launcher: nginx stops accepting and
    finishes what it holds while gunicorn, still up, answers it; then gunicorn stops; the
    launcher exits 0, leaving no process and no temporary directory behind.
(b) gunicorn alone (`make serve`), SIGTERM to its master: the workers serve what is queued
    (deploy/gunicorn_conf.py's worker_exit), then close their listeners.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from db.migrate import upgrade
from deploy.nginx import find_nginx
from testkit.servers import free_port
from testkit.settings import ROOT, unavailable
from tests.ops.conftest import JWT_SECRET, QUIET, gunicorn_server

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

IN_FLIGHT = 12
SLOW_HASH = {"ARGON2_TIME_COST": "8"}  # ~0.1-0.2 s a registration: they queue


def registration(name: str) -> bytes:
    user = {"username": name, "email": f"{name}@example.com", "password": "shutdown pw 1"}
    body = json.dumps({"user": user}).encode()
    return (
        b"POST /api/users HTTP/1.1\r\nHost: conduit.test\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    ) + body


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """One complete answer (its whole body, by Content-Length), or an exception."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()  # raises IncompleteRead if cut short
    return response.status, body


@dataclass
class InFlight:
    """Requests written in full before the signal; their answers read (and timed) after it."""

    port: int
    outcomes: list[tuple[str, float]] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def send(self, count: int) -> None:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            sock.sendall(registration(f"down{uuid.uuid4().hex[:10]}"))
            thread = threading.Thread(target=self._read, args=(sock,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _read(self, sock: socket.socket) -> None:
        with sock:
            try:
                status, body = read_answer(sock)
                outcome = (
                    str(status) if status != 201 else "201" if json.loads(body)["user"] else "?"
                )
            except (OSError, http.client.HTTPException, ValueError) as exc:
                outcome = f"broken: {exc!r}"
        self.outcomes.append((outcome, time.monotonic()))

    def wait(self) -> None:
        for thread in self.threads:
            thread.join(60)


@dataclass
class Prober:
    """New connections, one every 10 ms: each must be served in full or refused."""

    port: int
    outcomes: list[tuple[str, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def once(self) -> str:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        except ConnectionRefusedError:
            return "refused"
        with sock:
            try:
                sock.sendall(
                    b"GET /api/tags HTTP/1.1\r\nHost: conduit.test\r\nConnection: close\r\n\r\n"
                )
                status, body = read_answer(sock)
            except (OSError, http.client.HTTPException) as exc:
                return f"broken: {exc!r}"
            return "served" if status == 200 and json.loads(body) == {"tags": []} else f"{status}"

    def _run(self) -> None:
        while not self.stop.is_set():
            self.outcomes.append((self.once(), time.monotonic()))
            time.sleep(0.01)

    def __enter__(self) -> Prober:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        assert self.thread is not None
        self.thread.join(60)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.1)


def stop_under_load(
    port: int, stop: Callable[[], None], stopped: Callable[[], bool]
) -> tuple[InFlight, Prober, float, float]:
    """Queue IN_FLIGHT registrations, signal, keep probing until stopped (and a little after)."""
    in_flight = InFlight(port)
    with Prober(port) as prober:
        time.sleep(0.2)  # a few probes served before anything happens
        in_flight.send(IN_FLIGHT)
        time.sleep(0.1)  # all of them arrived, two being hashed, the rest queued
        signalled = time.monotonic()
        stop()
        wait_until(stopped, 60, "stop")
        gone = time.monotonic()
        time.sleep(0.3)  # refusals once nothing listens any more
    in_flight.wait()
    return in_flight, prober, signalled, gone


def report(label: str, in_flight: InFlight, prober: Prober, signalled: float, gone: float) -> None:
    after = [t for _, t in in_flight.outcomes if t > signalled]
    probes = Counter(o for o, _ in prober.outcomes)
    during = Counter(o for o, t in prober.outcomes if signalled <= t <= gone)
    print(
        f"\n{label}: stopped {gone - signalled:.2f}s after SIGTERM; registrations "
        f"{dict(Counter(o for o, _ in in_flight.outcomes))} ({len(after)} answered after the "
        f"signal); probes {dict(probes)} (between signal and exit: {dict(during)})"
    )
    assert [o for o, _ in in_flight.outcomes] == ["201"] * IN_FLIGHT, in_flight.outcomes
    assert after, "every registration was answered before the signal: nothing was in flight"
    assert set(probes) <= {"served", "refused"}, probes
    assert probes["served"] and probes["refused"], probes


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_to_make_serve_proxy(database_url: str, tmp_path: Path) -> None:
    if not find_nginx():
        unavailable("nginx is not installed")
    upgrade(database_url)  # `make serve-proxy` depends on `make migrate`
    port = free_port()
    env = {
        **os.environ,
        **QUIET,
        **SLOW_HASH,
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": JWT_SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    log = tmp_path / "serve-proxy.log"
    with log.open("wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "deploy.serve"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        wait_until(lambda: '"message": "serving"' in log.read_text(errors="replace"), 60, "start")
        serving = next(
            json.loads(line)
            for line in log.read_text(errors="replace").splitlines()
            if '"message": "serving"' in line
        )
        run_dir = Path(serving["run_dir"])
        processes = children(launcher.pid)
        processes |= {p for c in processes for p in children(c)}  # gunicorn's and nginx's workers
        assert run_dir.is_dir() and len(processes) >= 2 + 2

        in_flight, prober, signalled, gone = stop_under_load(
            port, lambda: launcher.send_signal(signal.SIGTERM), lambda: launcher.poll() is not None
        )
    finally:
        if launcher.poll() is None:
            launcher.kill()
        launcher.wait()
    text = log.read_text(errors="replace")
    report("make serve-proxy", in_flight, prober, signalled, gone)
    assert launcher.returncode == 0, text[-3000:]
    assert '"message": "stopped"' in text
    assert not run_dir.exists(), "the launcher left its temporary directory behind"
    assert not [p for p in processes if alive(p)], "processes outlived the launcher"


def test_sigterm_to_gunicorn_alone(database_url: str) -> None:
    with gunicorn_server(database_url, workers=2, env=SLOW_HASH) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        in_flight, prober, signalled, gone = stop_under_load(
            port,
            lambda: server.process.send_signal(signal.SIGTERM),
            lambda: server.process.poll() is not None,
        )
        code = server.process.returncode
        log = server.log()
    report("gunicorn alone", in_flight, prober, signalled, gone)
    assert code == 0, log[-3000:]
