"""The web workers' Prometheus metrics: the request counters, and /metrics (every worker's
samples summed, core/metrics.py, plus the outbox backlog), served when `metrics_public` says so.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy.exc import SQLAlchemyError

from api import context
from core.metrics import OutboxCollector, metrics_registry
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


UNREACHABLE = (DatabaseUnavailable, SQLAlchemyError)


def _app_backlog() -> tuple[int, float]:
    return outbox.backlog(context.database().reader())


def metrics_response() -> Response:
    registry = metrics_registry()
    payload = generate_latest() if registry is None else generate_latest(registry)
    backlog = CollectorRegistry()
    backlog.register(OutboxCollector(_app_backlog, UNREACHABLE))
    payload += generate_latest(backlog)
    # content_type, not mimetype: Flask would append a second `charset` to a text/ mimetype.
    return Response(payload, content_type=CONTENT_TYPE_LATEST)


def metrics_public(app: Flask) -> bool:
    """METRICS_PUBLIC: serve /metrics on the app's own port (default: not in production)."""
    settings = context.runtime_of(app).settings
    if settings.server.metrics_public is not None:
        return settings.server.metrics_public
    return settings.app_env != "production"
