"""`Authorization: Token <jwt>`: issuing, verifying, and the current user."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import flask_jwt_extended
from flask import Flask, Response, current_app, g, request
from flask_jwt_extended import (
    create_access_token,
    get_current_user,
    get_jwt,
    verify_jwt_in_request,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from api.context import db_connection, db_session
from api.errors import error_response
from core.settings import Settings
from db import queries, writes
from db.queries import Principal

MISSING = {"token": ["is missing"]}
# One answer for every malformed, expired, forged, revoked or deleted-user token.
INVALID = {"token": ["is invalid"]}
INT32_MAX = 2**31 - 1
# The claim naming a token's session (its family of refresh tokens: api/sessions.py).
FAMILY_CLAIM = "fam"
CHALLENGE = {"WWW-Authenticate": 'Token realm="conduit"'}
# On an optional-auth read a bad token is served as anonymous; this header says so.
INVALID_CHALLENGE = {"WWW-Authenticate": 'Token realm="conduit", error="invalid_token"'}

# Tokens an app has verified, remembered per app (each has its own secret) up to this many.
VERIFIED_KEPT = 4096


class JWTManager(flask_jwt_extended.JWTManager):
    """flask-jwt-extended's, remembering the tokens it has verified until they expire.

    Verifying a token decodes it twice (unverified, to pick the key; then verified), and PyJWT
    checks every character of each segment: a fifth of a create's Python, on every signed-in
    request, for the same few tokens. A token's string holds its signature, so one that
    verified under an app's key verifies again under it; of its claims only `exp` can change
    its answer later (`iat` and `nbf` once passed stay passed), and it is checked on every
    use. Whether the token is revoked or its user gone is asked of the database on every
    request all the same (`_load_user`). Apps keep their own (tests build several, with other
    keys), bounded: past `VERIFIED_KEPT`, all are let go.
    """

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        verified: dict[tuple[str, Any, bool], dict[str, Any]] = current_app.extensions.setdefault(
            "conduit.verified_tokens", {}
        )
        key = (encoded_token, csrf_value, allow_expired)
        claims = verified.get(key)
        if claims is not None:
            if allow_expired or claims["exp"] > time.time() - _leeway():
                return dict(claims)
            del verified[key]  # expired: decoded again, which raises as it should
        decoded: dict[str, Any] = super()._decode_jwt_from_config(
            encoded_token, csrf_value, allow_expired
        )
        if isinstance(decoded.get("exp"), int | float):
            if len(verified) >= VERIFIED_KEPT:
                verified.clear()
            verified[key] = dict(decoded)
        return decoded


def _leeway() -> float:
    leeway = flask_jwt_extended.config.config.leeway
    return float(leeway.total_seconds() if isinstance(leeway, timedelta) else leeway)


jwt = JWTManager()


def configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        JWT_SECRET_KEY=settings.jwt_secret_key,
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_HEADER_NAME="Authorization",
        JWT_HEADER_TYPE="Token",
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.refresh_token_days),
        JWT_IDENTITY_CLAIM="sub",
        REFRESH_GRACE=timedelta(seconds=settings.refresh_grace_seconds),
    )
    jwt.init_app(app)
    app.after_request(challenge_ignored_token)


def _missing(_reason: str) -> Response:
    # flask-jwt-extended also calls `Authorization: Bearer <jwt>` (another scheme) "missing";
    # a client that did send credentials must hear they were rejected, like any bad token.
    if request.headers.get("Authorization", "").strip():
        return _invalid()
    return error_response(401, MISSING, CHALLENGE)


def _invalid(*_args: Any) -> Response:
    return error_response(401, INVALID, INVALID_CHALLENGE)


jwt.unauthorized_loader(_missing)
jwt.invalid_token_loader(_invalid)
jwt.expired_token_loader(_invalid)
jwt.revoked_token_loader(_invalid)
jwt.needs_fresh_token_loader(_invalid)
jwt.token_verification_failed_loader(_invalid)
jwt.user_lookup_error_loader(_invalid)


@jwt.user_lookup_loader
def _load_user(_header: dict[str, Any], payload: dict[str, Any]) -> Principal | None:
    # Every token we issue has both; one without a jti could never be revoked by a logout, and
    # one without an exp would never lapse. Such a token was forged or issued by someone else.
    if not isinstance(payload.get("jti"), str) or payload.get("exp") is None:
        return None
    try:
        user_id = int(payload["sub"])
    except (KeyError, TypeError, ValueError):
        return None
    if not 0 < user_id <= INT32_MAX:  # a larger id cannot exist, and would overflow the query
        return None
    family = payload.get(FAMILY_CLAIM)
    if family is not None and not isinstance(family, str):
        return None
    return queries.token_user(db_connection(), user_id, payload["jti"], family)


def revoke_current_token() -> None:
    """Blocklist the presented token until its own expiry; purge entries that lapsed.

    The caller commits.
    """
    claims = get_jwt()
    writes.revoke_token(
        db_session(),
        claims["jti"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        now=datetime.now(UTC),
    )


def current_family() -> str | None:
    """The session (token family) of the presented token; None for a token from before them."""
    family = get_jwt().get(FAMILY_CLAIM)
    return family if isinstance(family, str) else None


def presented_token() -> str:
    """The access token of this request, as sent (`auth_required` checked it)."""
    return request.headers["Authorization"].split(None, 1)[1].strip()


def access_token_for(user_id: int, family: str) -> str:
    token: str = create_access_token(
        identity=str(user_id), additional_claims={FAMILY_CLAIM: family}
    )
    return token


def require_user() -> Principal:
    """The authenticated user; 401 (via the loaders) when there is none."""
    verify_jwt_in_request()
    user: Principal = get_current_user()
    return user


def optional_user() -> Principal | None:
    """The viewer if a valid token is presented; a bad one is served as anonymous.

    RealWorld frontends log their user out on a 401 from a public read; the
    `WWW-Authenticate` challenge (added by `challenge_ignored_token`) still tells a client
    its token was not taken.
    """
    if not request.headers.get("Authorization", "").strip():
        return None
    try:
        verify_jwt_in_request()
        user: Principal | None = get_current_user()
    except (JWTExtendedException, PyJWTError):
        g.ignored_token = True
        return None
    return user


def challenge_ignored_token(response: Response) -> Response:
    if g.get("ignored_token"):
        response.headers.update(INVALID_CHALLENGE)
    return response
