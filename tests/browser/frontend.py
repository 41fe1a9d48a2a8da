"""A frontend page on its own origin, opened in the browser against the API (see `origins`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.wrappers import Request, Response

from testkit.servers import serve


@contextmanager
def frontend_page(browser: Any, page_origin: str, html: str) -> Iterator[tuple[Any, list[str]]]:
    """Serve `html` on `page_origin` and open it; yields (tab, console lines) once the page's
    script has set `window.results`, the signal that all its requests are done."""

    @Request.application
    def frontend(_request: Request) -> Response:
        return Response(html, mimetype="text/html")

    with serve(frontend, port=int(page_origin.rsplit(":", 1)[1])):
        context = browser.new_context()
        try:
            tab = context.new_page()
            console: list[str] = []
            tab.on("console", lambda message: console.append(message.text))
            tab.goto(page_origin)
            tab.wait_for_function("window.results !== undefined", timeout=20_000)
            yield tab, console
        finally:
            context.close()
