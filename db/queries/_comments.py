"""Comments of an article, one comment, and who wrote one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Select,
    bindparam,
    select,
)

from db import driver
from db.models import (
    Comment,
    User,
)
from db.queries._articles import ARTICLE_ID_BY_SLUG
from db.queries._profiles import ProfileView, following, profile_view


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    body: str
    created_at: datetime
    updated_at: datetime
    author: ProfileView


_COMMENT_COLUMNS = (Comment.id, Comment.body, Comment.created_at, Comment.updated_at)


@cache
def _comment_statement(viewer: bool) -> Select[*tuple[Any, ...]]:
    return (
        select(*_COMMENT_COLUMNS, User.username, User.bio, User.image, following(viewer, User.id))
        .join(User, User.id == Comment.author_id)
        .where(Comment.id == bindparam("comment_id"))
    )


@cache
def _comments_statement(viewer: bool) -> Select[*tuple[Any, ...]]:
    # The article's id resolved once, then its comments outer-joined to it: one row with a
    # NULL id when the slug names no article, one with NULL comment columns when it has none.
    # The author join is outer too (NULL with the comment), though a comment always has one.
    article = select(ARTICLE_ID_BY_SLUG.label("id")).cte("article")
    return (
        select(
            article.c.id.label("article_id"),
            *_COMMENT_COLUMNS,
            User.username,
            User.bio,
            User.image,
            following(viewer, User.id),
        )
        .select_from(article)
        .outerjoin(Comment, Comment.article_id == article.c.id)
        .outerjoin(User, User.id == Comment.author_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )


def _comment_view(row: Row[Any]) -> CommentView:
    return CommentView(row.id, row.body, row.created_at, row.updated_at, profile_view(row))


def comments(connection: Connection, slug: str, viewer_id: int | None) -> list[CommentView] | None:
    """The comments of the article a slug names (now or before a rename), newest first.

    One statement; None when the slug names no article.
    """
    rows = driver.rows(
        connection,
        _comments_statement(viewer_id is not None),
        {"path_slug": slug, "viewer_id": viewer_id},
    )
    if rows[0].article_id is None:
        return None
    return [_comment_view(r) for r in rows if r.id is not None]


def comment(connection: Connection, comment_id: int, viewer_id: int | None) -> CommentView | None:
    row = driver.first(
        connection,
        _comment_statement(viewer_id is not None),
        {"comment_id": comment_id, "viewer_id": viewer_id},
    )
    return _comment_view(row) if row else None


_COMMENT_AUTHOR = select(Comment.author_id).where(
    Comment.id == bindparam("comment_id"), Comment.article_id == bindparam("article_id")
)


def comment_author_id(connection: Connection, article_id: int, comment_id: int) -> int | None:
    """Who wrote the comment, if it is one of this article's."""
    found: int | None = connection.execute(
        _COMMENT_AUTHOR, {"article_id": article_id, "comment_id": comment_id}
    ).scalar()
    return found
