"""Which SQL (and which round trips) one request of each scenario costs: traced in-process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from api import create_app
from api.context import runtime_of
from bench.wrk import Request
from core.settings import Settings


def _one_line(statement: str) -> str:
    return re.sub(r"\s+", " ", statement).strip()


@contextmanager
def _recording(engine: Any, log: list[str]) -> Iterator[None]:
    pre_ping = bool(getattr(engine.pool, "_pre_ping", False))

    def checkout(*_args: Any) -> None:
        log.append("-- pool checkout" + (" (pre-ping: SELECT 1)" if pre_ping else ""))

    def begin(_conn: Any) -> None:
        log.append("BEGIN")

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        log.append(_one_line(text))

    def commit(_conn: Any) -> None:
        log.append("COMMIT")

    def reset(*_args: Any) -> None:
        log.append("ROLLBACK (pool reset on return)")

    listeners = [
        (engine.pool, "checkout", checkout),
        (engine, "begin", begin),
        (engine, "before_cursor_execute", statement),
        (engine, "commit", commit),
        (engine.pool, "reset", reset),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


def round_trips(log: list[str]) -> int:
    """Client-server round trips: a pre-ping, BEGIN, each statement, COMMIT or ROLLBACK.

    The pool's reset after a COMMIT costs none: psycopg sends no ROLLBACK on a connection
    with no transaction open.
    """
    trips = 0
    for previous, entry in zip(["", *log], log, strict=False):
        if entry.startswith("-- "):
            trips += "pre-ping" in entry
        elif not (entry.startswith("ROLLBACK (pool reset") and previous == "COMMIT"):
            trips += 1
    return trips


def trace(database_url: str, jwt_secret: str, samples: dict[str, Request]) -> dict[str, Any]:
    """{scenario: {"status", "statements": [...], "round_trips"}} for one request each."""
    # No relay thread: its sweeps would interleave with the statements traced here.
    settings = Settings(
        app_env="test",
        database_url=database_url,
        jwt_secret_key=jwt_secret,
        access_log=False,
        outbox_hint=False,
    )
    app = create_app(settings)
    engine = runtime_of(app).database.engine
    client = app.test_client()
    traced: dict[str, Any] = {}
    try:
        for name, request in samples.items():
            headers = {"Authorization": f"Token {request.token}"} if request.token else {}
            body = request.body.replace("{n}", "trace") or None
            # A warm pool (and model index), as under load: the same request once when it
            # writes nothing, else any read.
            if request.method == "GET" or request.path.endswith("/suggestions"):
                client.open(
                    request.path,
                    method=request.method,
                    headers=headers,
                    data=body,
                    content_type="application/json" if body else None,
                )
            else:
                client.get("/api/tags")
            log: list[str] = []
            with _recording(engine, log):
                response = client.open(
                    request.path,
                    method=request.method,
                    headers=headers,
                    data=body,
                    content_type="application/json" if body else None,
                )
            traced[name] = {
                "status": response.status_code,
                "statements": log,
                "round_trips": round_trips(log),
            }
    finally:
        runtime_of(app).dispose()
    return traced
