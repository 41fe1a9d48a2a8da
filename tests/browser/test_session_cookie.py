"""Cookie mode in a real browser: a frontend on an allowed origin keeps its session in the
HttpOnly cookie through credentialed CORS; a page on an origin not in the allowlist cannot
use it; a request without the CSRF header is refused.

One browser context (one cookie jar) visits the frontend, then the other page, then the
frontend again, as a user with both open would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from api import create_app
from api.context import runtime_of
from db.migrate import upgrade
from testkit.servers import free_port, serve
from testkit.settings import make_settings

SCRIPT = """<!DOCTYPE html><html><body><script>
const api = API_URL;
async function call(method, path, {token, body, csrf} = {}) {
  const headers = {};
  if (token) headers["Authorization"] = "Token " + token;
  if (body) headers["Content-Type"] = "application/json";
  if (csrf) headers["X-CSRF-Protection"] = "1";
  try {
    const response = await fetch(api + path, {
      method, headers, credentials: "include", body: body && JSON.stringify(body)});
    const text = await response.text();
    return {status: response.status, body: text ? JSON.parse(text) : null};
  } catch (error) {
    return {status: 0, error: String(error)};  // blocked by the browser (CORS)
  }
}
STEPS
run().then(r => { window.results = r; }, e => { window.results = {failure: String(e)}; });
</script></body></html>"""

SIGN_IN = """async function run() {
  const name = USERNAME;
  const out = {};
  out.register = await call("POST", "/users", {
    body: {user: {username: name, email: name + "@example.com", password: "cookie-pass"}}});
  out.refresh = await call("POST", "/users/token/refresh", {csrf: true});
  out.me = await call("GET", "/user", {token: out.refresh.body && out.refresh.body.user.token});
  // No custom header: a "simple" cross-origin POST, as a forged form would send.
  out.noHeader = await call("POST", "/users/token/refresh");
  out.cookieVisible = document.cookie.includes("conduit_refresh");
  return out;
}"""

OTHER = """async function run() {
  return {steal: await call("POST", "/users/token/refresh", {csrf: true}),
          forge: await call("POST", "/users/token/refresh")};
}"""

AGAIN = """async function run() {
  const out = {};
  out.refresh = await call("POST", "/users/token/refresh", {csrf: true});
  const token = out.refresh.body && out.refresh.body.user.token;
  out.logout = await call("POST", "/users/logout", {token});
  out.afterLogout = await call("POST", "/users/token/refresh", {csrf: true});
  return out;
}"""


@pytest.fixture(scope="module")
def api_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(API origin, allowed frontend origin, another origin): same host, three ports."""
    allowed, other = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('cookie')) / 'api.db'}"
    upgrade(url)
    settings = make_settings(
        url, cors_origins=[allowed], session_cookie=True, session_cookie_secure=False
    )
    app = create_app(settings)
    with serve(app) as origin:
        yield origin, allowed, other
    runtime_of(app).dispose()


def _page(api: str, steps: str, username: str = "") -> Any:
    html = SCRIPT.replace("STEPS", steps).replace("USERNAME", json.dumps(username))
    html = html.replace("API_URL", json.dumps(f"{api}/api"))

    @Request.application
    def page(_request: Request) -> Response:
        return Response(html, mimetype="text/html")

    return page


def _visit(context: Any, origin: str) -> dict[str, Any]:
    tab = context.new_page()
    try:
        tab.goto(origin)
        tab.wait_for_function("window.results !== undefined", timeout=20_000)
        results: dict[str, Any] = tab.evaluate("window.results")
        return results
    finally:
        tab.close()


def test_the_session_cookie_works_for_the_allowed_frontend_only(
    browser: Any, api_origin: tuple[str, str, str]
) -> None:
    api, allowed, other = api_origin
    username = f"ck{uuid.uuid4().hex[:8]}"
    context = browser.new_context()
    try:
        with ExitStack() as stack:
            stack.enter_context(serve(_page(api, SIGN_IN, username), port=_port(allowed)))
            first = _visit(context, allowed)
        assert "failure" not in first, first
        assert first["register"]["status"] == 201
        assert "refreshToken" not in first["register"]["body"]["user"]
        # The cookie went back with a credentialed cross-origin request, and rotated.
        assert first["refresh"]["status"] == 200, first["refresh"]
        assert "refreshToken" not in first["refresh"]["body"]["user"]
        assert first["me"]["status"] == 200
        assert first["me"]["body"]["user"]["username"] == username
        # Without the CSRF header the server refuses, and says why (readable: allowed origin).
        assert first["noHeader"]["status"] == 403
        assert first["noHeader"]["body"] == {
            "errors": {"csrf": ["X-CSRF-Protection header is missing"]}
        }
        assert first["cookieVisible"] is False
        cookies = {c["name"]: c for c in context.cookies() if c["name"] == "conduit_refresh"}
        assert cookies["conduit_refresh"]["httpOnly"] is True
        assert cookies["conduit_refresh"]["sameSite"] == "Strict"

        with ExitStack() as stack:
            stack.enter_context(serve(_page(api, OTHER), port=_port(other)))
            second = _visit(context, other)
        # Not in the allowlist: the preflight fails (nothing is sent); the simple POST is sent
        # (the cookie too: same site) but refused, and its answer is not readable by the page.
        assert second == {
            "steal": {"status": 0, "error": second["steal"].get("error")},
            "forge": {"status": 0, "error": second["forge"].get("error")},
        }
        assert "TypeError" in second["steal"]["error"]

        with ExitStack() as stack:
            stack.enter_context(serve(_page(api, AGAIN), port=_port(allowed)))
            third = _visit(context, allowed)
        # The other page spent nothing: the session goes on; logout ends it and the cookie.
        assert third["refresh"]["status"] == 200, third
        assert third["logout"]["status"] == 204
        assert third["afterLogout"]["status"] == 401
        assert not [c for c in context.cookies() if c["name"] == "conduit_refresh"]
    finally:
        context.close()


def _port(origin: str) -> int:
    return int(origin.rsplit(":", 1)[1])
