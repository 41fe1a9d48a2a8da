"""What the ops suite's live servers share: their secret, their Redis database, quiet logs."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from testkit import servers

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


# gunicorn's own access log can name the worker pid (our JSON log does not): which worker
# answered which request, by the X-Request-ID the test sent.
PID_LOG_FORMAT = "%(p)s %({x-request-id}i)s %(s)s"
_PID_LINE = re.compile(r"^<(\d+)> (\S+) (\d{3})$")


def pid_log_env(access_log: Path) -> dict[str, str]:
    """The server environment that writes `access_log` in PID_LOG_FORMAT."""
    return {
        "GUNICORN_ACCESS_LOG": str(access_log),
        "GUNICORN_CMD_ARGS": f"--access-logformat '{PID_LOG_FORMAT}'",
    }


def workers_of(access_log: Path, request_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """request id -> (worker pid, status); waits briefly for lines not written yet."""
    wanted = set(request_ids)
    deadline = time.monotonic() + 10
    while True:
        found = {}
        for line in access_log.read_text().splitlines():
            if match := _PID_LINE.match(line):
                found[match.group(2)] = (int(match.group(1)), int(match.group(3)))
        if wanted <= set(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
