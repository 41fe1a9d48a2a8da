"""Two gunicorn instances behind nginx, sharing one PostgreSQL database and one Redis.

nginx runs from a temporary config on a free loopback port (nothing under /etc or /var is
touched) and round-robins between the instances; both trust one proxy (PROXY_COUNT=1). What
is proven: a user journey through the proxy, tokens valid on either instance, a logout on
one revoking on both, and a login limit that holds across instances (and cannot be dodged
with a forged X-Forwarded-For).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from deploy.nginx import find_nginx
from testkit.http import PASSWORD, call, register
from testkit.servers import free_port, gunicorn, stop
from testkit.settings import unavailable
from tests.support.ops import JWT_SECRET, REDIS_URL

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

LOGIN_LIMIT = 5
LIMITED = {"rate_limit": [f"exceeded: at most {LOGIN_LIMIT} per 1 minute"]}
REVOKED = {"token": ["is invalid"]}
INVALID_CHALLENGE = 'Token realm="conduit", error="invalid_token"'
NGINX_CONF = """
worker_processes 1;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format upstreams '$http_x_request_id $upstream_addr $status';
    access_log {tmp}/access.log upstreams;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream conduit {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://conduit;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


@dataclass
class Stack:
    proxy: str
    a: str
    b: str
    nginx_log: Path

    def upstreams(self, request_ids: list[str]) -> dict[str, str]:
        """request id -> the instance (host:port) nginx sent it to.

        nginx logs a request after answering it, so wait briefly for the last lines.
        """
        deadline = time.monotonic() + 10
        while True:
            found = {}
            for line in self.nginx_log.read_text().splitlines():
                request_id, upstream, _status = line.split(" ")
                found[request_id] = upstream
            if set(request_ids) <= set(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def nginx_binary() -> str:
    found = find_nginx()
    if not found:
        unavailable("nginx is not installed (apt-get install nginx)")
    return found


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[Stack]:
    nginx = nginx_binary()
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        unavailable(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    env = {
        "JWT_SECRET_KEY": JWT_SECRET,
        "RATE_LIMIT_ENABLED": "true",
        "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/minute",
        "RATE_LIMIT_REGISTER": "1000/minute",
        "PROXY_COUNT": "1",
        "ACCESS_LOG": "false",
    }
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="conduit-nginx-") as tmp:
        a = stack.enter_context(gunicorn(database_url, workers=1, env=env))
        b = stack.enter_context(gunicorn(database_url, workers=1, env=env))
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(tmp=tmp, a=a.rsplit(":", 1)[1], b=b.rsplit(":", 1)[1], port=port)
        )
        process = subprocess.Popen(
            [
                nginx,
                "-p",
                tmp,
                "-e",
                f"{tmp}/error.log",
                "-c",
                str(conf),
                "-g",
                f"daemon off; pid {tmp}/nginx.pid;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proxy = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 15
            while True:
                assert process.poll() is None, (Path(tmp) / "error.log").read_text()
                try:
                    if call(proxy, "GET", "/api/health", timeout=2).status == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "nginx did not come up"
                time.sleep(0.1)
            yield Stack(proxy, a, b, Path(tmp) / "access.log")
        finally:
            stop(process, 10)
            client.flushdb()
            client.close()


def tagged(
    stack: Stack,
    method: str,
    path: str,
    *,
    json_body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, int, dict[str, Any]]:
    request_id = uuid.uuid4().hex
    headers = {"X-Request-ID": request_id, **(headers or {})}
    reply = call(stack.proxy, method, path, json_body=json_body, token=token, headers=headers)
    return request_id, reply.status, reply.json() if reply.body else {}


def test_user_journey_through_the_proxy(stack: Stack) -> None:
    name = f"sx{uuid.uuid4().hex[:10]}"
    user = {"username": name, "email": f"{name}@example.com", "password": "scale out pw"}
    ids = []
    rid, status, body = tagged(stack, "POST", "/api/users", json_body={"user": user})
    assert status == 201, body
    ids.append(rid)
    login = {"user": {"email": user["email"], "password": user["password"]}}
    rid, status, body = tagged(stack, "POST", "/api/users/login", json_body=login)
    assert status == 200, body
    ids.append(rid)
    token = body["user"]["token"]
    article = {"title": f"Scaled {name}", "description": "d", "body": "b", "tagList": ["scale"]}
    rid, status, body = tagged(
        stack, "POST", "/api/articles", json_body={"article": article}, token=token
    )
    assert status == 201, body
    ids.append(rid)
    slug = body["article"]["slug"]
    for _ in range(2):  # twice, so that both instances answer it
        rid, status, body = tagged(stack, "GET", f"/api/articles?author={name}")
        assert status == 200 and [a["slug"] for a in body["articles"]] == [slug], body
        ids.append(rid)
    rid, status, body = tagged(stack, "POST", f"/api/articles/{slug}/favorite", token=token)
    assert status == 200 and body["article"]["favorited"] is True, body
    ids.append(rid)
    rid, status, body = tagged(stack, "GET", f"/api/articles/{slug}", token=token)
    assert status == 200 and body["article"]["favoritesCount"] == 1, body
    ids.append(rid)
    upstreams = stack.upstreams(ids)
    served_by = Counter(upstreams[i] for i in ids)
    print(f"\njourney of {len(ids)} requests served by {dict(served_by)}")
    assert len(served_by) == 2, "nginx should have used both instances"


def test_a_token_from_one_instance_works_on_the_other(stack: Stack) -> None:
    token = register(stack.a)
    assert call(stack.b, "GET", "/api/user", token=token).status == 200
    article = {"title": f"Cross {uuid.uuid4().hex[:8]}", "description": "d", "body": "b"}
    created = call(stack.b, "POST", "/api/articles", json_body={"article": article}, token=token)
    assert created.status == 201, created.body
    slug = created.json()["article"]["slug"]
    assert call(stack.a, "GET", f"/api/articles/{slug}", token=token).status == 200


def test_logout_on_one_instance_revokes_on_both(stack: Stack) -> None:
    token = register(stack.b)
    for base in (stack.a, stack.b, stack.proxy):
        assert call(base, "GET", "/api/user", token=token).status == 200
    assert call(stack.a, "POST", "/api/users/logout", token=token).status == 204
    for base in (stack.a, stack.b, stack.proxy, stack.proxy):
        reply = call(base, "GET", "/api/user", token=token)
        assert reply.status == 401 and reply.errors() == REVOKED, (base, reply.status, reply.body)
        assert reply.headers.get("www-authenticate") == INVALID_CHALLENGE, (base, reply.headers)


def test_login_limit_holds_across_instances(stack: Stack) -> None:
    name = f"lim{uuid.uuid4().hex[:10]}"
    token = register(stack.proxy, name)
    assert token
    redis.Redis.from_url(REDIS_URL).flushdb()  # a fresh window for this test alone
    login = {"user": {"email": f"{name}@example.com", "password": PASSWORD}}
    results = []
    for n in range(LOGIN_LIMIT + 6):
        # A forged X-Forwarded-For each time: nginx appends the real peer, the app trusts one hop.
        spoof = {"X-Forwarded-For": f"203.0.113.{n}"}
        rid, status, body = tagged(
            stack, "POST", "/api/users/login", json_body=login, headers=spoof
        )
        results.append((rid, status, body))
    direct = [
        call(base, "POST", "/api/users/login", json_body=login) for base in (stack.a, stack.b)
    ]
    upstreams = stack.upstreams([rid for rid, _, _ in results])
    statuses = [status for _, status, _ in results]
    print(
        f"\nlogins through nginx: {statuses}; direct to each instance: {[r.status for r in direct]}"
    )
    print(f"429s served by {dict(Counter(upstreams[rid] for rid, s, _ in results if s == 429))}")
    assert statuses == [200] * LOGIN_LIMIT + [429] * 6
    assert all(body == {"errors": LIMITED} for _, status, body in results if status == 429)
    assert all(
        r.status == 429 and r.errors() == LIMITED and int(r.headers["retry-after"]) > 0
        for r in direct
    ), [(r.status, r.body, r.headers) for r in direct]
    assert len({upstreams[rid] for rid, s, _ in results if s == 429}) == 2
