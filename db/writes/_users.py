"""A new user, and a change to one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    update,
)
from sqlalchemy.orm import Session

from db.models import (
    User,
)
from db.queries import (
    PRINCIPAL_COLUMNS,
    Principal,
    principal,
)
from db.usernames import username_key


def create_user(session: Session, username: str, email: str, password_hash: str) -> User:
    user = User(username=username, email=email, password_hash=password_hash)
    session.add(user)
    return user


def update_user(session: Session, user_id: int, changes: Mapping[str, Any]) -> Principal | None:
    """Set the user's changed columns in one statement and return the user as it now is.

    `changes` maps columns to their new values (at least one); None when the user is gone.
    """
    values = dict(changes)
    if "username" in values:  # the ORM's validator does this for models; here it is explicit
        values["username_key"] = username_key(values["username"])
    row = session.execute(
        update(User)
        .where(User.id == user_id)
        .values(values)
        .returning(*PRINCIPAL_COLUMNS)
        .execution_options(synchronize_session=False)
    ).first()
    return principal(row) if row is not None else None
