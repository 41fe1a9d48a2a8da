"""Fixtures for tests that attack a real server: gunicorn processes, PostgreSQL, Redis, nginx.

Everything here starts real processes on free loopback ports and tears them down (and drops
every database, cluster and temp dir it made) even when a test fails. A missing service is a
skip on a bare machine and a failure under CI=true (`tests.conftest.unavailable`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from sqlalchemy import Engine, create_engine, text

from tests.conftest import TEST_DATABASE_URL, unavailable
from tests.live import Server, free_port
from tests.live import gunicorn_server as live_gunicorn_server
from tests.live import throwaway_database as live_throwaway_database

JWT_SECRET = "ops-test-secret-" + "k" * 40
REDIS_URL = os.environ.get("OPS_REDIS_URL", "redis://127.0.0.1:6379/14")
QUIET = {"JWT_SECRET_KEY": JWT_SECRET, "RATE_LIMIT_ENABLED": "false", "ACCESS_LOG": "false"}
PASSWORD = "ops password 123"
TRACEBACK_MARKERS = (b"Traceback", b'File "')
# A 1.x error line, "<field>: <message>" (e.g. "user.email: is invalid").
OLD_STYLE_LINE = re.compile(r"^[A-Za-z_][\w.\[\]]*: ")


# --- HTTP: one fresh connection per request, raw bytes in and out -----------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)

    def errors(self) -> dict[str, list[str]] | None:
        """The RealWorld 2.0 `{"errors": {key: [message, ...]}}` of this reply, else None."""
        try:
            body = self.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or set(body) != {"errors"}:
            return None
        errors = body["errors"]
        if not isinstance(errors, dict) or not errors:
            return None
        for key, messages in errors.items():
            if not key or not isinstance(messages, list) or not messages:
                return None
            if not all(isinstance(m, str) and m for m in messages):
                return None
            # `body` is a legitimate key only as the article/comment field; the 1.x catch-all
            # `{"body": ["title: can't be blank"]}` named the field inside the message instead.
            if key == "body" and any(OLD_STYLE_LINE.match(m) for m in messages):
                return None
        return errors

    def is_error_shape(self) -> bool:
        return self.errors() is not None


def call(
    base_url: str,
    method: str,
    path: str,
    *,
    json_body: Any = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> Reply:
    """One request on its own connection (so gunicorn may hand it to any worker)."""
    parts = urlsplit(base_url)
    all_headers = {"Connection": "close", **(headers or {})}
    if json_body is not None:
        body = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    if token is not None:
        all_headers["Authorization"] = f"Token {token}"
    started = time.monotonic()
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        # The server may answer (413) and close before reading a body it refuses; its answer
        # is still there to read, as curl would.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            time.monotonic() - started,
        )
    finally:
        conn.close()


def register(base_url: str, name: str | None = None, password: str = PASSWORD) -> str:
    """A new user through the API; returns its token."""
    name = name or f"ops{uuid.uuid4().hex[:10]}"
    reply = call(
        base_url,
        "POST",
        "/api/users",
        json_body={
            "user": {"username": name, "email": f"{name}@example.com", "password": password}
        },
    )
    assert reply.status == 201, (reply.status, reply.body)
    token: str = reply.json()["user"]["token"]
    return token


# --- PostgreSQL --------------------------------------------------------------------------------


def throwaway_database(prefix: str = "conduit_ops") -> AbstractContextManager[str]:
    """A uniquely named database on the shared test server, dropped afterwards."""
    return live_throwaway_database(prefix, TEST_DATABASE_URL, unreachable=unavailable)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="module")
def sql(database_url: str) -> Iterator[Engine]:
    """An engine on the module's database, for checking what the server really committed."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def _pg_bin(name: str) -> str | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    found = str(candidates[-1]) if candidates else shutil.which(name)
    return found


class PrivateCluster:
    """A PostgreSQL cluster of our own (initdb in a temp dir), which tests may stop and start."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/conduit"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            timeout=timeout,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        pg_ctl = _pg_bin("pg_ctl")
        assert pg_ctl
        self._run(pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        pg_ctl = _pg_bin("pg_ctl")
        assert pg_ctl
        self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    initdb = _pg_bin("initdb")
    if initdb is None or _pg_bin("pg_ctl") is None or shutil.which("runuser") is None:
        unavailable("initdb/pg_ctl/runuser not found: cannot run a private PostgreSQL cluster")
    if os.geteuid() != 0:
        unavailable("a private cluster is run as the postgres OS user, which needs root")
    root = Path(tempfile.mkdtemp(prefix="conduit-pg-"))
    root.chmod(0o755)
    shutil.chown(root, "postgres", "postgres")
    cluster = PrivateCluster(root, free_port())
    try:
        assert initdb
        cluster._run(initdb, "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        cluster.start()
        engine = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE conduit"))
        engine.dispose()
        yield cluster
    finally:
        if cluster.running():
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(_pg_bin("pg_ctl")),
                    "-D",
                    str(cluster.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                check=False,
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)


# --- Redis ---------------------------------------------------------------------------------------


@pytest.fixture
def redis_db() -> Iterator[str]:
    """Our own Redis database (14 by default), emptied before and after the test."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        client.close()
        unavailable(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    yield REDIS_URL
    client.flushdb()
    client.close()


# --- gunicorn, with its master process in hand ----------------------------------------------------


@contextmanager
def gunicorn_server(
    database_url: str, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """`tests.live.gunicorn_server` with this suite's quiet defaults (a test may override them)."""
    with live_gunicorn_server(
        database_url, workers=workers, env={**QUIET, **(env or {})}
    ) as server:
        yield server
