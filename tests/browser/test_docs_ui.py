"""The offline Swagger UI in a real browser (Debian's headless Chromium via Playwright).

Register through "Try it out", authorize with `Token <jwt>`, call GetCurrentUser and see 200,
with every request staying on 127.0.0.1 and no Content-Security-Policy violation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from api import create_app
from db.migrate import upgrade
from testkit.servers import serve
from testkit.settings import make_settings

USERS_TAG = "#operations-User_and_Authentication"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('docs')) / 'docs.db'}"
    upgrade(url)
    with serve(create_app(make_settings(url))) as base_url:
        yield base_url


def _execute(operation: Any, body: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    if body is not None:
        operation.locator("textarea.body-param__text").fill(json.dumps(body))
    operation.locator("button.execute").click()
    table = operation.locator(".live-responses-table")
    status = table.locator("tbody .response-col_status").first
    status.wait_for()
    payload = json.loads(table.locator(".response-col_description pre").first.inner_text())
    return status.inner_text().strip(), payload


def test_register_authorize_and_get_current_user(browser: Any, live_server: str) -> None:
    context = browser.new_context()
    foreign: list[str] = []
    problems: list[str] = []

    def only_loopback(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname != "127.0.0.1" and not url.startswith(("data:", "blob:")):
            foreign.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )

    response = page.goto(f"{live_server}/api/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(f"{USERS_TAG}-CreateUser").wait_for()
    assert page.evaluate("window.versions.swaggerUI.version").startswith("5.")

    username = f"ui{uuid.uuid4().hex[:8]}"
    user = {"username": username, "email": f"{username}@example.com", "password": "s3cret-pass"}
    status, created = _execute(page.locator(f"{USERS_TAG}-CreateUser"), {"user": user})
    assert status == "201", created
    token = created["user"]["token"]

    page.locator(".scheme-container button.authorize").click()
    modal = page.locator(".modal-ux")
    modal.locator("input[type=text]").fill(f"Token {token}")
    modal.locator("button.authorize[type=submit]").click()
    modal.get_by_role("button", name="Close").click()
    modal.wait_for(state="detached")

    current = page.locator(f"{USERS_TAG}-GetCurrentUser")
    status, me = _execute(current)
    assert status == "200", me
    assert me["user"]["username"] == username
    assert f"Authorization: Token {token}" in current.locator(".curl-command").inner_text()

    context.close()
    assert foreign == [], f"requests left 127.0.0.1: {foreign}"
    assert problems == [], problems
