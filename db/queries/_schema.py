"""The migration the schema is at (readiness)."""

from __future__ import annotations

from sqlalchemy import (
    text,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from db.errors import DatabaseUnavailable, is_disconnect

_SCHEMA_VERSION = text("SELECT version_num FROM alembic_version")


def schema_version(session: Session) -> str | None:
    """The migration the schema is at; DatabaseUnavailable when it cannot be read.

    A connection lost since its last use (the pool had it from before a restart) is retried
    once on a new one, so readiness does not fail once after every database restart.
    """
    for retry in (True, False):
        try:
            version: str | None = session.execute(_SCHEMA_VERSION).scalar()
        except DBAPIError as error:
            if retry and is_disconnect(error):
                session.rollback()
                continue
            raise DatabaseUnavailable from error
        except SQLAlchemyError as error:
            raise DatabaseUnavailable from error
        return version
    raise AssertionError("unreachable")  # pragma: no cover
