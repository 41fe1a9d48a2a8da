"""A frontend on another origin shows the API's errors the way RealWorld 2.0 frontends do.

Those frontends (the ListErrors component) render every entry of `{"errors": {key: [message]}}`
as `key + " " + message`. The page registers a user, registers the same username again and
posts an article with a blank title, and renders each error list into the DOM; the test reads
the text a user would see. The old `{"errors": {"body": ["username: ..."]}}` shape would show
"body username: ..." and fail.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.browser.frontend import frontend_page

PAGE = """<!DOCTYPE html><html><body>
<ul id="register-errors"></ul>
<ul id="article-errors"></ul>
<script>
const api = API_URL;
async function call(method, path, token, body) {
  const headers = {"Content-Type": "application/json"};
  if (token) headers["Authorization"] = "Token " + token;
  const response = await fetch(api + path, {method, headers, body: JSON.stringify(body)});
  return {status: response.status, body: await response.json()};
}
function showErrors(list, body) {
  for (const [key, messages] of Object.entries(body.errors)) {
    for (const message of messages) {
      const item = document.createElement("li");
      item.textContent = key + " " + message;  // text, never HTML: messages are data
      list.appendChild(item);
    }
  }
}
async function journey() {
  const name = USERNAME;
  const user = {username: name, email: name + "@example.com", password: "frontend-pass"};
  const first = await call("POST", "/users", null, {user});
  const again = await call("POST", "/users", null,
    {user: {...user, email: "again-" + name + "@example.com"}});
  showErrors(document.getElementById("register-errors"), again.body);
  const untitled = await call("POST", "/articles", first.body.user.token,
    {article: {title: "", description: "d", body: "b"}});
  showErrors(document.getElementById("article-errors"), untitled.body);
  return {first: first.status, again: again.status, untitled: untitled.status};
}
journey().then(r => { window.results = r; }, e => { window.results = {failure: String(e)}; });
</script></body></html>"""


def test_the_frontend_shows_key_and_message(browser: Any, origins: tuple[str, str]) -> None:
    api_origin, page_origin = origins
    page = PAGE.replace("API_URL", json.dumps(f"{api_origin}/api")).replace(
        "USERNAME", json.dumps(f"fe{uuid.uuid4().hex[:8]}")
    )

    with frontend_page(browser, page_origin, page) as (tab, console):
        results = tab.evaluate("window.results")
        register_errors = tab.locator("#register-errors li").all_inner_texts()
        article_errors = tab.locator("#article-errors li").all_inner_texts()

    assert results == {"first": 201, "again": 409, "untitled": 422}, (results, console)
    assert register_errors == ["username has already been taken"]
    assert article_errors == ["title can't be blank"]
