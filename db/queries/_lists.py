"""Pages of articles (filtered, and the feed) and their totals: one statement per page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    ScalarSelect,
    Select,
    String,
    any_,
    bindparam,
    cast,
    exists,
    func,
    select,
    true,
)

from db import counters, driver
from db.models import (
    Article,
    Tag,
    User,
    article_tags,
    favorites,
    follows,
)
from db.queries._articles import ArticleView, article_select, article_view
from db.queries._profiles import VIEWER


@dataclass(frozen=True, slots=True)
class ArticleFilters:
    tag: str | None = None
    author: str | None = None
    favorited: str | None = None


@dataclass(frozen=True, slots=True)
class ListShape:
    """What a list statement filters on, and whether it computes the viewer's flags.

    One statement is built (and memoized) per shape; the values are bound parameters.
    """

    viewer: bool = False
    tag: bool = False
    author: bool = False
    favorited: bool = False
    feed: bool = False


def _id_of(username: str) -> ScalarSelect[int]:
    return select(User.id).where(User.username == bindparam(username)).scalar_subquery()


_TAG_ID = select(Tag.id).where(Tag.name == bindparam("tag")).scalar_subquery()


def filter_conditions(shape: ListShape) -> list[ColumnElement[bool]]:
    # Each filter is a semi-join on an index of its link table (or on articles' author
    # index), with names resolved to ids once: no join with users, so the ordered walk of
    # ix_articles_created_at_id can stop after the page's rows.
    conditions: list[ColumnElement[bool]] = []
    if shape.tag:
        conditions.append(
            exists().where(
                article_tags.c.article_id == Article.id, article_tags.c.tag_id == _TAG_ID
            )
        )
    if shape.author:
        conditions.append(Article.author_id == _id_of("author"))
    if shape.favorited:
        conditions.append(
            exists().where(
                favorites.c.article_id == Article.id, favorites.c.user_id == _id_of("favorited")
            )
        )
    if shape.feed:
        conditions.append(
            exists().where(
                follows.c.follower_id == VIEWER, follows.c.followed_id == Article.author_id
            )
        )
    return conditions


_WRITTEN = func.coalesce(func.sum(User.articles_count), 0)  # articles by the users summed


@cache
def _count_statement(shape: ListShape) -> Select[int]:
    """The number of all matches, from one index or counter where a single filter allows it.

    A link table's primary key makes each of its rows one distinct article, so a lone tag
    or favorited filter counts that table's index entries and never visits articles; no
    filter, a lone author or the feed add up authors' article counters (kept by triggers).
    """
    filters = sum((shape.tag, shape.author, shape.favorited, shape.feed))
    if filters == 0:  # every article: the authors' counters (from ix_users_authors), and
        # every delta not folded into them yet (db/counters.py)
        return select(_WRITTEN + counters.ALL_PENDING_USERS).where(User.articles_count > 0)
    lone = filters == 1
    if lone and shape.tag:
        return (
            select(func.count()).select_from(article_tags).where(article_tags.c.tag_id == _TAG_ID)
        )
    if lone and shape.favorited:
        return (
            select(func.count())
            .select_from(favorites)
            .where(favorites.c.user_id == _id_of("favorited"))
        )
    if lone and shape.author:
        written = (
            select(counters.USER_ARTICLES)
            .select_from(counters.users_with_counts())
            .where(User.username == bindparam("author"))
        )
        return select(func.coalesce(written.scalar_subquery(), 0))
    if lone and shape.feed:
        return (
            # sum() of a bigint is a numeric in PostgreSQL: back to an integer
            select(cast(func.coalesce(func.sum(counters.USER_ARTICLES), 0), BigInteger))
            .select_from(follows)
            .join(counters.users_with_counts(), User.id == follows.c.followed_id)
            .where(follows.c.follower_id == VIEWER)
        )
    return select(func.count()).select_from(Article).where(*filter_conditions(shape))


_LIMIT = bindparam("limit", type_=Integer)
_OFFSET = bindparam("offset", type_=Integer)


def _feed_page_ids() -> Select[int]:
    """The feed page's ids from each followed author's newest articles (PostgreSQL).

    Per author, a walk of ix_articles_author_id_created_at that stops after offset + limit
    rows, so the page reads only followed authors' articles, however many others there are
    (the global index walk would pass over every unfollowed author's newer articles).
    """
    newest = (
        select(Article.id, Article.created_at)
        .where(Article.author_id == follows.c.followed_id)
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(cast(_LIMIT, BigInteger) + _OFFSET)  # an offset near INT32_MAX overflows int
        .lateral("newest")
    )
    return (
        select(newest.c.id)
        .select_from(follows)
        .join(newest, true())
        .where(follows.c.follower_id == VIEWER)
        .order_by(newest.c.created_at.desc(), newest.c.id.desc())
    )


def _tag_page_ids() -> Select[int]:
    """A lone tag's page ids: the first rows of ix_article_tags_tag_id_created_at.

    Each link carries its article's `created_at` (migration 0015), so the tag's links are
    already in the lists' order: the walk stops after the page, however rare or old the tag,
    and the plan is the same whether it is made for the tag asked or for any tag.
    """
    return (
        select(article_tags.c.article_id.label("id"))
        .where(article_tags.c.tag_id == _TAG_ID)
        .order_by(article_tags.c.created_at.desc(), article_tags.c.article_id.desc())
    )


@cache
def _page_statement(shape: ListShape, lateral: bool) -> Select[*tuple[Any, ...]]:
    # The page's ids first (the ordered index walk stops after `limit` rows), then the
    # per-article columns for those rows only, with the total as an uncorrelated subquery
    # that the planner runs once: one statement per page.
    if lateral and shape == ListShape(viewer=True, feed=True):
        ids = _feed_page_ids()
    elif shape.tag and not (shape.author or shape.favorited or shape.feed):
        ids = _tag_page_ids()
    else:
        ids = (
            select(Article.id)
            .where(*filter_conditions(shape))
            .order_by(Article.created_at.desc(), Article.id.desc())
        )
    page = ids.limit(_LIMIT).offset(_OFFSET).subquery("page")
    return (
        article_select(shape.viewer, with_body=False)
        .add_columns(_count_statement(shape).correlate(None).scalar_subquery().label("total"))
        .join(page, page.c.id == Article.id)
        .order_by(Article.created_at.desc(), Article.id.desc())
    )


# The shapes migration 0016's `article_list_page()` runs: the global list and a lone tag's.
_SERVER_PLANNED = frozenset(
    ListShape(viewer=viewer, tag=tag) for viewer in (False, True) for tag in (False, True)
)


@cache
def _server_planned_statement() -> Select[*tuple[Any, ...]]:
    """The page through `article_list_page()`, whose statements PostgreSQL plans once per
    server connection: where psycopg prepares nothing (PgBouncer's transaction pooling),
    `_page_statement`'s would be planned on every run, which costs more than running it."""
    names = list(_page_statement(ListShape(), True).exported_columns.keys())
    tag = bindparam("tag", type_=String)
    page = func.article_list_page(VIEWER, _LIMIT, _OFFSET, tag).table_valued(*names)
    return select(*page.c)


def _page(
    connection: Connection, params: dict[str, Any], shape: ListShape
) -> tuple[list[ArticleView], int]:
    lateral = connection.dialect.name == "postgresql"  # SQLite has no LATERAL
    if lateral and shape in _SERVER_PLANNED and not driver.prepares(connection):
        statement = _server_planned_statement()
    else:
        statement = _page_statement(shape, lateral)
    rows = driver.rows(connection, statement, params)
    if rows:
        total: int = rows[0].total
    elif params["offset"] == 0:
        total = 0
    else:  # past the end: the page is empty, but the count is still wanted
        total = connection.execute(_count_statement(shape), params).scalar_one()
    return [article_view(r, with_body=False) for r in rows], total


def articles(
    connection: Connection, filters: ArticleFilters, viewer_id: int | None, limit: int, offset: int
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
    shape = ListShape(
        viewer=viewer_id is not None,
        tag=filters.tag is not None,
        author=filters.author is not None,
        favorited=filters.favorited is not None,
    )
    return _page(connection, params, shape)


def feed(
    connection: Connection, viewer_id: int, limit: int, offset: int
) -> tuple[list[ArticleView], int]:
    """A page of articles by authors the viewer follows, newest first."""
    params = {"viewer_id": viewer_id, "limit": limit, "offset": offset}
    return _page(connection, params, ListShape(viewer=True, feed=True))


@cache
def _by_ids_statement(viewer: bool, dialect: str) -> Select[*tuple[Any, ...]]:
    # PostgreSQL: one array parameter, so the statement's SQL never changes and takes the
    # driver's fast path; SQLite has no arrays: an IN list, expanded per call.
    ids = (
        Article.id == any_(bindparam("ids", type_=ARRAY(Integer)))
        if dialect == "postgresql"
        else Article.id.in_(bindparam("ids", expanding=True))
    )
    return article_select(viewer, with_body=False).where(ids)


def articles_by_ids(
    connection: Connection, ids: list[int], viewer_id: int | None
) -> list[ArticleView]:
    """The articles `ids` in the list shape, in that order (ids of vanished ones skipped)."""
    if not ids:
        return []
    params = {"ids": ids, "viewer_id": viewer_id}
    statement = _by_ids_statement(viewer_id is not None, connection.dialect.name)
    found = {r.id: r for r in driver.rows(connection, statement, params)}
    return [article_view(found[i], with_body=False) for i in ids if i in found]
