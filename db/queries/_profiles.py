"""Profiles as readers see them, and the viewer's `following` flag every author shows."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    Select,
    bindparam,
    exists,
    false,
    select,
)

from db import driver
from db.models import (
    User,
    follows,
)


@dataclass(frozen=True, slots=True)
class ProfileView:
    username: str
    bio: str | None
    image: str | None
    following: bool


# Statements are built once per shape (and memoized) with bound parameters: SQLAlchemy then
# skips both the construction and the cache-key computation on every request.
VIEWER = bindparam("viewer_id", type_=Integer)


def following(viewer: bool, user_id: Any) -> ColumnElement[bool]:
    if not viewer:
        return false().label("following")
    return (
        exists()
        .where(follows.c.follower_id == VIEWER, follows.c.followed_id == user_id)
        .label("following")
    )


def profile_view(row: Row[Any]) -> ProfileView:
    return ProfileView(row.username, row.bio, row.image, bool(row.following))


@cache
def _profile_statement(viewer: bool) -> Select[*tuple[Any, ...]]:
    return select(User.username, User.bio, User.image, following(viewer, User.id)).where(
        User.username == bindparam("username")
    )


def profile(connection: Connection, username: str, viewer_id: int | None) -> ProfileView | None:
    row = driver.first(
        connection,
        _profile_statement(viewer_id is not None),
        {"username": username, "viewer_id": viewer_id},
    )
    return profile_view(row) if row else None
