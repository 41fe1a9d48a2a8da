"""Read queries, each a fixed number of SQL statements whatever the page size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, func, select
from sqlalchemy.orm import Session, aliased

from db.models import (
    Article,
    Comment,
    Tag,
    User,
    article_tags,
    favorites,
    follows,
    slug_history,
)

# Tag names are validated to contain no control characters, so this cannot collide.
TAG_SEPARATOR = "\x1f"


@dataclass(frozen=True, slots=True)
class ProfileView:
    username: str
    bio: str
    image: str
    following: bool


@dataclass(frozen=True, slots=True)
class ArticleView:
    id: int
    slug: str
    title: str
    description: str
    body: str | None
    tag_list: list[str]
    created_at: datetime
    updated_at: datetime
    favorited: bool
    favorites_count: int
    author: ProfileView


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    body: str
    created_at: datetime
    updated_at: datetime
    author: ProfileView


@dataclass(frozen=True, slots=True)
class ArticleFilters:
    tag: str | None = None
    author: str | None = None
    favorited: str | None = None


def _following(viewer_id: int | None, user_id: Any) -> ColumnElement[bool]:
    if viewer_id is None:
        return false()
    return exists().where(follows.c.follower_id == viewer_id, follows.c.followed_id == user_id)


def profile(session: Session, username: str, viewer_id: int | None) -> ProfileView | None:
    row = session.execute(
        select(User.username, User.bio, User.image, _following(viewer_id, User.id)).where(
            User.username == username
        )
    ).first()
    return ProfileView(row[0], row[1], row[2], bool(row[3])) if row else None


def _article_select(viewer_id: int | None, *, with_body: bool) -> Select[*tuple[Any, ...]]:
    favorites_count = (
        select(func.count())
        .select_from(favorites)
        .where(favorites.c.article_id == Article.id)
        .scalar_subquery()
    )
    favorited: ColumnElement[bool] = (
        exists().where(favorites.c.article_id == Article.id, favorites.c.user_id == viewer_id)
        if viewer_id is not None
        else false()
    )
    tag_names = (
        select(func.aggregate_strings(Tag.name, TAG_SEPARATOR))
        .select_from(article_tags.join(Tag, Tag.id == article_tags.c.tag_id))
        .where(article_tags.c.article_id == Article.id)
        .scalar_subquery()
    )
    return select(
        Article.id,
        Article.slug,
        Article.title,
        Article.description,
        Article.body if with_body else false(),
        tag_names,
        Article.created_at,
        Article.updated_at,
        favorited,
        favorites_count,
        User.username,
        User.bio,
        User.image,
        _following(viewer_id, User.id),
    ).join(User, User.id == Article.author_id)


def _article_view(row: Sequence[Any], *, with_body: bool) -> ArticleView:
    tags = sorted(row[5].split(TAG_SEPARATOR)) if row[5] else []
    return ArticleView(
        id=row[0],
        slug=row[1],
        title=row[2],
        description=row[3],
        body=row[4] if with_body else None,
        tag_list=tags,
        created_at=row[6],
        updated_at=row[7],
        favorited=bool(row[8]),
        favorites_count=row[9],
        author=ProfileView(row[10], row[11], row[12], bool(row[13])),
    )


def article(session: Session, slug: str, viewer_id: int | None) -> ArticleView | None:
    row = session.execute(
        _article_select(viewer_id, with_body=True).where(Article.slug == slug)
    ).first()
    return _article_view(row, with_body=True) if row else None


def article_id(session: Session, slug: str) -> int | None:
    """The article a slug names now, or named before a rename; the current name wins."""
    current = select(Article.id).where(Article.slug == slug).scalar_subquery()
    former = select(slug_history.c.article_id).where(slug_history.c.slug == slug).scalar_subquery()
    found: int | None = session.scalar(select(func.coalesce(current, former)))
    return found


def current_slug(session: Session, former: str) -> str | None:
    """Where an article renamed away from `former` lives now."""
    return session.scalar(
        select(Article.slug)
        .join(slug_history, slug_history.c.article_id == Article.id)
        .where(slug_history.c.slug == former)
    )


def _list_conditions(filters: ArticleFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.tag is not None:
        conditions.append(
            Article.id.in_(
                select(article_tags.c.article_id)
                .join(Tag, Tag.id == article_tags.c.tag_id)
                .where(Tag.name == filters.tag)
            )
        )
    if filters.author is not None:
        conditions.append(User.username == filters.author)
    if filters.favorited is not None:
        fan = aliased(User)
        conditions.append(
            Article.id.in_(
                select(favorites.c.article_id)
                .join(fan, fan.id == favorites.c.user_id)
                .where(fan.username == filters.favorited)
            )
        )
    return conditions


def _page(
    session: Session,
    conditions: list[ColumnElement[bool]],
    viewer_id: int | None,
    limit: int,
    offset: int,
) -> tuple[list[ArticleView], int]:
    total = session.execute(
        select(func.count())
        .select_from(Article)
        .join(User, User.id == Article.author_id)
        .where(*conditions)
    ).scalar_one()
    if total <= offset:
        return [], total
    rows = session.execute(
        _article_select(viewer_id, with_body=False)
        .where(*conditions)
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [_article_view(r, with_body=False) for r in rows], total


def articles(
    session: Session, filters: ArticleFilters, viewer_id: int | None, limit: int, offset: int
) -> tuple[list[ArticleView], int]:
    """A page of articles, newest first, and the number of all that match."""
    return _page(session, _list_conditions(filters), viewer_id, limit, offset)


def feed(
    session: Session, viewer_id: int, limit: int, offset: int
) -> tuple[list[ArticleView], int]:
    """A page of articles by authors the viewer follows, newest first."""
    followed = select(follows.c.followed_id).where(follows.c.follower_id == viewer_id)
    return _page(session, [Article.author_id.in_(followed)], viewer_id, limit, offset)


def _comment_select(viewer_id: int | None) -> Select[*tuple[Any, ...]]:
    return select(
        Comment.id,
        Comment.body,
        Comment.created_at,
        Comment.updated_at,
        User.username,
        User.bio,
        User.image,
        _following(viewer_id, User.id),
    ).join(User, User.id == Comment.author_id)


def _comment_view(row: Sequence[Any]) -> CommentView:
    return CommentView(
        row[0], row[1], row[2], row[3], ProfileView(row[4], row[5], row[6], bool(row[7]))
    )


def comments(session: Session, article_id: int, viewer_id: int | None) -> list[CommentView]:
    """An article's comments, newest first."""
    rows = session.execute(
        _comment_select(viewer_id)
        .where(Comment.article_id == article_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    ).all()
    return [_comment_view(r) for r in rows]


def comment(session: Session, comment_id: int, viewer_id: int | None) -> CommentView | None:
    row = session.execute(_comment_select(viewer_id).where(Comment.id == comment_id)).first()
    return _comment_view(row) if row else None


def tags(session: Session) -> list[str]:
    """Tags in use, most used first, then alphabetically."""
    uses = func.count(article_tags.c.article_id)
    return list(
        session.scalars(
            select(Tag.name)
            .join(article_tags, article_tags.c.tag_id == Tag.id)
            .group_by(Tag.id, Tag.name)
            .order_by(uses.desc(), Tag.name)
        )
    )
