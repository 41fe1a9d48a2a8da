"""Request ids, log lines (readable text or JSON, one per request), and each request counted in
the metrics (api/pipeline/metrics.py)."""

from __future__ import annotations

import logging
import re
import time
from typing import IO, Any

from flask import Flask, Response, g, has_app_context, request

from api.pipeline.metrics import LATENCY, REQUESTS, metrics_public, metrics_response
from core import logs, process
from core.settings import LogFormat

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
ACCESS_LOG = logging.getLogger("conduit.access")


class RequestIdFilter(logging.Filter):
    """Gives every record `request_id`: the id of the request being served, else None."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = g.get("request_id") if has_app_context() else None
        return True


def log_handler(log_format: LogFormat, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing `log_format` lines to `stream` (stderr), with request ids."""
    return logs.handler(log_format, stream, RequestIdFilter())


def configure_logging(level: str = "INFO", log_format: LogFormat = "json") -> None:
    """Our handler, alone on the root logger, with request ids (core/logs.py)."""
    logs.configure(level, log_format, RequestIdFilter())


def _endpoint_label() -> str:
    # The URL rule, not the raw path: bounded label cardinality.
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def request_id_for(incoming: str) -> str:
    """The client's `X-Request-ID` when it is a sane one, else a new id."""
    return incoming if incoming and _VALID_REQUEST_ID.match(incoming) else process.new_id()


# (method, endpoint, status) -> its request counter and latency histogram. The labels are
# bounded (the URL rule, not the path); the children are looked up once per process instead
# of by `labels()`' string conversions and lock on every request.
_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, endpoint: str, status: int) -> tuple[Any, Any]:
    found = _SERIES.get((method, endpoint, status))
    if found is None:
        found = (REQUESTS.labels(method, endpoint, str(status)), LATENCY.labels(method, endpoint))
        _SERIES[(method, endpoint, status)] = found
    return found


def record(
    method: str,
    endpoint: str,
    path: str,
    status: int,
    elapsed: float,
    request_id: str,
    remote_addr: str | None,
    *,
    access_log: bool,
) -> None:
    """Count a finished request in the metrics and write its access line (when enabled).

    Flask's `after_request` and the read cache's edge (api/pipeline/cache_edge.py) both report here.
    """
    if endpoint != "/metrics":
        counted, timed = _series(method, endpoint, status)
        counted.inc()
        timed.observe(elapsed)
    if not access_log or not ACCESS_LOG.isEnabledFor(logging.INFO):
        return
    # Never the body, the query string or headers: they may hold passwords and tokens.
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
        "request_id": request_id,
        "remote_addr": remote_addr,
    }
    # As `ACCESS_LOG.info("request", ...)` would log it, less the search of the stack for
    # the caller's file and line, which no access line shows (a tenth of a cached hit).
    ACCESS_LOG.handle(
        ACCESS_LOG.makeRecord(
            ACCESS_LOG.name,
            logging.INFO,
            __file__,
            0,
            "request",
            (),
            None,
            extra={"fields": fields},
        )
    )


def register(app: Flask, *, access_log: bool = True) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id") or process.new_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        record(
            request.method,
            _endpoint_label(),
            request.path,
            response.status_code,
            elapsed,
            request_id,
            request.remote_addr,
            access_log=access_log,
        )
        return response

    if metrics_public(app):
        app.add_url_rule("/metrics", "metrics", metrics_response)
