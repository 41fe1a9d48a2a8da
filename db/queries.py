"""Read queries, each a fixed number of SQL statements whatever the page size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Row,
    ScalarSelect,
    Select,
    String,
    bindparam,
    cast,
    exists,
    false,
    func,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from db import driver
from db.errors import DatabaseUnavailable, is_disconnect
from db.models import (
    Article,
    Comment,
    RevokedToken,
    Tag,
    TokenFamily,
    User,
    article_tags,
    favorites,
    follows,
    slug_history,
)
from db.usernames import username_key

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


@dataclass(frozen=True, slots=True)
class Taken:
    """Which of a username and an email another user already has."""

    username: bool
    email: bool


# Statements are built once per shape (and memoized) with bound parameters: SQLAlchemy then
# skips both the construction and the cache-key computation on every request.
VIEWER = bindparam("viewer_id", type_=Integer)


def _following(viewer: bool, user_id: Any) -> ColumnElement[bool]:
    if not viewer:
        return false().label("following")
    return (
        exists()
        .where(follows.c.follower_id == VIEWER, follows.c.followed_id == user_id)
        .label("following")
    )


def _profile_view(row: Row[Any]) -> ProfileView:
    return ProfileView(row.username, row.bio, row.image, bool(row.following))


@cache
def _profile_statement(viewer: bool) -> Select[*tuple[Any, ...]]:
    return select(User.username, User.bio, User.image, _following(viewer, User.id)).where(
        User.username == bindparam("username")
    )


def profile(connection: Connection, username: str, viewer_id: int | None) -> ProfileView | None:
    row = driver.first(
        connection,
        _profile_statement(viewer_id is not None),
        {"username": username, "viewer_id": viewer_id},
    )
    return _profile_view(row) if row else None


@dataclass(frozen=True, slots=True)
class Principal:
    """The user a token names, as a request reads it: the columns views use, no password hash.

    Read-only; a write that changes the user goes through db/writes.py.
    """

    id: int
    username: str
    email: str
    bio: str | None
    image: str | None


PRINCIPAL_COLUMNS = (User.id, User.username, User.email, User.bio, User.image)

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


def principal(row: Row[int, str, str, str | None, str | None]) -> Principal:
    return Principal(row.id, row.username, row.email, row.bio, row.image)


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


@cache
def _article_select(viewer: bool, with_body: bool) -> Select[*tuple[Any, ...]]:
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
        _following(viewer, User.id),
    ).join(User, User.id == Article.author_id)


def _article_view(row: Row[Any], *, with_body: bool) -> ArticleView:
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
        author=_profile_view(row),
    )


@cache
def _article_by_slug(viewer: bool) -> Select[*tuple[Any, ...]]:
    return _article_select(viewer, with_body=True).where(Article.slug == bindparam("slug"))


def article(connection: Connection, slug: str, viewer_id: int | None) -> ArticleView | None:
    row = driver.first(
        connection, _article_by_slug(viewer_id is not None), {"slug": slug, "viewer_id": viewer_id}
    )
    return _article_view(row, with_body=True) if row else None


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


def article_to_change(connection: Connection, slug: str) -> ArticleRef | None:
    """The article a slug names now or named before a rename, to update or delete it."""
    row = connection.execute(_ARTICLE_REF, {"path_slug": slug}).first()
    return ArticleRef(row.id, row.slug, row.title, row.author_id) if row is not None else None


def _id_of(username: str) -> ScalarSelect[int]:
    return select(User.id).where(User.username == bindparam(username)).scalar_subquery()


_TAG_ID = select(Tag.id).where(Tag.name == bindparam("tag")).scalar_subquery()


def _conditions(shape: ListShape) -> list[ColumnElement[bool]]:
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
    if filters == 0:  # every article: the authors' counters, from ix_users_authors
        return select(_WRITTEN).where(User.articles_count > 0)
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
        written = select(User.articles_count).where(User.username == bindparam("author"))
        return select(func.coalesce(written.scalar_subquery(), 0))
    if lone and shape.feed:
        return (
            select(_WRITTEN)
            .select_from(follows)
            .join(User, User.id == follows.c.followed_id)
            .where(follows.c.follower_id == VIEWER)
        )
    return select(func.count()).select_from(Article).where(*_conditions(shape))


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


@cache
def _page_statement(shape: ListShape, lateral: bool) -> Select[*tuple[Any, ...]]:
    # The page's ids first (the ordered index walk stops after `limit` rows), then the
    # per-article columns for those rows only, with the total as an uncorrelated subquery
    # that the planner runs once: one statement per page.
    if lateral and shape == ListShape(viewer=True, feed=True):
        ids = _feed_page_ids()
    else:
        ids = (
            select(Article.id)
            .where(*_conditions(shape))
            .order_by(Article.created_at.desc(), Article.id.desc())
        )
    page = ids.limit(_LIMIT).offset(_OFFSET).subquery("page")
    return (
        _article_select(shape.viewer, with_body=False)
        .add_columns(_count_statement(shape).correlate(None).scalar_subquery().label("total"))
        .join(page, page.c.id == Article.id)
        .order_by(Article.created_at.desc(), Article.id.desc())
    )


def _page(
    connection: Connection, params: dict[str, Any], shape: ListShape
) -> tuple[list[ArticleView], int]:
    lateral = connection.dialect.name == "postgresql"  # SQLite has no LATERAL
    rows = driver.rows(connection, _page_statement(shape, lateral), params)
    if rows:
        total: int = rows[0].total
    elif params["offset"] == 0:
        total = 0
    else:  # past the end: the page is empty, but the count is still wanted
        total = connection.execute(_count_statement(shape), params).scalar_one()
    return [_article_view(r, with_body=False) for r in rows], total


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


_COMMENT_COLUMNS = (Comment.id, Comment.body, Comment.created_at, Comment.updated_at)


@cache
def _comment_statement(viewer: bool) -> Select[*tuple[Any, ...]]:
    return (
        select(*_COMMENT_COLUMNS, User.username, User.bio, User.image, _following(viewer, User.id))
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
            _following(viewer, User.id),
        )
        .select_from(article)
        .outerjoin(Comment, Comment.article_id == article.c.id)
        .outerjoin(User, User.id == Comment.author_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )


def _comment_view(row: Row[Any]) -> CommentView:
    return CommentView(row.id, row.body, row.created_at, row.updated_at, _profile_view(row))


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


# A walk of ix_tags_in_use: the counters are kept by triggers (migration 0010).
_TAGS = select(Tag.name).where(Tag.articles_count > 0).order_by(Tag.articles_count.desc(), Tag.name)


def tags(connection: Connection) -> list[str]:
    """Tags in use, most used first, then alphabetically."""
    return [row.name for row in driver.rows(connection, _TAGS, {})]


_SCHEMA_VERSION = text("SELECT version_num FROM alembic_version")


def schema_version(session: Session) -> str | None:
    """The migration the schema is at; DatabaseUnavailable when it cannot be read.

    A connection lost since its last use (the pool had it from before a restart) is retried
    once on a new one, so readiness does not fail once after every database restart.
    """
    for retry in (True, False):
        try:
            version: str | None = session.execute(_SCHEMA_VERSION).scalar()
        except DBAPIError as error:
            if retry and is_disconnect(error):
                session.rollback()
                continue
            raise DatabaseUnavailable from error
        except SQLAlchemyError as error:
            raise DatabaseUnavailable from error
        return version
    raise AssertionError("unreachable")  # pragma: no cover
