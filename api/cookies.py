"""Cookie mode (`SESSION_COOKIE=true`): the refresh token in an HttpOnly cookie, CSRF-guarded.

Login, registration and refresh set the cookie instead of putting `refreshToken` in the body,
so no page script (an XSS payload included) can read it. Its path is /api/users: only the
refresh and logout operations ever receive it. A refresh that takes the token from the cookie
is a request a browser makes on its own, so it must prove it comes from a page we trust
(OWASP's custom-header defence, with origin verification):
- the `X-CSRF-Protection` header must be present: a cross-origin page can only send a custom
  header after a CORS preflight, which only origins in `CORS_ORIGINS` pass, and an HTML form
  cannot send one at all;
- the `Origin` header, when the browser sends one, must be this API's own or an allowed one.
`SameSite` (Strict by default) keeps the cookie off cross-site requests to begin with.
A refresh token in the body needs none of this: nothing ambient is used.
"""

from __future__ import annotations

from typing import Any

from flask import Response, after_this_request, current_app, request

from api.context import settings as _settings
from api.errors import fail
from api.pipeline import cors

COOKIE = "conduit_refresh"
COOKIE_PATH = "/api/users"
CSRF_HEADER = "X-CSRF-Protection"


def enabled() -> bool:
    return _settings().session_cookie


def _attributes() -> dict[str, Any]:
    """What setting and expiring the cookie share: browsers match a cookie by them."""
    settings = _settings()
    return {
        "path": COOKIE_PATH,
        "secure": settings.session_cookie_secure,
        "httponly": True,
        "samesite": settings.session_cookie_samesite,
    }


def deliver(refresh_token: str) -> None:
    """Set the cookie on this request's response."""
    max_age = int(current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds())
    attributes = _attributes()

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(COOKIE, refresh_token, max_age=max_age, **attributes)
        return response


def clear() -> None:
    """Expire the cookie with this request's response (logout)."""
    attributes = _attributes()

    @after_this_request
    def _clear(response: Response) -> Response:
        response.delete_cookie(COOKIE, **attributes)
        return response


def _origin_allowed(origin: str) -> bool:
    """This API's own origin, or one CORS lets read our answers (matched as CORS matches)."""
    origins = _settings().allowed_origins
    if origins != "*":
        origins = [*origins, request.host_url.rstrip("/")]
    return cors.allowed(origin, cors.allowlist(origins))


def presented() -> str | None:
    """The refresh token in the cookie, once the request proved it is no forgery; None when
    cookie mode is off or no cookie came. A forgery stops here with a 403 (`csrf`)."""
    if not enabled():
        return None
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    if not request.headers.get(CSRF_HEADER):
        fail(403, "csrf", f"{CSRF_HEADER} header is missing")
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_allowed(origin):
        fail(403, "csrf", "origin is not allowed")
    return token
