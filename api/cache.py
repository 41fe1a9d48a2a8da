"""The read cache: anonymous article, comment and tag reads answered from Redis.

One Redis serves every worker and replica; without REDIS_URL (or with READ_CACHE=false) the
cache is off and nothing here runs. Only requests without an `Authorization` header are
cached: what a viewer sees (favorited, following) is never shared.

Freshness. Every entry's key holds the generation, a counter in Redis. A request that
committed anything bumps it after its commit and before its answer leaves (`after_request`),
so by the time a client holds the answer to its write, readers look under a generation whose
entries were all filled by reads that began after the commit. Bumping before the commit would
let a reader that read just before it fill the new generation with the old data. Entries of
older generations are never read again; the TTL only reclaims them (and bounds a failed bump).

A hit costs one round trip: one script reads the generation and the entry. A miss adds the
SET of the answer. The ETag is stored beside the body, so a hit answers `If-None-Match` with
the same 304 and never hashes the body again.

Redis unreachable or slow (timeouts of 50 ms to connect, 100 ms to answer): the read is served
from the database, and a breaker keeps this worker off Redis for `break_seconds`, so a dead
Redis costs nothing per request. `/api/ready` says `degraded` meanwhile.

A failed bump (Redis lost between a write's commit and its answer): the write stands and is
answered (it is committed; an error would invite a retry that writes twice). The worker owes
the bump and pays it inside its next Redis call, before it reads anything. Until then another
worker that still reaches Redis may serve what was cached before the write: for at most the
TTL (`READ_CACHE_TTL_SECONDS`, 60 s), the bound we accept for a partial Redis failure.

redis-py directly (already here for the rate limits), not Flask-Caching: its `cached` keys a
view by path and memoizes its return value, so a generation in the key would cost a second
round trip per hit, the ETag would be hashed again, and a dead Redis would be asked (and
wait its timeout) on every request: there is no breaker to keep it off the path.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlencode

import redis
from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import Counter
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.settings import Settings
from db.session import Database

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

GENERATION_KEY = "conduit:cache:generation"
ENTRY_PREFIX = "conduit:cache:entry:"
CONNECT_TIMEOUT = 0.05
SOCKET_TIMEOUT = 0.1
BREAK_SECONDS = 5.0
CACHEABLE_METHODS = frozenset({"GET", "HEAD"})

LOOKUPS = Counter("conduit_read_cache_lookups_total", "Read cache lookups", ["result"])

# A missing generation (a new or emptied Redis) starts at the server clock in microseconds:
# above any generation read before the loss, so a fill begun then can never become reachable.
_GENERATION = """
local generation = redis.call('GET', KEYS[1])
if not generation then
  local now = redis.call('TIME')
  generation = now[1] .. string.format('%06d', tonumber(now[2]))
  redis.call('SET', KEYS[1], generation)
end
"""
# ARGV: entry prefix, request digest, '1' to pay an owed bump first. Returns {generation, entry}.
LOOKUP_SCRIPT = (
    _GENERATION
    + """
if ARGV[3] == '1' then
  redis.call('INCR', KEYS[1])
  generation = redis.call('GET', KEYS[1])
end
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
"""
)
BUMP_SCRIPT = _GENERATION + "\nreturn redis.call('INCR', KEYS[1])\n"

Health = Literal["off", "ok", "degraded"]


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached 200: its body, its ETag (None where the view sends none) and content type."""

    body: bytes
    etag: str | None
    content_type: str

    def encode(self) -> bytes:
        return f"{self.etag or ''}\n{self.content_type}\n".encode() + self.body

    @classmethod
    def decode(cls, raw: bytes) -> Entry:
        etag, content_type, body = raw.split(b"\n", 2)
        return cls(body, etag.decode() or None, content_type.decode())

    @classmethod
    def of(cls, response: Response) -> Entry:
        return cls(response.get_data(), response.get_etag()[0], response.content_type or "")

    def response(self) -> Response:
        """The answer the view gave, made conditional as `Blueprint.conditional` makes it."""
        response = current_app.response_class(self.body, content_type=self.content_type)
        if self.etag is not None:
            response.set_etag(self.etag)
            response.make_conditional(request)
        return response


class ReadCache:
    """This worker's view of the shared cache: the Redis client, the breaker, an owed bump."""

    def __init__(
        self,
        url: str,
        ttl_seconds: int,
        *,
        version: str = "",
        break_seconds: float = BREAK_SECONDS,
    ) -> None:
        # No retries inside redis-py: the database is the fallback, and waiting is the cost.
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self.ttl_seconds = ttl_seconds
        # Another API version answers otherwise: its entries are apart (a rolling deploy).
        self.prefix = f"{ENTRY_PREFIX}{version}:"
        self.break_seconds = break_seconds
        self._lookup = self.client.register_script(LOOKUP_SCRIPT)
        self._bump = self.client.register_script(BUMP_SCRIPT)
        self.broken_until = 0.0
        self.owed = False

    def available(self) -> bool:
        return time.monotonic() >= self.broken_until

    def _broke(self, error: redis.RedisError) -> None:
        if self.available():
            log.warning("read cache off for %ss: Redis failed: %s", self.break_seconds, error)
        self.broken_until = time.monotonic() + self.break_seconds

    def _call(self, command: Callable[[], Any]) -> Any:
        """`command`, once more on a new connection if the pooled one was closed (a Redis
        restart); a timeout is not retried: Redis is slow or hung, and waiting is the cost."""
        try:
            return command()
        except redis.TimeoutError:
            raise
        except redis.ConnectionError:
            return command()

    def lookup(self, digest: str) -> tuple[bytes, Entry | None] | None:
        """(generation, the entry or None), or None when Redis is not to be asked now."""
        if not self.available():
            return None
        owed = "1" if self.owed else "0"
        try:
            found = self._call(
                lambda: self._lookup(keys=[GENERATION_KEY], args=[self.prefix, digest, owed])
            )
        except redis.RedisError as error:
            self._broke(error)
            return None
        self.owed = False
        generation, raw = found[0], found[1] if len(found) > 1 else None
        try:
            return generation, Entry.decode(raw) if raw else None
        except ValueError:  # not one of ours: answer from the database, and overwrite it
            return generation, None

    def store(self, generation: bytes, digest: str, entry: Entry) -> None:
        key = f"{self.prefix}{generation.decode()}:{digest}"
        try:
            self._call(lambda: self.client.set(key, entry.encode(), ex=self.ttl_seconds))
        except redis.RedisError as error:
            self._broke(error)

    def bump(self) -> bool:
        """Make every entry unreachable; False when Redis could not be told (then owed)."""
        if self.available():
            try:
                self._call(lambda: self._bump(keys=[GENERATION_KEY]))
            except redis.RedisError as error:
                self._broke(error)
            else:
                self.owed = False
                return True
        self.owed = True
        log.error("read cache: a committed write could not invalidate it; owed until Redis answers")
        return False

    def health(self) -> Health:
        if not self.available():
            return "degraded"
        try:
            self.client.ping()
        except redis.RedisError as error:
            self._broke(error)
            return "degraded"
        return "ok"


def request_digest() -> str:
    """The path and the query as the view reads them: decoded, parameters sorted by name.

    The sort is stable, so repeated values of one name keep their order (the view reads the
    first); two spellings of the same arguments share an entry.
    """
    query = urlencode(sorted(request.args.items(multi=True), key=itemgetter(0)))
    material = f"{request.path}?{query}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(material, digest_size=16).hexdigest()


def _cache() -> ReadCache | None:
    return cast("ReadCache | None", current_app.extensions.get("conduit_read_cache"))


def health() -> Health:
    """`off` (not configured), `ok`, or `degraded` (configured but Redis is not answering)."""
    cache = _cache()
    return "off" if cache is None else cache.health()


def cached(view: F) -> F:
    """Answer anonymous GETs of `view` from the cache; fill it on a miss."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache = _cache()
        if (
            cache is None
            or request.method not in CACHEABLE_METHODS
            or "Authorization" in request.headers
        ):
            return view(*args, **kwargs)
        digest = request_digest()
        found = cache.lookup(digest)
        if found is None:
            LOOKUPS.labels("unavailable").inc()
            return view(*args, **kwargs)
        generation, entry = found
        if entry is not None:
            LOOKUPS.labels("hit").inc()
            return entry.response()
        LOOKUPS.labels("miss").inc()
        g.read_cache_fill = (generation, digest)
        response = current_app.make_response(view(*args, **kwargs))
        offer(response)  # views without conditional GET offer their answer here
        return response

    return cast(F, wrapper)


def offer(response: Response) -> None:
    """Store this complete 200 if the request is filling the cache (at most once)."""
    fill: tuple[bytes, str] | None = g.pop("read_cache_fill", None)
    cache = _cache()
    if fill is None or cache is None or response.status_code != 200:
        return
    cache.store(*fill, Entry.of(response))


def neutral(view: F) -> F:
    """`view` commits only what no cached read shows (sessions, tokens): no invalidation."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.read_cache_neutral = True
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _committed(_session: Session) -> None:
    if has_request_context():
        g.read_cache_stale = True


def _invalidate(response: Response) -> Response:
    # After the view: its commits are done (an idempotent create commits its outer
    # transaction last, inside the view), and the answer has not left yet.
    if g.pop("read_cache_stale", False) and not g.get("read_cache_neutral"):
        cache = _cache()
        if cache is not None:
            cache.bump()
    return response


def register(app: Flask, settings: Settings, database: Database) -> None:
    if not (settings.redis_url and settings.read_cache):
        app.extensions["conduit_read_cache"] = None
        return
    app.extensions["conduit_read_cache"] = ReadCache(
        settings.redis_url, settings.read_cache_ttl_seconds, version=app.config["API_VERSION"]
    )
    # The writer's sessions only (those of one_transaction included): reads never commit.
    event.listen(database.session, "after_commit", _committed)
    app.after_request(_invalidate)
