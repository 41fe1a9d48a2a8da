"""/metrics adds up every gunicorn worker (prometheus multiprocess mode)."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from testkit.http import call
from tests.support.ops import gunicorn_server

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

PATTERN = re.compile(
    r'^conduit_http_requests_total\{endpoint="/api/users",method="POST",status="201"\} (\S+)$',
    re.MULTILINE,
)


def _register(base_url: str) -> int:
    name = f"m{uuid.uuid4().hex[:12]}"
    user = {"username": name, "email": f"{name}@example.com", "password": "metrics pw"}
    return call(base_url, "POST", "/api/users", json_body={"user": user}).status


def test_metrics_sum_over_workers(database_url: str) -> None:
    with gunicorn_server(database_url, workers=3) as server:

        def total() -> float:
            metrics = call(server.base_url, "GET", "/metrics")
            assert metrics.status == 200
            values = PATTERN.findall(metrics.body.decode())
            return float(values[0]) if values else 0.0

        before = total()
        # Registrations hash a password (tens of ms), so concurrent ones keep every worker busy.
        requests = 36
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(lambda _: _register(server.base_url), range(requests)))
        assert statuses == [201] * requests
        after = total()
        # Each worker writes its own file in the shared directory.
        writers = {p.stem.split("_")[-1] for p in server.log_path.parent.glob("counter_*.db")}
        print(f"{requests} requests; /metrics {before} -> {after}; counter files of {writers}")
        assert len(writers) >= 2, "the requests all went to one worker: nothing was summed"
        assert after - before == requests
