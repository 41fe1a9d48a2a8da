"""Every error leaves as `{"errors": {"<what is at fault>": ["message", ...]}}` (RealWorld 2.0).

The key names what is at fault, by one rule (the README's table repeats it):
- a request field, by its wire name (`title`, `email`, `tagList`, `limit`); an envelope
  (`user`, `article`, `comment`) when the envelope itself is missing or wrong;
- `token` for authentication, `credentials` for a failed login;
- the resource type for 403/404 (`article`, `profile`, `comment`), `path` for a URL that
  names nothing, `method` for a 405;
- `request` for the request as a whole (malformed JSON, 400, 413, 415, concurrent conflicts
  that still collided after the reruns of `handle_database_error`),
  `rate_limit` for a 429, `database` when it is unreachable (503), `server` for other 5xx.
No stack trace reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

from flask import Flask, Response, current_app, g, jsonify, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from webargs.flaskparser import abort
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from api.context import SAFE_METHODS, database, db_session
from db import retry
from db.errors import Kind, is_disconnect, violation
from ml.model import ModelError

log = logging.getLogger(__name__)

Errors = dict[str, list[str]]

LOCATIONS = {"json", "query", "view_args", "headers", "form", "files", "cookies"}
ENVELOPES = {"user", "article", "comment"}
WHOLE_REQUEST = "request"
TAKEN = "has already been taken"
CONFLICT = "conflicts with a concurrent change, try again"
DATABASE_DOWN = "is unavailable, try again"

# Unique constraints, by their names (db.models.NAMING_CONVENTION; db.errors tells them on
# either backend), and what a client is told: a taken name is a 409 keyed by the field.
UNIQUE_VIOLATIONS = {
    "uq_users_username_key": ("username", TAKEN),
    "uq_users_username": ("username", TAKEN),
    "uq_users_email": ("email", TAKEN),
    "uq_articles_slug": ("article", CONFLICT),
}

DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: (WHOLE_REQUEST, "is malformed"),
    401: ("token", "is missing"),
    403: (WHOLE_REQUEST, "forbidden"),
    404: ("path", "not found"),
    405: ("method", "is not allowed"),
    409: (WHOLE_REQUEST, CONFLICT),
    413: (WHOLE_REQUEST, "is too large"),
    415: (WHOLE_REQUEST, "must be application/json"),
    422: (WHOLE_REQUEST, "is invalid"),
    429: ("rate_limit", "exceeded"),
    500: ("server", "internal error"),
    503: ("server", "is temporarily unavailable, try again"),
}


def error_response(
    status: int, errors: Mapping[str, list[str]], headers: Mapping[str, str] | None = None
) -> Response:
    response = jsonify({"errors": dict(errors)})
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


def default_errors(status: int) -> Errors:
    key, message = DEFAULT_ERRORS.get(status, (WHOLE_REQUEST, "failed"))
    if status == 413 and (limit := current_app.config.get("MAX_CONTENT_LENGTH")):
        message = f"is too large (maximum is {limit} bytes)"
    return {key: [message]}


def fail(status: int, key: str, message: str, headers: Mapping[str, str] | None = None) -> NoReturn:
    """Stop the request with `{"errors": {key: [message]}}`."""
    fail_with(status, {key: [message]}, headers)


T = TypeVar("T")


def found(value: T | None, resource: str) -> T:
    """`value`, or a 404 keyed by the resource type (`article`, `profile`, `comment`)."""
    if value is None:
        fail(404, resource, "not found")
    return value


def fail_with(
    status: int, errors: Mapping[str, list[str]], headers: Mapping[str, str] | None = None
) -> NoReturn:
    abort(status, errors=dict(errors), headers=dict(headers or {}))
    raise AssertionError("unreachable")  # abort raises


def keyed(messages: Any) -> Errors:
    """webargs/marshmallow's nested messages, keyed by the innermost field's wire name."""
    errors: Errors = {}

    def add(key: str, message: str) -> None:
        found = errors.setdefault(key, [])
        if message not in found:
            found.append(message)

    def walk(node: Any, key: str | None, depth: int) -> None:
        if isinstance(node, Mapping):
            for name, value in node.items():
                if isinstance(name, int):  # a list item: the list's own name
                    walk(value, key, depth)
                elif name == "_schema":  # the object as a whole: its envelope, if any
                    walk(value, key or WHOLE_REQUEST, depth)
                elif depth == 0 and name in LOCATIONS:
                    walk(value, None, 0)
                else:
                    walk(value, str(name), depth + 1)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, key, depth)
        else:
            add(key or WHOLE_REQUEST, str(node))

    walk(messages, None, 0)
    return errors


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or (keyed(data["messages"]) if "messages" in data else {})
    errors = errors or default_errors(status)
    headers = dict(data.get("headers") or {})
    # Keep the protocol headers werkzeug attaches (Allow on 405, Retry-After on 429...).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            headers[name] = value
    return error_response(status, errors, headers)


def redirect_response(redirect: RequestRedirect) -> Response:
    """A routing redirect (a doubled slash merged): where to go, with a JSON body."""
    response = jsonify({"location": redirect.new_url})
    response.status_code = redirect.code
    response.headers["Location"] = redirect.new_url
    return response


def integrity_error_key(error: IntegrityError) -> tuple[str, str] | None:
    """The error key and message for a unique constraint a client can be told about."""
    found = violation(error)
    if found.kind is not Kind.UNIQUE or found.constraint is None:
        return None
    return UNIQUE_VIOLATIONS.get(found.constraint)


# A row written for an article (comment, favorite, tag link) whose article was deleted
# meanwhile: its foreign key check waited for the deletion, then found nothing.
VANISHED = {
    "fk_comments_article_id_articles": "article",
    "fk_favorites_article_id_articles": "article",
    "fk_article_tags_article_id_articles": "article",
}


def handle_integrity_error(error: IntegrityError) -> Response:
    """The database's constraints are the last line of defence: they answer 409, or 404 for
    a row that vanished under the write."""
    _rollback()
    broken = violation(error)
    if broken.kind is Kind.FOREIGN_KEY and (resource := VANISHED.get(broken.constraint or "")):
        return error_response(404, {resource: ["not found"]})
    found = integrity_error_key(error)
    if found is None:
        log.warning("integrity error mapped to 409: %s", error.orig)
        return error_response(409, default_errors(409))
    key, message = found
    return error_response(409, {key: [message]})


def handle_data_error(error: DataError) -> Response:
    """A value the database cannot store or compare (PostgreSQL: NUL in a path segment)."""
    _rollback()
    log.warning("data error mapped to 422: %s", error.orig)
    return error_response(422, default_errors(422))


def handle_database_unavailable(error: Exception) -> Response:
    _rollback()
    log.error("database unavailable: %s", error)
    return error_response(503, {"database": [DATABASE_DOWN]}, {"Retry-After": "1"})


def handle_database_error(error: DBAPIError) -> Response:
    """A lost connection answers 503, but a safe request runs once more on a new connection.

    The pool has dropped the dead connection and those made before it, so the rerun
    connects afresh: after a database restart no read fails, and a write (never rerun, it
    may have been applied) fails once with a 503 its client may retry. A transient error
    (a deadlock victim, a serialization failure) is no outage: see `_rerun_transient`.
    """
    if request.method in SAFE_METHODS and database().abandon_replica():
        # A replica failed the read (down, restarting, a recovery conflict): it is left
        # until it answers its monitor again, and the read runs on the primary.
        log.warning("replica failed a read, reading from the primary: %s", error.orig)
        return _dispatch_again()
    if (kind := retry.transient_kind(error)) is not None:
        return _rerun_transient(error, kind)
    if not is_disconnect(error) and not isinstance(error, OperationalError):
        return handle_unexpected(error)
    if not is_disconnect(error) or request.method not in SAFE_METHODS or g.get("read_rerun"):
        return handle_database_unavailable(error)
    g.read_rerun = True
    log.warning("database connection lost, reading again on a new one: %s", error.orig)
    return _dispatch_again()


def _dispatch_again() -> Response:
    """Run the request's view once more on fresh sessions; whatever it raises is answered as
    if the first run had raised it (so a further transient error reruns again, bounded)."""
    database().remove()
    try:
        return current_app.make_response(current_app.dispatch_request())
    except Exception as again:
        return current_app.make_response(current_app.handle_user_exception(again))


def _rerun_transient(error: DBAPIError, kind: str) -> Response:
    """Run the whole view again: PostgreSQL rolled its transaction back, so nothing of it
    was written (an idempotency claim is released on the way out and claimed again by the
    rerun). A few reruns with jitter; still colliding, the client is told 409 to retry."""
    _rollback()
    reruns: int = g.get("transient_reruns", 0)
    if reruns >= retry.ATTEMPTS - 1:
        log.warning("transient database error (%s) after %d reruns: %s", kind, reruns, error.orig)
        return error_response(409, {WHOLE_REQUEST: [CONFLICT]}, {"Retry-After": "1"})
    g.transient_reruns = reruns + 1
    retry.RETRIES.labels(kind).inc()
    log.info("transient database error (%s), running the request again: %s", kind, error.orig)
    retry.pause(reruns)
    return _dispatch_again()


def handle_model_error(error: ModelError) -> Response:
    """The model could not load, or one inference failed: this operation only, 503."""
    _rollback()
    log.error("model unavailable for this request: %s", error)
    return error_response(503, {"model": ["is unavailable"]}, {"Retry-After": "5"})


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    _rollback()
    log.exception("unhandled error")
    return error_response(500, default_errors(500))


def _rollback() -> None:
    if getattr(current_app, "runtime", None) is None:  # failed before the app was built
        return
    try:
        db_session().rollback()
    except DBAPIError:  # the connection itself is gone; removal at teardown discards it
        log.debug("rollback failed", exc_info=True)


def register(app: Flask) -> None:
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeoutError, handle_database_unavailable)
    app.register_error_handler(ModelError, handle_model_error)
    app.register_error_handler(Exception, handle_unexpected)
