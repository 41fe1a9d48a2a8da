"""gunicorn workers that answer in the RealWorld 2.0 error shape what gunicorn answers itself.

gunicorn refuses what it cannot hand to the app (a malformed request line, an overlong URI,
too many or too large headers, an unsupported transfer coding) with an HTML page of its own
(`Worker.handle_error`, then `util.write_error`). These workers write the same refusals as
`{"errors": {"request": ["..."]}}` with the security headers of `api/pipeline/headers.py`, so even
`make serve` without nginx never answers HTML. A sync worker that gunicorn aborts for running
past `timeout` answers the request it was stuck on with a JSON 504 before it dies (a 503 if it
is stopped at once, by SIGINT or SIGQUIT).

They also read what the app left unread of a request body before closing the connection
(within bounds): the app answers a 413 without reading the body, and closing a socket with
unread data resets it, which makes nginx, still sending that body, answer 502 instead of
passing the app's 413 on.

`PROTOCOL_ERRORS` is also what nginx's own error pages are rendered from (`deploy/nginx.py`),
so the front door and gunicorn say the same thing for the same fault.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from ssl import SSLError
from typing import Any

from gunicorn import util  # type: ignore[import-untyped]
from gunicorn.http import errors  # type: ignore[import-untyped]
from gunicorn.http.wsgi import Response, default_environ  # type: ignore[import-untyped]
from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]
from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]

from core.http import SECURITY_HEADERS

# status -> (reason phrase, key, message). Keys by the rule of api/errors.py: `request` for a
# request refused as a whole, `server` for 5xx. 413's message gets the limit appended.
PROTOCOL_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("Bad Request", "request", "is malformed"),
    403: ("Forbidden", "request", "forbidden"),
    404: ("Not Found", "path", "not found"),
    408: ("Request Timeout", "request", "timed out"),
    411: ("Length Required", "request", "must have a Content-Length"),
    413: ("Content Too Large", "request", "is too large"),
    414: ("URI Too Long", "request", "URI is too long"),
    431: ("Request Header Fields Too Large", "request", "header fields are too large"),
    500: ("Internal Server Error", "server", "internal error"),
    501: ("Not Implemented", "server", "does not support this transfer coding"),
    502: ("Bad Gateway", "server", "is temporarily unavailable, try again"),
    503: ("Service Unavailable", "server", "is temporarily unavailable, try again"),
    504: ("Gateway Timeout", "server", "timed out"),
    505: ("HTTP Version Not Supported", "server", "does not support this HTTP version"),
}
RETRY_AFTER = {502: "1", 503: "1"}
CONTENT_TYPE = "application/json; charset=utf-8"  # what the app's JSON provider answers
TIMED_OUT = 504  # what a worker aborted past `timeout` answers
SHUTTING_DOWN = 503  # what a worker stopped at once (SIGINT, SIGQUIT) answers
# Unread body read before closing: up to the app's limit plus this (more than nginx lets
# through past the limit: deploy/nginx.py's BODY_MARGIN), for at most DRAIN_SECONDS.
DRAIN_MARGIN = 128 * 1024
DRAIN_SECONDS = 1.0
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024


def security_headers() -> dict[str, str]:
    """The headers the app puts on every API response (core/http.py)."""
    return dict(SECURITY_HEADERS)


def error_body(status: int, max_content_length: int | None = None) -> bytes:
    _reason, key, message = PROTOCOL_ERRORS[status]
    if status == 413 and max_content_length:
        message = f"{message} (maximum is {max_content_length} bytes)"
    return json.dumps({"errors": {key: [message]}}, separators=(",", ":")).encode()


def error_response(status: int) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection."""
    reason = PROTOCOL_ERRORS[status][0]
    body = error_body(status)
    headers = {
        "Connection": "close",
        "Content-Type": CONTENT_TYPE,
        "Content-Length": str(len(body)),
        **security_headers(),
    }
    if status in RETRY_AFTER:
        headers["Retry-After"] = RETRY_AFTER[status]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"HTTP/1.1 {status} {reason}\r\n{head}\r\n".encode("latin-1") + body


def classify(exc: BaseException) -> int:
    """gunicorn's own mapping (`Worker.handle_error`), made as precise as nginx's.

    414 for an overlong request line and 505 for a well-formed but unsupported HTTP version
    (gunicorn says 400 to both).
    """
    if isinstance(exc, errors.LimitRequestLine):
        return 414
    if isinstance(exc, errors.InvalidHTTPVersion) and isinstance(exc.version, tuple):
        return 505
    if isinstance(exc, errors.LimitRequestHeaders):
        return 431
    if isinstance(exc, errors.UnsupportedTransferCoding):
        return 501
    if isinstance(exc, errors.ConfigurationProblem):
        return 500
    if isinstance(exc, errors.ForbiddenProxyRequest | SSLError):
        return 403
    refused = (
        errors.InvalidRequestLine,
        errors.InvalidRequestMethod,
        errors.InvalidHTTPVersion,
        errors.InvalidHeader,
        errors.InvalidHeaderName,
        errors.InvalidProxyLine,
        errors.InvalidSchemeHeaders,
        errors.ObsoleteFolding,
    )
    return 400 if isinstance(exc, refused) else 500


def _may_have_body(req: Any) -> bool:
    """False when the request declared no body: nothing to drain, and no socket call made."""
    for name, value in getattr(req, "headers", ()):
        if name == "TRANSFER-ENCODING" or (name == "CONTENT-LENGTH" and value.strip() != "0"):
            return True
    return False


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class JsonErrors:
    """Mixed into gunicorn's workers ahead of them: JSON refusals, a 504 on abort."""

    # Set by the worker classes below; declared for the type checker.
    alive: bool
    log: Any
    cfg: Any
    wsgi: WSGIApp
    aborting = False
    stopping = False  # told to stop (SIGTERM), as opposed to leaving after max_requests
    response_started = False
    drain_limit = DEFAULT_MAX_CONTENT_LENGTH + DRAIN_MARGIN

    def load_wsgi(self) -> None:
        """The app, watched: whether it has started its response (read by the abort)."""
        super().load_wsgi()  # type: ignore[misc]
        app = self.application = self.wsgi  # the app itself (`wsgi` becomes the watcher)
        config = getattr(app, "config", None) or {}
        self.drain_limit = (config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_CONTENT_LENGTH) + (
            DRAIN_MARGIN
        )

        def watched(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            def start(status: str, headers: list[Any], exc_info: Any = None) -> Any:
                self.response_started = True
                return start_response(status, headers, exc_info)

            self.response_started = False
            return app(environ, start)

        self.wsgi = watched

    def drain(self, req: Any, sock: Any) -> None:
        """Read the rest of the request body (bounded), so that closing does not reset."""
        body = getattr(req, "body", None)
        if body is None or not _may_have_body(req):
            return
        deadline = time.monotonic() + DRAIN_SECONDS
        left = self.drain_limit
        try:
            sock.settimeout(DRAIN_SECONDS)
            while left > 0 and time.monotonic() < deadline:
                chunk = body.read(min(64 * 1024, left))
                if not chunk:
                    return
                left -= len(chunk)
        except (OSError, ValueError, errors.ParseException):
            return  # the client is gone or sent garbage: closing is all there is to do

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.stopping = True
        super().handle_exit(sig, frame)  # type: ignore[misc]

    def handle_abort(self, sig: int, frame: Any) -> None:
        """gunicorn's master aborts a worker past `timeout`: its handler raises SystemExit."""
        self.aborting = True
        super().handle_abort(sig, frame)  # type: ignore[misc]

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, SystemExit):
            # Raised in the request by the abort (past `timeout`) or by a quick shutdown
            # (SIGINT, SIGQUIT): answer it, unless the app already started to, then die as
            # gunicorn intended.
            if not self.response_started:
                status = TIMED_OUT if self.aborting else SHUTTING_DOWN
                self.log.error("request cut off: answering %s", status)
                self._answer(client, status, req, addr)
            raise exc
        status = classify(exc)
        if status == 500 and not isinstance(exc, errors.ConfigurationProblem):
            uri = getattr(req, "uri", None)
            self.log.exception("Error handling request %s", uri or "(no URI read)")
        else:
            ip = (addr or ("", -1))[0]
            self.log.warning(f"Invalid request from ip={ip}: {exc}")
            header_error = isinstance(exc, errors.InvalidHeader | errors.InvalidHeaderName)
            if not req and header_error and hasattr(exc, "req"):
                req = exc.req  # the request so far, for the access log, as gunicorn does
        self._answer(client, status, req, addr)

    def _answer(self, client: Any, status: int, req: Any, addr: Any) -> None:
        answer = error_response(status)
        try:
            self._access_log(client, status, req, addr, len(answer))
        except Exception:  # a log line must never cost the answer (or the worker)
            self.log.debug("Failed to log the error response.", exc_info=sys.exc_info())
        try:
            util.write_nonblock(client, answer)
        except Exception:  # the client may be gone; gunicorn ignores this too
            self.log.debug("Failed to send error message.", exc_info=sys.exc_info())

    def _access_log(self, client: Any, status: int, req: Any, addr: Any, length: int) -> None:
        """One access log line, as gunicorn writes for its own pages."""
        if req is None or not hasattr(req, "body"):
            return
        started = datetime.now()
        addr = addr or ("", -1)
        environ = default_environ(req, client, self.cfg)
        environ["REMOTE_ADDR"] = addr[0]
        environ["REMOTE_PORT"] = str(addr[1])
        resp = Response(req, client, self.cfg)
        resp.status = f"{status} {PROTOCOL_ERRORS[status][0]}"
        resp.response_length = length
        self.log.access(resp, req, environ, datetime.now() - started)


class JsonSyncWorker(JsonErrors, SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker (one request at a time), answering errors as JSON."""

    def handle_request(self, listener: Any, req: Any, client: Any, addr: Any) -> None:
        super().handle_request(listener, req, client, addr)
        self.drain(req, client)  # the connection is closed next, always


class JsonThreadWorker(JsonErrors, ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, answering errors as JSON.

    Its main thread never waits on a request, so gunicorn's `timeout` does not cut requests
    off here (a hung one is cut by nginx's `proxy_read_timeout`, with a JSON 504).
    """

    def handle_request(self, req: Any, conn: Any) -> bool:
        keepalive: bool = super().handle_request(req, conn)
        if not keepalive:  # kept alive, gunicorn's parser reads the rest before the next one
            self.drain(req, conn.sock)
        return keepalive
