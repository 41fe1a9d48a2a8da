"""A Celery worker (with beat) as `make worker` runs it, on a private RabbitMQ vhost."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from testkit.settings import ROOT

AMQP = "amqp://guest:guest@127.0.0.1:5672/"


def rabbitmqctl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def rabbitmq_unreachable() -> str | None:
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed"
    if rabbitmqctl("status").returncode != 0:
        return "RabbitMQ is not running (rabbitmqctl status failed)"
    return None


@contextmanager
def vhost() -> Iterator[str]:
    """A broker URL on a vhost of our own, deleted afterwards."""
    name = f"conduit_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name).check_returncode()
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*").check_returncode()
        yield AMQP + name
    finally:
        rabbitmqctl("delete_vhost", name)


def queue_depths(broker_url: str) -> dict[str, int]:
    """Messages ready in each queue of the broker URL's vhost."""
    name = broker_url.rsplit("/", 1)[1]
    listed = rabbitmqctl("list_queues", "-q", "-p", name, "name", "messages_ready")
    depths = {}
    for line in listed.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            depths[parts[0]] = int(parts[1])
    return depths


class Worker:
    """`celery -A runtime.worker worker -B` (or `app`) in its own process group, so one signal
    reaches all."""

    def __init__(self, env: dict[str, str], app: str = "runtime.worker") -> None:
        self.env = env
        self.app = app
        self.tmp = Path(tempfile.mkdtemp(prefix="conduit-worker-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.tmp / f"worker-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", self.app, "worker", "-B",
                "--schedule", str(self.tmp / "beat-schedule"), "--concurrency", "2",
                "--without-mingle", "--without-gossip", "--loglevel", "INFO",
            ],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL the worker, its pool and its beat: no chance to ack or requeue anything."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("worker-*.log")))

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)
