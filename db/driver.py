"""Prebuilt statements run on the driver's own cursor (PostgreSQL).

SQLAlchemy's Core execution (the cache-key lookup, an execution context, result metadata,
row processing) costs about 100 µs of CPU per statement here: more than psycopg's own work
for the one-row reads that most requests are, and about half a write's statement. A
statement of `db/queries/` or `db/writes/` is built once, so its SQL is too: `rows` and
`execute` compile it once per dialect and, on PostgreSQL, hand that string and the
parameters (through the statement's bind processors, where it has any) straight to
psycopg, which prepares it server-side after a few runs as it would under SQLAlchemy.
A write runs in the session's transaction: `session.connection()` is the connection.

What the rest of the app relies on stays as it was: rows have the same fields (a named
tuple per statement), listeners on the engine still see every statement (tests count them
with `before_cursor_execute`), a driver error leaves as SQLAlchemy's `DBAPIError` subclass
for it, and a lost connection is still noticed by SQLAlchemy itself, which invalidates the
pool, so `api/errors.py` answers and reruns exactly as before. Statements that need
SQLAlchemy at run time (expanding IN lists, escaped names) and SQLite take SQLAlchemy's path.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase

RowMaker = Callable[[Sequence[Any]], Any]
Statement = Select[*tuple[Any, ...]] | UpdateBase  # a read, or a write (RETURNING or not)


class _Prepared:
    """A statement's SQL for psycopg, its constant parameters, and its row type."""

    __slots__ = ("constants", "processors", "row_factory", "sql")

    def __init__(
        self,
        sql: str,
        constants: dict[str, Any],
        processors: dict[str, Callable[[Any], Any]],
        make_row: RowMaker,
    ) -> None:
        self.sql = sql
        self.constants = constants
        self.processors = processors
        self.row_factory: Callable[[Any], RowMaker] = lambda _cursor: make_row

    def parameters(self, params: Mapping[str, Any]) -> dict[str, Any]:
        parameters = {**self.constants, **params}
        for name, process in self.processors.items():
            parameters[name] = process(parameters[name])
        return parameters


# Each statement's prepared form, or None when it must take SQLAlchemy's path. Statements
# hash by identity; they are module-level or cached builders' results, built once.
_prepared: dict[Statement, _Prepared | None] = {}


def _prepare(connection: Connection, statement: Statement) -> _Prepared | None:
    compiled = statement.compile(dialect=connection.dialect)
    if compiled.escaped_bind_names or any(p.expanding for p in compiled.post_compile_params):
        return None
    # Renders the literal-execute values (constants such as a separator) into the SQL and
    # gives every parameter its statement default (None where the caller must supply one).
    state = compiled.construct_expanded_state(
        {name: bind.effective_value for name, bind in compiled.binds.items()}
    )
    constants = dict(state.parameters)
    # Column defaults SQLAlchemy evaluates in Python when an INSERT leaves the column out
    # (`default=0`): a constant is bound once here; anything else needs SQLAlchemy.
    for column in compiled.insert_prefetch:
        default = column.default
        if default is None or not default.is_scalar or column.key not in constants:
            return None
        constants[column.key] = default.arg  # type: ignore[attr-defined]
    if compiled.update_prefetch:
        return None
    # SQLAlchemy's per-parameter conversions (a list for an ARRAY, say); no public way to ask
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, process in compiled._bind_processors.items():
        if name not in state.parameters or not callable(process):  # a tuple's: per element
            return None
        processors[name] = process
    keys = [str(key) for key in statement.exported_columns.keys()]  # noqa: SIM118 - a collection
    fields = namedtuple("Record", keys, rename=True)  # type: ignore[misc]
    return _Prepared(state.statement, constants, processors, fields._make)


def prepares(connection: Connection) -> bool:
    """Whether psycopg prepares the connection's statements after a few runs: not behind
    PgBouncer's transaction pooling (`db/session.py::connect_args`), nor on SQLite."""
    raw = connection.connection.driver_connection
    return getattr(raw, "prepare_threshold", None) is not None


def rows(connection: Connection, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
    """All rows of a prebuilt read, or of a write's RETURNING (attribute access by key).

    Prebuilt: a statement made once (module level or a cached builder), never per call,
    since each statement's SQL is kept for the life of the process.
    """
    return _run(connection, statement, params, fetch=True)


def first(connection: Connection, statement: Statement, params: Mapping[str, Any]) -> Any:
    """The first row of a prebuilt statement, or None."""
    found = rows(connection, statement, params)
    return found[0] if found else None


def execute(connection: Connection, statement: UpdateBase, params: Mapping[str, Any]) -> None:
    """Run a prebuilt write that returns nothing."""
    _run(connection, statement, params, fetch=False)


def _run(
    connection: Connection, statement: Statement, params: Mapping[str, Any], *, fetch: bool
) -> list[Any]:
    if connection.dialect.name == "postgresql":
        try:
            prepared = _prepared[statement]
        except KeyError:
            prepared = _prepared[statement] = _prepare(connection, statement)
    else:
        prepared = None
    if prepared is None:
        result = connection.execute(statement, params)
        return list(result.all()) if fetch else []
    parameters = prepared.parameters(params)
    raw = connection.connection.driver_connection
    sql = prepared.sql
    try:  # a connection the driver already knows is closed fails at cursor()
        with raw.cursor(row_factory=prepared.row_factory) as cursor:  # type: ignore[union-attr]
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, sql, parameters, None, False)
            cursor.execute(sql, parameters)
            return cursor.fetchall() if fetch else []
    except connection.dialect.loaded_dbapi.Error as error:
        raise _wrapped(connection, sql, parameters, error) from error


def _wrapped(
    connection: Connection, sql: str, parameters: Mapping[str, Any], error: Any
) -> DBAPIError:
    """The driver's error as SQLAlchemy would have raised it.

    A lost connection is left for SQLAlchemy to find: one trivial statement on the same
    connection fails as the read did, and SQLAlchemy then invalidates the connection and
    marks the pool's older ones stale, as for any disconnect it sees. That error (with
    `connection_invalidated` set) is the one raised.
    """
    dialect = connection.dialect
    if dialect.is_disconnect(error, connection.connection.dbapi_connection, None):
        try:
            connection.exec_driver_sql("SELECT 1")
        except DBAPIError as lost:
            return lost
    wrapped = DBAPIError.instance(
        sql, parameters, error, dialect.loaded_dbapi.Error, dialect=dialect
    )
    return cast(DBAPIError, wrapped)  # a StatementError only for an error that is not the driver's
