"""Real HTTP servers for tests that need one: werkzeug in a thread, or `make serve`'s gunicorn,
each on a free loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.serving import make_server

from testkit.settings import ROOT

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


@contextmanager
def serve(app: Flask | WSGIApplication, port: int = 0) -> Iterator[str]:
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running gunicorn: its URL, its master process and its log."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def worker_pids(self) -> set[int]:
        """The master's live children (gunicorn's workers), read from /proc."""
        pids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                pids.add(int(stat.parent.name))
        return pids

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, then SIGKILL if `process` is still running `timeout` seconds later; reaped."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def gunicorn_server(
    database_url: str, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`make serve` on a free loopback port: migrations, then gunicorn with our config file."""
    from db.migrate import upgrade

    upgrade(database_url)
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="conduit-gunicorn-"))
    environment = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": os.environ.get("JWT_SECRET_KEY", "live-test-secret-" + "x" * 32),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp),
        # Each worker would load the embedding model (136 MB, a second of CPU) before serving:
        # a test about the model says so (MODEL_PRELOAD=true), the others start light.
        "MODEL_PRELOAD": "false",
        **(env or {}),
    }
    log_path = tmp / "gunicorn.log"
    # A file, not a pipe: nobody reads a pipe after start-up, and a full one blocks the workers.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "deploy" / "gunicorn_conf.py"),
                "api.wsgi:app",
            ],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_up(server)
        yield server
    finally:
        stop(process, 30)
        for pid in server.worker_pids():  # orphans, should a test have left any
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def gunicorn(
    database_url: str, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`gunicorn_server` for callers that only need its base URL."""
    with gunicorn_server(database_url, workers=workers, env=env) as server:
        yield server.base_url


def _wait_until_up(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/api/tags", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {server.base_url} within {timeout}s")
