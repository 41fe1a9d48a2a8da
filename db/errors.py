"""What the database's failures mean, for callers that must not depend on SQLAlchemy."""

from __future__ import annotations


class DatabaseUnavailable(Exception):
    """The database could not be read: down, unreachable, or without our schema."""
