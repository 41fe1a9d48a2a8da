"""Request ids, log lines (readable text or JSON, one per request), and each request counted in
the metrics (api/pipeline/metrics.py)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import IO

import orjson
from flask import Flask, Response, g, has_app_context, request

from api.pipeline.metrics import LATENCY, REQUESTS, metrics_public, metrics_response
from core import process
from core.settings import LogFormat

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
ACCESS_LOG = logging.getLogger("conduit.access")

# CSI (colors: werkzeug's request lines), OSC, and two-character escapes; then any stray ESC.
_ANSI_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])|\x1b"
)


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences."""
    return _ANSI_ESCAPE.sub("", text)


class RequestIdFilter(logging.Filter):
    """Gives every record `request_id`: the id of the request being served, else None."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = g.get("request_id") if has_app_context() else None
        return True


def _fields(record: logging.LogRecord) -> dict[str, object]:
    """`extra={"fields": {...}}` of the record, with its request id when it has one."""
    fields: dict[str, object] = dict(getattr(record, "fields", {}))
    request_id = getattr(record, "request_id", None)
    if request_id is not None:
        fields.setdefault("request_id", request_id)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line; `extra={"fields": {...}}` adds structured fields.

    Terminal escapes are dropped: JSON goes to log collectors, where they are noise.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": strip_ansi(record.getMessage()),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = strip_ansi(self.formatException(record.exc_info))
        # orjson: a twentieth of json.dumps' 6 us, on every access line (UTF-8, not \u escapes).
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """One line a person reads: time, level, logger, message, then the fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        head = (
            f"{self.formatTime(record, '%Y-%m-%d %H:%M:%S')} {record.levelname:<7} {record.name}:"
        )
        fields = " ".join(f"{key}={_text_value(value)}" for key, value in _fields(record).items())
        line = " ".join(part for part in (head, record.getMessage(), fields) if part)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _text_value(value: object) -> str:
    """As is, or quoted and escaped when it would split the line or hide in it."""
    text = str(value)
    if text and all(c.isprintable() and not c.isspace() for c in text):
        return text
    return json.dumps(text)


FORMATTERS: dict[LogFormat, type[logging.Formatter]] = {
    "json": JsonFormatter,
    "text": TextFormatter,
}


def log_handler(log_format: LogFormat, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing `log_format` lines to `stream` (stderr), with request ids."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(FORMATTERS[log_format]())
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(level: str = "INFO", log_format: LogFormat = "json") -> None:
    """Our handler, alone on the root logger; another app built later sets its own format."""
    root = logging.getLogger()
    ours = next((h for h in root.handlers if getattr(h, "_conduit", False)), None)
    if ours is None:
        ours = log_handler(log_format)
        ours._conduit = True  # type: ignore[attr-defined]
        root.handlers = [ours]
        root.setLevel(level)
    else:
        ours.setFormatter(FORMATTERS[log_format]())


def _endpoint_label() -> str:
    # The URL rule, not the raw path: bounded label cardinality.
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def request_id_for(incoming: str) -> str:
    """The client's `X-Request-ID` when it is a sane one, else a new id."""
    return incoming if incoming and _VALID_REQUEST_ID.match(incoming) else process.new_id()


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
        REQUESTS.labels(method, endpoint, str(status)).inc()
        LATENCY.labels(method, endpoint).observe(elapsed)
    if not access_log:
        return
    # Never the body, the query string or headers: they may hold passwords and tokens.
    ACCESS_LOG.info(
        "request",
        extra={
            "fields": {
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "request_id": request_id,
                "remote_addr": remote_addr,
            }
        },
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
