"""Request ids, structured access logs (no secrets), security headers, Prometheus metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.observability import JsonFormatter
from tests.factories import PASSWORD, errors_of, register
from tests.support.settings import make_settings


@pytest.fixture
def logged_app(database_url: str) -> Iterator[Flask]:
    """An app of its own with access logs on (the shared one runs quiet)."""
    app = create_app(make_settings(database_url, access_log=True))
    yield app
    app.extensions["conduit_db"].dispose()


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
