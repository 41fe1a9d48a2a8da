"""A bad-input corpus over every operation in openapi/openapi.json, against a live gunicorn.

Oversized, deeply nested, mis-encoded, mis-typed and mis-shaped bodies; absurd numbers, long
strings, NULs, invalid UTF-8 and lone surrogates in path segments and query strings. The
server must answer every one: never a 5xx, never a stack trace, and every 4xx in the
RealWorld 2.0 error shape `{"errors": {"<what is at fault>": ["message", ...]}}`. Where the
answer is fixed by the request alone (a refused content type, JSON that does not parse, a bad
`limit`), the exact status and body are demanded too.
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

from testkit.http import TRACEBACK_MARKERS, Reply, call, register
from testkit.servers import gunicorn
from testkit.settings import ROOT
from tests.support.ops import QUIET

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

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


# Bodies each status may carry whatever the operation: every request here presents a token
# (so a 401 can only be that token), and 403/404/405/413/415 name their cause by a fixed key.
BODIES_BY_STATUS: dict[int, list[dict[str, list[str]]]] = {
    # "is missing": a refresh whose body holds no refresh token (cookie mode made it optional)
    401: [{"token": ["is invalid"]}, {"token": ["is missing"]}],
    403: [{"article": ["forbidden"]}, {"comment": ["forbidden"]}, {"profile": ["forbidden"]}],
    404: [
        {"article": ["not found"]},
        {"profile": ["not found"]},
        {"comment": ["not found"]},
        {"path": ["not found"]},
    ],
    405: [{"method": ["is not allowed"]}],
    413: [{"request": [f"is too large (maximum is {MAX_CONTENT_LENGTH} bytes)"]}],
    415: [{"request": ["must be application/json"]}],
}
NOT_JSON = (422, {"request": ["is not valid JSON"]})
NOT_JSON_MEDIA = (415, {"request": ["must be application/json"]})
# The answer to a body attack on an operation that reads a body; `{env}` is its envelope.
BODY_ANSWERS: dict[str, tuple[int, dict[str, list[str]]]] = {
    "huge body": (413, BODIES_BY_STATUS[413][0]),
    "nested arrays 100k": NOT_JSON,
    "nested objects 100k": NOT_JSON,
    "raw NUL byte": NOT_JSON,
    "invalid UTF-8": NOT_JSON,
    "escaped lone surrogate": NOT_JSON,
    "truncated JSON": NOT_JSON,
    "lone surrogate in every field": NOT_JSON,
    "array instead of object": (422, {"request": ["must be an object"]}),
    "JSON null": (422, {"request": ["must be an object"]}),
    "envelope is an array": (422, {"{env}": ["must be an object"]}),
    "envelope is a string": (422, {"{env}": ["must be an object"]}),
    "missing envelope": (422, {"{env}": ["can't be blank"]}),
    "empty object": (422, {"{env}": ["can't be blank"]}),
    "unknown envelope": (422, {"{env}": ["can't be blank"]}),
    "text/plain": NOT_JSON_MEDIA,
    "form": NOT_JSON_MEDIA,
    "multipart": NOT_JSON_MEDIA,
    "no content type": NOT_JSON_MEDIA,
}
PAGING = ("limit", "offset")


def paging_answer(param: str, label: str) -> tuple[int, dict[str, list[str]] | None]:
    """What `?limit=` / `?offset=` with an EVIL_SEGMENTS value gets (None: a 200 page)."""
    if label == "huge integer":  # served clamped (limit 100, offset 2**31-1), not refused
        return 200, None
    if label in {"negative", "zero"}:
        if param == "limit":
            return 422, {"limit": ["must be greater than or equal to 1"]}
        if label == "negative":
            return 422, {"offset": ["must be greater than or equal to 0"]}
        return 200, None
    return 422, {param: ["must be an integer"]}


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
                if "properties" not in inner:  # a body without an envelope (RefreshToken)
                    envelope, inner = None, outer
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
    assert comment.status == 201, comment.body
    valid = {"slug": slug, "username": other_name, "id": str(comment.json()["comment"]["id"])}

    results: Counter[int] = Counter()
    per_attack: dict[str, Counter[int]] = {}
    problems: list[str] = []
    ops = operations()
    assert len(ops) >= 20, "the spec lost operations?"

    def check(
        op: Operation,
        label: str,
        reply: Reply,
        expected: tuple[int, dict[str, list[str]] | None] | None = None,
    ) -> None:
        results[reply.status] += 1
        per_attack.setdefault(label, Counter())[reply.status] += 1
        where = f"{op.name} [{label}] -> {reply.status}"
        if reply.status >= 500:
            problems.append(f"{where}: {reply.body[:300]!r}")
        if any(marker in reply.body for marker in TRACEBACK_MARKERS):
            problems.append(f"{where}: traceback in body")
        errors = reply.errors()
        if 400 <= reply.status < 500 and errors is None:
            problems.append(f"{where}: not the error shape: {reply.body[:300]!r}")
        allowed = BODIES_BY_STATUS.get(reply.status)
        if allowed is not None and errors is not None and errors not in allowed:
            problems.append(f"{where}: unexpected errors {errors}")
        if expected is not None:
            status, body = expected
            if reply.status != status or (body is not None and errors != body):
                problems.append(f"{where}: expected {status} {body}, got {reply.body[:300]!r}")

    def url(op: Operation, **segments: str) -> str:
        values = {**valid, **segments}
        return "/api" + re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], op.path)

    for op in ops:
        # Bodies (every operation gets them: one that takes none must ignore or refuse them).
        for label, headers, body in body_attacks(op):
            reply = call(base_url, op.method, url(op), body=body, headers=headers, token=owner)
            answer = BODY_ANSWERS.get(label) if op.envelope else None
            if answer is not None:
                status, errors = answer
                answer = (status, {k.format(env=op.envelope): v for k, v in errors.items()})
            check(op, f"body: {label}", reply, answer)
        # Path segments.
        for param in re.findall(r"\{(\w+)\}", op.path):
            for label, segment in EVIL_SEGMENTS.items():
                reply = call(base_url, op.method, url(op, **{param: segment}), token=owner)
                check(op, f"path: {label}", reply)
        # Query strings: the documented parameters and one unknown.
        for param in [*op.query, "unknown"]:
            for label, segment in EVIL_SEGMENTS.items():
                reply = call(base_url, op.method, f"{url(op)}?{param}={segment}", token=owner)
                paged = paging_answer(param, label) if param in PAGING else None
                check(op, f"query: {label}", reply, paged)
        reply = call(base_url, op.method, f"{url(op)}?limit=1&limit=2&offset=-0", token=owner)
        check(op, "query: repeated and signed", reply, (200, None) if "limit" in op.query else None)

    print(f"\n{sum(results.values())} requests over {len(ops)} operations")
    print("status counts:", dict(sorted(results.items())))
    for label, counts in sorted(per_attack.items()):
        print(f"  {label:<40} {dict(sorted(counts.items()))}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def test_huge_limit_and_offset_are_served_clamped(base_url: str) -> None:
    """RealWorld 2.0 sets no maximum: an absurd `limit` is a full page, an absurd `offset` an
    empty one past the end, never a 422 (nor an overflow in the database)."""
    token = register(base_url)
    article = {"title": "Clamp target", "description": "d", "body": "b", "tagList": ["clamp"]}
    created = call(base_url, "POST", "/api/articles", json_body={"article": article}, token=token)
    assert created.status == 201, created.body
    slug = created.json()["article"]["slug"]
    for path in ("/api/articles?tag=clamp", "/api/articles/feed"):
        for query, seen in ((f"limit={HUGE}", True), (f"offset={HUGE}", False)):
            separator = "&" if "?" in path else "?"
            reply = call(base_url, "GET", f"{path}{separator}{query}", token=token)
            assert reply.status == 200, (path, query, reply.body)
            page = reply.json()
            slugs = [a["slug"] for a in page["articles"]]
            if path.endswith("/feed"):  # nobody followed: an empty feed, served all the same
                assert page == {"articles": [], "articlesCount": 0}, (query, page)
            else:
                assert slugs == ([slug] if seen else []), (query, page)
                assert page["articlesCount"] == 1, (query, page)


def test_error_shape_check_tells_2_0_from_1_x() -> None:
    """`Reply.is_error_shape`, which every check above leans on, refuses the old shapes."""

    def reply(body: object) -> Reply:
        return Reply(422, {}, json.dumps(body).encode(), 0.0)

    good = [
        {"errors": {"title": ["can't be blank"]}},
        {
            "errors": {
                "body": ["can't be blank"],
                "title": ["is too long (maximum is 200 characters)"],
            }
        },
        {"errors": {"rate_limit": ["exceeded: at most 10 per 1 minute"]}},
    ]
    bad = [
        {"errors": {"body": ["title: can't be blank"]}},  # the 1.x catch-all
        {"errors": {"body": ["can't be blank", "user.email: is invalid"]}},
        {"errors": {}},
        {"errors": {"title": []}},
        {"errors": {"title": "can't be blank"}},
        {"errors": {"title": [""]}},
        {"errors": {"title": [1]}},
        {"errors": {"": ["is invalid"]}},
        {"errors": ["title can't be blank"]},
        {"errors": {"title": ["can't be blank"]}, "extra": 1},
        {"message": "error"},
        [],
    ]
    assert all(reply(body).is_error_shape() for body in good)
    assert not any(reply(body).is_error_shape() for body in bad)
    assert not Reply(400, {}, b"<html>Bad Request</html>", 0.0).is_error_shape()


def test_request_line_beyond_gunicorn_limit_is_refused_cleanly(base_url: str) -> None:
    """Past gunicorn's 4094-byte request line the app never sees the request: gunicorn answers
    a plain-text 400 itself (not our JSON shape). It must still be a 4xx, with no trace."""
    for target in ("/api/articles/" + "a" * 10_000, "/api/articles?tag=" + "b" * 10_000):
        reply = call(base_url, "GET", target)
        print(f"\n{len(target)}-byte target -> {reply.status} {reply.body[:80]!r}")
        assert 400 <= reply.status < 500
        assert not any(marker in reply.body for marker in TRACEBACK_MARKERS)
