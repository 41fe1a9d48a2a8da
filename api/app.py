"""The application factory."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect

import runtime
from api import auth, cookies, docs, errors
from api.context import WebApp
from api.json import JSONProvider
from api.pipeline import cache, cors, headers, observability, ratelimit, replicas
from api.pipeline.budget import Budget
from api.pipeline.cache_edge import CacheEdge
from api.resources import BLUEPRINTS
from api.seam import API_PREFIX, Api, SlugConverter
from core.settings import INSTANCE_DIR, Settings

log = logging.getLogger(__name__)

API_VERSION = "2.4.0"
API_DESCRIPTION = (
    "Conduit, the RealWorld blogging platform: users and JWT auth, profiles and follows, "
    "articles with tags, favorites, comments and a personal feed.\n\n"
    "Authenticate with the header `Authorization: Token <jwt>`; the token comes from "
    "`CreateUser` or `Login`.\n\n"
    'Every error has the RealWorld 2.0 body `{"errors": {"<key>": ["message", ...]}}`, keyed by '
    "what is at fault: a field's wire name (`title`, `email`), `token` or `credentials`, the "
    "resource type (`article`, `profile`, `comment`) on 403/404, `path` or `method` for an "
    "unknown route or method, `request` for the request as a whole, `rate_limit` on 429, "
    "`database` or `server` on 5xx.\n\n"
    "Beyond RealWorld 2.0 (extensions): `Logout`, the health probes, notifications, ETags with "
    "`If-None-Match`, `409` on concurrent writes."
)


class Conduit(WebApp):
    """Flask, asked once per function whether it is async rather than on every request.

    Flask runs each hook, view and teardown through `ensure_sync`, which calls
    `inspect.iscoroutinefunction` every time: 14 times per request here, a measurable share
    of an uncached read. The answer for a given function never changes. It is kept per
    function, not per callable: a MethodView's `dispatch_request` is a new bound method on
    every request (keeping those leaked memory on every request), and it is kept for at most
    `SYNC_ANSWERS` functions, since `after_this_request` makes a new one per use.
    """

    SYNC_ANSWERS = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], bool] = {}

    def handle_http_exception(self, e: HTTPException) -> HTTPException | ResponseReturnValue:
        """Flask hands a routing redirect (`//api//articles`, 308) back as werkzeug's HTML
        page, past every error handler: ours answers it in JSON like everything else."""
        if isinstance(e, RequestRedirect):
            return errors.redirect_response(e)
        return super().handle_http_exception(e)

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        function = getattr(func, "__func__", func)
        sync = self._sync.get(function)
        if sync is None:
            converted = super().ensure_sync(func)
            if len(self._sync) < self.SYNC_ANSWERS:
                self._sync[function] = converted is func
            return converted
        return func if sync else super().ensure_sync(func)


def create_app(settings: Settings | None = None) -> Conduit:
    """Build the app on a runtime of its own (runtime.build): the engine is made here, so
    each gunicorn worker owns its pool."""
    settings = settings or Settings()
    observability.configure_logging(settings.log_level, settings.log_format)
    if not settings.jwt_secret_key:  # not in production: Settings refuses a weak key there
        secret = _development_secret(INSTANCE_DIR)
        settings = settings.model_copy(update={"jwt_secret_key": secret})

    app = Conduit(__name__, instance_path=str(INSTANCE_DIR))
    app.json = JSONProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        API_TITLE="Conduit API",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": API_DESCRIPTION,
                "license": {"name": "MIT License", "url": "https://opensource.org/licenses/MIT"},
            },
            "servers": [{"url": API_PREFIX, "description": "This server"}],
            "components": {
                "securitySchemes": {
                    "Token": {
                        "type": "apiKey",
                        "in": "header",
                        "name": "Authorization",
                        "description": "`Token <jwt>`, the token from `CreateUser` or `Login`.",
                    }
                }
            },
        },
    )
    app.runtime = runtime.build(settings)
    database = app.runtime.database
    app.teardown_appcontext(database.remove)
    if settings.outbox_hint and app.runtime.celery is None:
        app.before_request(app.runtime.relay.start)  # in-process: sweeps from the first request
    app.budget = Budget(settings.redis_url)
    app.read_cache = cache.register(app, settings, database)
    if app.read_cache is not None:  # its hits are answered before Flask dispatches
        app.wsgi_app = CacheEdge(app, app.wsgi_app, app.read_cache)  # type: ignore[method-assign]
    # After the cache: its invalidation reads the write's position this learns (replicas).
    replicas.register(app, settings, database)

    auth.configure(app, settings)
    cors.register(
        app,
        cors.policy(
            settings.allowed_origins,
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                "Idempotency-Key",
                cookies.CSRF_HEADER,
            ],
            # WWW-Authenticate: a public read served anonymously says the token was not taken.
            expose_headers=[
                "ETag",
                "X-Request-ID",
                "Retry-After",
                "WWW-Authenticate",
                "Idempotency-Replayed",
            ],
            methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            max_age=600,
            # Cookie mode: pages on the allowlisted origins may send the session cookie.
            credentials=settings.session_cookie,
        ),
        API_PREFIX,
    )

    if settings.proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count
        )
    # Before the rate limit's hook: a refused request still gets its id and its duration.
    observability.register(app, access_log=settings.access_log)
    ratelimit.configure(app, settings)
    headers.register(app)
    docs.register(app)
    app.url_map.converters["slug"] = SlugConverter
    api = Api(app)
    api.register_converter(SlugConverter, lambda _c: {"type": "string", "minLength": 1})
    errors.register(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=API_PREFIX)
    return app


def _development_secret(instance_dir: Path) -> str:
    """A random key kept in instance/: stable across restarts and gunicorn workers."""
    path = instance_dir / "dev-jwt-secret"
    instance_dir.mkdir(exist_ok=True)
    if not path.exists():
        # Write then hard-link: atomic, so racing workers all end up with one key.
        tmp = path.with_name(f"{path.name}.{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink()
    log.warning("JWT_SECRET_KEY is not set: using the development key in %s", path)
    return path.read_text().strip()
