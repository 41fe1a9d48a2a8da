"""gunicorn settings for Conduit, tuned from the environment."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# A request is cut off after this; PostgreSQL's statement_timeout (db/session.py) is lower.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# The longest request line gunicorn allows short of "unlimited": long filter values still fit.
limit_request_line = 8190
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# The app (and its engine and pool) is created in each worker after fork, never shared.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"


def on_starting(server: object) -> None:
    """Workers write metrics to a shared directory, so /metrics adds up all of them."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="conduit-metrics-")


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    # Runs in the master while it reaps; an exception here would end the master with status 1.
    try:
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined,no-untyped-call]
    except OSError as error:
        server.log.warning("could not clear metrics of worker %s: %s", worker.pid, error)  # type: ignore[attr-defined]


def worker_exit(server: object, worker: object) -> None:
    """On a graceful stop, answer the connections already queued before leaving.

    A sync worker stops accepting as soon as it is told to stop, and when the last worker
    closes the listening socket the kernel resets every connection still waiting in its
    backlog: requests clients had already sent would fail. So each exiting worker first
    serves what is queued (never past `graceful_timeout`, after which the master kills it).
    """
    from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]

    # Also called in the master when it reaps a worker: only the sync worker itself drains.
    if not isinstance(worker, SyncWorker) or worker.pid != os.getpid():
        return
    if getattr(worker, "wsgi", None) is None:  # the app never loaded
        return
    deadline = time.monotonic() + max(graceful_timeout - 2, 1)
    served = True
    while served and time.monotonic() < deadline:
        served = False
        for listener in worker.sockets:
            try:
                worker.accept(listener)  # handles the request and closes the connection
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue
            served = True
