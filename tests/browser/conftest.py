"""Headless Chromium from Debian, driven by Playwright (no browser download), and an API server
for frontend pages served on an origin of their own (tests/browser/frontend.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import create_app
from db.migrate import upgrade
from testkit.servers import free_port, serve
from testkit.settings import make_settings, unavailable

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        unavailable(f"{CHROMIUM} missing: apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def origins(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(the API's origin, the page's origin): same host, different ports, so cross-origin."""
    page_port = free_port()
    page_origin = f"http://127.0.0.1:{page_port}"
    name = request.module.__name__.rsplit(".", 1)[-1]
    url = f"sqlite:///{Path(tmp_path_factory.mktemp(name)) / 'api.db'}"
    upgrade(url)
    # The allowlist a production deployment would set: exactly the frontend's origin.
    app = create_app(make_settings(url, cors_origins=[page_origin]))
    with serve(app) as api_origin:
        yield api_origin, page_origin
