"""Rate limits counted in Redis (shared by all workers and replicas), memory for `make run`.

Login and registration: flask-limiter, exact, one Redis round trip per attempt. Every other
request: the default limit, a budget counted in batches (api/budget.py).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from api.budget import Budget, parsed
from api.errors import error_response
from core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)


def _settings() -> Settings:
    settings: Settings = current_app.extensions["conduit_settings"]
    return settings


def _setting(name: str) -> Callable[[], str]:
    def value() -> str:
        limit: str = getattr(_settings(), name)
        return limit

    return value


# No X-RateLimit-* headers on every response: each would cost another Redis round trip.
# A refused request still says when to come back (Retry-After), computed only then.
# One Limiter serves every app of the process; what differs per app (on/off, the default
# limit) is read from that app's settings at request time, never fixed by the first init.
limiter = Limiter(key_func=get_remote_address, headers_enabled=False, strategy="fixed-window")
# Views with a limit of their own (login, registration) or none (health probes): the default
# budget does not count them.
OWN_LIMIT = "_conduit_own_rate_limit"


@limiter.request_filter
def _exempt() -> bool:
    """Off by setting; and CORS preflights are never limited: a 429 to one reaches the page
    as a CORS failure, hiding the limit; the request it announces is still counted."""
    if not _settings().rate_limit_enabled:
        return True
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def configure(app: Flask, settings: Settings) -> None:
    storage = settings.redis_url or "memory://"
    if settings.redis_url is None and settings.app_env == "production":
        log.warning("REDIS_URL is not set: rate limits are counted per worker process")
    app.config.update(
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_KEY_PREFIX="conduit",
        # If Redis is down, let requests through rather than fail every request.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    app.extensions["conduit_budget"] = Budget(settings.redis_url)
    app.before_request(_default_budget)


def _default_budget() -> Response | None:
    """Count the request against its address's default budget; a 429 once it is spent."""
    if _exempt():
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, OWN_LIMIT, False):
        return None
    limit = parsed(_settings().rate_limit_default)
    budget: Budget = current_app.extensions["conduit_budget"]
    retry_after = budget.hit(get_remote_address(), limit)
    if retry_after is None:
        return None
    return error_response(
        429, {"rate_limit": [f"exceeded: at most {limit}"]}, {"Retry-After": str(retry_after)}
    )


def _too_many_requests(error: RateLimitExceeded) -> Response:
    current = limiter.current_limit
    retry_after = max(1, math.ceil(current.reset_at - time.time())) if current else 60
    return error_response(
        429,
        {"rate_limit": [f"exceeded: at most {error.description}"]},
        {"Retry-After": str(retry_after)},
    )


def _own(view: F) -> F:
    setattr(view, OWN_LIMIT, True)
    return view


def login_limit(func: F) -> F:
    return _own(cast(F, limiter.limit(_setting("rate_limit_login"))(func)))


def register_limit(func: F) -> F:
    return _own(cast(F, limiter.limit(_setting("rate_limit_register"))(func)))


def exempt(func: F) -> F:
    return _own(cast(F, limiter.exempt(func)))
