"""The user behind a token, a login's user, session families, and taken names."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    Connection,
    Row,
    Select,
    bindparam,
    exists,
    or_,
    select,
)
from sqlalchemy.orm import Session

from db import driver
from db.models import (
    RevokedToken,
    TokenFamily,
    User,
)
from db.usernames import username_key


@dataclass(frozen=True, slots=True)
class Principal:
    """The user a token names, as a request reads it: the columns views use, no password hash.

    Read-only; a write that changes the user goes through db/writes/.
    """

    id: int
    username: str
    email: str
    bio: str | None
    image: str | None
    email_notifications: bool


PRINCIPAL_COLUMNS = (
    User.id,
    User.username,
    User.email,
    User.bio,
    User.image,
    User.email_notifications,
)

USER_ID_BY_NAME = select(User.id).where(User.username == bindparam("username"))
_USER_BY_EMAIL = select(User).where(User.email == bindparam("email"))
_JTI_REVOKED = exists().where(RevokedToken.jti == bindparam("jti"))
# The token's user unless the token was revoked by a logout: one round trip, reading
# nothing but the principal's columns (an index lookup on the primary key, a probe of the
# blocklist's). Checked on every request, never cached, so a revocation or a deleted user
# refuses the very next request on every worker.
_PRINCIPAL_UNLESS_REVOKED = select(*PRINCIPAL_COLUMNS).where(
    User.id == bindparam("user_id"), ~_JTI_REVOKED
)
# The same, for a token of a session (its family): also refused once the family is revoked.
_PRINCIPAL_UNLESS_REVOKED_IN_FAMILY = _PRINCIPAL_UNLESS_REVOKED.where(
    exists().where(
        TokenFamily.id == bindparam("family"),
        TokenFamily.user_id == User.id,
        TokenFamily.revoked_at.is_(None),
    )
)
_FAMILY_AND_USER = (
    select(TokenFamily, User)
    .join(User, User.id == TokenFamily.user_id)
    .where(TokenFamily.id == bindparam("family"))
)


def principal(row: Row[int, str, str, str | None, str | None, bool]) -> Principal:
    return Principal(row.id, row.username, row.email, row.bio, row.image, row.email_notifications)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(_USER_BY_EMAIL, {"email": email}).first()


def token_user(
    connection: Connection, user_id: int, jti: str, family: str | None = None
) -> Principal | None:
    """The user a token names, unless that token or its family was revoked (or the user is gone).

    A token without a family was issued before sessions existed; it lapses on its own.
    """
    if family is None:
        row = driver.first(connection, _PRINCIPAL_UNLESS_REVOKED, {"user_id": user_id, "jti": jti})
    else:
        row = driver.first(
            connection,
            _PRINCIPAL_UNLESS_REVOKED_IN_FAMILY,
            {"user_id": user_id, "jti": jti, "family": family},
        )
    return principal(row) if row is not None else None


def family_and_user(
    session: Session, family: str, *, fresh: bool = False
) -> tuple[TokenFamily, User] | None:
    """A session's family row with its user: one statement. `fresh` re-reads a loaded row."""
    statement = _FAMILY_AND_USER
    if fresh:
        statement = statement.execution_options(populate_existing=True)
    row = session.execute(statement, {"family": family}).first()
    return (row.TokenFamily, row.User) if row else None


@dataclass(frozen=True, slots=True)
class Taken:
    """Which of a username and an email another user already has."""

    username: bool
    email: bool


@cache
def _taken_statement(by_username: bool, by_email: bool) -> Select[str, str]:
    clauses = []
    if by_username:
        clauses.append(User.username_key == bindparam("username_key"))
    if by_email:
        clauses.append(User.email == bindparam("email"))
    return select(User.username_key, User.email).where(
        or_(*clauses), User.id != bindparam("except_id")
    )


def taken(
    connection: Connection, username: str | None, email: str | None, except_id: int = 0
) -> Taken:
    """Whether another user than `except_id` has the username (or one like it) or the email.

    No statement when neither is asked about.
    """
    key = username_key(username) if username is not None else None
    if key is None and email is None:
        return Taken(username=False, email=False)
    rows = connection.execute(
        _taken_statement(key is not None, email is not None),
        {"username_key": key, "email": email, "except_id": except_id},
    ).all()
    return Taken(
        username=key is not None and any(row.username_key == key for row in rows),
        email=email is not None and any(row.email == email for row in rows),
    )
