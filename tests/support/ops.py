"""What the ops suite's live servers share: their secret, their Redis database, quiet logs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support import servers

JWT_SECRET = "ops-test-secret-" + "k" * 40
REDIS_URL = os.environ.get("OPS_REDIS_URL", "redis://127.0.0.1:6379/14")
QUIET = {"JWT_SECRET_KEY": JWT_SECRET, "RATE_LIMIT_ENABLED": "false", "ACCESS_LOG": "false"}


@contextmanager
def gunicorn_server(
    database_url: str, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[servers.Server]:
    """`servers.gunicorn_server` with the ops suite's quiet defaults (a test may override them)."""
    with servers.gunicorn_server(
        database_url, workers=workers, env={**QUIET, **(env or {})}
    ) as server:
        yield server
