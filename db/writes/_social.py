"""Follows and favorites, each one statement, idempotent under races."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Update,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.inserts import dialect_insert
from db.models import (
    Article,
    User,
    favorites,
    follows,
)
from db.queries import (
    ARTICLE_ID_BY_SLUG,
    USER_ID_BY_NAME,
)

_ME = bindparam("me", type_=Integer)
_FOLLOWED = USER_ID_BY_NAME.scalar_subquery()


@cache
def _follow_statement(dialect: str) -> Insert:
    # The name is resolved inside the statement: no such user (or oneself), no row.
    return (
        dialect_insert(dialect, follows)
        .from_select(
            ["follower_id", "followed_id"],
            select(_ME, User.id).where(User.username == bindparam("username"), User.id != _ME),
        )
        .on_conflict_do_nothing()
    )


_UNFOLLOW = delete(follows).where(follows.c.follower_id == _ME, follows.c.followed_id == _FOLLOWED)


def follow(session: Session, follower_id: int, username: str) -> None:
    """Follow the user named, if there is one: one statement, idempotent under races."""
    statement = _follow_statement(session.get_bind().dialect.name)
    session.execute(statement, {"me": follower_id, "username": username})


def unfollow(session: Session, follower_id: int, username: str) -> None:
    session.execute(_UNFOLLOW, {"me": follower_id, "username": username})


_FAN = bindparam("user_id", type_=Integer)
# The fan and the article the slug names: no row when it names none.
_FAN_AND_ARTICLE = select(_FAN, Article.id).where(Article.id == ARTICLE_ID_BY_SLUG)


def _count_by(delta: int, changed: Any) -> Update:
    """Move the counter of the article whose favorites row `changed` returns, if any."""
    return (
        update(Article)
        .where(Article.id.in_(select(changed.c.article_id)))
        .values(favorites_count=Article.favorites_count + delta)
    )


# PostgreSQL: first the article's row is locked (FOR NO KEY UPDATE), in a statement of its
# own: the lock order of db/writes/__init__.py, which an article's deletion (article, then
# its favorites by cascade) follows too. Taken inside the statement below, the lock was
# followed by the counter's UPDATE of the version the statement's snapshot saw, which, when
# another fan had moved the counter meanwhile, queued again for the row behind waiters that
# waited for this transaction: a deadlock. Then the favorites row and the counter in one
# statement: the counter moves only when the row did (the insert's ON CONFLICT or the
# delete found nothing, RETURNING is empty), so the count stays exact under races.
_LOCK_ARTICLE = (
    select(Article.id).where(Article.id == ARTICLE_ID_BY_SLUG).with_for_update(key_share=True)
)
_FAVORITE_PG = _count_by(
    1,
    postgresql.insert(favorites)
    .from_select(["user_id", "article_id"], _FAN_AND_ARTICLE)
    .on_conflict_do_nothing()
    .returning(favorites.c.article_id)
    .cte("added"),
)
_UNFAVORITE_PG = _count_by(
    -1,
    delete(favorites)
    .where(favorites.c.user_id == _FAN, favorites.c.article_id == ARTICLE_ID_BY_SLUG)
    .returning(favorites.c.article_id)
    .cte("removed"),
)
# SQLite has no data-modifying CTEs; it runs one writer at a time, so the row change's
# rowcount, then the counter, in the same transaction is as exact.
_FAVORITE_SQLITE = (
    sqlite.insert(favorites)
    .from_select(["user_id", "article_id"], _FAN_AND_ARTICLE)
    .on_conflict_do_nothing()
)
_UNFAVORITE_SQLITE = delete(favorites).where(
    favorites.c.user_id == _FAN, favorites.c.article_id == ARTICLE_ID_BY_SLUG
)
_COUNT_SQLITE = {
    favor: update(Article)
    .where(Article.id == ARTICLE_ID_BY_SLUG)
    .values(favorites_count=Article.favorites_count + (1 if favor else -1))
    for favor in (True, False)
}


def _move_count(session: Session, user_id: int, slug: str, favor: bool) -> None:
    params = {"user_id": user_id, "path_slug": slug}
    if session.get_bind().dialect.name == "postgresql":
        if session.execute(_LOCK_ARTICLE, params).first() is not None:
            session.execute(_FAVORITE_PG if favor else _UNFAVORITE_PG, params)
        return
    result = session.execute(_FAVORITE_SQLITE if favor else _UNFAVORITE_SQLITE, params)
    if int(getattr(result, "rowcount", 0) or 0) == 1:
        session.execute(_COUNT_SQLITE[favor], params)


def favorite(session: Session, user_id: int, slug: str) -> None:
    """Favorite the article `slug` names (now or before a rename), if there is one."""
    _move_count(session, user_id, slug, favor=True)


def unfavorite(session: Session, user_id: int, slug: str) -> None:
    _move_count(session, user_id, slug, favor=False)
