"""Read queries, each a fixed number of SQL statements whatever the page size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    false,
    func,
    select,
)
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
    bio: str | None
    image: str | None
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


# Statements are built once per shape (and memoized) with bound parameters: SQLAlchemy then
# skips both the construction and the cache-key computation on every request.
VIEWER = bindparam("viewer_id", type_=Integer)


def _following(viewer: bool, user_id: Any) -> ColumnElement[bool]:
    if not viewer:
        return false()
    return exists().where(follows.c.follower_id == VIEWER, follows.c.followed_id == user_id)


@cache
def _profile_statement(viewer: bool) -> Select[*tuple[Any, ...]]:
    return select(User.username, User.bio, User.image, _following(viewer, User.id)).where(
        User.username == bindparam("username")
    )


def profile(session: Session, username: str, viewer_id: int | None) -> ProfileView | None:
    row = session.execute(
        _profile_statement(viewer_id is not None), {"username": username, "viewer_id": viewer_id}
    ).first()
    return ProfileView(row[0], row[1], row[2], bool(row[3])) if row else None


@cache
def _article_select(viewer: bool, with_body: bool) -> Select[*tuple[Any, ...]]:
    favorites_count = (
        select(func.count())
        .select_from(favorites)
        .where(favorites.c.article_id == Article.id)
        .scalar_subquery()
    )
    favorited: ColumnElement[bool] = (
        exists().where(favorites.c.article_id == Article.id, favorites.c.user_id == VIEWER)
        if viewer
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
        _following(viewer, User.id),
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


@cache
def _article_by_slug(viewer: bool) -> Select[*tuple[Any, ...]]:
    return _article_select(viewer, True).where(Article.slug == bindparam("slug"))


def article(session: Session, slug: str, viewer_id: int | None) -> ArticleView | None:
    row = session.execute(
        _article_by_slug(viewer_id is not None), {"slug": slug, "viewer_id": viewer_id}
    ).first()
    return _article_view(row, with_body=True) if row else None


_SLUG = bindparam("slug", type_=String)
_ARTICLE_ID = select(
    func.coalesce(
        select(Article.id).where(Article.slug == _SLUG).scalar_subquery(),
        select(slug_history.c.article_id).where(slug_history.c.slug == _SLUG).scalar_subquery(),
    )
)
_CURRENT_SLUG = (
    select(Article.slug)
    .join(slug_history, slug_history.c.article_id == Article.id)
    .where(slug_history.c.slug == _SLUG)
)


def article_id(session: Session, slug: str) -> int | None:
    """The article a slug names now, or named before a rename; the current name wins."""
    found: int | None = session.execute(_ARTICLE_ID, {"slug": slug}).scalar()
    return found


def current_slug(session: Session, former: str) -> str | None:
    """Where an article renamed away from `former` lives now."""
    slug: str | None = session.execute(_CURRENT_SLUG, {"slug": former}).scalar()
    return slug


def _conditions(
    viewer: bool, tag: bool, author: bool, favorited: bool, feed: bool
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if tag:
        conditions.append(
            Article.id.in_(
                select(article_tags.c.article_id)
                .join(Tag, Tag.id == article_tags.c.tag_id)
                .where(Tag.name == bindparam("tag"))
            )
        )
    if author:
        conditions.append(User.username == bindparam("author"))
    if favorited:
        fan = aliased(User)
        conditions.append(
            Article.id.in_(
                select(favorites.c.article_id)
                .join(fan, fan.id == favorites.c.user_id)
                .where(fan.username == bindparam("favorited"))
            )
        )
    if feed:
        followed = select(follows.c.followed_id).where(follows.c.follower_id == VIEWER)
        conditions.append(Article.author_id.in_(followed))
    return conditions


@cache
def _page_statement(
    viewer: bool, tag: bool, author: bool, favorited: bool, feed: bool
) -> Select[*tuple[Any, ...]]:
    # The page's ids with the number of all matches (a window count) in a subquery, so the
    # per-article subqueries run for the page's rows only: one statement per page.
    page = (
        select(Article.id, func.count().over().label("total"))
        .join(User, User.id == Article.author_id)
        .where(*_conditions(viewer, tag, author, favorited, feed))
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    return (
        _article_select(viewer, False)
        .add_columns(page.c.total)
        .join(page, page.c.id == Article.id)
        .order_by(Article.created_at.desc(), Article.id.desc())
    )


@cache
def _count_statement(
    viewer: bool, tag: bool, author: bool, favorited: bool, feed: bool
) -> Select[int]:
    return (
        select(func.count())
        .select_from(Article)
        .join(User, User.id == Article.author_id)
        .where(*_conditions(viewer, tag, author, favorited, feed))
    )


def _page(
    session: Session,
    params: dict[str, Any],
    shape: tuple[bool, bool, bool, bool, bool],
) -> tuple[list[ArticleView], int]:
    rows = session.execute(_page_statement(*shape), params).all()
    if rows:
        total: int = rows[0][-1]
    elif params["offset"] == 0:
        total = 0
    else:  # past the end: the page is empty, but the count is still wanted
        total = session.execute(_count_statement(*shape), params).scalar_one()
    return [_article_view(r, with_body=False) for r in rows], total


def articles(
    session: Session, filters: ArticleFilters, viewer_id: int | None, limit: int, offset: int
) -> tuple[list[ArticleView], int]:
    """A page of articles, newest first, and the number of all that match."""
    params = {
        "viewer_id": viewer_id,
        "limit": limit,
        "offset": offset,
        "tag": filters.tag,
        "author": filters.author,
        "favorited": filters.favorited,
    }
    shape = (
        viewer_id is not None,
        filters.tag is not None,
        filters.author is not None,
        filters.favorited is not None,
        False,
    )
    return _page(session, params, shape)


def feed(
    session: Session, viewer_id: int, limit: int, offset: int
) -> tuple[list[ArticleView], int]:
    """A page of articles by authors the viewer follows, newest first."""
    params = {"viewer_id": viewer_id, "limit": limit, "offset": offset}
    return _page(session, params, (True, False, False, False, True))


@cache
def _comment_statement(viewer: bool, by_id: bool) -> Select[*tuple[Any, ...]]:
    statement = select(
        Comment.id,
        Comment.body,
        Comment.created_at,
        Comment.updated_at,
        User.username,
        User.bio,
        User.image,
        _following(viewer, User.id),
    ).join(User, User.id == Comment.author_id)
    if by_id:
        return statement.where(Comment.id == bindparam("comment_id"))
    return statement.where(Comment.article_id == bindparam("article_id")).order_by(
        Comment.created_at.desc(), Comment.id.desc()
    )


def _comment_view(row: Sequence[Any]) -> CommentView:
    return CommentView(
        row[0], row[1], row[2], row[3], ProfileView(row[4], row[5], row[6], bool(row[7]))
    )


def comments(session: Session, article_id: int, viewer_id: int | None) -> list[CommentView]:
    """An article's comments, newest first."""
    rows = session.execute(
        _comment_statement(viewer_id is not None, False),
        {"article_id": article_id, "viewer_id": viewer_id},
    ).all()
    return [_comment_view(r) for r in rows]


def comment(session: Session, comment_id: int, viewer_id: int | None) -> CommentView | None:
    row = session.execute(
        _comment_statement(viewer_id is not None, True),
        {"comment_id": comment_id, "viewer_id": viewer_id},
    ).first()
    return _comment_view(row) if row else None


_TAGS = (
    select(Tag.name)
    .join(article_tags, article_tags.c.tag_id == Tag.id)
    .group_by(Tag.id, Tag.name)
    .order_by(func.count(article_tags.c.article_id).desc(), Tag.name)
)


def tags(session: Session) -> list[str]:
    """Tags in use, most used first, then alphabetically."""
    return list(session.scalars(_TAGS))
