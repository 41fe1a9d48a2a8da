"""Rate limits per client address, counted in Redis (shared by all workers and replicas), in
memory for `make run`: `api/pipeline/budget.py` counts them.

Login and registration (`RATE_LIMIT_LOGIN`, `RATE_LIMIT_REGISTER`) are counted exactly, each
attempt a round trip to Redis; every other request counts against `RATE_LIMIT_DEFAULT`, in
batches. A view with a limit of its own is not counted against the default too, and the
health probes against none. No X-RateLimit-* headers: a refusal says when to come back
(`Retry-After`). What differs per app (on/off, the limits) is read from its settings at
request time.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, request
from limits import RateLimitItem

from api.context import settings as _settings
from api.context import web_app
from api.errors import error_response
from api.pipeline.budget import Budget, parsed
from core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

# Marks a view the default budget does not count (its own limit, or none).
OWN_LIMIT = "_conduit_own_rate_limit"
# WSGI environ: the read cache's edge counted this hit against the default budget and found
# it spent; the value is the 429's Retry-After (api/pipeline/cache_edge.py).
COUNTED_AND_REFUSED = "conduit.budget.refused"


def _exempt() -> bool:
    """Off by setting; and CORS preflights are never limited: a 429 to one reaches the page
    as a CORS failure, hiding the limit; the request it announces is still counted."""
    if not _settings().rate_limit_enabled:
        return True
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def configure(app: Flask, settings: Settings) -> None:
    if settings.redis_url is None and settings.app_env == "production":
        log.warning("REDIS_URL is not set: rate limits are counted per worker process")
    app.before_request(_default_budget)


def _refusal(scope: str, setting: str) -> Response | None:
    """Count this request in `scope` against the limit `setting` names; the 429 when spent."""
    limit = getattr(_settings(), setting)
    retry_after = spent(web_app().budget, limit, request.remote_addr, scope)
    return None if retry_after is None else _too_many(parsed(limit), retry_after)


def spent(budget: Budget, limit: str, address: str | None, scope: str) -> int | None:
    """Count one request from `address` in `scope`: None while `limit` lasts, else the
    seconds until it renews. The hooks here and the read cache's edge both count with it."""
    return budget.hit(address or "127.0.0.1", parsed(limit), scope=scope)


def _too_many(limit: RateLimitItem, retry_after: int) -> Response:
    return error_response(
        429, {"rate_limit": [f"exceeded: at most {limit}"]}, {"Retry-After": str(retry_after)}
    )


def _default_budget() -> Response | None:
    if _exempt():
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, OWN_LIMIT, False):
        return None
    refused: int | None = request.environ.get(COUNTED_AND_REFUSED)
    if refused is not None:
        return _too_many(parsed(_settings().rate_limit_default), refused)
    return _refusal("default", "rate_limit_default")


def _own_limit(scope: str, setting: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def limited(*args: Any, **kwargs: Any) -> Any:
            if not _exempt() and (refused := _refusal(scope, setting)) is not None:
                return refused
            return func(*args, **kwargs)

        setattr(limited, OWN_LIMIT, True)
        return cast(F, limited)

    return decorate


login_limit = _own_limit("login", "rate_limit_login")
register_limit = _own_limit("register", "rate_limit_register")
suggest_limit = _own_limit("suggest", "rate_limit_suggest")


def exempt(func: F) -> F:
    setattr(func, OWN_LIMIT, True)
    return func
