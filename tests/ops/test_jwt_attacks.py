"""Crafted and stolen tokens against a live gunicorn: none is ever taken for a user.

Tokens are forged with PyJWT and the server's own secret (so only the claim or the algorithm
is wrong), or are genuine tokens whose user was deleted, which were logged out, or which are
sent under the wrong scheme. Most name a victim: a user who favorites an article and follows
its author, so a token taken for them would show in what the server answers.

Each one is presented to every operation of openapi/openapi.json:
- where auth is required: the same 401 `{"errors": {"token": ["is invalid"]}}` for all, with
  the `error="invalid_token"` challenge;
- where auth is optional (RealWorld 2.0): a 200 served exactly as to an anonymous reader
  (`favorited`/`following` false), with the same challenge telling the client its token was
  not taken.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import Engine, text

from testkit.http import Reply, call, register
from testkit.servers import gunicorn
from testkit.settings import ROOT
from testkit.workers import wait_for
from tests.support.ops import JWT_SECRET, QUIET

# The ops suite and the RabbitMQ tests share Redis db 14 and restart or kill the machine's
# services: one xdist worker runs them all, in order (pytest-xdist's loadgroup).
pytestmark = pytest.mark.xdist_group("ops")

SPEC = json.loads((ROOT / "openapi" / "openapi.json").read_text())
REQUIRED: list[dict[str, list[str]]] = [{"Token": []}]
OPTIONAL: list[dict[str, list[str]]] = [{}, {"Token": []}]
REJECTED = {"errors": {"token": ["is invalid"]}}
INVALID_CHALLENGE = 'Token realm="conduit", error="invalid_token"'
MISSING = {"errors": {"token": ["is missing"]}}
CHALLENGE = 'Token realm="conduit"'
PASSWORD = "victim password 1"


@pytest.fixture(scope="module")
def base_url(database_url: str) -> Iterator[str]:
    with gunicorn(database_url, workers=2, env=QUIET) as url:
        yield url


def claims(user_id: int, **changes: Any) -> dict[str, Any]:
    """The claims flask-jwt-extended issues, with `changes` applied (None removes a claim)."""
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "fresh": False,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "type": "access",
        "sub": str(user_id),
        "nbf": now,
        "exp": now + timedelta(hours=1),
    }
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def forge(user_id: int, key: str = JWT_SECRET, algorithm: str = "HS256", **changes: Any) -> str:
    return jwt.encode(claims(user_id, **changes), key, algorithm=algorithm)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def alg_none(user_id: int) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims(user_id), default=lambda d: int(d.timestamp())).encode())
    return f"{header}.{payload}."


def alg_rs256_confusion(user_id: int) -> str:
    """An HMAC signature under an `RS256` header: the classic algorithm-confusion attempt."""
    good = forge(user_id)
    _header, payload, signature = good.split(".")
    return f"{b64(json.dumps({'alg': 'RS256', 'typ': 'JWT'}).encode())}.{payload}.{signature}"


def tampered(genuine: str, victim_id: int) -> str:
    """Someone's real token with `sub` switched to another user; the signature is kept."""
    header, payload, signature = genuine.split(".")
    body = json.loads(unb64(payload))
    body["sub"] = str(victim_id)
    return f"{header}.{b64(json.dumps(body).encode())}.{signature}"


def user_id_of(sql: Engine, token: str) -> int:
    sub = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])["sub"]
    with sql.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM users WHERE id = :id"), {"id": int(sub)}).scalar()
    return int(sub)


REFRESH = "/api/users/token/refresh"


@dataclass
class Session:
    token: str
    refresh: str


def _session(reply: Reply) -> Session:
    assert reply.status in (200, 201), reply.body
    user = reply.json()["user"]
    return Session(user["token"], user["refreshToken"])


def victim_session(base_url: str, login: Any) -> Session:
    """A new session: a login with `login`'s body, or (no body) a new user's registration."""
    if login is None:
        name = f"s{uuid.uuid4().hex[:10]}"
        body = {"user": {"username": name, "email": f"{name}@example.com", "password": PASSWORD}}
        return _session(call(base_url, "POST", "/api/users", json_body=body))
    return _session(call(base_url, "POST", "/api/users/login", json_body=login))


def rotate(base_url: str, session: Session) -> Session:
    return _session(call(base_url, "POST", REFRESH, json_body={"refreshToken": session.refresh}))


def family_of(session: Session) -> str:
    family: str = jwt.decode(session.token, JWT_SECRET, algorithms=["HS256"])["fam"]
    return family


@dataclass
class Operation:
    method: str
    path: str  # with {placeholders}
    example: Any  # the documented request body, if it takes one

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def operations(security: list[dict[str, list[str]]]) -> list[Operation]:
    """The spec's operations with exactly this `security`; Logout last (it revokes)."""
    found = []
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "delete"} and op.get("security") == security:
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
                found.append(Operation(method.upper(), path, body.get("example")))
    found.sort(key=lambda o: o.path.endswith("/logout"))
    return found


@dataclass
class Scene:
    """An author's article, favorited by a victim who follows the author and commented on it."""

    author: str
    victim_token: str
    victim_id: int
    slug: str
    comment_id: int

    def url(self, op: Operation) -> str:
        values = {"slug": self.slug, "username": self.author, "id": str(self.comment_id)}
        return "/api" + re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], op.path)


def set_scene(base_url: str, sql: Engine) -> Scene:
    author_token = register(base_url)
    author = call(base_url, "GET", "/api/user", token=author_token).json()["user"]["username"]
    article = {"title": "Forgery target", "description": "d", "body": "b", "tagList": ["jwt"]}
    created = call(
        base_url, "POST", "/api/articles", json_body={"article": article}, token=author_token
    )
    assert created.status == 201, created.body
    slug = created.json()["article"]["slug"]
    # A second one, related to the first (GetRelatedArticles lists it), favorited too.
    near = {"title": "Forgery target too", "description": "d", "body": "b", "tagList": ["jwt"]}
    second = call(
        base_url, "POST", "/api/articles", json_body={"article": near}, token=author_token
    )
    assert second.status == 201, second.body
    victim_token = register(base_url, password=PASSWORD)
    victim_id = user_id_of(sql, victim_token)
    for favored in (slug, second.json()["article"]["slug"]):
        favorite = call(base_url, "POST", f"/api/articles/{favored}/favorite", token=victim_token)
        assert favorite.status == 200 and favorite.json()["article"]["favorited"] is True
    # Articles are embedded in the background (the server's relay thread): wait for it.
    wait_for(
        lambda: call(base_url, "GET", f"/api/articles/{slug}/related").json()["articlesCount"],
        60,
        "the articles' embeddings",
    )
    follow = call(base_url, "POST", f"/api/profiles/{author}/follow", token=victim_token)
    assert follow.status == 200 and follow.json()["profile"]["following"] is True
    # The author's comment shows `following` in the comments list; the victim's own is the one
    # DELETE .../comments/{id} aims at, which a token taken for the victim would delete.
    for token in (author_token, victim_token):
        comment = call(
            base_url,
            "POST",
            f"/api/articles/{slug}/comments",
            json_body={"comment": {"body": "forgery bait"}},
            token=token,
        )
        assert comment.status == 201, comment.body
    return Scene(author, victim_token, victim_id, slug, comment.json()["comment"]["id"])


def viewer_flags(scene: Scene, path: str, body: Any) -> list[bool]:
    """Every `favorited`, and `following` of the author, an optional-auth read shows."""
    if path.endswith("/comments"):
        authors = [c["author"] for c in body["comments"]]
        return [a["following"] for a in authors if a["username"] == scene.author]
    if path.startswith("/api/profiles/"):
        return [body["profile"]["following"]]
    articles = body["articles"] if "articles" in body else [body["article"]]
    return [flag for a in articles for flag in (a["favorited"], a["author"]["following"])]


def read_all(base_url: str, scene: Scene, headers: dict[str, str]) -> dict[str, Reply]:
    return {
        scene.url(op): call(base_url, op.method, scene.url(op), headers=headers)
        for op in operations(OPTIONAL)
    }


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_no_crafted_token_is_ever_taken_for_a_user(base_url: str, sql: Engine) -> None:
    required = operations(REQUIRED)
    assert {op.name for op in operations(OPTIONAL)} == {
        "GET /articles",
        "GET /articles/{slug}",
        "GET /articles/{slug}/comments",
        "GET /articles/{slug}/related",
        "GET /profiles/{username}",
    }
    assert len(required) >= 12, "the spec lost auth-required operations?"
    scene = set_scene(base_url, sql)
    victim = scene.victim_id
    attacker_token = register(base_url)

    # Controls: the victim's genuine token sees the victim's view (so a `false` below is the
    # attack's doing), anonymous readers see none of it and are not challenged, and the token
    # the tampered one is made from is genuine.
    as_victim = read_all(base_url, scene, {"Authorization": f"Token {scene.victim_token}"})
    anonymous = read_all(base_url, scene, {})
    for path in as_victim:
        mine, nobodys = as_victim[path], anonymous[path]
        assert mine.status == 200 and nobodys.status == 200, (path, mine.body, nobodys.body)
        flags = viewer_flags(scene, path, mine.json())
        assert flags and all(flags), (path, mine.body)
        assert not any(viewer_flags(scene, path, nobodys.json())), (path, nobodys.body)
        assert "www-authenticate" not in nobodys.headers, path
    assert call(base_url, "GET", "/api/user", token=attacker_token).status == 200
    # Without any token an auth-required operation says the token is missing, not invalid.
    for op in required:
        reply = call(base_url, op.method, scene.url(op), json_body=op.example)
        seen = (reply.status, _json_or_text(reply), reply.headers.get("www-authenticate"))
        assert seen == (401, MISSING, CHALLENGE), (op.name, seen)

    doomed_token = register(base_url)
    with sql.begin() as conn:
        conn.execute(
            text("DELETE FROM users WHERE id = :id"), {"id": user_id_of(sql, doomed_token)}
        )

    # A session of the victim's own, logged out: its token stays signed and unexpired.
    login = {"user": {"email": _email_of(base_url, scene.victim_token), "password": PASSWORD}}
    logged_in = call(base_url, "POST", "/api/users/login", json_body=login)
    assert logged_in.status == 200, logged_in.body
    revoked_token = logged_in.json()["user"]["token"]
    assert call(base_url, "POST", "/api/users/logout", token=revoked_token).status == 204

    # Sessions: the victim's refresh token sent as an access token, and the newest access
    # token of a session ended by reuse detection (a spent refresh token presented again).
    session = victim_session(base_url, login)
    ended = victim_session(base_url, login)
    spent = ended.refresh
    for _ in range(2):
        ended = rotate(base_url, ended)
    assert call(base_url, "POST", REFRESH, json_body={"refreshToken": spent}).status == 401
    attacker_family = family_of(victim_session(base_url, None))

    past = datetime.now(UTC) - timedelta(minutes=5)
    future = datetime.now(UTC) + timedelta(minutes=5)
    attacks: dict[str, Callable[[], str]] = {
        "victim's refresh token as access token": lambda: f"Token {session.refresh}",
        "victim's access token, session ended": lambda: f"Token {ended.token}",
        "unknown session (fam)": lambda: f"Token {forge(victim, fam=str(uuid.uuid4()))}",
        "attacker's session, victim's sub": lambda: f"Token {forge(victim, fam=attacker_family)}",
        "alg none": lambda: f"Token {alg_none(victim)}",
        "alg RS256 header, HMAC signature": lambda: f"Token {alg_rs256_confusion(victim)}",
        "wrong key": lambda: f"Token {forge(victim, key='not-the-server-key-' + 'x' * 32)}",
        "HS512 with the right key": lambda: f"Token {forge(victim, algorithm='HS512')}",
        "HS384 with the right key": lambda: f"Token {forge(victim, algorithm='HS384')}",
        "tampered sub, signature kept": lambda: f"Token {tampered(attacker_token, victim)}",
        "expired": lambda: (
            f"Token {forge(victim, exp=past, iat=past - timedelta(hours=1), nbf=past - timedelta(hours=1))}"
        ),
        "nbf in the future": lambda: f"Token {forge(victim, nbf=future)}",
        "missing sub": lambda: f"Token {forge(victim, sub=None)}",
        "sub as a JSON number": lambda: f"Token {forge(victim, sub=victim)}",
        "non-numeric sub": lambda: f"Token {forge(victim, sub='admin')}",
        "huge sub (10**30)": lambda: f"Token {forge(victim, sub=str(10**30))}",
        "sub 0": lambda: f"Token {forge(victim, sub='0')}",
        "negative sub": lambda: f"Token {forge(victim, sub='-1')}",
        "missing jti": lambda: f"Token {forge(victim, jti=None)}",
        "missing exp": lambda: f"Token {forge(victim, exp=None)}",
        "refresh-type token": lambda: f"Token {forge(victim, type='refresh')}",
        "deleted user": lambda: f"Token {doomed_token}",
        "victim's token, revoked by logout": lambda: f"Token {revoked_token}",
        "garbage": lambda: "Token not.a.jwt",
        "empty token": lambda: "Token ",
        "victim's token, wrong scheme (Bearer)": lambda: f"Bearer {scene.victim_token}",
        "victim's token, no scheme": lambda: scene.victim_token,
    }
    assert len(attacks) >= 12

    rows: list[tuple[str, set[int], set[int]]] = []
    failures: list[str] = []
    for name, make in attacks.items():
        headers = {"Authorization": make()}
        refused: set[int] = set()
        for op in required:
            reply = call(base_url, op.method, scene.url(op), json_body=op.example, headers=headers)
            refused.add(reply.status)
            seen = (reply.status, _json_or_text(reply), reply.headers.get("www-authenticate"))
            if seen != (401, REJECTED, INVALID_CHALLENGE):
                failures.append(f"{name} on {op.name}: {seen}")
        served: set[int] = set()
        for path, reply in read_all(base_url, scene, headers).items():
            served.add(reply.status)
            body = _json_or_text(reply)
            challenge = reply.headers.get("www-authenticate")
            if reply.status != 200 or challenge != INVALID_CHALLENGE:
                failures.append(f"{name} on GET {path}: {reply.status} {challenge} {body}")
            elif any(viewer_flags(scene, path, body)):
                failures.append(f"{name} on GET {path}: a viewer's view: {body}")
            elif body != anonymous[path].json():
                failures.append(f"{name} on GET {path}: not the anonymous view: {body}")
        rows.append((name, refused, served))

    print(f"\n{'attack':<40} {'auth required':>13} {'auth optional':>13}")
    for name, refused, served in rows:
        print(f"{name:<40} {sorted(refused)!s:>13} {sorted(served)!s:>13}")
    assert not failures, "\n".join(failures)

    # Nothing any of them sent changed what the victim or anyone else sees.
    for path, reply in read_all(base_url, scene, {}).items():
        assert reply.json() == anonymous[path].json(), path
    for path, reply in read_all(
        base_url, scene, {"Authorization": f"Token {scene.victim_token}"}
    ).items():
        assert reply.json() == as_victim[path].json(), path
    me = call(base_url, "GET", "/api/user", token=scene.victim_token)
    assert me.status == 200 and me.json()["user"]["bio"] is None, me.body


def _email_of(base_url: str, token: str) -> str:
    email: str = call(base_url, "GET", "/api/user", token=token).json()["user"]["email"]
    return email


def _json_or_text(reply: Reply) -> Any:
    try:
        return reply.json()
    except ValueError:
        return reply.body.decode(errors="replace")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_no_crafted_refresh_token_is_ever_exchanged(base_url: str, sql: Engine) -> None:
    """RefreshToken refuses every crafted refresh token alike, and none harms the real session."""
    victim = victim_session(base_url, None)
    victim_id = user_id_of(sql, victim.token)
    claims_of = jwt.decode(victim.refresh, JWT_SECRET, algorithms=["HS256"])
    family, jti = claims_of["fam"], claims_of["jti"]
    other = victim_session(base_url, None)
    refresh_claims = {"type": "refresh", "fam": family, "jti": jti}
    past = datetime.now(UTC) - timedelta(minutes=5)
    attacks: dict[str, str] = {
        "access token": victim.token,
        "alg none": alg_none(victim_id),
        "wrong key": forge(victim_id, key="not-the-server-key-" + "x" * 32, **refresh_claims),
        "HS512 with the right key": forge(victim_id, algorithm="HS512", **refresh_claims),
        "expired": forge(
            victim_id, exp=past, iat=past - timedelta(hours=1), nbf=past, **refresh_claims
        ),
        "missing fam": forge(victim_id, type="refresh", fam=None, jti=jti),
        "unknown fam": forge(victim_id, type="refresh", fam=str(uuid.uuid4()), jti=jti),
        "another user's session": forge(
            victim_id, type="refresh", fam=family_of(other), jti=str(uuid.uuid4())
        ),
        "tampered sub, signature kept": tampered(other.refresh, victim_id),
        "garbage": "not.a.jwt",
    }
    failures = []
    for name, token in attacks.items():
        reply = call(base_url, "POST", REFRESH, json_body={"refreshToken": token})
        if (reply.status, _json_or_text(reply)) != (401, REJECTED):
            failures.append(f"{name}: {reply.status} {reply.body[:200]!r}")
    assert not failures, "\n".join(failures)
    # none of them touched the victim's session (only a spent token of its own would)
    assert call(base_url, "GET", "/api/user", token=victim.token).status == 200
    assert rotate(base_url, victim).token
