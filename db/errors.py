"""What the database's failures mean, for the code above db/ that must not parse them.

Integrity errors are classified here, once: by the kind of constraint broken and by its
name, as `db.models.NAMING_CONVENTION` names it. PostgreSQL says both (the SQLSTATE, and
psycopg's `diag.constraint_name`); SQLite says only, in its message, which columns a unique
constraint covers, and the models' metadata says which constraint that is.
"""

from __future__ import annotations

import enum
import re
import sqlite3
from dataclasses import dataclass
from functools import cache

import psycopg
from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import DBAPIError, IntegrityError

from db.models import Base


class DatabaseUnavailable(Exception):
    """The database could not be read: down, unreachable, or without our schema."""


def is_disconnect(error: DBAPIError) -> bool:
    """Whether the error means the connection was lost (the server restarted or dropped it).

    SQLAlchemy has then invalidated that connection and marked every pooled connection made
    before it stale, so the next checkout connects afresh: no pre-ping is needed.
    """
    return bool(error.connection_invalidated)


class Kind(enum.Enum):
    UNIQUE = "unique"  # primary keys too
    FOREIGN_KEY = "foreign key"
    NOT_NULL = "not null"
    CHECK = "check"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Violation:
    """An integrity error, classified."""

    kind: Kind
    # e.g. "uq_users_email"; None where the database names none (SQLite: foreign keys)
    constraint: str | None


# PostgreSQL's integrity constraint violations (SQLSTATE class 23).
_SQLSTATES = {
    "23505": Kind.UNIQUE,
    "23503": Kind.FOREIGN_KEY,
    "23502": Kind.NOT_NULL,
    "23514": Kind.CHECK,
}
# SQLite: "UNIQUE constraint failed: users.email", "FOREIGN KEY constraint failed", ...
_SQLITE_MESSAGE = re.compile(r"(UNIQUE|FOREIGN KEY|NOT NULL|CHECK) constraint failed(?:: (.+))?")
_SQLITE_KINDS = {
    "UNIQUE": Kind.UNIQUE,
    "FOREIGN KEY": Kind.FOREIGN_KEY,
    "NOT NULL": Kind.NOT_NULL,
    "CHECK": Kind.CHECK,
}


def violation(error: IntegrityError) -> Violation:
    """Which kind of constraint the error broke, and which one by name when it can be told."""
    cause = error.orig
    if isinstance(cause, psycopg.Error):
        return Violation(
            _SQLSTATES.get(cause.sqlstate or "", Kind.OTHER), cause.diag.constraint_name
        )
    if isinstance(cause, sqlite3.Error) and (found := _SQLITE_MESSAGE.fullmatch(str(cause))):
        kind, detail = _SQLITE_KINDS[found[1]], found[2]
        if kind is Kind.UNIQUE:
            return Violation(kind, _unique_constraints().get(detail or ""))
        return Violation(kind, detail if kind is Kind.CHECK else None)  # NOT NULL names a column
    return Violation(Kind.OTHER, None)


def is_unique_violation(error: IntegrityError, constraint: str) -> bool:
    """Whether the error is a violation of the unique constraint (or primary key) named."""
    found = violation(error)
    return found.kind is Kind.UNIQUE and found.constraint == constraint


@cache
def _unique_constraints() -> dict[str, str]:
    """Each unique constraint's and primary key's columns, as SQLite lists them, to its name."""
    names: dict[str, str] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint) and constraint.name:
                columns = ", ".join(f"{table.name}.{column.name}" for column in constraint.columns)
                names[columns] = str(constraint.name)
    return names
