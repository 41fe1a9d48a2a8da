"""HTTP against a live server: one fresh connection per request, raw bytes in and out."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PASSWORD = "ops password 123"
TRACEBACK_MARKERS = (b"Traceback", b'File "')
# A 1.x error line, "<field>: <message>" (e.g. "user.email: is invalid").
OLD_STYLE_LINE = re.compile(r"^[A-Za-z_][\w.\[\]]*: ")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body)

    def errors(self) -> dict[str, list[str]] | None:
        """The RealWorld 2.0 `{"errors": {key: [message, ...]}}` of this reply, else None."""
        try:
            body = self.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or set(body) != {"errors"}:
            return None
        errors = body["errors"]
        if not isinstance(errors, dict) or not errors:
            return None
        for key, messages in errors.items():
            if not key or not isinstance(messages, list) or not messages:
                return None
            if not all(isinstance(m, str) and m for m in messages):
                return None
            # `body` is a legitimate key only as the article/comment field; the 1.x catch-all
            # `{"body": ["title: can't be blank"]}` named the field inside the message instead.
            if key == "body" and any(OLD_STYLE_LINE.match(m) for m in messages):
                return None
        return errors

    def is_error_shape(self) -> bool:
        return self.errors() is not None


def call(
    base_url: str,
    method: str,
    path: str,
    *,
    json_body: Any = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> Reply:
    """One request on its own connection (so gunicorn may hand it to any worker)."""
    conn = connection(base_url, timeout)
    return send(conn, method, path, json_body=json_body, body=body, headers=headers, token=token)


def connection(base_url: str, timeout: float = 30) -> http.client.HTTPConnection:
    """A connection to `base_url`, not opened yet."""
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)


@contextlib.contextmanager
def parked(base_url: str) -> Iterator[http.client.HTTPConnection]:
    """An open connection with no request on it yet, for `send`.

    A gunicorn sync worker that accepts it waits for its request and takes no other, so every
    request made meanwhile is answered by another worker, and the one later sent on it by this
    one. (The listener's queue is first in, first out: it is accepted before anything made
    after it.)
    """
    conn = connection(base_url)
    conn.connect()
    try:
        yield conn
    finally:
        conn.close()


def send(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    *,
    json_body: Any = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = None,
) -> Reply:
    """One request on `conn`, which is closed after it."""
    all_headers = {"Connection": "close", **(headers or {})}
    if json_body is not None:
        body = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    if token is not None:
        all_headers["Authorization"] = f"Token {token}"
    started = time.monotonic()
    try:
        # The server may answer (413) and close before reading a body it refuses; its answer
        # is still there to read, as curl would.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            time.monotonic() - started,
        )
    finally:
        conn.close()


def register(base_url: str, name: str | None = None, password: str = PASSWORD) -> str:
    """A new user through the API; returns its token."""
    name = name or f"ops{uuid.uuid4().hex[:10]}"
    reply = call(
        base_url,
        "POST",
        "/api/users",
        json_body={
            "user": {"username": name, "email": f"{name}@example.com", "password": password}
        },
    )
    assert reply.status == 201, (reply.status, reply.body)
    token: str = reply.json()["user"]["token"]
    return token


def ready_state(ready: Any) -> tuple[str, str]:
    """A /api/ready body's overall status and its read cache's."""
    return ready["status"], ready["readCache"]
