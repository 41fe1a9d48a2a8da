"""Sessions: rotating refresh tokens with reuse detection, and signing out.

A login starts a session, a *family* of refresh tokens (db.models.TokenFamily). Each refresh
spends the presented refresh token and issues its successor with a new access token; only
the newest may be refreshed. Presenting a spent one means a copy leaked (the thief or the
owner refreshed first), so the whole family is revoked: its refresh and access tokens alike,
for every worker, since the state lives in the database. One exception, the grace window
(`REFRESH_GRACE_SECONDS`): the refresh token spent last, presented again within that window,
is answered with its successor again (two tabs refreshing at once), and kills nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from flask import current_app, g
from flask_jwt_extended import create_refresh_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from sqlalchemy import select

from api.auth import CHALLENGE, FAMILY_CLAIM, INVALID, access_token_for
from api.context import db_session
from api.errors import fail_with
from db import queries, writes
from db.models import TokenFamily, User


@dataclass(frozen=True, slots=True)
class Tokens:
    access: str
    refresh: str


def _lifetime(kind: str) -> timedelta:
    lifetime: timedelta = current_app.config[f"JWT_{kind}_TOKEN_EXPIRES"]
    return lifetime


def _issue(user_id: int, family: str, refresh_jti: str) -> Tokens:
    g.session_user_id = user_id  # whose reads must see this request's writes (replicas)
    refresh: str = create_refresh_token(
        identity=str(user_id), additional_claims={FAMILY_CLAIM: family, "jti": refresh_jti}
    )
    return Tokens(access=access_token_for(user_id, family), refresh=refresh)


def _expiry(now: datetime) -> datetime:
    """When every token issued now has lapsed: the family's row may be purged after it."""
    return now + max(_lifetime("ACCESS"), _lifetime("REFRESH"))


def start(user_id: int) -> Tokens:
    """A new session for the user (login, registration). The caller commits."""
    now = datetime.now(UTC)
    family, jti = str(uuid.uuid4()), str(uuid.uuid4())
    writes.start_family(db_session(), family, user_id, jti, expires_at=_expiry(now), now=now)
    return _issue(user_id, family, jti)


def _invalid() -> NoReturn:
    db_session().commit()  # a revocation decided on the way stands
    fail_with(401, INVALID, CHALLENGE)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def _in_grace(family: TokenFamily, jti: str, now: datetime) -> bool:
    grace: timedelta = current_app.config["REFRESH_GRACE"]
    return (
        bool(grace)
        and family.previous_jti == jti
        and family.rotated_at is not None
        and now - _aware(family.rotated_at) <= grace
    )


def refresh(raw: str) -> tuple[User, Tokens]:
    """Rotate the session of a refresh token: the user and the new tokens, or a 401.

    Commits: the rotation, or the family's revocation when the token was spent.
    """
    try:
        claims = decode_token(raw)
    except (JWTExtendedException, PyJWTError):
        _invalid()
    family_id, jti = claims.get(FAMILY_CLAIM), claims.get("jti")
    if (
        claims.get("type") != "refresh"
        or not isinstance(family_id, str)
        or not isinstance(jti, str)
    ):
        _invalid()
    session = db_session()
    now = datetime.now(UTC)
    writes.purge_families(session, now)
    found = queries.family_and_user(session, family_id)
    if found is None or found[0].revoked_at is not None or str(found[1].id) != claims["sub"]:
        _invalid()
    family, user = found
    successor = str(uuid.uuid4())
    if family.current_jti == jti and writes.rotate_family(
        session, family_id, jti, successor, expires_at=_expiry(now), now=now
    ):
        session.commit()
        return user, _issue(user.id, family_id, successor)
    # Spent: by another tab a moment ago (the grace window), else by whoever holds a copy.
    again = queries.family_and_user(session, family_id, fresh=True)
    if again is not None and again[0].revoked_at is None and _in_grace(again[0], jti, now):
        family = again[0]
        session.commit()
        return user, _issue(user.id, family_id, family.current_jti)
    writes.revoke_family(session, family_id, now)
    _invalid()


def credential(user_id: int) -> str:
    """What changes when the user's password does: a digest of its hash (none of it)."""
    found = db_session().execute(select(User.password_hash).where(User.id == user_id)).scalar()
    return _digest(found or "")


def _digest(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()


def resume(user_id: int, family_id: str, credential_then: str) -> Tokens | None:
    """The tokens of a session that is still what it was when it started, or None.

    For an idempotent replay of the answer that started the session: it gets that same
    session again (its newest refresh token, re-signed), never a new one, and nothing at all
    once the session was ended (logout, logout everywhere, reuse of a spent token), has
    lapsed, or the password changed since (which keeps the changer's own session alive).
    """
    found = queries.family_and_user(db_session(), family_id)
    if found is None:
        return None
    family, user = found
    live = (
        family.revoked_at is None
        and _aware(family.expires_at) > datetime.now(UTC)
        and user.id == user_id
        and _digest(user.password_hash) == credential_then
    )
    return _issue(user.id, family_id, family.current_jti) if live else None


def end(family: str | None) -> None:
    """Revoke one session (logout). The caller commits."""
    if family is not None:
        writes.revoke_family(db_session(), family, datetime.now(UTC))


def end_all(user_id: int, keep: str | None = None) -> None:
    """Revoke every session of the user but `keep` (a password change keeps its own)."""
    writes.revoke_families(db_session(), user_id, datetime.now(UTC), keep)
