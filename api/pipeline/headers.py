"""Security headers on every response, errors included."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, request
from werkzeug.http import is_resource_modified

from api.docs import DOCS_CSP, DOCS_PATH
from core.http import SECURITY_HEADERS

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

# The docs page loads its own script and styles: its policy allows them.
DOCS_HEADERS = tuple(
    (name, DOCS_CSP if name == "Content-Security-Policy" else value)
    for name, value in SECURITY_HEADERS
)


def not_modified(environ: WSGIEnvironment, etag: str | None) -> bool:
    """Whether the request's `If-None-Match` already holds `etag` (unquoted): a 304 answers.

    The conditional views (api/seam.py) and the read cache's hits (api/pipeline/cache_edge.py)
    both ask here.
    """
    return (
        etag is not None
        and "HTTP_IF_NONE_MATCH" in environ
        and not is_resource_modified(environ, etag=etag)
    )


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        if response.status_code in (204, 304):
            headers.pop("Content-Type", None)
        # Unless a view set its own. One scan: werkzeug's Headers raise (and catch) an
        # HTTPException for every name they lack, on `in`, get() and setdefault() alike.
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers iterate pairs
        docs = request.path == DOCS_PATH or request.path.startswith(f"{DOCS_PATH}/")
        for name, value in DOCS_HEADERS if docs else SECURITY_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if "Authorization" in request.headers:
            headers["Cache-Control"] = "no-store"
        return response
