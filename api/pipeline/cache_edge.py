"""The read cache's edge: anonymous reads answered from Redis before Flask dispatches them.

A WSGI middleware around the Flask app, installed only when the read cache is on. A hit
never reaches Flask: no routing, no request context, no hooks. What every answer must still
carry is done here, with the same helpers the hooks use: the request id, the rate-limit
budget, the metrics and the access line. Everything else a hit sends was stored with it: the
entry holds the headers the app's whole stack sent on the miss (security headers, CORS for
that `Origin`, the ETag), so a hit is the uncached answer byte for byte (tests assert it).

A miss goes to the app with the generation and digest it read; when the view is a cached one
(`api.pipeline.cache.cached` names its URL rule in the environ) and the answer is a 200 without a
cookie, the edge stores what the client is sent. A 304 to the filling request stores nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.http import remove_entity_headers

from api.context import runtime_of, web_app
from api.pipeline import observability
from api.pipeline.cache import (
    CACHEABLE,
    CACHEABLE_METHODS,
    FILL,
    LOOKUPS,
    Entry,
    ReadCache,
    request_digest,
)
from api.pipeline.headers import not_modified
from api.pipeline.ratelimit import COUNTED_AND_REFUSED, spent
from core.settings import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# The cached views live under these; anything else anonymous goes straight to the app.
PREFIXES = ("/api/articles", "/api/tags")
# Per request, so never stored: the request id (the hit makes its own).
NOT_STORED = frozenset({observability.REQUEST_ID_HEADER.lower()})
REQUEST_ID_KEY = "HTTP_" + observability.REQUEST_ID_HEADER.upper().replace("-", "_")
OK, NOT_MODIFIED = "200 OK", "304 NOT MODIFIED"
# Digests remembered per worker, by (path, query, origin): the few lists and articles that
# most reads ask for are parsed and hashed once. Bounded, and only for short queries.
DIGESTS_KEPT = 4096
DIGEST_QUERY_MAX = 256


class CacheEdge:
    def __init__(self, app: Flask, wsgi_app: WSGIApplication, cache: ReadCache) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.cache = cache
        self.settings: Settings = runtime_of(app).settings
        self.digests: dict[tuple[str, str, str], str] = {}
        # The lookup counters' series, made with the app (in the worker, after the fork).
        self.hits, self.misses, self.unavailable = (
            LOOKUPS.labels(result) for result in ("hit", "miss", "unavailable")
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if (
            method not in CACHEABLE_METHODS
            or "HTTP_AUTHORIZATION" in environ
            or not environ.get("PATH_INFO", "").startswith(PREFIXES)
        ):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        found = self.cache.lookup(self._digest(environ))
        if found is None:
            self.unavailable.inc()
            return self.wsgi_app(environ, start_response)
        generation, entry, position = found
        if entry is not None:
            self.hits.inc()
            return self._hit(environ, start_response, entry, started)
        self.misses.inc()
        if method != "GET":  # a HEAD answer has no body to store
            return self.wsgi_app(environ, start_response)
        return self._fill(environ, start_response, generation, self._digest(environ), position)

    def _digest(self, environ: WSGIEnvironment) -> str:
        """`request_digest`, remembered for short queries."""
        query = environ.get("QUERY_STRING", "")
        key = (environ.get("PATH_INFO", ""), query, environ.get("HTTP_ORIGIN", ""))
        digest = self.digests.get(key)
        if digest is None:
            digest = request_digest(environ)
            if len(query) <= DIGEST_QUERY_MAX and len(key[0]) <= DIGEST_QUERY_MAX:
                if len(self.digests) >= DIGESTS_KEPT:
                    self.digests.clear()
                self.digests[key] = digest
        return digest

    def _fill(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        generation: bytes,
        digest: str,
        position: int,
    ) -> Iterable[bytes]:
        environ[FILL] = position  # replicas: read at or past the last invalidation
        sent: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        answer = self.wsgi_app(environ, capture)
        endpoint = environ.get(CACHEABLE)
        if endpoint is None or not sent or sent[0] != OK:
            return answer
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        headers = [(k, v) for k, v in sent[1] if k.lower() not in NOT_STORED]
        if not any(k.lower() == "set-cookie" for k, _ in headers):
            self.cache.store(generation, digest, Entry(body, headers, endpoint))
        return [body]

    def _hit(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        entry: Entry,
        started: float,
    ) -> Iterable[bytes]:
        if self.settings.rate_limit_enabled:
            retry_after = self._budget(environ)
            if retry_after is not None:  # the app answers the 429, without counting again
                environ[COUNTED_AND_REFUSED] = retry_after
                return self.wsgi_app(environ, start_response)
        request_id = observability.request_id_for(environ.get(REQUEST_ID_KEY, ""))
        status, headers, body = OK, entry.headers, entry.body
        if not_modified(environ, entry.etag):
            status, headers, body = NOT_MODIFIED, list(headers), b""
            remove_entity_headers(headers)  # as werkzeug sends a 304
        start_response(status, [*headers, (observability.REQUEST_ID_HEADER, request_id)])
        path = environ.get("PATH_INFO", "")
        observability.record(
            environ["REQUEST_METHOD"],
            entry.endpoint,
            path.encode("latin-1").decode("utf-8", "replace"),
            int(status[:3]),
            time.perf_counter() - started,
            request_id,
            environ.get("REMOTE_ADDR"),
            access_log=self.settings.access_log,
        )
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def _budget(self, environ: WSGIEnvironment) -> int | None:
        """Count the hit against the default budget, as every request is (api/pipeline/ratelimit.py)."""
        return spent(
            web_app(self.app).budget,
            self.settings.rate_limit_default,
            environ.get("REMOTE_ADDR"),
            "default",
        )
