"""Read-your-writes over streaming replicas: the position each safe request must see.

Installed only when DATABASE_REPLICA_URLS names replicas; otherwise nothing here runs.

After a request that committed, the primary's WAL position (asked once, at or past the
commit) is remembered for its user in Redis, for 2 x the lag bound + 2 s: the user of the
token (`g.user`), or the one a login, registration or refresh just issued tokens for. A safe
request presenting a token is routed with that user's position (`Database.route`): to a
replica that has replayed it, else to the primary. The token's signature is checked here
(its subject names the user) without a database read; its revocation is checked by the view
as always. A read-cache fill is also routed with the position of the cache's last
invalidation (api/pipeline/cache.py), so a fill after a write never stores what a replica
read from before it. Without Redis, or Redis not answering, a signed-in user's reads go
to the primary: the position cannot be known, and a stale read is worse than a slow one.

The position after a write reaches Redis before the answer leaves (an `after_request`
hook), so the client's next request is routed by it. An anonymous request that committed
and issued no tokens is not remembered: there is none today (the public writes are
registration, login and refresh, which all do).
"""

from __future__ import annotations

import logging
import math

import redis
from flask import Flask, Response, g, has_request_context, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.context import SAFE_METHODS, database
from api.pipeline.cache import FILL, quick_client
from core.settings import Settings
from db.replicas import PRIMARY_ONLY
from db.session import Database

log = logging.getLogger(__name__)

USER_KEY = "conduit:wal:user:"
# Keeps the larger of the stored and the given position, and renews the expiry.
REMEMBER_SCRIPT = """
local known = redis.call('GET', KEYS[1])
if known and tonumber(known) > tonumber(ARGV[1]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
"""


class Positions:
    """Each user's last write position, in Redis."""

    def __init__(self, url: str | None, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.client = None if url is None else quick_client(url)
        self._remember = (
            None if self.client is None else self.client.register_script(REMEMBER_SCRIPT)
        )

    def of(self, user_id: int) -> int:
        """The user's last write position; 0 when none is remembered; PRIMARY_ONLY unknown."""
        if self.client is None:
            return PRIMARY_ONLY
        try:
            found: bytes | None = self.client.get(f"{USER_KEY}{user_id}")  # type: ignore[assignment]
        except redis.RedisError as error:
            log.warning("read-your-writes: Redis failed, reading from the primary: %s", error)
            return PRIMARY_ONLY
        return int(found) if found else 0

    def remember(self, user_id: int, position: int) -> None:
        if self._remember is None:
            return
        try:
            self._remember(keys=[f"{USER_KEY}{user_id}"], args=[position, self.ttl_seconds])
        except redis.RedisError as error:
            # The write stands; until Redis answers again this user's reads (and everyone
            # else's signed-in reads) go to the primary, as `of` fails too.
            log.error("read-your-writes: could not remember a write's position: %s", error)


def ttl_for(max_lag: float) -> int:
    """Longer than any usable replica can miss a write for (its lag is at most `max_lag`)."""
    return math.ceil(2 * max_lag) + 2


def _committed(_session: Session) -> None:
    if has_request_context():  # not the relay's or a task's sessions
        g.wal_committed = True


def commit_position() -> int | None:
    """The position a write request's reads after it must see; None when it committed nothing.

    Asked of the primary once per request, after its last commit (the view has returned).
    """
    if not g.pop("wal_committed", False):
        known: int | None = g.get("wal_position")
        return known
    try:
        position = database().primary_position()
    except DBAPIError as error:
        log.warning("could not learn a write's WAL position, reads go to the primary: %s", error)
        position = PRIMARY_ONLY
    g.wal_position = position
    return position


def _writer_id() -> int | None:
    user = g.get("user")
    if user is not None:
        return int(user.id)
    started: int | None = g.get("session_user_id")  # set by api/sessions.py's _issue()
    return started


def _token_user(header: str) -> int | None:
    scheme, _, token = header.strip().partition(" ")
    if scheme != "Token" or not token:
        return None
    try:
        return int(decode_token(token.strip())["sub"])
    except (PyJWTError, JWTExtendedException, KeyError, TypeError, ValueError):
        return None  # the view answers it: 401, or served as anonymous (no position)


def register(app: Flask, settings: Settings, db: Database) -> None:
    """Route safe requests by their client's last write; remember each write's position.

    Registered after the read cache (`after_request` hooks run last-registered first), so
    the cache's invalidation finds the position `commit_position` learned.
    """
    if db.replicas is None:
        return
    # gunicorn builds the app in each worker: its first reads find the replicas known.
    db.replicas.watch()
    positions = Positions(settings.redis_url, ttl_for(settings.replica_max_lag_seconds))

    def route() -> None:
        if request.method not in SAFE_METHODS:
            db.route(None)
            return
        position = 0
        header = request.headers.get("Authorization", "")
        if header and (user_id := _token_user(header)) is not None:
            position = positions.of(user_id)
        # A fill: the position of the generation it stores under (the edge's lookup read it).
        position = max(position, request.environ.get(FILL, 0))
        db.route(position or None)

    def remember(response: Response) -> Response:
        if request.method not in SAFE_METHODS:
            position = commit_position()
            user_id = _writer_id()
            if position is not None and user_id is not None:
                positions.remember(user_id, position)
        return response

    event.listen(db.session, "after_commit", _committed)
    app.before_request(route)
    app.after_request(remember)
