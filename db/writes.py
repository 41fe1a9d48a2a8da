"""Write operations. Callers commit; constraint violations surface as IntegrityError."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Select,
    String,
    TableClause,
    Update,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import driver
from db.errors import is_unique_violation
from db.models import (
    Article,
    Base,
    Comment,
    RevokedToken,
    Tag,
    TokenFamily,
    User,
    article_tags,
    favorites,
    follows,
    slug_history,
    utcnow,
)
from db.queries import (
    ARTICLE_ID_BY_SLUG,
    PRINCIPAL_COLUMNS,
    USER_ID_BY_NAME,
    ArticleRef,
    ArticleView,
    Principal,
    ProfileView,
    principal,
)
from db.slugs import FREE_SLUG, slugify
from db.usernames import username_key

SLUG_ATTEMPTS = 5
SLUG_UNIQUE = "uq_articles_slug"


def insert_ignore(session: Session, table: TableClause | type[Base]) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for the session's backend: idempotent under races."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


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


def revoke_token(session: Session, jti: str, expires_at: datetime, now: datetime) -> None:
    """Blocklist a token until its own expiry; purge entries that lapsed."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    insert = insert_ignore(session, RevokedToken)
    session.execute(insert.values(jti=jti, expires_at=expires_at))


PURGE_BATCH = 100


def start_family(
    session: Session, family: str, user_id: int, jti: str, expires_at: datetime, now: datetime
) -> None:
    """A new session whose only live refresh token is `jti`."""
    session.add(
        TokenFamily(
            id=family, user_id=user_id, current_jti=jti, created_at=now, expires_at=expires_at
        )
    )


def rotate_family(
    session: Session, family: str, spent: str, successor: str, expires_at: datetime, now: datetime
) -> bool:
    """`successor` replaces `spent` as the live refresh token, unless another request rotated
    it first (the database decides that race): whether this one did."""
    result = session.execute(
        update(TokenFamily)
        .where(
            TokenFamily.id == family,
            TokenFamily.current_jti == spent,
            TokenFamily.revoked_at.is_(None),
        )
        .values(previous_jti=spent, current_jti=successor, rotated_at=now, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def revoke_family(session: Session, family: str, now: datetime) -> None:
    session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_families(session: Session, user_id: int, now: datetime, keep: str | None) -> None:
    """Revoke every session of the user, but `keep` (the current one) when given."""
    statement = update(TokenFamily).where(
        TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(TokenFamily.id != keep)
    session.execute(statement.values(revoked_at=now))


def purge_families(session: Session, now: datetime, limit: int | None = PURGE_BATCH) -> int:
    """Delete families whose every token has lapsed (at most `limit`); how many went."""
    lapsed = select(TokenFamily.id).where(TokenFamily.expires_at < now)
    if limit is not None:
        lapsed = lapsed.limit(limit)
    result = session.execute(delete(TokenFamily).where(TokenFamily.id.in_(lapsed)))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_revoked_tokens(session: Session, now: datetime) -> int:
    result = session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


_ME = bindparam("me", type_=Integer)
_FOLLOWED = USER_ID_BY_NAME.scalar_subquery()


@cache
def _follow_statement(dialect: str) -> Insert:
    # The name is resolved inside the statement: no such user (or oneself), no row.
    return (
        _insert(dialect, follows)
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


# PostgreSQL: the slug's article, its favorites row and its counter in one statement. The
# counter moves only when the row did (the insert's ON CONFLICT or the delete found
# nothing, RETURNING is empty), and the UPDATE's row lock serializes concurrent fans, so
# the count stays exact under races.
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


# Core tables, not the models: an ORM insert given a dict of parameters is a bulk insert.
_ARTICLES = Base.metadata.tables["articles"]
_TAGS = Base.metadata.tables["tags"]


def _insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@cache
def _insert_article(dialect: str) -> Insert:
    """Store a new article under the free slug, computed in the same statement.

    Nothing is stored (and no row returned) when a concurrent create took that slug first:
    the caller asks again. `new_slug`, when bound, replaces the computed one.
    """
    return (
        _insert(dialect, _ARTICLES)
        .values(
            slug=func.coalesce(bindparam("new_slug", type_=String), FREE_SLUG),
            title=bindparam("new_title"),
            description=bindparam("new_description"),
            body=bindparam("new_body"),
            author_id=bindparam("new_author_id"),
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["slug"])
        .returning(_ARTICLES.c.id, _ARTICLES.c.slug)
    )


def _names(dialect: str) -> Any:
    """The bound list of tag names as a one-column table (`value`) on either backend."""
    if dialect == "postgresql":
        names = func.unnest(bindparam("names", type_=ARRAY(String)))
        return names.table_valued("value").render_derived()
    return func.json_each(bindparam("names", type_=String)).table_valued("value")


@cache
def _tag_statements(dialect: str) -> tuple[Insert, Insert]:
    """All new tags in one statement, then all of the article's links in one."""
    names = _names(dialect)
    new_tags = (
        _insert(dialect, _TAGS)
        # the WHERE tells SQLite's parser the ON CONFLICT is the insert's, not a join's
        .from_select(["name"], select(names.c.value).where(true()))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    # A separate statement: it must see a tag that a concurrent create inserted and
    # committed while the first statement waited on its conflict.
    links = insert(article_tags).from_select(
        ["article_id", "tag_id"],
        select(bindparam("article_id", type_=Integer), Tag.id).where(
            Tag.name.in_(select(_names(dialect).c.value))
        ),
    )
    return new_tags, links


@cache
def _lock_tags() -> Select[int]:
    """Lock the article's current tags and the wanted ones (PostgreSQL), in id order."""
    linked = select(article_tags.c.tag_id).where(
        article_tags.c.article_id == bindparam("article_id", type_=Integer)
    )
    wanted = select(_names("postgresql").c.value)
    return (
        select(Tag.id)
        .where(or_(Tag.id.in_(linked), Tag.name.in_(wanted)))
        .order_by(Tag.id)
        .with_for_update(key_share=True)
    )


def _bound_names(dialect: str, names: list[str]) -> Any:
    return names if dialect == "postgresql" else json.dumps(names)


def set_tags(
    session: Session, article_id: int, names: Iterable[str], *, new: bool = False
) -> list[str]:
    """Replace the article's tags (a `new` article has none yet); the sorted names.

    New tags are created race-free; names go in sorted, so concurrent creates take the
    tags' index locks in one order.
    """
    wanted = sorted(set(names))
    dialect = session.get_bind().dialect.name
    new_tags, links = _tag_statements(dialect)
    params = {"names": _bound_names(dialect, wanted), "article_id": article_id}
    if wanted:
        driver.execute(session.connection(), new_tags, params)
    if not new:
        if dialect == "postgresql":
            # The triggers that count links lock a statement's tags in id order; removing
            # the old links and adding the new ones are two statements, so take both sets'
            # locks at once first, in that order, after the new names' (migration 0010).
            session.execute(_lock_tags(), params)
        session.execute(delete(article_tags).where(article_tags.c.article_id == article_id))
    if wanted:
        driver.execute(session.connection(), links, params)
    return wanted


def create_article(
    session: Session,
    author: Principal,
    title: str,
    description: str,
    body: str,
    tag_names: Iterable[str],
) -> ArticleView:
    """Store the article with its tags; the view of it, from what was written (no re-read)."""
    # One instant for both timestamps: two column defaults can straddle a millisecond,
    # and a new article must not look edited.
    now = utcnow()
    statement = _insert_article(session.get_bind().dialect.name)
    params = {
        "base": slugify(title),
        "owner_id": 0,
        "new_slug": None,
        "new_title": title,
        "new_description": description,
        "new_body": body,
        "new_author_id": author.id,
        "now": now,
    }
    for attempt in range(SLUG_ATTEMPTS):
        if attempt == SLUG_ATTEMPTS - 1:  # crowded out every time: a suffix nobody counts to
            params["new_slug"] = f"{params['base']}-{secrets.token_hex(4)}"
        row = driver.first(session.connection(), statement, params)
        if row is not None:
            break
    else:
        raise RuntimeError("could not allocate a slug")  # pragma: no cover
    return ArticleView(
        id=row.id,
        slug=row.slug,
        title=title,
        description=description,
        body=body,
        tag_list=set_tags(session, row.id, tag_names, new=True),
        created_at=now,
        updated_at=now,
        favorited=False,
        favorites_count=0,
        # nobody follows themself (a 403), so the author's own view says false
        author=ProfileView(author.username, author.bio, author.image, following=False),
    )


def _rename(session: Session, article: ArticleRef, values: dict[str, Any]) -> str:
    """Store `values` with a slug from the new title, allocated in the same UPDATE; the slug.

    The old slug goes to the history, so links to it keep resolving.
    """
    params = {"base": slugify(values["title"]), "owner_id": article.id}
    where = _ARTICLES.c.id == article.id
    for attempt in range(SLUG_ATTEMPTS):
        free = (
            FREE_SLUG if attempt < SLUG_ATTEMPTS - 1 else f"{params['base']}-{secrets.token_hex(4)}"
        )
        statement = update(_ARTICLES).where(where).values({**values, "slug": free})
        try:
            with session.begin_nested():  # an UPDATE has no ON CONFLICT: a lost race retries
                slug: str = session.execute(
                    statement.returning(_ARTICLES.c.slug), params
                ).scalar_one()
            break
        except IntegrityError as error:
            if not is_unique_violation(error, SLUG_UNIQUE):  # another article took the slug
                raise
    else:
        raise RuntimeError("could not allocate a slug")  # pragma: no cover
    # Renaming back to a former title takes the slug back out of the article's own history.
    session.execute(delete(slug_history).where(slug_history.c.slug == slug))
    if slug != article.slug:
        session.execute(slug_history.insert().values(slug=article.slug, article_id=article.id))
    return slug


def update_article(session: Session, article: ArticleRef, changes: Mapping[str, Any]) -> str:
    """Apply an update's fields (`title`, `description`, `body`, `tag_list`), each optional,
    in one UPDATE; the article's slug now.

    A new title gives a new slug; `tag_list` replaces the tags.
    """
    values = {field: changes[field] for field in ("description", "body") if field in changes}
    renamed = "title" in changes and changes["title"] != article.title
    if renamed:
        values["title"] = changes["title"]
    if changes:  # a body of fields it does not define (read-only ones) changes nothing
        values["updated_at"] = utcnow()
    slug = article.slug
    if renamed:
        slug = _rename(session, article, values)
    elif values:
        session.execute(update(_ARTICLES).where(_ARTICLES.c.id == article.id).values(values))
    if "tag_list" in changes:
        set_tags(session, article.id, changes["tag_list"])
    return slug


def delete_article(session: Session, article_id: int) -> None:
    # The database cascades to comments, tag links, favorites and slug history.
    session.execute(delete(Article).where(Article.id == article_id))


def add_comment(session: Session, article_id: int, author_id: int, body: str) -> Comment:
    now = utcnow()  # one instant for both timestamps, as for articles
    comment = Comment(
        body=body, article_id=article_id, author_id=author_id, created_at=now, updated_at=now
    )
    session.add(comment)
    return comment


def delete_comment(session: Session, comment_id: int) -> None:
    session.execute(delete(Comment).where(Comment.id == comment_id))
