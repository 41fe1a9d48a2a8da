"""Logged-out tokens and session families: revocation, rotation, purges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    delete,
    select,
    update,
)
from sqlalchemy.orm import Session

from db.inserts import insert_ignore
from db.models import (
    RevokedToken,
    TokenFamily,
)


def revoke_token(session: Session, jti: str, expires_at: datetime, now: datetime) -> None:
    """Blocklist a token until its own expiry; purge entries that lapsed."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    insert = insert_ignore(session, RevokedToken)
    session.execute(insert.values(jti=jti, expires_at=expires_at))


PURGE_BATCH = 100


def start_family(
    session: Session, family: str, user_id: int, jti: str, expires_at: datetime, now: datetime
) -> None:
    """A new session whose only live refresh token is `jti`."""
    session.add(
        TokenFamily(
            id=family, user_id=user_id, current_jti=jti, created_at=now, expires_at=expires_at
        )
    )


def rotate_family(
    session: Session, family: str, spent: str, successor: str, expires_at: datetime, now: datetime
) -> bool:
    """`successor` replaces `spent` as the live refresh token, unless another request rotated
    it first (the database decides that race): whether this one did."""
    result = session.execute(
        update(TokenFamily)
        .where(
            TokenFamily.id == family,
            TokenFamily.current_jti == spent,
            TokenFamily.revoked_at.is_(None),
        )
        .values(previous_jti=spent, current_jti=successor, rotated_at=now, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def revoke_family(session: Session, family: str, now: datetime) -> None:
    session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_families(session: Session, user_id: int, now: datetime, keep: str | None) -> None:
    """Revoke every session of the user, but `keep` (the current one) when given."""
    statement = update(TokenFamily).where(
        TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(TokenFamily.id != keep)
    session.execute(statement.values(revoked_at=now))


def purge_families(session: Session, now: datetime, limit: int | None = PURGE_BATCH) -> int:
    """Delete families whose every token has lapsed (at most `limit`); how many went."""
    lapsed = select(TokenFamily.id).where(TokenFamily.expires_at < now)
    if limit is not None:
        lapsed = lapsed.limit(limit)
    result = session.execute(delete(TokenFamily).where(TokenFamily.id.in_(lapsed)))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_revoked_tokens(session: Session, now: datetime) -> int:
    result = session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)
