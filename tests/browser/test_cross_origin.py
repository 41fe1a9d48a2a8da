"""A browser page on another origin uses the API the way RealWorld frontends do (CORS).

The page (its own server, its own port) registers, reads and updates the user, creates, comments
on and deletes an article with `Authorization: Token <jwt>`: preflighted, cross-origin requests
that a RealWorld frontend makes. Error bodies must be readable too, so it can show them: RealWorld
2.0 bodies, `{"errors": {"<key>": ["message", ...]}}`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.browser.frontend import frontend_page

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
  out.comment = await call("POST", "/articles/" + out.create.body.article.slug + "/comments", token,
    {comment: {body: "from another origin"}});
  out.remove = await call("DELETE", "/articles/" + out.create.body.article.slug, token);
  out.badToken = await call("GET", "/user", "not-a-token");
  out.invalid = await call("POST", "/users", null, {user: {}});
  return out;
}
journey().then(r => { window.results = r; }, e => { window.results = {failure: String(e)}; });
</script></body></html>"""


def test_a_frontend_on_another_origin_can_use_the_api(
    browser: Any, origins: tuple[str, str]
) -> None:
    api_origin, page_origin = origins
    page = PAGE.replace("API_URL", json.dumps(f"{api_origin}/api")).replace(
        "USERNAME", json.dumps(f"fe{uuid.uuid4().hex[:8]}")
    )

    with frontend_page(browser, page_origin, page) as (tab, console):
        results = tab.evaluate("window.results")

    assert "failure" not in results, (results, console)
    statuses = {step: outcome["status"] for step, outcome in results.items()}
    assert statuses == {
        "register": 201,
        "me": 200,
        "update": 200,
        "create": 201,
        "list": 200,
        "comment": 201,
        "remove": 204,
        "badToken": 401,
        "invalid": 422,
    }
    registered = results["register"]["body"]["user"]
    assert (registered["bio"], registered["image"]) == (None, None)
    assert results["update"]["body"]["user"]["bio"] == "from the browser"
    assert results["update"]["body"]["user"]["image"] is None
    assert results["list"]["body"]["articlesCount"] == 1
    assert results["comment"]["body"]["comment"]["body"] == "from another origin"
    assert results["comment"]["body"]["comment"]["author"]["bio"] == "from the browser"
    # Error bodies reach the page, keyed by what is at fault, so a frontend can show them.
    assert results["badToken"]["body"] == {"errors": {"token": ["is invalid"]}}
    assert results["invalid"]["body"] == {
        "errors": {
            "username": ["can't be blank"],
            "email": ["can't be blank"],
            "password": ["can't be blank"],
        }
    }
    assert not [line for line in console if "CORS" in line], console
