"""`Idempotency-Key` on creates (draft-ietf-httpapi-idempotency-key-header).

A client that sends a key may retry a create whose answer it lost: the retry replays the
first answer instead of creating again. How it holds when a worker dies:

- The key is claimed first, in a transaction of its own, with a lease: a concurrent
  request with the same key sees the claim and gets 409 rather than waiting.
- The operation runs in one database transaction (`db.idempotency.one_transaction`), and
  its answer is written into that same transaction: the article exists if and only if its
  answer is stored, so a worker killed just after the commit leaves the answer for the
  retry, and one killed before leaves nothing but the claim.
- A claim whose lease ran out without an answer was abandoned (its worker died: gunicorn
  kills a request after GUNICORN_TIMEOUT); a retry takes it over. The answer is only stored
  while the lease is still this request's, so a run that outlived it is rolled back.
- Stored: the answer a view returns, when below 500 (ours return only their 2xx). Not
  stored: errors a view raises (its 4xx: a taken name, a missing article), 5xx and crashes;
  they write nothing, so the claim is released and a retry runs again, possibly corrected.
  Bodies refused by validation (413/415/422) never claim the key.
- Keys are scoped to the user (none for CreateUser) and kept for 24 hours from first use;
  every claim purges a bounded batch of lapsed ones.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

import orjson
from flask import Response, current_app, request
from flask_jwt_extended import decode_token
from sqlalchemy.exc import SQLAlchemyError

from api import context, sessions
from api.auth import FAMILY_CLAIM
from api.errors import fail
from db import idempotency as keys
from db.models import IDEMPOTENCY_KEY_MAX, utcnow
from db.session import Database

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
KEPT_FOR = keys.KEPT_FOR
# gunicorn ends a request after GUNICORN_TIMEOUT (deploy/gunicorn_conf.py); past that and a
# margin, a claim without an answer belongs to a dead worker.
LEASE_MARGIN = timedelta(seconds=5)


def lease() -> timedelta:
    """How long a claim without an answer is this request's (its gunicorn timeout and a margin)."""
    return timedelta(seconds=context.settings().server.gunicorn_timeout) + LEASE_MARGIN


VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
IN_PROGRESS = "is in use by a request still in progress, retry later"
OTHER_REQUEST = "is already used for a different request"

# Where an answer carries an access token, e.g. ("user", "token"): tokens are not kept for
# a day in the database. The stored copy keeps the token's subject, its session (family) and
# a digest of the password hash; a replay gets that same session's tokens again only while
# it is live and the password unchanged (api/sessions.py `resume`), else a 409 that says to
# sign in: whoever holds the original request never gets a session the owner ended.
TokenPath = tuple[str, str]
# Beside it, a session's refresh token (api/sessions.py).
REFRESH_FIELD = "refreshToken"
SESSION_ENDED = "was used by a sign-up whose session has ended: sign in instead"


def guard(func: F, token: TokenPath | None = None) -> F:
    """`func` (which returns the response) made to honour an `Idempotency-Key` header."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _key()
        if key is None:
            return func(*args, **kwargs)
        return _run(key, token, lambda: current_app.make_response(func(*args, **kwargs)))

    return cast(F, wrapper)


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key:
        fail(422, HEADER, "can't be blank")
    if len(key) > IDEMPOTENCY_KEY_MAX:
        fail(422, HEADER, f"is too long (maximum is {IDEMPOTENCY_KEY_MAX} characters)")
    if not VISIBLE_ASCII.fullmatch(key):
        fail(422, HEADER, "must contain only visible ASCII characters")
    return key


def fingerprint() -> str:
    """The request a key stands for: its method, path and body (as JSON, keys sorted)."""
    body = request.get_data(cache=True)
    with contextlib.suppress(orjson.JSONDecodeError, orjson.JSONEncodeError):
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _run(key: str, token: TokenPath | None, respond: Callable[[], Response]) -> Response:
    database = context.database()
    user_id = context.viewer_id() or 0
    now = utcnow()
    session = database.session()
    keys.purge(session, now - KEPT_FOR)
    claim = keys.claim(
        session,
        user_id,
        key,
        fingerprint(),
        now=now,
        leased_until=now + lease(),
        lapsed_before=now - KEPT_FOR,
    )
    session.commit()
    if claim.state is keys.State.ANSWERED:
        return _replay(claim.status, claim.body, token)
    if claim.state is keys.State.OTHER_REQUEST:
        fail(422, HEADER, OTHER_REQUEST)
    if claim.state is keys.State.IN_PROGRESS:
        fail(409, HEADER, IN_PROGRESS, {"Retry-After": "1"})

    try:
        with keys.one_transaction(database.session) as work:
            response = respond()
            stored = response.status_code < 500 and keys.store_answer(
                work.session,
                user_id,
                key,
                claim.owner,
                response.status_code,
                _without_token(response.get_data(as_text=True), token),
            )
            if stored:
                work.commit()
    except BaseException:
        _release(database, user_id, key, claim.owner)
        raise
    if stored:
        return response
    if response.status_code >= 500:
        _release(database, user_id, key, claim.owner)
        return response
    # The lease ran out while this ran and a retry took the key over: this run was rolled
    # back, and the retry's answer is the one that stands.
    log.warning("idempotency lease lapsed during the request; its writes were rolled back")
    fail(409, HEADER, IN_PROGRESS, {"Retry-After": "1"})


def _release(database: Database, user_id: int, key: str, owner: str) -> None:
    session = database.session()
    try:
        session.rollback()
        keys.release(session, user_id, key, owner)
        session.commit()
    except SQLAlchemyError:  # the database is gone: the lease lapses, a retry takes over
        log.warning("could not release an idempotency key", exc_info=True)
        with contextlib.suppress(SQLAlchemyError):
            session.rollback()


def _replay(status: int, body: str, token: TokenPath | None) -> Response:
    if token is not None:
        answer = orjson.loads(body)
        outer, field = token
        stored = answer[outer][field]
        family, credential = stored.get("fam"), stored.get("cred")
        tokens = None
        if isinstance(family, str) and isinstance(credential, str):
            tokens = sessions.resume(int(stored["sub"]), family, credential)
        if tokens is None:
            fail(409, HEADER, SESSION_ENDED)
        answer[outer][field] = tokens.access
        if REFRESH_FIELD in answer[outer]:
            answer[outer][REFRESH_FIELD] = tokens.refresh
        body = orjson.dumps(answer).decode()
    mimetype: str = cast(Any, current_app.json).mimetype
    response = Response(body, status=status, mimetype=mimetype)
    response.headers[REPLAYED] = "true"
    return response


def _without_token(body: str, token: TokenPath | None) -> str:
    if token is None:
        return body
    answer = orjson.loads(body)
    outer, field = token
    claims = decode_token(answer[outer][field])
    answer[outer][field] = {
        "sub": claims["sub"],
        "fam": claims.get(FAMILY_CLAIM),
        "cred": sessions.credential(int(claims["sub"])),
    }
    if REFRESH_FIELD in answer[outer]:
        answer[outer][REFRESH_FIELD] = True  # only that there was one: refresh tokens are secrets
    return orjson.dumps(answer).decode()
