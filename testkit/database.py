"""PostgreSQL for tests: throwaway databases on the test server, a private cluster a test may
stop and start, and a counter of the statements an engine runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import Engine, create_engine, event, make_url, text

from db.migrate import upgrade
from testkit.settings import TEST_DATABASE_URL, unavailable


class PostgresServer:
    """A PostgreSQL server (the test server by default) to make throwaway databases on."""

    def __init__(self, admin_url: str = TEST_DATABASE_URL) -> None:
        self.admin_url = make_url(admin_url)
        self.engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def unreachable(self) -> str | None:
        """Why the server cannot be reached, or None when it can."""
        try:
            with self.engine.connect():
                return None
        except Exception as exc:
            return f"PostgreSQL not reachable at {self.admin_url}: {exc.__class__.__name__}"

    @contextmanager
    def database(self, prefix: str = "conduit_test", *, migrate: bool = False) -> Iterator[str]:
        """A uniquely named database (empty, or at Alembic head with `migrate`), dropped
        afterwards whatever happens; yields its URL."""
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = self.admin_url.set(database=name).render_as_string(hide_password=False)
            if migrate:
                upgrade(url)
            yield url
        finally:
            with self.engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def reachable_postgres(admin_url: str = TEST_DATABASE_URL) -> Iterator[PostgresServer]:
    """The server for a whole session; `unavailable` (skip, or fail under CI) if unreachable."""
    server = PostgresServer(admin_url)
    try:
        if reason := server.unreachable():
            unavailable(reason)
        yield server
    finally:
        server.dispose()


@contextmanager
def throwaway_database(
    prefix: str,
    admin_url: str | None = None,
    *,
    unreachable: Callable[[str], NoReturn] | None = None,
    migrate: bool = False,
) -> Iterator[str]:
    """`PostgresServer.database` on a server of its own (the test server by default).

    `unreachable(reason)` is called when the server cannot be reached (tests pass
    `unavailable`); without it the error propagates.
    """
    server = PostgresServer(admin_url or TEST_DATABASE_URL)
    try:
        if unreachable is not None and (reason := server.unreachable()):
            unreachable(reason)
        with server.database(prefix, migrate=migrate) as url:
            yield url
    finally:
        server.dispose()


class QueryCounter:
    """Counts the data statements (not savepoint bookkeeping) an engine runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in {
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "WITH",
        }:
            self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        self.statements.clear()
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server program (the newest Debian install, else on PATH)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else shutil.which(name)


class PrivateCluster:
    """A PostgreSQL cluster of our own (initdb in a temp dir), which tests may stop and start."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/conduit"

    @staticmethod
    def cannot_run() -> str | None:
        """Why no private cluster can run on this machine, or None."""
        programs = ("initdb", "pg_ctl", "pg_basebackup")
        if any(pg_bin(name) is None for name in programs) or shutil.which("runuser") is None:
            return "initdb/pg_ctl/pg_basebackup/runuser not found: cannot run a private cluster"
        if os.geteuid() != 0:
            return "a private cluster is run as the postgres OS user, which needs root"
        return None

    @classmethod
    @contextmanager
    def _owned(cls, prefix: str, port: int) -> Iterator[PrivateCluster]:
        """A cluster in a temp dir of the postgres OS user's; stopped and removed afterwards."""
        root = Path(tempfile.mkdtemp(prefix=prefix))
        root.chmod(0o755)
        shutil.chown(root, "postgres", "postgres")
        cluster = cls(root, port)
        try:
            yield cluster
        finally:
            if cluster.running():
                cluster._pg_ctl("-m", "immediate", "-w", "stop", check=False)
            shutil.rmtree(root, ignore_errors=True)

    @classmethod
    @contextmanager
    def fresh(cls, port: int) -> Iterator[PrivateCluster]:
        """A new cluster, running, with an empty `conduit` database; removed afterwards."""
        with cls._owned("conduit-pg-", port) as cluster:
            cluster._run(_program("initdb"), "-D", str(cluster.data), "-A", "trust",
                         "-U", "postgres", "-E", "UTF8")  # fmt: skip
            cluster.start()
            engine = create_engine(
                f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
                isolation_level="AUTOCOMMIT",
            )
            with engine.connect() as conn:
                conn.execute(text("CREATE DATABASE conduit"))
            engine.dispose()
            yield cluster

    @classmethod
    @contextmanager
    def replica_of(cls, primary: PrivateCluster, port: int) -> Iterator[PrivateCluster]:
        """A streaming replica of `primary` (`pg_basebackup -R`), running; removed afterwards."""
        with cls._owned("conduit-pg-replica-", port) as replica:
            replica._run(_program("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                         "-U", "postgres", "-D", str(replica.data), "-R", "-X", "stream",
                         "-c", "fast")  # fmt: skip
            replica.start()
            yield replica

    def kill(self) -> None:
        """Stop at once, as a crash would (no shutdown checkpoint)."""
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def _run(self, *args: str, timeout: float = 60, check: bool = True) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=check,
            timeout=timeout,
            capture_output=True,
        )

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        self._run(_program("pg_ctl"), "-D", str(self.data), *args, check=check)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._pg_ctl("-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


def _program(name: str) -> str:
    found = pg_bin(name)
    assert found, f"{name} not found"
    return found
