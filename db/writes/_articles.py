"""Articles (slug, tags, rename) and comments."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import driver, outbox
from db.errors import is_unique_violation
from db.inserts import dialect_insert
from db.models import (
    Article,
    Base,
    Comment,
    OutboxEvent,
    Tag,
    article_tags,
    slug_history,
    utcnow,
)
from db.queries import (
    ArticleRef,
    ArticleView,
    Principal,
    ProfileView,
)
from db.slugs import FREE_SLUG, slugify

SLUG_ATTEMPTS = 5
SLUG_UNIQUE = "uq_articles_slug"


# Core tables, not the models: an ORM insert given a dict of parameters is a bulk insert.
_ARTICLES = Base.metadata.tables["articles"]
_TAGS = Base.metadata.tables["tags"]


@cache
def _insert_article(dialect: str) -> Insert:
    """Store a new article under the free slug, computed in the same statement.

    Nothing is stored (and no row returned) when a concurrent create took that slug first:
    the caller asks again. `new_slug`, when bound, replaces the computed one.
    """
    return (
        dialect_insert(dialect, _ARTICLES)
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
        dialect_insert(dialect, _TAGS)
        # the WHERE tells SQLite's parser the ON CONFLICT is the insert's, not a join's
        .from_select(["name"], select(names.c.value).where(true()))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    # A separate statement: it must see a tag that a concurrent create inserted and
    # committed while the first statement waited on its conflict.
    # Each link carries its article's creation time (migration 0015), read in the statement.
    article_id = bindparam("article_id", type_=Integer)
    created = select(_ARTICLES.c.created_at).where(_ARTICLES.c.id == article_id)
    links = insert(article_tags).from_select(
        ["article_id", "tag_id", "created_at"],
        select(article_id, Tag.id, created.scalar_subquery()).where(
            Tag.name.in_(select(_names(dialect).c.value))
        ),
    )
    return new_tags, links


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
    if not new:  # the counting triggers append deltas and lock no tag (migration 0014)
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
    if values.keys() & {"title", "description", "body"}:
        outbox.wake_after_commit(session)  # its embedding is stale: the relay's pass redoes it
    return slug


# The article's events that no relay is delivering (those it is, it finds the article gone).
_UNCLAIMED_EVENTS = delete(OutboxEvent).where(
    OutboxEvent.id.in_(
        select(OutboxEvent.id)
        .where(OutboxEvent.article_id == bindparam("article_id", type_=Integer))
        .with_for_update(skip_locked=True)
    )
)


def delete_article(session: Session, article_id: int) -> None:
    """Delete the article: the article's row first (the lock order, in db/writes/__init__.py), then
    what hangs off it: the database cascades to comments, tag links, favorites, slug
    history and notifications; its events are deleted here, skipping any a relay holds."""
    session.execute(delete(Article).where(Article.id == article_id))
    session.execute(_UNCLAIMED_EVENTS, {"article_id": article_id})


def add_comment(session: Session, article_id: int, author_id: int, body: str) -> Comment:
    now = utcnow()  # one instant for both timestamps, as for articles
    comment = Comment(
        body=body, article_id=article_id, author_id=author_id, created_at=now, updated_at=now
    )
    session.add(comment)
    return comment


def delete_comment(session: Session, comment_id: int) -> None:
    session.execute(delete(Comment).where(Comment.id == comment_id))
