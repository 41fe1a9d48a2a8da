"""Prometheus in multiprocess mode: every gunicorn worker's samples, summed, and kept.

Each worker writes its samples to its own `<type>_<pid>.db` files in PROMETHEUS_MULTIPROC_DIR,
which a scrape adds up (the app's /metrics in a worker, api/pipeline/metrics.py, or the
master's listener, deploy/metrics.py). When a worker dies, the master folds its counters and
histograms into `<type>_archive.db` (prometheus_client's own mark_process_dead only drops
live gauges): totals never go back and the directory holds the live workers' files plus one
archive per type, however many workers have come and gone. Readers hold a shared lock, the
fold an exclusive one, so no read sees a dead worker's samples twice or not at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

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

    def __init__(
        self, backlog: Callable[[], tuple[int, float]], unreachable: tuple[type[Exception], ...]
    ) -> None:
        self._backlog = backlog
        self._unreachable = unreachable  # what `backlog` raises when the database is away

    def collect(self) -> Iterator[Metric]:
        try:
            pending, age = self._backlog()
        except self._unreachable:
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


def metrics_registry() -> CollectorRegistry | None:
    """A registry summing every worker, or None outside multiprocess mode (the default one)."""
    directory = multiproc_dir()
    if directory is None:
        return None
    registry = CollectorRegistry()
    registry.register(WorkersCollector(directory))
    return registry


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
