"""One article: its view (shared with the lists), and what a slug names now or named before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    bindparam,
    exists,
    false,
    func,
    select,
)

from db import driver
from db.models import (
    Article,
    Tag,
    User,
    article_tags,
    favorites,
    slug_history,
)
from db.queries._profiles import VIEWER, ProfileView, following, profile_view

# Tag names are validated to contain no control characters, so this cannot collide.
TAG_SEPARATOR = "\x1f"


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


@cache
def article_select(viewer: bool, with_body: bool) -> Select[*tuple[Any, ...]]:
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
        Article.body if with_body else false().label("body"),
        tag_names.label("tag_names"),
        Article.created_at,
        Article.updated_at,
        favorited.label("favorited"),
        Article.favorites_count,
        User.username,
        User.bio,
        User.image,
        following(viewer, User.id),
    ).join(User, User.id == Article.author_id)


def article_view(row: Row[Any], *, with_body: bool) -> ArticleView:
    tags = sorted(row.tag_names.split(TAG_SEPARATOR)) if row.tag_names else []
    return ArticleView(
        id=row.id,
        slug=row.slug,
        title=row.title,
        description=row.description,
        body=row.body if with_body else None,
        tag_list=tags,
        created_at=row.created_at,
        updated_at=row.updated_at,
        favorited=bool(row.favorited),
        favorites_count=row.favorites_count,
        author=profile_view(row),
    )


@cache
def _article_by_slug(viewer: bool) -> Select[*tuple[Any, ...]]:
    return article_select(viewer, with_body=True).where(Article.slug == bindparam("slug"))


def article(connection: Connection, slug: str, viewer_id: int | None) -> ArticleView | None:
    row = driver.first(
        connection, _article_by_slug(viewer_id is not None), {"slug": slug, "viewer_id": viewer_id}
    )
    return article_view(row, with_body=True) if row else None


# Not "slug": a statement writing articles reserves the column names for its values.
_SLUG = bindparam("path_slug", type_=String)
# The article `slug` names now, or named before a rename; the current name wins. An
# expression, so writes can resolve the slug inside their own statement.
ARTICLE_ID_BY_SLUG = func.coalesce(
    select(Article.id).where(Article.slug == _SLUG).scalar_subquery(),
    select(slug_history.c.article_id).where(slug_history.c.slug == _SLUG).scalar_subquery(),
)
_ARTICLE_ID = select(ARTICLE_ID_BY_SLUG)
_CURRENT_SLUG = (
    select(Article.slug)
    .join(slug_history, slug_history.c.article_id == Article.id)
    .where(slug_history.c.slug == _SLUG)
)


def article_id(connection: Connection, slug: str) -> int | None:
    """The article a slug names now, or named before a rename; the current name wins."""
    found: int | None = connection.execute(_ARTICLE_ID, {"path_slug": slug}).scalar()
    return found


def current_slug(connection: Connection, former: str) -> str | None:
    """Where an article renamed away from `former` lives now."""
    slug: str | None = connection.execute(_CURRENT_SLUG, {"path_slug": former}).scalar()
    return slug


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """What a change to an article must know first: whose it is, what it is called."""

    id: int
    slug: str
    title: str
    author_id: int


_ARTICLE_REF = select(Article.id, Article.slug, Article.title, Article.author_id).where(
    Article.id == ARTICLE_ID_BY_SLUG
)


_ARTICLE_REF_LOCKED = _ARTICLE_REF.with_for_update(key_share=True)


def article_to_change(
    connection: Connection, slug: str, *, lock: bool = False
) -> ArticleRef | None:
    """The article a slug names now or named before a rename, to update or delete it.

    With `lock`, its row is locked (FOR NO KEY UPDATE) until the transaction ends: an edit
    takes the article first (the lock order, db/writes/__init__.py), and one that waited
    for a concurrent deletion finds nothing (a 404) instead of writing to a vanished row.
    """
    statement = _ARTICLE_REF_LOCKED if lock else _ARTICLE_REF
    row = connection.execute(statement, {"path_slug": slug}).first()
    return ArticleRef(row.id, row.slug, row.title, row.author_id) if row is not None else None
