"""Contract tests reuse the suite's PostgreSQL fixtures (throwaway databases, CI-strict)."""

from tests.conftest import postgres_server

__all__ = ["postgres_server"]
