"""Security headers on every response, errors included."""

from __future__ import annotations

from flask import Flask, Response, request

from api.docs import DOCS_CSP, DOCS_PATH

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def register(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        if response.status_code in (204, 304):
            headers.pop("Content-Type", None)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        docs = request.path == DOCS_PATH or request.path.startswith(f"{DOCS_PATH}/")
        headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else API_CSP)
        if "Authorization" in request.headers:
            headers["Cache-Control"] = "no-store"
        return response
