"""Prometheus metrics: the request counters, and the samples of every gunicorn worker summed.

Each worker writes its samples to files of its own in PROMETHEUS_MULTIPROC_DIR; the master
folds a dead worker's into an archive (`fold_dead_worker`, from api/gunicorn_conf.py) and may
serve the sum on a private port (`serve_metrics`); the app serves it at /metrics when
`metrics_public` says so.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from flask import Flask, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_wsgi_server,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from api import context
from core.settings import Settings
from db import outbox
from db.errors import DatabaseUnavailable

log = logging.getLogger(__name__)


REQUESTS = Counter("conduit_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram(
    "conduit_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Units of work run again after a transient database error (db/retry.py), by its kind.
DB_RETRIES = Counter(
    "conduit_db_retries_total", "Units of work rerun after a transient database error", ["kind"]
)


# --- metrics of every gunicorn worker, in PROMETHEUS_MULTIPROC_DIR ------------------------------
#
# Each worker writes its samples to its own `<type>_<pid>.db` files, which /metrics adds up.
# When a worker dies, the master folds its counters and histograms into `<type>_archive.db`
# (prometheus_client's own mark_process_dead only drops live gauges): totals never go back
# and the directory holds the live workers' files plus one archive per type, however many
# workers have come and gone. Readers hold a shared lock, the fold an exclusive one, so no
# read sees a dead worker's samples twice or not at all.

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
ARCHIVE = "archive"
FOLDED_TYPES = ("counter", "histogram", "summary")
LOCK_FILE = ".fold.lock"  # not *.db: the collector reads only those


def multiproc_dir() -> Path | None:
    found = os.environ.get(MULTIPROC_DIR)
    return Path(found) if found else None


@contextlib.contextmanager
def _locked(directory: Path, *, exclusive: bool, wait: float) -> Iterator[None]:
    """flock on the directory's lock file; after `wait` seconds, go on without it (and say so)."""
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        while True:
            try:
                fcntl.flock(fd, mode)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    log.warning(
                        "metrics lock in %s busy for %ss: going on without it", directory, wait
                    )
                    break
                time.sleep(0.002)
        yield
    finally:
        os.close(fd)  # releases the lock


class WorkersCollector(Collector):
    """prometheus_client's MultiProcessCollector, reading under the fold lock."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def collect(self) -> Iterator[Metric]:
        collector = multiprocess.MultiProcessCollector(None, str(self.directory))  # type: ignore[no-untyped-call]
        with _locked(self.directory, exclusive=False, wait=5):
            metrics: list[Metric] = list(collector.collect())  # type: ignore[no-untyped-call]
        return iter(metrics)


class OutboxCollector(Collector):
    """The outbox backlog, read from the database at each scrape (not a per-worker count)."""

    def __init__(self, backlog: Callable[[], tuple[int, float]]) -> None:
        self._backlog = backlog

    def collect(self) -> Iterator[Metric]:
        try:
            pending, age = self._backlog()
        except (DatabaseUnavailable, SQLAlchemyError):
            return iter(())  # /api/ready says the database is down; no stale numbers here
        return iter(
            (
                GaugeMetricFamily(
                    "conduit_outbox_pending_events", "Outbox events not yet relayed", value=pending
                ),
                GaugeMetricFamily(
                    "conduit_outbox_oldest_pending_age_seconds",
                    "Age of the oldest outbox event not yet relayed (0: none)",
                    value=age,
                ),
            )
        )


def _app_backlog() -> tuple[int, float]:
    return outbox.backlog(context.database().reader())


def metrics_registry() -> CollectorRegistry | None:
    """A registry summing every worker, or None outside multiprocess mode (the default one)."""
    directory = multiproc_dir()
    if directory is None:
        return None
    registry = CollectorRegistry()
    registry.register(WorkersCollector(directory))
    return registry


def metrics_response() -> Response:
    registry = metrics_registry()
    payload = generate_latest() if registry is None else generate_latest(registry)
    backlog = CollectorRegistry()
    backlog.register(OutboxCollector(_app_backlog))
    payload += generate_latest(backlog)
    # content_type, not mimetype: Flask would append a second `charset` to a text/ mimetype.
    return Response(payload, content_type=CONTENT_TYPE_LATEST)


def prepare_metrics_dir(directory: Path, *, ours: bool) -> None:
    """At start-up: a directory we named is created (0700); one we were given is emptied."""
    if ours:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # a previous run's workers, archives included
        stale.unlink(missing_ok=True)


def fold_dead_worker(pid: int, directory: Path, *, wait: float = 2.0) -> int:
    """Fold a dead worker's counters and histograms into the archive; drop its other files.

    Returns the number of samples folded.
    """
    folded = 0
    with _locked(directory, exclusive=True, wait=wait):
        for kind in FOLDED_TYPES:
            dead = directory / f"{kind}_{pid}.db"
            if not dead.exists():
                continue
            entries = MmapedDict.read_all_values_from_file(str(dead))  # type: ignore[no-untyped-call]
            values = [(key, value) for key, value, _timestamp, _pos in entries]
            if values:
                archive = MmapedDict(str(directory / f"{kind}_{ARCHIVE}.db"))  # type: ignore[no-untyped-call]
                try:
                    for key, value in values:
                        current, _timestamp = archive.read_value(key)  # type: ignore[no-untyped-call]
                        archive.write_value(key, current + value, 0.0)  # type: ignore[no-untyped-call]
                finally:
                    archive.close()  # type: ignore[no-untyped-call]
            dead.unlink()
            folded += len(values)
        multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
        for leftover in directory.glob(f"*_{pid}.db"):  # gauges of the non-live modes
            leftover.unlink(missing_ok=True)
    return folded


def serve_metrics(bind: str) -> WSGIServer:
    """/metrics of every worker on `host:port`, from a thread of the calling (master) process."""
    host, _, port = bind.rpartition(":")
    registry = metrics_registry()
    if registry is None:
        raise RuntimeError(f"{MULTIPROC_DIR} must be set to serve the workers' metrics")
    url = Settings().database_url
    registry.register(OutboxCollector(lambda: outbox.backlog_at(url)))
    server, _thread = start_wsgi_server(int(port), host.strip("[]") or "0.0.0.0", registry)  # noqa: S104
    return server


def metrics_public(app: Flask) -> bool:
    """METRICS_PUBLIC: serve /metrics on the app's own port (default: not in production)."""
    value = os.environ.get("METRICS_PUBLIC", "").strip().lower()
    if value:
        return value in {"1", "true", "yes", "on"}
    return context.runtime_of(app).settings.app_env != "production"
