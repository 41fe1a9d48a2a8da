"""The read cache: anonymous article, comment and tag reads answered from Redis.

One Redis serves every worker and replica; without REDIS_URL (or with READ_CACHE=false) the
cache is off and nothing here runs. Only requests without an `Authorization` header are
cached: what a viewer sees (favorited, following) is never shared.

Freshness. Every entry carries the generation it was filled under, a counter in Redis read
before the fill's own read, and is served only while that generation is current. A request
that committed anything bumps it after its commit and before its answer leaves
(`after_request`), so by the time a client holds the answer to its write, the only entries
served are those filled by reads that began after the commit. Bumping before the commit would
let a reader that read just before it fill the new generation with the old data. Entries of
older generations are never served again; the TTL reclaims them (and bounds a failed bump:
an entry is served at most `READ_CACHE_TTL_SECONDS` after its fill, from Redis or a worker).

A hit costs one round trip. A worker keeps the entries it has read or filled (up to
`LOCAL_BYTES`), so for those one MGET reads only the generation and the invalidation's WAL
position, a few bytes; for others the same MGET reads the entry too. An entry kept here
whose generation has moved on is read again from Redis (a second round trip, once per
write) before the request falls through to the database. A miss adds the SET of the answer.
Hits are answered by the edge (api/pipeline/cache_edge.py) before Flask dispatches anything;
the entry holds the answer's headers (its ETag among them), so a hit answers `If-None-Match`
with the same 304 and never hashes the body again.

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
# The lookup when the generation is missing or a bump is owed (a plain MGET otherwise).
# KEYS: generation, position, entry. ARGV: '1' to pay an owed bump first.
# Returns {generation, the last invalidation's WAL position ('0' if none), entry}.
LOOKUP_SCRIPT = (
    _GENERATION
    + """
if ARGV[1] == '1' then
  redis.call('INCR', KEYS[1])
  generation = redis.call('GET', KEYS[1])
end
return {generation, redis.call('GET', KEYS[2]) or '0', redis.call('GET', KEYS[3])}
"""
)
# Entries a worker keeps, in bytes of their bodies; past it they are all let go.
LOCAL_BYTES = 32 * 1024 * 1024
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

    def encode(self, generation: bytes, expires: float) -> bytes:
        """As stored: the generation it was filled under, when it expires (Unix time), the
        endpoint and headers as JSON, then the body. JSON escapes every newline inside its
        strings: the second newline ends the head."""
        head = orjson.dumps([generation.decode(), expires, self.endpoint, self.headers])
        return head + b"\n" + self.body

    @classmethod
    def decode(cls, raw: bytes) -> Stamped:
        head, body = raw.split(b"\n", 1)
        generation, expires, endpoint, headers = orjson.loads(head)
        if not isinstance(endpoint, str) or not isinstance(headers, list):
            raise ValueError("not a read cache entry")
        entry = cls(body, [(str(k), str(v)) for k, v in headers], endpoint)
        return Stamped(str(generation).encode(), float(expires), entry)

    @property
    def etag(self) -> str | None:
        """The ETag, unquoted, as `is_resource_modified` compares it; None when there is none."""
        for key, value in self.headers:
            if key.lower() == "etag":
                return unquote_etag(value)[0]
        return None


@dataclass(frozen=True, slots=True)
class Stamped:
    """An entry with the generation it was filled under and when it expires (Unix time)."""

    generation: bytes
    expires: float
    entry: Entry

    def serves(self, generation: bytes, now: float) -> bool:
        return self.generation == generation and now < self.expires


def quick_client(url: str) -> redis.Redis:
    """A Redis client for a request's path: short timeouts and no retries inside redis-py,
    since the database is the fallback and waiting is the cost."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


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
        self.client = quick_client(url)
        self.ttl_seconds = ttl_seconds
        # Another API version answers otherwise: its entries are apart (a rolling deploy).
        self.prefix = f"{ENTRY_PREFIX}{version}:"
        self.break_seconds = break_seconds
        self._link = _Link()
        self._lookup = self.client.register_script(LOOKUP_SCRIPT)
        self._bump = self.client.register_script(BUMP_SCRIPT)
        # The lookups as sent on the wire (RESP), encoded once: only the entry key varies.
        self._mget_head = b"".join(_bulk(key) for key in (GENERATION_KEY, POSITION_KEY))
        self._mget_stamp = b"*3\r\n" + _bulk("MGET") + self._mget_head
        # The entries this worker has read or filled, by digest, and their bodies' bytes.
        self.local: dict[str, Stamped] = {}
        self.local_bytes = 0
        self._local_lock = threading.Lock()  # gthread workers fill from several threads
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

    def _mget(self, entry_key: str | None) -> bytes:
        """MGET of the generation, the position and (unless kept here) the entry, packed."""
        if entry_key is None:
            return self._mget_stamp
        return b"*4\r\n" + _bulk("MGET") + self._mget_head + _bulk(entry_key)

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

    def _run(self, script: Script, keys: list[str], args: list[str]) -> Any:
        """EVALSHA; the script is loaded when Redis lacks it (new or emptied)."""
        try:
            return self._execute("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            return script(keys=keys, args=args)

    def lookup(self, digest: str) -> tuple[bytes, Entry | None, int] | None:
        """(generation, the entry or None, the WAL position of the last invalidation), or None
        when Redis is not to be asked now.

        The position (with replicas; 0 without) is read with the generation, and the bump
        sets it before it moves the generation: a fill stored under this generation must be
        read at or past it (api/pipeline/replicas.py)."""
        if not self.available():
            return None
        key = self.prefix + digest
        kept = self.local.get(digest)
        try:
            if self.owed:  # pay the bump before reading anything
                found = self._call(lambda: self._run(self._lookup, self._keys(key), ["1"]))
            else:
                found = self._call(lambda: self._execute(self._mget(None if kept else key)))
                if found[0] is None:  # a new or emptied Redis: the script starts a generation
                    found = self._call(lambda: self._run(self._lookup, self._keys(key), ["0"]))
            self.owed = False
            generation, position = found[0], int(found[1] or 0)
            now = time.time()
            if kept is not None:
                if kept.serves(generation, now):
                    return generation, kept.entry, position
                self._forget(digest)
                if len(found) < 3:  # the MGET read the stamp alone; the script read the entry
                    found = [generation, position, self._call(lambda: self._execute("GET", key))]
        except redis.RedisError as error:
            self._broke(error)
            return None
        raw = found[2] if len(found) > 2 else None
        if not raw:
            return generation, None, position
        try:
            stamped = Entry.decode(raw)
        except (ValueError, TypeError, orjson.JSONDecodeError):  # not ours: from the database
            return generation, None, position
        if not stamped.serves(generation, now):
            return generation, None, position
        self._keep(digest, stamped)
        return generation, stamped.entry, position

    @staticmethod
    def _keys(entry_key: str) -> list[str]:
        return [GENERATION_KEY, POSITION_KEY, entry_key]

    def _keep(self, digest: str, stamped: Stamped) -> None:
        size = len(stamped.entry.body)
        with self._local_lock:
            if self.local_bytes + size > LOCAL_BYTES:
                self.local.clear()
                self.local_bytes = 0
            self._drop(digest)
            self.local[digest] = stamped
            self.local_bytes += size

    def _forget(self, digest: str) -> None:
        with self._local_lock:
            self._drop(digest)

    def _drop(self, digest: str) -> None:
        gone = self.local.pop(digest, None)
        if gone is not None:
            self.local_bytes -= len(gone.entry.body)

    def store(self, generation: bytes, digest: str, entry: Entry) -> None:
        expires = time.time() + self.ttl_seconds
        value = entry.encode(generation, expires)
        command = ("SET", self.prefix + digest, value, "EX", self.ttl_seconds)
        try:
            self._call(lambda: self._execute(*command))
        except redis.RedisError as error:
            self._broke(error)
        else:
            self._keep(digest, Stamped(generation, expires, entry))

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
