"""Request ids, structured access logs (no secrets), security headers, Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.context import runtime_of
from api.pipeline.observability import log_handler
from core.logs import JsonFormatter, TextFormatter
from core.settings import LogFormat
from testkit.settings import make_settings
from tests.factories import PASSWORD, errors_of, register


@pytest.fixture
def logged_app(database_url: str) -> Iterator[Flask]:
    """An app of its own with access logs on (the shared one runs quiet)."""
    app = create_app(make_settings(database_url, access_log=True))
    yield app
    runtime_of(app).dispose()


def test_request_id_is_echoed_or_generated(client: FlaskClient) -> None:
    given = client.get("/api/tags", headers={"X-Request-ID": "trace-42.a:b"})
    assert given.headers["X-Request-ID"] == "trace-42.a:b"
    generated = client.get("/api/tags")
    assert len(generated.headers["X-Request-ID"]) == 32
    # a hostile id (header injection, huge) is replaced, not echoed
    hostile = client.get("/api/tags", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["X-Request-ID"] != "x" * 500


def test_one_json_line_per_request_without_secrets(
    logged_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = logged_app.test_client()
    with caplog.at_level(logging.INFO, logger="conduit.access"):
        account = register(client)
        client.post(
            "/api/users/login?password=in-the-query",
            json={"user": {"email": account.email, "password": PASSWORD}},
            headers={"X-Request-ID": "req-1"},
        )
    records = [r for r in caplog.records if r.name == "conduit.access"]
    assert len(records) == 2
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["method"] == "POST"
    assert line["path"] == "/api/users/login"
    assert line["status"] == 200
    assert line["request_id"] == "req-1"
    assert isinstance(line["duration_ms"], float)
    everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for secret in (PASSWORD, account.token, "in-the-query"):
        assert secret not in everything


@pytest.mark.parametrize(
    ("path", "status", "errors"),
    [
        ("/api/tags", 200, None),
        ("/api/user", 401, {"token": ["is missing"]}),
        ("/api/nope", 404, {"path": ["not found"]}),
    ],
)
def test_security_headers_on_every_response(
    client: FlaskClient, path: str, status: int, errors: dict[str, list[str]] | None
) -> None:
    response = client.get(path)
    assert response.status_code == status
    if errors is not None:
        assert errors_of(response) == errors
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_authenticated_responses_are_not_cached(client: FlaskClient) -> None:
    account = register(client)
    assert client.get("/api/user", headers=account.headers).headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/api/tags").headers.get("Cache-Control", "")


def test_docs_get_a_csp_that_lets_them_work(client: FlaskClient) -> None:
    csp = client.get("/api/docs").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "connect-src 'self'" in csp
    assert "'unsafe-inline'" not in csp


def test_metrics_count_requests_by_route_and_status(client: FlaskClient) -> None:
    def count(status: str) -> float:
        text = client.get("/metrics").get_data(as_text=True)
        prefix = (
            'conduit_http_requests_total{endpoint="/api/profiles/<username>",'
            f'method="GET",status="{status}"}} '
        )
        lines = [line for line in text.splitlines() if line.startswith(prefix)]
        return float(lines[0].split()[-1]) if lines else 0.0

    before = count("404")
    for name in ("ghost1", "ghost2", "ghost3"):
        response = client.get(f"/api/profiles/{name}")
        assert response.status_code == 404
        assert errors_of(response) == {"profile": ["not found"]}
    assert count("404") == before + 3
    assert "conduit_http_request_duration_seconds_bucket" in client.get("/metrics").get_data(
        as_text=True
    )


# --- log format: readable text in development, JSON elsewhere --------------------------------

# What werkzeug's development server logs for a 404: its request line, colored for a terminal.
WERKZEUG_404 = (
    '%s - - [%s] "%s" %s %s',
    "127.0.0.1",
    "01/Dec/2026 12:00:00",
    "\x1b[33mGET /api/nope HTTP/1.1\x1b[0m",
    "404",
    "-",
)


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """The root logger, its handlers' formatters and its level put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    formatters = [handler.formatter for handler in handlers]
    yield root
    for handler, formatter in zip(handlers, formatters, strict=True):
        handler.setFormatter(formatter)
    root.handlers = handlers
    root.setLevel(level)


def app_in(tmp_path: Path, app_env: str, **overrides: object) -> Flask:
    """An app of its own, access log on; no request here touches its (unmigrated) database."""
    settings = make_settings(
        f"sqlite:///{tmp_path / 'logs.db'}", app_env=app_env, access_log=True, **overrides
    )
    app = create_app(settings)

    def logs() -> str:
        logging.getLogger("conduit.view").warning("hi")
        return ""

    app.add_url_rule("/api/logs", "logs", logs)
    return app


def lines_of(app: Flask, log_format: LogFormat, request_id: str) -> list[str]:
    """What our handler in `log_format` writes for one request that logs from its view."""
    stream = io.StringIO()
    handler = log_handler(log_format, stream)
    conduit = logging.getLogger("conduit")
    conduit.addHandler(handler)
    try:
        response = app.test_client().get("/api/logs", headers={"X-Request-ID": request_id})
    finally:
        conduit.removeHandler(handler)
    assert response.status_code == 200
    return stream.getvalue().splitlines()


@pytest.mark.parametrize(
    ("app_env", "log_format", "formatter"),
    [("development", "text", TextFormatter), ("test", "json", JsonFormatter),
     ("production", "json", JsonFormatter)],
)  # fmt: skip
def test_log_format_follows_app_env(
    root_logging: logging.Logger,
    tmp_path: Path,
    app_env: str,
    log_format: LogFormat,
    formatter: type[logging.Formatter],
) -> None:
    app = app_in(tmp_path, app_env)
    assert runtime_of(app).settings.log_format == log_format
    (ours,) = [h for h in root_logging.handlers if getattr(h, "_conduit", False)]
    assert type(ours.formatter) is formatter


def test_log_format_setting_wins_over_app_env(root_logging: logging.Logger, tmp_path: Path) -> None:
    app = app_in(tmp_path, "development", log_format="json")
    (ours,) = [h for h in root_logging.handlers if getattr(h, "_conduit", False)]
    assert type(ours.formatter) is JsonFormatter
    assert runtime_of(app).settings.log_format == "json"


def test_development_logs_are_readable_lines_with_the_request_id(
    root_logging: logging.Logger, tmp_path: Path
) -> None:
    view, access = lines_of(app_in(tmp_path, "development"), "text", "trace-7")
    assert " WARNING conduit.view: hi request_id=trace-7" in view
    assert " INFO    conduit.access: request method=GET path=/api/logs status=200 " in access
    assert "request_id=trace-7" in access
    for line in (view, access):
        assert not line.startswith("{"), line


def test_production_logs_are_json_with_the_request_id(
    root_logging: logging.Logger, tmp_path: Path
) -> None:
    view, access = (
        json.loads(line) for line in lines_of(app_in(tmp_path, "production"), "json", "trace-8")
    )
    assert (view["logger"], view["level"], view["message"]) == ("conduit.view", "warning", "hi")
    assert view["request_id"] == "trace-8"
    assert (access["logger"], access["path"], access["status"]) == (
        "conduit.access",
        "/api/logs",
        200,
    )
    assert access["request_id"] == "trace-8"


def test_json_never_carries_terminal_escapes() -> None:
    stream = io.StringIO()
    werkzeug = logging.getLogger("werkzeug")
    record = werkzeug.makeRecord(
        "werkzeug", logging.INFO, __file__, 0, WERKZEUG_404[0], WERKZEUG_404[1:], None
    )
    log_handler("json", stream).handle(record)
    line = stream.getvalue().strip()
    assert "\x1b" not in line and "\\u001b" not in line, line
    assert (
        json.loads(line)["message"]
        == '127.0.0.1 - - [01/Dec/2026 12:00:00] "GET /api/nope HTTP/1.1" 404 -'
    )
    # The development console keeps werkzeug's colors: they are meant for a terminal.
    stream = io.StringIO()
    log_handler("text", stream).handle(record)
    assert "\x1b[33mGET /api/nope HTTP/1.1\x1b[0m" in stream.getvalue()


def test_text_quotes_field_values_that_would_split_or_hide_in_the_line() -> None:
    stream = io.StringIO()
    record = logging.makeLogRecord(
        {"name": "conduit.access", "levelno": logging.INFO, "levelname": "INFO", "msg": "request",
         "fields": {"path": "/api/a b\nFAKE line\x1b[2J", "status": 404}}
    )  # fmt: skip
    log_handler("text", stream).handle(record)
    (line,) = stream.getvalue().splitlines()
    assert line.endswith('request path="/api/a b\\nFAKE line\\u001b[2J" status=404'), line
