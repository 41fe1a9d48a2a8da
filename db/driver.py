"""Prebuilt reads run on the driver's own cursor (PostgreSQL).

SQLAlchemy's Core execution (the cache-key lookup, an execution context, result metadata,
row processing) costs about 100 µs of CPU per statement here: more than psycopg's own work
for the one-row reads that most requests are. A read statement of `db/queries.py` is built
once, so its SQL is too: `rows` compiles it once per dialect and, on PostgreSQL, hands that
string and the parameters straight to psycopg, which prepares it server-side after a few
runs as it would under SQLAlchemy.

What the rest of the app relies on stays as it was: rows have the same fields (a named
tuple per statement), listeners on the engine still see every statement (tests count them
with `before_cursor_execute`), a driver error leaves as SQLAlchemy's `DBAPIError` subclass
for it, and a lost connection is still noticed by SQLAlchemy itself, which invalidates the
pool, so `api/errors.py` answers and reruns exactly as before. Statements that need
SQLAlchemy at run time (bind processors, expanding IN lists, escaped names) and SQLite take
SQLAlchemy's path.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Select
from sqlalchemy.exc import DBAPIError

RowMaker = Callable[[Sequence[Any]], Any]


class _Prepared:
    """A statement's SQL for psycopg, its constant parameters, and its row type."""

    __slots__ = ("constants", "row_factory", "sql")

    def __init__(self, sql: str, constants: dict[str, Any], make_row: RowMaker) -> None:
        self.sql = sql
        self.constants = constants
        self.row_factory: Callable[[Any], RowMaker] = lambda _cursor: make_row


# Each statement's prepared form, or None when it must take SQLAlchemy's path. Statements
# hash by identity; they are module-level or cached builders' results, built once.
_prepared: dict[Select[*tuple[Any, ...]], _Prepared | None] = {}


def _prepare(connection: Connection, statement: Select[*tuple[Any, ...]]) -> _Prepared | None:
    compiled = statement.compile(dialect=connection.dialect)
    if (
        compiled._bind_processors  # no public way to ask
        or compiled.escaped_bind_names
        or any(p.expanding for p in compiled.post_compile_params)
    ):
        return None
    # Renders the literal-execute values (constants such as a separator) into the SQL and
    # gives every parameter its statement default (None where the caller must supply one).
    state = compiled.construct_expanded_state(
        {name: bind.effective_value for name, bind in compiled.binds.items()}
    )
    fields = namedtuple("Record", list(statement.selected_columns.keys()), rename=True)  # type: ignore[misc]
    return _Prepared(state.statement, dict(state.parameters), fields._make)


def rows(
    connection: Connection, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]
) -> list[Any]:
    """All rows of a prebuilt read statement (attribute access by column key)."""
    if connection.dialect.name != "postgresql":
        return list(connection.execute(statement, params).all())
    try:
        prepared = _prepared[statement]
    except KeyError:
        prepared = _prepared[statement] = _prepare(connection, statement)
    if prepared is None:
        return list(connection.execute(statement, params).all())
    parameters = {**prepared.constants, **params}
    raw = connection.connection.driver_connection
    sql = prepared.sql
    try:  # a connection the driver already knows is closed fails at cursor()
        with raw.cursor(row_factory=prepared.row_factory) as cursor:  # type: ignore[union-attr]
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, sql, parameters, None, False)
            cursor.execute(sql, parameters)
            return cursor.fetchall()  # type: ignore[no-any-return]
    except connection.dialect.loaded_dbapi.Error as error:
        raise _wrapped(connection, sql, parameters, error) from error


def first(
    connection: Connection, statement: Select[*tuple[Any, ...]], params: Mapping[str, Any]
) -> Any:
    """The first row of a prebuilt read statement, or None."""
    found = rows(connection, statement, params)
    return found[0] if found else None


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
