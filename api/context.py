"""The request's context: its database session and its user.

The ground floor of `api/`: it imports nothing from `api`, so the seam, auth, errors and
the resources can all use it without importing one another.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from api.pipeline.budget import Budget
from api.pipeline.cache import ReadCache
from core.settings import Settings
from db.queries import Principal
from db.session import Database
from ml.serving import ModelService
from runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WebApp(Flask):
    """Flask, with what the web process runs on as typed attributes (set by `create_app`):
    the runtime it shares with the worker and the commands, and its own request pipeline's
    state."""

    runtime: Runtime
    read_cache: ReadCache | None  # None: off (no REDIS_URL, or READ_CACHE=false)
    budget: Budget  # the rate limits' counters


def web_app(app: Flask | None = None) -> WebApp:
    """`app` (default: the current app) as the web app it is."""
    return cast(WebApp, current_app if app is None else app)


def runtime_of(app: Flask) -> Runtime:
    return web_app(app).runtime


def settings() -> Settings:
    """This app's settings."""
    return cast(WebApp, current_app).runtime.settings


def database() -> Database:
    """This app's engine and session factories."""
    return cast(WebApp, current_app).runtime.database


def model() -> ModelService:
    """This process's embedding model (loaded once per worker, ml/serving.py)."""
    return cast(WebApp, current_app).runtime.model


def db_session() -> Session:
    """This request's session: the autocommit reader for safe methods, else the writer."""
    db = database()
    if has_request_context() and request.method in SAFE_METHODS:
        return db.reader()
    return db.session()


def db_connection() -> Connection:
    """This request's connection for reads: the autocommit read connection for safe methods,
    else the writer session's, so a write's response reads its own transaction.
    """
    db = database()
    if has_request_context() and request.method in SAFE_METHODS:
        return db.read_connection()
    return db.session().connection()


def current_user() -> Principal:
    """The authenticated user of a view decorated with `auth_required` (read-only)."""
    return cast(Principal, g.user)


def viewer() -> Principal | None:
    """The viewer of a view decorated with `auth_optional`, if a token was presented."""
    return cast("Principal | None", g.get("user"))


def viewer_id() -> int | None:
    """The viewer's id, or None for an anonymous request."""
    me = viewer()
    return me.id if me is not None else None
