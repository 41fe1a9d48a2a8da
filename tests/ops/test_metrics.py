"""/metrics adds up every gunicorn worker (prometheus multiprocess mode)."""

from __future__ import annotations

import re

from tests.ops.conftest import call, gunicorn_server

PATTERN = re.compile(
    r'^conduit_http_requests_total\{endpoint="/api/tags",method="GET",status="200"\} (\S+)$',
    re.MULTILINE,
)


def test_metrics_sum_over_workers(database_url: str) -> None:
    with gunicorn_server(database_url, workers=3) as server:

        def total() -> float:
            metrics = call(server.base_url, "GET", "/metrics")
            assert metrics.status == 200
            (value,) = PATTERN.findall(metrics.body.decode())
            return float(value)

        before = total()  # the start-up probes count too
        requests = 90
        for _ in range(requests):
            assert call(server.base_url, "GET", "/api/tags").status == 200
        after = total()
        # Each worker writes its own file in the shared directory.
        writers = {p.stem.split("_")[-1] for p in server.log_path.parent.glob("counter_*.db")}
        print(f"{requests} requests; /metrics {before} -> {after}; counter files of {writers}")
        assert len(writers) >= 2, "the requests all went to one worker: nothing was summed"
        assert after - before == requests
