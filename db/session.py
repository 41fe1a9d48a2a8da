"""Engine and session lifecycle: one engine per process, one session per request."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, NestedTransaction, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from core.settings import PoolMode
from db.replicas import READS, Replica, Replicas, parse_lsn

log = logging.getLogger(__name__)

# Below gunicorn's worker timeout, so a stuck query fails the request, not the worker.
STATEMENT_TIMEOUT_MS = 10_000


def connect_args(
    *, pgbouncer: PoolMode | None = None, timeout_ms: int = STATEMENT_TIMEOUT_MS
) -> dict[str, Any]:
    """psycopg's connection arguments, the same for the engines and the replica monitor.

    PgBouncer refuses the startup parameter `options`: behind it the statement timeout is the
    role's (`ALTER ROLE ... SET statement_timeout`, README). In transaction pooling (1.18
    keeps no track of prepared statements), a statement psycopg prepared on one server
    connection would be run by name on another, so psycopg prepares nothing there
    (`prepare_threshold=None`; by default it prepares on a query's fifth run), and each
    statement is planned on every run: the global and by-tag lists, whose planning cost
    twice their execution, run through a PL/pgSQL function there instead, whose plans the
    server keeps (migration 0016). In session pooling a client keeps its server connection,
    and its prepared statements with it.
    """
    if pgbouncer == "transaction":
        return {"connect_timeout": 5, "prepare_threshold": None}
    if pgbouncer == "session":
        return {"connect_timeout": 5}
    return {"connect_timeout": 5, "options": f"-c statement_timeout={timeout_ms}"}


def make_engine(url: str, *, echo: bool = False, pgbouncer: PoolMode | None = None) -> Engine:
    """Create an engine with the per-backend settings this app relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        _sqlite_transactions(engine)
        return engine
    # No pre-ping (a round trip on every checkout): a connection found dead is invalidated
    # with the whole pool, a safe read is run once more and anything else answers 503
    # (api/errors.py), and the next request connects afresh.
    return create_engine(
        url,
        echo=echo,
        pool_size=5,
        max_overflow=5,
        pool_timeout=5,
        connect_args=connect_args(pgbouncer=pgbouncer),
    )


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, drive BEGIN so SAVEPOINTs work; enforce foreign keys."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


class _ReadConnection(threading.local):
    """This thread's read connection, and the savepoint it opened in a bound test connection.

    With replicas: the engine it came from (the primary's reader or a replica's), the replica,
    the position the request's reads must see (`Database.route`), and the connections the
    main thread keeps from one request to the next, one per engine.
    """

    connection: Connection | None = None
    savepoint: NestedTransaction | None = None
    engine: Engine | None = None
    replica: Replica | None = None
    position: int | None = None

    def __init__(self) -> None:
        self.kept: dict[Engine, Connection] = {}


class Database:
    """The engine and the request-scoped session factories of one app.

    `session` is for requests that write. `reader` serves safe requests: on PostgreSQL its
    connections run in autocommit, which saves the BEGIN and ROLLBACK round trips a read-only
    request would otherwise pay (each read is one statement, so nothing needs a transaction).
    `read_connection()` is the same autocommit reader without the ORM: the read queries
    select columns into Rows, so the ORM's execution layer and a Session's transaction
    bookkeeping were pure cost on them. The main thread keeps its read connection from one
    request to the next (see `_release_read_connection`).

    With `replica_urls`, `read_connection()` is a replica's when one has replayed the position
    given to `route` and lags under `max_lag` (db/replicas.py), else the primary's. The
    sessions (writes, the ORM reader, the workers' and the relay's) are always the primary's.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        replica_urls: Sequence[str] = (),
        max_lag: float = 5.0,
        pgbouncer: PoolMode | None = None,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, pgbouncer=pgbouncer)
        self.read_engine = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.replicas: Replicas | None = None
        if replica_urls and self.read_engine is not self.engine:
            self.replicas = Replicas(
                url,
                replica_urls,
                lambda replica: make_engine(
                    replica, echo=echo, pgbouncer=pgbouncer
                ).execution_options(isolation_level="AUTOCOMMIT"),
                max_lag=max_lag,
                connect_args=connect_args(pgbouncer=pgbouncer),
            )
        self.session: scoped_session[Session] = scoped_session(
            sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=False)
        )
        self.reader: scoped_session[Session] = scoped_session(
            sessionmaker(bind=self.read_engine, expire_on_commit=False, autoflush=False)
        )
        self._bound: Connection | None = None
        self._read = _ReadConnection()

    def read_connection(self) -> Connection:
        """This request's read connection (checked out on first use, released by `remove`)."""
        read = self._read
        if read.connection is None:
            if self._bound is not None:
                # As the sessions do in tests: a savepoint in the test's transaction.
                read.savepoint = self._bound.begin_nested()
                read.connection = self._bound
            else:
                read.connection = self._connect(read)
        return read.connection

    def _connect(self, read: _ReadConnection) -> Connection:
        """A connection to the replica the request may read from, else to the primary."""
        if self.replicas is not None:
            replica = self.replicas.choose(read.position)
            if replica is not None:
                try:
                    connection = read.kept.pop(replica.engine, None) or replica.engine.connect()
                except DBAPIError:
                    self.replicas.failed(replica)
                else:
                    read.engine, read.replica = replica.engine, replica
                    READS.labels("replica").inc()
                    return connection
            READS.labels("primary").inc()
        read.engine, read.replica = self.read_engine, None
        return read.kept.pop(self.read_engine, None) or self.read_engine.connect()

    def route(self, position: int | None) -> None:
        """The WAL position this thread's reads must see from now on (its request's client's
        last write: set for each request, a rerun keeps it); None: any replica under the lag
        bound will do."""
        self._read.position = position

    def abandon_replica(self) -> bool:
        """If this request reads from a replica, mark it failed and drop the connection, so
        that the request's reads run again on the primary; False when it reads the primary."""
        read = self._read
        replica, connection = read.replica, read.connection
        if replica is None or self.replicas is None:
            return False
        self.replicas.failed(replica)
        read.connection = read.replica = read.engine = None
        if connection is not None:
            connection.invalidate()
            connection.close()
        return True

    def primary_position(self) -> int | None:
        """The primary's WAL position now (after a commit: at or past it); None on SQLite."""
        if self.read_engine is self.engine:
            return None
        with self.read_engine.connect() as connection:
            found = connection.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar_one()
        return parse_lsn(found)

    def _release_read_connection(self, *, keep: bool) -> None:
        """End the request's use of its read connection.

        With `keep`, the main thread holds on to a healthy autocommit connection for its
        next request: the pool's checkout and checkin (with its reset) were a tenth of a
        one-row read's CPU. Only the main thread, which lives as long as the process (a
        gunicorn sync worker serves there); threads that come and go (`make run`'s, gthread's)
        return theirs. A connection lost meanwhile fails its next read like a pooled one
        would, invalidated by SQLAlchemy, and is replaced at that request's end.
        """
        read = self._read
        if not keep:
            self._close_kept(read)
        connection, savepoint, engine = read.connection, read.savepoint, read.engine
        if connection is None:
            return
        read.connection = read.savepoint = read.engine = read.replica = None
        if savepoint is None and keep and not connection.invalidated and self._holds():
            if connection.in_transaction():  # SQLAlchemy's own bookkeeping; autocommit
                connection.rollback()
            read.kept[engine or self.read_engine] = connection
            return
        if savepoint is not None:
            # close(), not rollback(): a writer's savepoint opened before this one and ended
            # since (in a test holding an app context across requests) already ended it.
            savepoint.close()
            return
        try:
            connection.close()
        except DBAPIError as error:
            log.warning("discarding a broken database connection: %s", error.orig)
            connection.invalidate()

    @staticmethod
    def _close_kept(read: _ReadConnection) -> None:
        kept = list(read.kept.values())
        read.kept.clear()
        for connection in kept:
            try:
                connection.close()
            except DBAPIError as error:
                log.warning("discarding a broken database connection: %s", error.orig)
                connection.invalidate()

    def _holds(self) -> bool:
        return self.read_engine is not self.engine and (
            threading.current_thread() is threading.main_thread()
        )

    def remove(self, _exc: BaseException | None = None) -> None:
        """End the request's sessions and its use of the read connection."""
        self._end(keep=True)

    def _end(self, *, keep: bool) -> None:
        # Innermost savepoint first: in tests all share one connection. A request opens the
        # read connection first (the token's lookup), then the reader session if it needs
        # one; a writer session open meanwhile is the test's own, the outermost.
        self._remove(self.reader)
        self._release_read_connection(keep=keep)
        self._remove(self.session)

    @staticmethod
    def _remove(sessions: scoped_session[Session]) -> None:
        try:
            sessions.remove()
        except DBAPIError as error:
            # The connection died after the response was made (the database restarted
            # or dropped it), so closing could not roll back. Discard the connection
            # rather than turn a finished request into a 500; the pool reconnects.
            log.warning("discarding a broken database connection: %s", error.orig)
            sessions().invalidate()
            sessions.remove()

    def bind(self, connection: Connection | None) -> None:
        """Run every session in `connection`'s transaction, as savepoints (tests roll it back).

        `None` restores the engines.
        """
        self._end(keep=False)
        self._bound = connection
        if connection is None:
            self.session.configure(bind=self.engine, join_transaction_mode="conservative_savepoint")
            self.reader.configure(
                bind=self.read_engine, join_transaction_mode="conservative_savepoint"
            )
        else:
            self.session.configure(bind=connection, join_transaction_mode="create_savepoint")
            self.reader.configure(bind=connection, join_transaction_mode="create_savepoint")

    def dispose(self) -> None:
        self._end(keep=False)
        if self.replicas is not None:
            self.replicas.dispose()
        self.engine.dispose()
