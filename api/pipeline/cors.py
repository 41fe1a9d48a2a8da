"""CORS for `/api`: the allowed origins get the headers a browser needs, errors included.

Our own rather than flask-cors, whose after-request hook cost a twentieth of a one-row
read (it formats its debug messages, the headers' repr among them, whether or not debug
logging is on) to do what fits here:

- A request whose `Origin` is allowed gets `Access-Control-Allow-Origin` echoing it (with
  `Vary: Origin`, so no cache serves one origin's answer to another), the headers it may
  read (`Access-Control-Expose-Headers`) and, in cookie mode, `Access-Control-Allow-Credentials`.
- A preflight (`OPTIONS` with `Access-Control-Request-Method` naming one of ours) also gets
  the methods, the requested headers we accept, and `Access-Control-Max-Age`. Flask answers
  the OPTIONS itself; no hook before it asks for a token or a budget.
- A foreign origin gets no CORS header at all: its page cannot read the answer.
- With the development wildcard (`*`, no allowlist), any origin is echoed; credentials are
  never allowed with it. A request without `Origin` is not a cross-origin one: no header.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask, Response, request

ORIGIN_KEY = "HTTP_ORIGIN"


@dataclass(frozen=True, slots=True)
class Policy:
    origins: frozenset[str] | None  # lower-cased; None: any origin (the wildcard)
    allow_headers: frozenset[str]  # lower-cased
    expose_headers: str
    methods: frozenset[str]
    allow_methods: str
    max_age: str
    credentials: bool

    def allows(self, origin: str) -> bool:
        return allowed(origin, self.origins)


def allowlist(origins: list[str] | str) -> frozenset[str] | None:
    """`Settings.allowed_origins` as matched: lower-cased, None for the wildcard (any origin)."""
    return None if origins == "*" else frozenset(o.lower() for o in origins)


def allowed(origin: str, origins: frozenset[str] | None) -> bool:
    """Whether `origin` is in `origins` (an `allowlist`); scheme and host are case-blind."""
    return origins is None or origin.lower() in origins


def policy(
    origins: list[str] | str,
    *,
    allow_headers: Iterable[str],
    expose_headers: Iterable[str],
    methods: Iterable[str],
    max_age: int,
    credentials: bool,
) -> Policy:
    wildcard = origins == "*"
    chosen = sorted({m.upper() for m in methods})
    return Policy(
        origins=allowlist(origins),
        allow_headers=frozenset(h.lower() for h in allow_headers),
        expose_headers=", ".join(expose_headers),
        methods=frozenset(chosen),
        allow_methods=", ".join(chosen),
        max_age=str(max_age),
        credentials=credentials and not wildcard,
    )


def register(app: Flask, rules: Policy, prefix: str) -> None:
    scope = prefix.rstrip("/") + "/"

    @app.after_request
    def _cors(response: Response) -> Response:
        environ = request.environ
        if not environ.get("PATH_INFO", "").startswith(scope):
            return response
        origin = environ.get(ORIGIN_KEY)
        if origin is None:  # not a cross-origin request
            return response
        headers = response.headers
        headers.add("Vary", "Origin")  # the answer depends on it, allowed or not
        if not rules.allows(origin):
            return response
        headers.add("Access-Control-Allow-Origin", origin)
        headers.add("Access-Control-Expose-Headers", rules.expose_headers)
        if rules.credentials:
            headers.add("Access-Control-Allow-Credentials", "true")
        wanted = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "").upper()
        if environ["REQUEST_METHOD"] == "OPTIONS" and wanted in rules.methods:
            requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
            accepted = [
                name.strip()
                for name in requested.split(",")
                if name.strip().lower() in rules.allow_headers
            ]
            if accepted:
                headers.add("Access-Control-Allow-Headers", ", ".join(accepted))
            headers.add("Access-Control-Allow-Methods", rules.allow_methods)
            headers.add("Access-Control-Max-Age", rules.max_age)
        return response
