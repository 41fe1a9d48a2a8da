"""A bad-input corpus over every operation in openapi/openapi.json, against a live gunicorn.

Oversized, deeply nested, mis-encoded, mis-typed and mis-shaped bodies; absurd numbers, long
strings, NULs, invalid UTF-8 and lone surrogates in path segments and query strings. The
server must answer every one: never a 5xx, never a stack trace, and every 4xx in the one
error shape `{"errors": {"body": [...]}}`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from tests.live import ROOT, gunicorn
from tests.ops.conftest import QUIET, TRACEBACK_MARKERS, Reply, call, register

SPEC = json.loads((ROOT / "openapi" / "openapi.json").read_text())
MAX_CONTENT_LENGTH = 1024 * 1024  # the default, set explicitly on the server below
HUGE = 10**30
LONG = 3000  # characters: long, yet inside gunicorn's 4094-byte request-line limit
EVIL_STRINGS = {
    "NUL": "a\x00b",
    "lone surrogate": "\ud800x",
    "emoji and RTL override": "💥🚀 \u202egnp.exe\u202c שלום مرحبا",
    "very long string": "x" * 100_000,
    "control characters": "\x01\x02\x1b[31m",
    "only whitespace": " \u3000\t",
}
EVIL_NUMBERS = {"huge integer": HUGE, "negative": -1, "float": 1e308, "boolean": True}
# Raw path/query segments (already percent-encoded).
EVIL_SEGMENTS = {
    "huge integer": str(HUGE),
    "negative": "-1",
    "zero": "0",
    "long": "a" * LONG,
    "NUL": "a%00b",
    "invalid UTF-8": "%FF%FEab",
    "lone surrogate": "%ED%A0%80",
    "emoji": quote("💥🚀"),
    "RTL override": quote("\u202eabc"),
    "dot-dot": "%2e%2e",
    "encoded slash": "a%2Fb",
    "float": "1e309",
    "empty-ish": "%20",
}


@dataclass
class Operation:
    method: str
    path: str  # with {placeholders}
    envelope: str | None  # the request body's top-level key
    fields: dict[str, str]  # inner field -> JSON type
    query: list[str]

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def operations() -> list[Operation]:
    found = []
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "delete", "patch"}:
                continue
            envelope, fields = None, {}
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                outer = _resolve(body["schema"])
                envelope = next(iter(outer["properties"]))
                inner = _resolve(outer["properties"][envelope])
                fields = {k: v.get("type", "string") for k, v in inner["properties"].items()}
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            query = [p["name"] for p in params if p["in"] == "query"]
            found.append(Operation(method.upper(), path, envelope, fields, query))
    # Destructive operations last, so the fixtures stay in place for everything else.
    order = {"DELETE": 1}
    found.sort(key=lambda o: (o.path.endswith("/logout"), order.get(o.method, 0)))
    return found


@pytest.fixture(scope="module")
def base_url(database_url: str) -> Iterator[str]:
    env = {**QUIET, "MAX_CONTENT_LENGTH": str(MAX_CONTENT_LENGTH)}
    with gunicorn(database_url, workers=2, env=env) as url:
        yield url


def body_attacks(op: Operation) -> Iterator[tuple[str, dict[str, str], bytes]]:
    json_type = {"Content-Type": "application/json"}
    env = op.envelope or "user"
    fields = op.fields or {"title": "string"}

    def payload(value: Any) -> bytes:
        inner = {k: ([value] if t == "array" else value) for k, t in fields.items()}
        return json.dumps({env: inner}, ensure_ascii=False).encode("utf-8", "surrogatepass")

    yield "huge body", json_type, b'{"x": "' + b"a" * (MAX_CONTENT_LENGTH * 2) + b'"}'
    yield "nested arrays 100k", json_type, b"[" * 100_000 + b"]" * 100_000
    yield "nested objects 100k", json_type, b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    yield "raw NUL byte", json_type, b'{"' + env.encode() + b'": {"\x00": "\x00"}}'
    yield "invalid UTF-8", json_type, payload("x")[:-3] + b'\xff\xfe"}}'
    yield "escaped lone surrogate", json_type, payload("X").replace(b'"X"', b'"\\ud800"')
    yield "truncated JSON", json_type, payload("x")[:-5]
    for label, value in {**EVIL_STRINGS, **EVIL_NUMBERS}.items():
        yield f"{label} in every field", json_type, payload(value)
    yield "missing envelope", json_type, json.dumps(dict.fromkeys(fields, "x")).encode()
    yield "array instead of object", json_type, json.dumps([{env: {}}]).encode()
    yield "envelope is an array", json_type, json.dumps({env: []}).encode()
    yield "envelope is a string", json_type, json.dumps({env: "x"}).encode()
    yield "JSON null", json_type, b"null"
    yield "empty object", json_type, b"{}"
    yield "unknown envelope", json_type, json.dumps({"admin": True}).encode()
    yield "text/plain", {"Content-Type": "text/plain"}, payload("x")
    yield "form", {"Content-Type": "application/x-www-form-urlencoded"}, b"user=x&a=%00"
    boundary = "ops-boundary"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{env}"\r\n\r\n'
        f"{payload('x').decode()}\r\n--{boundary}--\r\n"
    ).encode()
    yield (
        "multipart",
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        multipart,
    )
    yield (
        "JSON with charset latin-1",
        {"Content-Type": "application/json; charset=latin-1"},
        (payload("x")),
    )
    yield "no content type", {}, payload("x")


def test_no_bad_input_breaks_the_server(base_url: str) -> None:
    owner = register(base_url)
    other = register(base_url)
    other_name = call(base_url, "GET", "/api/user", token=other).json()["user"]["username"]
    article = {"title": "Ops target", "description": "d", "body": "b", "tagList": ["ops"]}
    created = call(base_url, "POST", "/api/articles", json_body={"article": article}, token=owner)
    assert created.status == 201, created.body
    slug = created.json()["article"]["slug"]
    comment = call(
        base_url,
        "POST",
        f"/api/articles/{slug}/comments",
        json_body={"comment": {"body": "hi"}},
        token=owner,
    )
    assert comment.status == 200, comment.body
    valid = {"slug": slug, "username": other_name, "id": str(comment.json()["comment"]["id"])}

    results: Counter[int] = Counter()
    per_attack: dict[str, Counter[int]] = {}
    problems: list[str] = []
    ops = operations()
    assert len(ops) >= 20, "the spec lost operations?"

    def check(op: Operation, label: str, reply: Reply) -> None:
        results[reply.status] += 1
        per_attack.setdefault(label, Counter())[reply.status] += 1
        where = f"{op.name} [{label}] -> {reply.status}"
        if reply.status >= 500:
            problems.append(f"{where}: {reply.body[:300]!r}")
        if any(marker in reply.body for marker in TRACEBACK_MARKERS):
            problems.append(f"{where}: traceback in body")
        if 400 <= reply.status < 500 and not reply.is_error_shape():
            problems.append(f"{where}: not the error shape: {reply.body[:300]!r}")

    def url(op: Operation, **segments: str) -> str:
        values = {**valid, **segments}
        return "/api" + re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], op.path)

    for op in ops:
        # Bodies (every operation gets them: one that takes none must ignore or refuse them).
        for label, headers, body in body_attacks(op):
            reply = call(base_url, op.method, url(op), body=body, headers=headers, token=owner)
            check(op, f"body: {label}", reply)
        # Path segments.
        for param in re.findall(r"\{(\w+)\}", op.path):
            for label, segment in EVIL_SEGMENTS.items():
                reply = call(base_url, op.method, url(op, **{param: segment}), token=owner)
                check(op, f"path: {label}", reply)
        # Query strings: the documented parameters and one unknown.
        for param in [*op.query, "unknown"]:
            for label, segment in EVIL_SEGMENTS.items():
                reply = call(base_url, op.method, f"{url(op)}?{param}={segment}", token=owner)
                check(op, f"query: {label}", reply)
        reply = call(base_url, op.method, f"{url(op)}?limit=1&limit=2&offset=-0", token=owner)
        check(op, "query: repeated and signed", reply)

    print(f"\n{sum(results.values())} requests over {len(ops)} operations")
    print("status counts:", dict(sorted(results.items())))
    for label, counts in sorted(per_attack.items()):
        print(f"  {label:<40} {dict(sorted(counts.items()))}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def test_request_line_beyond_gunicorn_limit_is_refused_cleanly(base_url: str) -> None:
    """Past gunicorn's 4094-byte request line the app never sees the request: gunicorn answers
    a plain-text 400 itself (not our JSON shape). It must still be a 4xx, with no trace."""
    for target in ("/api/articles/" + "a" * 10_000, "/api/articles?tag=" + "b" * 10_000):
        reply = call(base_url, "GET", target)
        print(f"\n{len(target)}-byte target -> {reply.status} {reply.body[:80]!r}")
        assert 400 <= reply.status < 500
        assert not any(marker in reply.body for marker in TRACEBACK_MARKERS)
