"""Every error leaves as `{"errors": {"body": [...]}}`; no stack trace reaches a client."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

LOCATIONS = {"json", "query", "view_args", "headers", "form", "files", "cookies"}
ENVELOPES = {"user", "article", "comment"}

# Unique constraints, named by db.models.NAMING_CONVENTION, and what a client is told.
UNIQUE_MESSAGES = {
    "uq_users_username": ("username", "username has already been taken"),
    "uq_users_email": ("email", "email has already been taken"),
    "uq_articles_slug": ("slug", "an article with this title is being created, try again"),
}

DEFAULT_MESSAGES = {
    401: "missing or invalid authorization token",
    403: "you are not allowed to do this",
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    415: "request body must be application/json",
    422: "invalid request",
    429: "too many requests",
    500: "internal server error",
    503: "service temporarily unavailable",
}


def error_response(
    status: int, messages: list[str], headers: Mapping[str, str] | None = None
) -> Response:
    response = jsonify({"errors": {"body": messages}})
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


def flatten(messages: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Turn webargs/marshmallow's nested messages into readable `field: message` lines."""
    if isinstance(messages, Mapping):
        lines: list[str] = []
        for key, value in messages.items():
            name = str(key)
            leaf = not isinstance(value, Mapping)
            if (
                (name in LOCATIONS and not path)
                or (name in ENVELOPES and not path and not leaf)
                or name == "_schema"
            ):
                lines += flatten(value, path)
            elif isinstance(key, int):
                lines += flatten(
                    value, (*path[:-1], f"{path[-1]}[{key}]") if path else (f"[{key}]",)
                )
            else:
                lines += flatten(value, (*path, name))
        return lines
    if isinstance(messages, list | tuple):
        return [line for item in messages for line in flatten(item, path)]
    text = str(messages)
    return [f"{'.'.join(path)}: {text}" if path else text]


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages: list[str] = []
    if "messages" in data:
        messages = flatten(data["messages"])
    elif "errors" in data:
        messages = flatten(data["errors"])
    if "message" in data:
        messages.insert(0, str(data["message"]))
    if not messages:
        messages = [DEFAULT_MESSAGES.get(status, error.name.lower())]
    headers = dict(data.get("headers") or {})
    # Keep the protocol headers werkzeug attaches (Allow on 405, Retry-After on 429...).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            headers[name] = value
    return error_response(status, messages, headers)


def handle_integrity_error(error: IntegrityError) -> Response:
    """The database's constraints are the last line of defence; they answer 422 or 409."""
    _rollback()
    text = str(error.orig)
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    for name, (column, message) in UNIQUE_MESSAGES.items():
        table = name.split("_")[1]
        if constraint == name or f"{table}.{column}" in text:
            return error_response(422, [message])
    log.warning("integrity error mapped to 409: %s", text)
    return error_response(409, ["the request conflicts with a concurrent change, try again"])


def handle_data_error(error: DataError) -> Response:
    """A value the database cannot store or compare (PostgreSQL: NUL in a path segment)."""
    _rollback()
    log.warning("data error mapped to 422: %s", error.orig)
    return error_response(422, [DEFAULT_MESSAGES[422]])


def handle_database_unavailable(error: Exception) -> Response:
    _rollback()
    log.error("database unavailable: %s", error)
    return error_response(503, [DEFAULT_MESSAGES[503]], {"Retry-After": "1"})


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    _rollback()
    log.exception("unhandled error")
    return error_response(500, [DEFAULT_MESSAGES[500]])


def _rollback() -> None:
    from api.extensions import db_session  # the seam imports this module

    if "conduit_db" not in current_app.extensions:
        return
    try:
        db_session().rollback()
    except DBAPIError:  # the connection itself is gone; removal at teardown discards it
        log.debug("rollback failed", exc_info=True)


def register(app: Flask) -> None:
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(PoolTimeoutError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
