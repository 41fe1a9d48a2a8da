"""Metrics survive dead workers, the directory stays bounded, and nothing is left behind.

Each gunicorn worker writes its samples to files of its own in PROMETHEUS_MULTIPROC_DIR; when
one dies, the master folds its counters and histograms into an archive (api/pipeline/metrics.py),
so totals never go back however many workers die, and the directory holds the live workers'
files plus one archive per type. Proven on a live gunicorn with 2 workers: 100 SIGKILLs in a
loop, requests between (each killed worker had counted some); the request counter summed over
/metrics (read alternately from the app and from the master's own METRICS_BIND listener) never
decreases and equals the requests served exactly; after each kill every file is an archive or a
live worker's, so the file count cannot grow. A directory gunicorn named itself is removed
when it stops; one it was given is emptied of a previous run's files when it starts.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from core.metrics import ARCHIVE, FOLDED_TYPES
from testkit.servers import free_port
from tests.ops.conftest import call, gunicorn_server

# Not in the ops suite's xdist group: these tests use no Redis and restart no shared service,
# only their own gunicorn (and its workers) on their own database, so they run beside it.

KILLS = 100
WORKERS = 2
SAMPLE = re.compile(r"^conduit_http_requests_total\{[^}]*\} (\S+)$", re.MULTILINE)


def requests_total(base_url: str) -> float:
    """conduit_http_requests_total summed over every label set (and so over every worker)."""
    reply = call(base_url, "GET", "/metrics")
    assert reply.status == 200, reply
    return sum(float(value) for value in SAMPLE.findall(reply.body.decode()))


def wait_for(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.005)


def folded(directory: Path, pid: int) -> bool:
    """The master has folded (and removed) every file of the dead worker `pid`."""
    return not any(directory.glob(f"*_{pid}.db"))


def owner(path: Path) -> int | str:
    """The pid in `<type>_<pid>.db`, or "archive"."""
    tail = path.stem.rsplit("_", 1)[1]
    return int(tail) if tail.isdigit() else tail


def metrics_dir_from(log: str) -> Path:
    found = re.search(r"workers' metrics in (\S+)", log)
    assert found, log[-2000:]
    return Path(found.group(1))


def test_worker_kills_leave_counters_monotonic_and_the_directory_bounded(
    database_url: str,
) -> None:
    metrics_port = free_port()
    env = {
        "PROMETHEUS_MULTIPROC_DIR": "",  # gunicorn names (and later removes) one of its own
        "METRICS_BIND": f"127.0.0.1:{metrics_port}",
    }
    with (
        gunicorn_server(database_url, workers=WORKERS, env=env) as server,
        ThreadPoolExecutor(2) as pool,
    ):
        directory = metrics_dir_from(server.log())
        assert directory.is_dir() and directory.parent == Path(tempfile.gettempdir())
        assert directory.name.startswith("conduit-metrics-")
        readers = (server.base_url, f"http://127.0.0.1:{metrics_port}")
        baseline = requests_total(readers[0])
        served = 0
        totals: list[float] = []
        files: list[int] = []
        started = time.monotonic()
        for kill in range(KILLS):
            # Requests (two at a time, so both workers take some), then a worker that has
            # counted some (it has a counter file) dies; the other keeps what it counted.
            victim = None
            while victim is None:
                statuses = list(
                    pool.map(lambda _: call(server.base_url, "GET", "/api/tags").status, range(4))
                )
                assert statuses == [200] * 4
                served += 4
                counted = [
                    p for p in server.worker_pids() if (directory / f"counter_{p}.db").exists()
                ]
                victim = counted[0] if counted else None
            os.kill(victim, signal.SIGKILL)
            wait_for(functools.partial(folded, directory, victim))
            total = requests_total(readers[kill % 2]) - baseline
            assert not totals or total >= totals[-1], (kill, totals[-1], total)
            assert total == served, (kill, total, served)
            totals.append(total)
            present = list(directory.glob("*.db"))
            live = server.worker_pids()  # read after the listing: a new worker's files are its own
            strays = [p.name for p in present if owner(p) not in {*live, ARCHIVE}]
            assert not strays, (kill, strays, live)  # only archives and live workers' files
            files.append(len(present))
        took = time.monotonic() - started
        wait_for(lambda: len(server.worker_pids()) == WORKERS)
        archives = sorted(p.name for p in directory.glob("*_archive.db"))
    print(
        f"\n{KILLS} SIGKILLs in {took:.1f}s, {served} requests served and counted: "
        f"/metrics total {totals[0]:.0f} -> {totals[-1]:.0f}, never down; "
        f"*.db files after each kill: min {min(files)}, max {max(files)}; archives {archives}"
    )
    # Two files (counter, histogram) per live worker, at most one more worker being replaced,
    # and one archive per type: however many workers died. (How many live workers have files
    # depends on which of them the kernel handed the requests to, so the count is bounded, not
    # compared between the first kills and the last.)
    assert max(files) <= 2 * (WORKERS + 1) + len(FOLDED_TYPES)
    assert not directory.exists(), "gunicorn left its metrics directory behind"


def test_a_given_directory_is_emptied_at_start(database_url: str, tmp_path: Path) -> None:
    given = tmp_path / "metrics"
    given.mkdir()
    stale = MmapedDict(str(given / "counter_424242.db"))  # a previous run's worker
    labels = ["method", "endpoint", "status"]
    key = mmap_key(
        "conduit_http_requests_total",
        "conduit_http_requests_total",
        labels,
        ["GET", "/api/tags", "200"],
        "HTTP requests",
    )
    stale.write_value(key, 1e6, 0.0)
    stale.close()
    with gunicorn_server(
        database_url, workers=1, env={"PROMETHEUS_MULTIPROC_DIR": str(given)}
    ) as server:
        assert not (given / "counter_424242.db").exists()
        total = requests_total(server.base_url)
        assert total < 1e6  # the start-up probe only, not the stale million
    assert given.is_dir()  # given to gunicorn, not its own: kept


def test_metrics_content_type_names_its_charset_once(database_url: str) -> None:
    metrics_port = free_port()
    with gunicorn_server(
        database_url, workers=1, env={"METRICS_BIND": f"127.0.0.1:{metrics_port}"}
    ) as server:
        app = call(server.base_url, "GET", "/metrics")
        # The master's listener is prometheus_client's own, which negotiates the format.
        master = call(f"http://127.0.0.1:{metrics_port}", "GET", "/metrics")
    assert app.status == master.status == 200
    assert app.headers["content-type"] == CONTENT_TYPE_LATEST
    for content_type in (app.headers["content-type"], master.headers["content-type"]):
        assert content_type.count("charset") == 1, content_type
        assert content_type.startswith("text/plain; version="), content_type


def test_metrics_are_not_on_the_public_port_in_production(database_url: str) -> None:
    metrics_port = free_port()
    env = {"APP_ENV": "production", "METRICS_BIND": f"127.0.0.1:{metrics_port}"}
    with gunicorn_server(database_url, workers=1, env=env) as server:
        public = call(server.base_url, "GET", "/metrics")
        private = call(f"http://127.0.0.1:{metrics_port}", "GET", "/metrics")
    assert public.status == 404 and public.json() == {"errors": {"path": ["not found"]}}
    assert private.status == 200 and b"conduit_http_requests_total" in private.body
    with gunicorn_server(
        database_url, workers=1, env={"APP_ENV": "production", "METRICS_PUBLIC": "true"}
    ) as server:
        opted_in = call(server.base_url, "GET", "/metrics")
    assert opted_in.status == 200
