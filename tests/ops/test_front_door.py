"""Every answer at the front door is JSON in the RealWorld 2.0 error shape, with our headers.

A corpus of malformed requests (bad request lines and methods, unsupported HTTP versions,
overlong URIs and headers, too many headers, bad chunking, unknown transfer codings, oversized
bodies) goes as raw bytes to the production topology (nginx in front of gunicorn, started by
deploy/serve.py as `make serve-proxy` starts it) and straight to gunicorn (`make serve`).
Whoever answers (nginx, gunicorn's parser in its sync or its gthread worker, or the app), the
answer is `{"errors": {"<key>": ["..."]}}` (`request` for a request refused as a whole,
`server` for 5xx) with the app's security headers, never HTML. The app's own answers pass through nginx
untouched. nginx's 502 (nothing listening upstream) and 504 (upstream silent) are JSON too;
a gunicorn worker cut off past its timeout answers a JSON 504 before it dies, one stopped at
once (SIGQUIT) a JSON 503. A forged X-Forwarded-For does not change the client the app sees.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.errors import DEFAULT_ERRORS
from core.http import API_CSP
from db.migrate import upgrade
from deploy.gunicorn_worker import PROTOCOL_ERRORS
from deploy.nginx import BODY_MARGIN, ERROR_URI, Options, find_nginx
from deploy.serve import Stack
from testkit.servers import free_port
from testkit.settings import unavailable
from tests.ops.conftest import JWT_SECRET, QUIET, gunicorn_server

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

LIMIT = 1024 * 1024  # MAX_CONTENT_LENGTH's default, which these servers run with
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": API_CSP,
}
ORIGIN = "https://conduit.test"
PRODUCTION = {
    **QUIET,
    "APP_ENV": "production",
    "CORS_ORIGINS": ORIGIN,
    "JWT_SECRET_KEY": JWT_SECRET,
    "WEB_CONCURRENCY": "2",
}


# --- raw HTTP ------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def errors(self) -> dict[str, list[str]]:
        """The 2.0 error body, checked: one or more keys, each a non-empty list of strings."""
        errors = json.loads(self.body)["errors"]
        assert isinstance(errors, dict) and errors, self
        for messages in errors.values():
            assert isinstance(messages, list) and messages, self
            assert all(isinstance(m, str) and m for m in messages), self
        return errors


def exchange(address: str | tuple[str, int], data: bytes, timeout: float = 15) -> Answer:
    """Send raw bytes on a fresh connection (TCP, or a unix socket path); read one answer."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(address)
        # A server may answer (413) and close before taking all we send: read its answer anyway.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def request(
    method: str, path: str, headers: Iterable[str] = (), body: bytes = b"", version: str = "1.1"
) -> bytes:
    # With the Origin the app allows, its answers carry Access-Control-Allow-Origin: whatever
    # has it came from the app, not from nginx or gunicorn.
    lines = [f"{method} {path} HTTP/{version}", "Host: conduit.test", f"Origin: {ORIGIN}", *headers]
    if body and not any(
        h.lower().startswith(("content-length", "transfer-encoding")) for h in headers
    ):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join([*lines, "Connection: close", "", ""])).encode("latin-1") + body


def from_the_app(answer: Answer) -> bool:
    return answer.headers.get("access-control-allow-origin") == ORIGIN


def check_shape(answer: Answer, key: str | None) -> None:
    """JSON, never HTML, with our security headers; an error in the 2.0 shape under `key`."""
    assert answer.headers.get("content-type", "").startswith("application/json"), answer
    assert b"<html" not in answer.body.lower(), answer
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (name, answer)
    if answer.status >= 400:
        assert list(answer.errors()) == [key], answer
    else:
        json.loads(answer.body)


# --- the servers -----------------------------------------------------------------------------


def nginx_binary() -> str:
    found = find_nginx()
    if not found:
        unavailable("nginx is not installed")
    return found


@dataclass
class Doors:
    nginx: tuple[str, int]
    gunicorn: tuple[str, int]  # sync workers (the default)
    gthread: tuple[str, int]  # GUNICORN_THREADS > 1
    log: Path


@pytest.fixture(scope="module")
def doors(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    """The production topology, and a gunicorn of its own (`make serve`), on one database."""
    nginx_binary()
    upgrade(database_url)
    log = tmp_path_factory.mktemp("front-door") / "stack.log"
    # Access logs on, for the app's and nginx's lines about a request (see the last test).
    env = {**os.environ, **PRODUCTION, "DATABASE_URL": database_url, "ACCESS_LOG": "true"}
    options = Options.from_environment(env, port=free_port())
    with (
        log.open("wb") as out,
        Stack(options, env=env, stderr=out),
        gunicorn_server(database_url, workers=2, env=PRODUCTION) as sync,
        gunicorn_server(
            database_url, workers=1, env={**PRODUCTION, "GUNICORN_THREADS": "4"}
        ) as threaded,
    ):
        ports = [int(server.base_url.rsplit(":", 1)[1]) for server in (sync, threaded)]
        assert "JsonThreadWorker" in threaded.log() and "JsonSyncWorker" in sync.log()
        yield Doors(
            ("127.0.0.1", options.port), ("127.0.0.1", ports[0]), ("127.0.0.1", ports[1]), log
        )


# --- the corpus ------------------------------------------------------------------------------

TAGS = "/api/tags"
# name: (raw request, {door: (status, key)}); key None: a JSON answer that is not an error.
CORPUS: dict[str, tuple[bytes, dict[str, tuple[int, str | None]]]] = {
    "no method, no URI": (
        b"GARBAGE\r\n\r\n",
        {"nginx": (400, "request"), "gunicorn": (400, "request")},
    ),
    "binary junk": (
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xfa\r\n\r\n",
        {"nginx": (400, "request"), "gunicorn": (400, "request")},
    ),
    "lower-case method": (
        request("get", TAGS),
        {"nginx": (400, "request"), "gunicorn": (400, "request")},
    ),
    "method with bad characters": (
        request("G@T", TAGS),
        {"nginx": (400, "request"), "gunicorn": (400, "request")},
    ),
    "unknown method": (
        request("PURGE", TAGS),
        {"nginx": (405, "method"), "gunicorn": (405, "method")},
    ),
    "HTTP/2.0 on the request line": (
        request("GET", TAGS, version="2.0"),
        {"nginx": (505, "server"), "gunicorn": (505, "server")},
    ),
    "malformed HTTP version": (
        request("GET", TAGS, version="1.x"),
        {"nginx": (400, "request"), "gunicorn": (400, "request")},
    ),
    "request line over 8 KiB": (
        request("GET", "/api/" + "a" * 9000),
        {"nginx": (414, "request"), "gunicorn": (414, "request")},
    ),
    "one header over 8 KiB": (
        request("GET", TAGS, [f"X-Big: {'a' * 9000}"]),
        {"nginx": (431, "request"), "gunicorn": (431, "request")},
    ),
    "150 headers": (
        request("GET", TAGS, [f"X-Header-{i}: {i}" for i in range(150)]),
        {"nginx": (431, "request"), "gunicorn": (431, "request")},
    ),
    "40 KiB of headers": (
        request("GET", TAGS, [f"X-Header-{i}: {'b' * 4000}" for i in range(10)]),
        {"nginx": (431, "request"), "gunicorn": (200, None)},  # gunicorn limits each, not all
    ),
    "header name with a space": (
        request("GET", TAGS, ["Bad Header: x"]),
        {"nginx": (400, "request"), "gunicorn": (400, "request")},
    ),
    "NUL in the path": (  # gunicorn hands it to the app, which has no such route
        request("GET", "/api/\x00tags"),
        {"nginx": (400, "request"), "gunicorn": (404, "path")},
    ),
    "no Host header": (
        b"GET /api/tags HTTP/1.1\r\nConnection: close\r\n\r\n",
        {"nginx": (400, "request"), "gunicorn": (200, None)},
    ),
    "bad chunk size": (
        request(
            "POST",
            "/api/users",
            ["Content-Type: application/json", "Transfer-Encoding: chunked"],
            b"zz\r\n{}\r\n0\r\n\r\n",
        ),
        {"nginx": (400, "request"), "gunicorn": (400, "request")},
    ),
    "chunk without its line end": (
        request(
            "POST",
            "/api/users",
            ["Content-Type: application/json", "Transfer-Encoding: chunked"],
            b"2\r\n{}XX\r\n0\r\n\r\n",
        ),
        {"nginx": (400, "request"), "gunicorn": (400, "request")},
    ),
    "chunked and Content-Length": (
        request(
            "POST",
            "/api/users",
            ["Content-Type: application/json", "Transfer-Encoding: chunked", "Content-Length: 7"],
            b"0\r\n\r\n",
        ),
        {"nginx": (400, "request"), "gunicorn": (400, "request")},
    ),
    "unknown transfer coding": (
        request("POST", "/api/users", ["Transfer-Encoding: foo"], b"0\r\n\r\n"),
        {"nginx": (501, "server"), "gunicorn": (501, "server")},
    ),
    "declared 10 MiB body": (
        request(
            "POST", "/api/users", ["Content-Type: application/json", "Content-Length: 10485760"]
        ),
        {"nginx": (413, "request"), "gunicorn": (413, "request")},
    ),
    "body one byte over the limit": (
        request("POST", "/api/users", ["Content-Type: application/json"], b" " * (LIMIT + 1)),
        {"nginx": (413, "request"), "gunicorn": (413, "request")},
    ),
    "the app's own 404": (
        request("GET", "/api/profiles/nobody-at-all"),
        {"nginx": (404, "profile"), "gunicorn": (404, "profile")},
    ),
    "the app's own 422": (
        request("POST", "/api/users", ["Content-Type: application/json"], b"{"),
        {"nginx": (422, "request"), "gunicorn": (422, "request")},
    ),
    "/metrics in production": (
        request("GET", "/metrics"),
        {"nginx": (404, "path"), "gunicorn": (404, "path")},
    ),
    "nginx's error pages": (
        request("GET", f"{ERROR_URI}502"),
        {"nginx": (404, "path"), "gunicorn": (404, "path")},
    ),
}


@pytest.mark.parametrize("door", ["nginx", "gunicorn", "gthread"])
@pytest.mark.parametrize("case", list(CORPUS))
def test_malformed_requests_get_json_in_our_shape(doors: Doors, door: str, case: str) -> None:
    data, expected = CORPUS[case]
    status, key = expected["gunicorn" if door == "gthread" else door]
    answer = exchange(getattr(doors, door), data)
    print(f"\n{door:8} {case}: {answer.status} {answer.body[:120]!r}")
    assert answer.status == status, answer
    check_shape(answer, key)


def test_both_doors_say_the_same_for_the_same_fault(doors: Doors) -> None:
    """Where nginx and the app both refuse, the bodies are the same; app answers pass as they are."""
    same = [name for name, (_, exp) in CORPUS.items() if exp["nginx"] == exp["gunicorn"]]
    for name in same:
        through, direct = (exchange(d, CORPUS[name][0]) for d in (doors.nginx, doors.gunicorn))
        assert (through.status, through.errors()) == (direct.status, direct.errors()), name
    # The app answered these itself, through nginx.
    for name in ("body one byte over the limit", "the app's own 404", "unknown method"):
        assert from_the_app(exchange(doors.nginx, CORPUS[name][0])), name
    for name in ("declared 10 MiB body", "request line over 8 KiB", "bad chunk size"):
        assert not from_the_app(exchange(doors.nginx, CORPUS[name][0])), name


def test_the_app_sees_the_client_nginx_saw_and_the_same_request_id(doors: Doors) -> None:
    """PROXY_COUNT=1 behind nginx: a forged X-Forwarded-For does not change the client."""
    request_id = f"front-door-{uuid.uuid4().hex}"
    forged = ["X-Forwarded-For: 203.0.113.9", f"X-Request-ID: {request_id}"]
    answer = exchange(doors.nginx, request("GET", TAGS, forged))
    assert answer.status == 200 and answer.headers["x-request-id"] == request_id

    def lines() -> dict[str, dict[str, Any]]:
        found = {}
        for line in doors.log.read_text(errors="replace").splitlines():
            if request_id in line and line.startswith("{"):
                entry = json.loads(line)
                found[entry["logger"]] = entry
        return found

    deadline = time.monotonic() + 5  # nginx logs a request once it has answered it
    while len(lines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    logged = lines()
    assert logged["conduit.access"]["remote_addr"] == "127.0.0.1", logged
    assert logged["nginx"]["remote_addr"] == "127.0.0.1", logged
    assert logged["nginx"]["status"] == 200 and logged["nginx"]["upstream_status"] == "200"


def test_the_front_door_sends_the_apps_security_headers(doors: Doors) -> None:
    for door in (doors.nginx, doors.gunicorn):
        answer = exchange(door, request("GET", TAGS))
        assert answer.status == 200
        assert {k: answer.headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS


def test_bodies_slightly_over_the_limit_reach_the_app(doors: Doors) -> None:
    """nginx never cuts below MAX_CONTENT_LENGTH: up to BODY_MARGIN over it, the app answers."""
    for size in (LIMIT - 100, LIMIT, LIMIT + 1, LIMIT + BODY_MARGIN - 1024):
        body = b"[" + b" " * (size - 2) + b"]"  # valid JSON, not an object
        headers = ["Content-Type: application/json"]
        answer = exchange(doors.nginx, request("POST", "/api/users", headers, body))
        # The app's own answers: read and refused, or its 413.
        assert from_the_app(answer), answer
        check_shape(answer, "request")
        if size <= LIMIT:
            assert (answer.status, answer.errors()) == (422, {"request": ["must be an object"]})
        else:
            assert answer.status == 413, answer


def test_protocol_errors_say_what_the_app_says() -> None:
    """gunicorn's and nginx's own bodies use the app's keys and messages where both exist."""
    for status, (key, message) in DEFAULT_ERRORS.items():
        if status in PROTOCOL_ERRORS:
            assert PROTOCOL_ERRORS[status][1:] == (key, message), status
    for status, (_reason, key, _message) in PROTOCOL_ERRORS.items():
        assert key == "server" if status >= 500 else key in {"request", "path"}, status


# --- upstream faults ---------------------------------------------------------------------------


@contextlib.contextmanager
def nginx_only(upstream: str, **options: Any) -> Iterator[tuple[str, int]]:
    """The launcher's nginx, proxying to `upstream` (no gunicorn of ours behind it)."""
    nginx_binary()
    env = {**os.environ, **PRODUCTION}
    with (
        tempfile.TemporaryFile() as out,
        Stack(
            Options.from_environment(env, port=free_port(), **options),
            env=env,
            stderr=out,
            upstream=upstream,
        ) as stack,
    ):
        yield ("127.0.0.1", stack.options.port)


def test_nothing_listening_upstream_is_a_json_502(reachable_dir: Path) -> None:
    with nginx_only(f"unix:{reachable_dir / 'nobody-home.sock'}") as door:
        answer = exchange(door, request("GET", TAGS))
    assert answer.status == 502, answer
    check_shape(answer, "server")
    assert answer.headers["retry-after"] == "1"
    assert answer.errors() == {"server": ["is temporarily unavailable, try again"]}


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A directory nginx's workers (nobody, when we are root) may reach a socket in."""
    path = Path(tempfile.mkdtemp(prefix="conduit-upstream-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_silent_upstream_is_a_json_504(reachable_dir: Path) -> None:
    path = reachable_dir / "silent.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(str(path))
        path.chmod(0o777)
        silent.listen(16)  # connections are queued, never accepted nor answered
        with nginx_only(f"unix:{path}", upstream_timeout=1) as door:
            started = time.monotonic()
            answer = exchange(door, request("GET", TAGS))
            waited = time.monotonic() - started
    print(f"\nsilent upstream: {answer.status} after {waited:.2f}s")
    assert answer.status == 504, answer
    check_shape(answer, "server")
    assert answer.errors() == {"server": ["timed out"]}


# --- a worker past gunicorn's timeout ----------------------------------------------------------


def sleepy_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app whose /sleep outlasts any timeout (run by gunicorn in the test below)."""
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(120)
    body = b'{"status":"ok"}'
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def test_a_worker_cut_off_past_its_timeout_answers_a_json_504(tmp_path: Path) -> None:
    nginx_binary()
    env = {**os.environ, **PRODUCTION, "GUNICORN_TIMEOUT": "2"}
    options = Options.from_environment(env, port=free_port(), app=f"{__name__}:sleepy_app")
    log = tmp_path / "stack.log"
    with log.open("wb") as out, Stack(options, env=env, stderr=out) as stack:
        assert stack.gunicorn is not None
        started = time.monotonic()
        with ThreadPoolExecutor(2) as pool:  # through nginx, and straight to gunicorn's socket
            answers = list(
                pool.map(
                    lambda door: exchange(door, request("GET", "/sleep"), timeout=30),
                    [("127.0.0.1", options.port), str(stack.socket_path)],
                )
            )
        waited = time.monotonic() - started
        after = exchange(("127.0.0.1", options.port), request("GET", "/api/health"))
    text = log.read_text(errors="replace")
    print(f"\nworker timeouts answered {[a.status for a in answers]} after {waited:.1f}s")
    for answer in answers:
        assert answer.status == 504, answer
        check_shape(answer, "server")
        assert answer.errors() == {"server": ["timed out"]}
    assert text.count("WORKER TIMEOUT") >= 2, text[-3000:]
    assert after.status == 200  # replaced, serving again


def test_a_worker_stopped_at_once_answers_a_json_503(tmp_path: Path) -> None:
    """SIGQUIT (or SIGINT) stops gunicorn without waiting: what a worker holds gets a 503."""
    nginx_binary()
    env = {**os.environ, **PRODUCTION}
    options = Options.from_environment(env, port=free_port(), app=f"{__name__}:sleepy_app")
    with (tmp_path / "stack.log").open("wb") as out, Stack(options, env=env, stderr=out) as stack:
        assert stack.gunicorn is not None
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(exchange, str(stack.socket_path), request("GET", "/sleep"))
            time.sleep(0.5)  # in the app, asleep
            stack.gunicorn.send_signal(signal.SIGQUIT)
            answer = pending.result(timeout=30)
    assert answer.status == 503, answer
    check_shape(answer, "server")
    assert answer.headers["retry-after"] == "1"
