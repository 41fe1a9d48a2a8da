"""CORS preflights are exempt from rate limits; the requests they announce are not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from api import create_app
from api.context import runtime_of
from testkit.settings import make_settings
from tests.factories import errors_of

ORIGIN = "https://conduit.example.com"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


@pytest.fixture
def limited_app(sqlite_url: str) -> Iterator[Flask]:
    app = create_app(
        make_settings(
            sqlite_url,
            rate_limit_enabled=True,
            rate_limit_default="3/minute",
            cors_origins=[ORIGIN],
        )
    )
    yield app
    runtime_of(app).dispose()


def test_preflights_pass_once_the_budget_is_spent(limited_app: Flask) -> None:
    client = limited_app.test_client()
    statuses = [client.get("/api/tags", headers={"Origin": ORIGIN}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    for _ in range(10):
        response = client.options("/api/articles", headers=PREFLIGHT)
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    # The actual request is still limited, and says so readably to the cross-origin page.
    refused = client.get("/api/tags", headers={"Origin": ORIGIN})
    assert refused.status_code == 429
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert list(errors_of(refused)) == ["rate_limit"]


def test_a_plain_options_request_is_still_counted(limited_app: Flask) -> None:
    """Only a preflight (it names the method it announces) is exempt."""
    client = limited_app.test_client()
    statuses = [client.options("/api/tags").status_code for _ in range(4)]
    assert statuses[-1] == 429
