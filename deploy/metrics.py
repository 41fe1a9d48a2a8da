"""The master's own /metrics listener (METRICS_BIND): every worker's samples, whatever
state the workers are in, never through nginx."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import start_wsgi_server
from sqlalchemy.exc import SQLAlchemyError

from core.metrics import MULTIPROC_DIR, OutboxCollector, metrics_registry
from core.settings import Settings
from db import outbox


def serve_metrics(bind: str) -> WSGIServer:
    """/metrics of every worker on `host:port`, from a thread of the calling (master) process."""
    host, _, port = bind.rpartition(":")
    registry = metrics_registry()
    if registry is None:
        raise RuntimeError(f"{MULTIPROC_DIR} must be set to serve the workers' metrics")
    url = Settings().database_url
    registry.register(OutboxCollector(lambda: outbox.backlog_at(url), (SQLAlchemyError,)))
    server, _thread = start_wsgi_server(int(port), host.strip("[]") or "0.0.0.0", registry)  # noqa: S104
    return server
