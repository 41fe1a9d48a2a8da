"""INSERT statements for either backend (PostgreSQL, SQLite): the one place that picks the
dialect's INSERT, for its ON CONFLICT clauses (writes, the outbox, notifications, keys)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Insert,
    TableClause,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import (
    Base,
)


def insert_ignore(session: Session, table: TableClause | type[Base]) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for the session's backend: idempotent under races."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def dialect_insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """The backend's own INSERT (named by its dialect), for its ON CONFLICT clauses."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
