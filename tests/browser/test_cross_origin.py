"""A browser page on another origin uses the API the way RealWorld frontends do (CORS).

The page (its own server, its own port) registers, reads and updates the user, creates and
deletes an article with `Authorization: Token <jwt>`: preflighted, cross-origin requests that
a RealWorld frontend makes. Error bodies must be readable too, so it can show them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from api import create_app
from db.migrate import upgrade
from tests.conftest import make_settings
from tests.live import free_port, serve

PAGE = """<!DOCTYPE html><html><body><script>
const api = API_URL;
async function call(method, path, token, body) {
  const headers = {};
  if (token) headers["Authorization"] = "Token " + token;
  if (body) headers["Content-Type"] = "application/json";
  const response = await fetch(api + path, {method, headers, body: body && JSON.stringify(body)});
  const text = await response.text();
  return {status: response.status, body: text ? JSON.parse(text) : null};
}
async function journey() {
  const name = USERNAME;
  const out = {};
  out.register = await call("POST", "/users", null,
    {user: {username: name, email: name + "@example.com", password: "frontend-pass"}});
  const token = out.register.body.user.token;
  out.me = await call("GET", "/user", token);
  out.update = await call("PUT", "/user", token, {user: {bio: "from the browser"}});
  out.create = await call("POST", "/articles", token,
    {article: {title: "Cross origin", description: "d", body: "b", tagList: ["cors"]}});
  out.list = await call("GET", "/articles?tag=cors", token);
  out.remove = await call("DELETE", "/articles/" + out.create.body.article.slug, token);
  out.badToken = await call("GET", "/user", "not-a-token");
  out.invalid = await call("POST", "/users", null, {user: {}});
  return out;
}
journey().then(r => { window.results = r; }, e => { window.results = {failure: String(e)}; });
</script></body></html>"""


@pytest.fixture(scope="module")
def origins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(the API's origin, the page's origin): same host, different ports, so cross-origin."""
    page_port = free_port()
    page_origin = f"http://127.0.0.1:{page_port}"
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('cors')) / 'cors.db'}"
    upgrade(url)
    # The allowlist a production deployment would set: exactly the frontend's origin.
    app = create_app(make_settings(url, cors_origins=[page_origin]))
    with serve(app) as api_origin:
        yield api_origin, page_origin


def test_a_frontend_on_another_origin_can_use_the_api(
    browser: Any, origins: tuple[str, str]
) -> None:
    api_origin, page_origin = origins
    page = PAGE.replace("API_URL", json.dumps(f"{api_origin}/api")).replace(
        "USERNAME", json.dumps(f"fe{uuid.uuid4().hex[:8]}")
    )

    @Request.application
    def frontend(_request: Request) -> Response:
        return Response(page, mimetype="text/html")

    with serve(frontend, port=int(page_origin.rsplit(":", 1)[1])):
        context = browser.new_context()
        tab = context.new_page()
        console: list[str] = []
        tab.on("console", lambda message: console.append(message.text))
        tab.goto(page_origin)
        tab.wait_for_function("window.results !== undefined", timeout=20_000)
        results = tab.evaluate("window.results")
        context.close()

    assert "failure" not in results, (results, console)
    statuses = {step: outcome["status"] for step, outcome in results.items()}
    assert statuses == {
        "register": 201,
        "me": 200,
        "update": 200,
        "create": 201,
        "list": 200,
        "remove": 204,
        "badToken": 401,
        "invalid": 422,
    }
    assert results["update"]["body"]["user"]["bio"] == "from the browser"
    assert results["list"]["body"]["articlesCount"] == 1
    # error bodies reach the page, so a frontend can show them
    assert results["badToken"]["body"]["errors"]["body"]
    assert results["invalid"]["body"]["errors"]["body"]
    assert not [line for line in console if "CORS" in line], console
