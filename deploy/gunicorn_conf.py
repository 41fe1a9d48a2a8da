"""gunicorn settings for Conduit, tuned from the environment."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from core.settings import ServerSettings
from ml.threads import pin

# One thread per worker for numpy's BLAS, OpenMP and tokenizers, set before anything imports
# numpy (the master imports the app's modules in `on_starting`): workers use the cores.
pin()

# Every knob is core/settings.py's ServerSettings (README: Configuration).
_server = ServerSettings()
# GUNICORN_BIND (e.g. `unix:/run/conduit/gunicorn.sock`, what `make serve-proxy` uses) wins
# over HOST/PORT.
bind = _server.bind
workers = _server.web_concurrency
threads = _server.gunicorn_threads
# gunicorn's sync and gthread workers, answering their own refusals as JSON (never HTML).
worker_class = (
    "deploy.gunicorn_worker.JsonThreadWorker"
    if threads > 1
    else "deploy.gunicorn_worker.JsonSyncWorker"
)
# A request is cut off after this; PostgreSQL's statement_timeout (db/session.py) is lower.
timeout = _server.gunicorn_timeout
graceful_timeout = _server.gunicorn_graceful_timeout
keepalive = 5
# The longest request line gunicorn allows short of "unlimited": long filter values still fit.
limit_request_line = 8190
# Recycling bounds what a slow leak could grow to. Workers start together, so the jitter
# spreads their recycles over half as many requests again: they do not all leave at once.
max_requests = _server.gunicorn_max_requests
max_requests_jitter = max_requests // 2
# The app (and its engine and pool) is created in each worker after fork, never shared. The
# master imports the app's modules (`on_starting`), and runs none of them, so a new worker
# only builds the app (0.1 s, not 1.3 s of imports); but `kill -HUP` does not load new code
# either: restart, or USR2 then TERM the old master.
preload_app = False
accesslog = _server.gunicorn_access_log
errorlog = "-"

# Workers write their metrics to files in one directory, which /metrics adds up. The variable
# must be set before prometheus_client is imported (the worker class imports the app's
# modules), so it is named here and created in `on_starting`. A directory we name is ours to
# remove at exit; one given to us is emptied at start.
if not _server.prometheus_multiproc_dir:
    _named = str(Path(tempfile.gettempdir()) / f"conduit-metrics-{secrets.token_hex(8)}")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ["CONDUIT_OWN_METRICS_DIR"] = _named
    _server = _server.model_copy(
        update={"prometheus_multiproc_dir": _named, "conduit_own_metrics_dir": _named}
    )
# METRICS_BIND (`host:port`): the master itself serves /metrics there, from a thread, whatever
# state the workers are in; nginx never forwards to it.
metrics_bind = _server.metrics_bind.strip()


def _metrics_dir() -> Path:
    return Path(_server.prometheus_multiproc_dir)


def _ours(directory: Path) -> bool:
    return _server.conduit_own_metrics_dir == str(directory)


def on_starting(server: Any) -> None:
    import api.app  # noqa: F401  (imported once here, inherited by every worker's fork)
    from core.metrics import prepare_metrics_dir

    directory = _metrics_dir()
    prepare_metrics_dir(directory, ours=_ours(directory))
    server.log.info("workers' metrics in %s", directory)


def when_ready(server: Any) -> None:
    # Kept on the arbiter, which outlives this module (re-read on every HUP).
    if metrics_bind and getattr(server, "conduit_metrics_server", None) is None:
        from deploy.metrics import serve_metrics

        server.conduit_metrics_server = serve_metrics(metrics_bind)
        server.log.info("metrics on http://%s/metrics", metrics_bind)


def post_fork(server: Any, worker: Any) -> None:
    # The metrics listener belongs to the master; a worker must not keep it open.
    metrics_server = getattr(server, "conduit_metrics_server", None)
    if metrics_server is not None:
        metrics_server.socket.close()


def post_worker_init(worker: Any) -> None:
    """Load the embedding model in this worker, once, after fork (onnxruntime sessions are not
    fork-safe; ml/serving.py): before its first request, not during it."""
    app = getattr(worker, "application", worker.wsgi)  # our worker classes keep the app there
    conduit = getattr(app, "runtime", None)
    if conduit is not None and conduit.settings.model_preload:
        conduit.model.load()


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone (killed, recycled or stopped): fold its counters into the archive."""
    from core.metrics import fold_dead_worker

    # Runs in the master while it reaps; an exception here would end the master with status 1.
    try:
        fold_dead_worker(worker.pid, _metrics_dir())
    except Exception as error:
        server.log.warning("could not fold metrics of worker %s: %s", worker.pid, error)


def on_exit(server: Any) -> None:
    directory = _metrics_dir()
    if _ours(directory):
        shutil.rmtree(directory, ignore_errors=True)


def worker_exit(server: Any, worker: Any) -> None:
    """On a graceful stop, answer the connections already queued before leaving.

    A sync worker stops accepting as soon as it is told to stop, and when the last worker
    closes the listening socket the kernel resets every connection still waiting in its
    backlog: requests clients had already sent would fail. So each exiting worker first
    serves what is queued (never past `graceful_timeout`, after which the master kills it),
    then closes its listeners at once: the last one to do so turns later connections into
    refusals, with no window in which the kernel queues one nobody will serve.
    """
    from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]

    # Also called in the master when it reaps a worker: only the sync worker itself drains.
    if not isinstance(worker, SyncWorker) or worker.pid != os.getpid():
        return
    if getattr(worker, "wsgi", None) is None:  # the app never loaded
        return
    if getattr(worker, "aborting", False):  # cut off past `timeout`: others serve the queue
        return
    if worker.nr >= worker.max_requests and not getattr(worker, "stopping", False):
        # Recycled: the master keeps the listener open, so the other workers and this one's
        # successor serve the queue. Draining here would keep serving new arrivals under load.
        return
    # Whatever the drain serves must not count towards a recycle again: gunicorn's sync
    # worker would log "Autorestarting worker" once per request it drains.
    worker.max_requests = sys.maxsize
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
    for listener in worker.sockets:
        listener.close()
