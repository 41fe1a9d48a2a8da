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
SET of the answer. Hits are answered by the edge (api/pipeline/cache_edge.py) before Flask dispatches
anything; the entry holds the answer's headers (its ETag among them), so a hit answers
`If-None-Match` with the same 304 and never hashes the body again.

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
round trip per hit, the ETag would be hashed again, a hit would still pay Flask's whole
dispatch, and a dead Redis would be asked (and wait its timeout) on every request: there is
no breaker to keep it off the path.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import parse_qsl, urlencode

import orjson
import redis
import werkzeug.urls  # noqa: F401  (registers the `werkzeug.url_quote` codec error handler)
from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import Counter
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.connection import ConnectionInterface
from redis.exceptions import NoScriptError
from redis.retry import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.http import unquote_etag

from core import process
from core.settings import Settings
from db.session import Database

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

GENERATION_KEY = "conduit:cache:generation"
# With replicas: the WAL position of the last invalidating write (api/pipeline/replicas.py).
POSITION_KEY = "conduit:cache:position"
ENTRY_PREFIX = "conduit:cache:entry:"
CONNECT_TIMEOUT = 0.05
SOCKET_TIMEOUT = 0.1
BREAK_SECONDS = 5.0
CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
# WSGI environ keys: the edge marks a miss it will fill (with the position the fill must read
# at or past); a cacheable view names its URL rule.
FILL = "conduit.read_cache.fill"
CACHEABLE = "conduit.read_cache.endpoint"

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
# KEYS: generation, position. ARGV: entry prefix, request digest, '1' to pay an owed bump
# first. Returns {generation, the last invalidation's WAL position ('0' if none), entry}.
LOOKUP_SCRIPT = (
    _GENERATION
    + """
if ARGV[3] == '1' then
  redis.call('INCR', KEYS[1])
  generation = redis.call('GET', KEYS[1])
end
local position = redis.call('GET', KEYS[2]) or '0'
return {generation, position, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
"""
)
# KEYS: generation, position; ARGV: the write's WAL position ('' without replicas), kept as the
# larger of it and the stored one before the new generation shows (fills read at or past it).
BUMP_SCRIPT = (
    _GENERATION
    + """
if ARGV[1] and ARGV[1] ~= '' then
  local known = redis.call('GET', KEYS[2])
  if not known or tonumber(known) < tonumber(ARGV[1]) then
    redis.call('SET', KEYS[2], ARGV[1])
  end
end
return redis.call('INCR', KEYS[1])
"""
)

Health = Literal["off", "ok", "degraded"]


def _bulk(part: str) -> bytes:
    """One RESP bulk string."""
    data = part.encode()
    return b"$%d\r\n%b\r\n" % (len(data), data)


class _Link(threading.local):
    """A thread's own connection to Redis, and the process that opened it."""

    pid = 0
    connection: ConnectionInterface | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached 200 as it left the app: its body, its headers but the request id, and the URL
    rule that answered it (the metrics' endpoint label)."""

    body: bytes
    headers: list[tuple[str, str]]
    endpoint: str

    def encode(self) -> bytes:
        # JSON escapes every newline inside its strings: the first one ends the head.
        return orjson.dumps([self.endpoint, self.headers]) + b"\n" + self.body

    @classmethod
    def decode(cls, raw: bytes) -> Entry:
        head, body = raw.split(b"\n", 1)
        endpoint, headers = orjson.loads(head)
        if not isinstance(endpoint, str) or not isinstance(headers, list):
            raise ValueError("not a read cache entry")
        return cls(body, [(str(k), str(v)) for k, v in headers], endpoint)

    @property
    def etag(self) -> str | None:
        """The ETag, unquoted, as `is_resource_modified` compares it; None when there is none."""
        for key, value in self.headers:
            if key.lower() == "etag":
                return unquote_etag(value)[0]
        return None


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
        self._link = _Link()
        self._lookup = self.client.register_script(LOOKUP_SCRIPT)
        self._bump = self.client.register_script(BUMP_SCRIPT)
        self._lookup_head: bytes | None = None
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

    def _lookup_command(self, digest: str, owed: str) -> bytes:
        """The lookup's EVALSHA as sent on the wire (RESP): all but the digest and the owed
        flag are the same on every call, so they are encoded once per cache."""
        head = self._lookup_head
        if head is None:
            fixed = ["EVALSHA", self._lookup.sha, "2", GENERATION_KEY, POSITION_KEY, self.prefix]
            head = self._lookup_head = b"*8\r\n" + b"".join(_bulk(part) for part in fixed)
        return head + _bulk(digest) + _bulk(owed)

    def _execute(self, *command: Any) -> Any:
        """`command` on this thread's own connection, sent and read directly.

        A hit's one round trip, without redis-py's pool, retry and instrumentation layers
        (a fifth of a hit's time in a profile). A connection inherited across a fork is
        left to the parent; a failed one is dropped, and the next command reconnects.
        """
        link = self._link
        connection = link.connection
        if connection is None or link.pid != process.pid():
            connection = self.client.connection_pool.make_connection()
            link.connection, link.pid = connection, process.pid()
        try:
            if len(command) == 1 and isinstance(command[0], bytes):  # packed already
                connection.send_packed_command([command[0]])  # type: ignore[no-untyped-call]
            else:
                connection.send_command(*command)  # type: ignore[no-untyped-call]
            return connection.read_response()  # type: ignore[no-untyped-call]
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            connection.disconnect()  # type: ignore[no-untyped-call]
            raise

    def _lookup_packed(self, digest: str, owed: str) -> Any:
        try:
            return self._execute(self._lookup_command(digest, owed))
        except NoScriptError:
            return self._lookup(
                keys=[GENERATION_KEY, POSITION_KEY], args=[self.prefix, digest, owed]
            )

    def _run(self, script: Script, keys: list[str], args: list[str]) -> Any:
        """EVALSHA; the script is loaded when Redis lacks it (new or emptied)."""
        try:
            return self._execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return script(keys=keys, args=args)

    def lookup(self, digest: str) -> tuple[bytes, Entry | None, int] | None:
        """(generation, the entry or None, the WAL position of the last invalidation), or None
        when Redis is not to be asked now.

        The position (with replicas; 0 without) is read in the same script as the generation,
        and the bump sets it before it moves the generation: a fill stored under this
        generation must be read at or past it (api/pipeline/replicas.py)."""
        if not self.available():
            return None
        owed = "1" if self.owed else "0"
        try:
            found = self._call(lambda: self._lookup_packed(digest, owed))
        except redis.RedisError as error:
            self._broke(error)
            return None
        self.owed = False
        generation, position = found[0], int(found[1])
        raw = found[2] if len(found) > 2 else None
        try:
            return generation, Entry.decode(raw) if raw else None, position
        except (ValueError, orjson.JSONDecodeError):  # not ours: answer from the database
            return generation, None, position

    def store(self, generation: bytes, digest: str, entry: Entry) -> None:
        key = f"{self.prefix}{generation.decode()}:{digest}"
        try:
            self._call(lambda: self._execute("SET", key, entry.encode(), "EX", self.ttl_seconds))
        except redis.RedisError as error:
            self._broke(error)

    def bump(self, position: int | None = None) -> bool:
        """Make every entry unreachable; False when Redis could not be told (then owed).

        `position`: the write's WAL position, with replicas (`lookup` returns it)."""
        keys, args = [GENERATION_KEY, POSITION_KEY], ["" if position is None else str(position)]
        if self.available():
            try:
                self._call(lambda: self._run(self._bump, keys, args))
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


def request_digest(environ: WSGIEnvironment) -> str:
    """The path, the query as the view reads it (parameters sorted by name) and the `Origin`.

    The query is decoded exactly as werkzeug decodes `request.args` (invalid bytes stay
    percent-encoded), so two queries share an entry only when the view reads the same
    arguments from both. The sort is stable, so repeated values of one name keep their order
    (the view reads the first). The origin is part of the key because the CORS headers stored
    with the answer are those for that origin.
    """
    raw = environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "surrogateescape")
    arguments = parse_qsl(raw, keep_blank_values=True, errors="werkzeug.url_quote")
    query = urlencode(sorted(arguments, key=itemgetter(0)))
    material = "\n".join((environ.get("PATH_INFO", ""), query, environ.get("HTTP_ORIGIN", "")))
    return hashlib.blake2b(material.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _cache() -> ReadCache | None:
    return cast("ReadCache | None", getattr(current_app, "read_cache", None))


def health() -> Health:
    """`off` (not configured), `ok`, or `degraded` (configured but Redis is not answering)."""
    cache = _cache()
    return "off" if cache is None else cache.health()


def cached(view: F) -> F:
    """Let the edge (api/pipeline/cache_edge.py) store this view's anonymous 200s; hits never get here.

    The edge looks the request up before Flask dispatches it and marks a miss it will fill;
    the view says it is cacheable by naming its URL rule there.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if FILL in request.environ and request.url_rule is not None:
            request.environ[CACHEABLE] = request.url_rule.rule
        return view(*args, **kwargs)

    return cast(F, wrapper)


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
            cache.bump(g.get("wal_position"))  # api/pipeline/replicas.py learned it
    return response


def register(app: Flask, settings: Settings, database: Database) -> ReadCache | None:
    """The read cache, invalidated by every committed write; None when it is off.

    The caller puts its edge (api/pipeline/cache_edge.py) in front of the app.
    """
    if not (settings.redis_url and settings.read_cache):
        return None
    read_cache = ReadCache(
        settings.redis_url, settings.read_cache_ttl_seconds, version=app.config["API_VERSION"]
    )
    # The writer's sessions only (those of one_transaction included): reads never commit.
    event.listen(database.session, "after_commit", _committed)
    app.after_request(_invalidate)
    return read_cache
