"""Write operations. Callers commit; constraint violations surface as IntegrityError."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Integer, TableClause, Update, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.errors import is_unique_violation
from db.models import (
    SLUG_MAX,
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
from db.queries import PRINCIPAL_COLUMNS, Principal, principal
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


def follow(session: Session, follower_id: int, followed_id: int) -> None:
    stmt = insert_ignore(session, follows)
    session.execute(stmt.values(follower_id=follower_id, followed_id=followed_id))


def unfollow(session: Session, follower_id: int, followed_id: int) -> None:
    session.execute(
        delete(follows).where(
            follows.c.follower_id == follower_id, follows.c.followed_id == followed_id
        )
    )


_FAN = bindparam("user_id", type_=Integer)
_ARTICLE = bindparam("article_id", type_=Integer)


def _count_by(delta: int, changed: Any) -> Update:
    """Move the counter of the article whose favorites row `changed` returns, if any."""
    return (
        update(Article)
        .where(Article.id.in_(select(changed.c.article_id)))
        .values(favorites_count=Article.favorites_count + delta)
    )


# PostgreSQL: the row change and the counter in one statement. The counter moves only when
# the row did (the insert's ON CONFLICT or the delete found nothing, RETURNING is empty), and
# the UPDATE's row lock serializes concurrent fans, so the count stays exact under races.
_FAVORITE_PG = _count_by(
    1,
    postgresql.insert(favorites)
    .values(user_id=_FAN, article_id=_ARTICLE)
    .on_conflict_do_nothing()
    .returning(favorites.c.article_id)
    .cte("added"),
)
_UNFAVORITE_PG = _count_by(
    -1,
    delete(favorites)
    .where(favorites.c.user_id == _FAN, favorites.c.article_id == _ARTICLE)
    .returning(favorites.c.article_id)
    .cte("removed"),
)
# SQLite has no data-modifying CTEs; it runs one writer at a time, so the row change's
# rowcount, then the counter, in the same transaction is as exact.
_FAVORITE_SQLITE = (
    sqlite.insert(favorites).values(user_id=_FAN, article_id=_ARTICLE).on_conflict_do_nothing()
)
_UNFAVORITE_SQLITE = delete(favorites).where(
    favorites.c.user_id == _FAN, favorites.c.article_id == _ARTICLE
)


def _move_count(session: Session, user_id: int, article_id: int, favor: bool) -> None:
    params = {"user_id": user_id, "article_id": article_id}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_FAVORITE_PG if favor else _UNFAVORITE_PG, params)
        return
    result = session.execute(_FAVORITE_SQLITE if favor else _UNFAVORITE_SQLITE, params)
    if int(getattr(result, "rowcount", 0) or 0) == 1:
        session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(favorites_count=Article.favorites_count + (1 if favor else -1))
        )


def favorite(session: Session, user_id: int, article_id: int) -> None:
    _move_count(session, user_id, article_id, favor=True)


def unfavorite(session: Session, user_id: int, article_id: int) -> None:
    _move_count(session, user_id, article_id, favor=False)


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    slug = slug[: SLUG_MAX - 16].rstrip("-") or "article"
    # `/articles/feed` is a route of its own.
    return "feed-article" if slug == "feed" else slug


def _free_slug(session: Session, base: str, article_id: int | None) -> str:
    pattern = re.compile(rf"^{re.escape(base)}(?:-(\d+))?$")
    other = article_id or 0
    # Another article's former slugs count as taken: a link to it must never change owner.
    taken = set(
        session.scalars(
            select(Article.slug)
            .where(Article.slug.like(f"{base}%"), Article.id != other)
            .union(
                select(slug_history.c.slug).where(
                    slug_history.c.slug.like(f"{base}%"), slug_history.c.article_id != other
                )
            )
        )
    )
    # A suffix only when the plain slug is taken: another title's `base-2` must not push it.
    if base not in taken:
        return base
    suffixes = [int(m.group(1) or 1) for s in taken if (m := pattern.match(s))]
    return f"{base}-{max(suffixes) + 1}"


def assign_slug(session: Session, article: Article) -> None:
    """Give the article a slug from its title, unique even when creates race.

    On a rename the old slug goes to the history, so links to it keep resolving.
    """
    old_slug = article.slug if article.id is not None else None
    base = slugify(article.title)
    for attempt in range(SLUG_ATTEMPTS):
        slug = _free_slug(session, base, article.id)
        if attempt == SLUG_ATTEMPTS - 1:
            slug = f"{base}-{secrets.token_hex(4)}"
        try:
            with session.begin_nested():
                article.slug = slug
                session.add(article)
                session.flush()
            break
        except IntegrityError as error:
            if not is_unique_violation(error, SLUG_UNIQUE):  # another article took the slug
                raise
    else:
        raise RuntimeError("could not allocate a slug")  # pragma: no cover
    # Renaming back to a former title takes the slug back out of the article's own history.
    session.execute(delete(slug_history).where(slug_history.c.slug == article.slug))
    if old_slug is not None and old_slug != article.slug:
        session.execute(slug_history.insert().values(slug=old_slug, article_id=article.id))


def set_tags(session: Session, article: Article, names: Iterable[str]) -> None:
    """Replace the article's tags; new tags are created race-free."""
    wanted = sorted(set(names))
    session.execute(delete(article_tags).where(article_tags.c.article_id == article.id))
    if not wanted:
        return
    stmt = insert_ignore(session, Tag)
    session.execute(stmt, [{"name": n} for n in wanted])
    tag_ids = session.scalars(select(Tag.id).where(Tag.name.in_(wanted)))
    session.execute(
        article_tags.insert(), [{"article_id": article.id, "tag_id": t} for t in tag_ids]
    )


def touch(article: Article) -> None:
    article.updated_at = utcnow()


def create_article(
    session: Session,
    author_id: int,
    title: str,
    description: str,
    body: str,
    tag_names: Iterable[str],
) -> Article:
    # One instant for both timestamps: two column defaults can straddle a millisecond,
    # and a new article must not look edited.
    now = utcnow()
    article = Article(
        title=title,
        description=description,
        body=body,
        author_id=author_id,
        created_at=now,
        updated_at=now,
    )
    assign_slug(session, article)
    set_tags(session, article, tag_names)
    return article


def update_article(session: Session, article: Article, changes: Mapping[str, Any]) -> None:
    """Apply an update's fields (`title`, `description`, `body`, `tag_list`), each optional.

    A new title gives a new slug; `tag_list` replaces the tags.
    """
    for field in ("description", "body"):
        if field in changes:
            setattr(article, field, changes[field])
    if "title" in changes and changes["title"] != article.title:
        article.title = changes["title"]
        assign_slug(session, article)
    if "tag_list" in changes:
        set_tags(session, article, changes["tag_list"])
    if changes:  # a body of fields it does not define (read-only ones) changes nothing
        touch(article)


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
