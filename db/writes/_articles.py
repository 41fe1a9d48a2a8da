"""Articles (slug, tags, rename) and comments."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Integer,
    Select,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    true,
    union_all,
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
_OUTBOX = Base.metadata.tables[OutboxEvent.__tablename__]


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
            # Explicit: inside a CTE (`_create_statement`) no Python-side default applies.
            favorites_count=0,
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
    links = insert(article_tags).from_select(LINK_COLUMNS, _links(dialect))
    return new_tags, links


LINK_COLUMNS = ["article_id", "tag_id", "created_at"]


def _links(dialect: str) -> Select[*tuple[Any, ...]]:
    """The article's links to the named tags. Each carries its article's creation time
    (migration 0015), read in the statement."""
    article_id = bindparam("article_id", type_=Integer)
    created = select(_ARTICLES.c.created_at).where(_ARTICLES.c.id == article_id)
    return select(article_id, Tag.id, created.scalar_subquery()).where(
        Tag.name.in_(select(_names(dialect).c.value))
    )


def _bound_names(dialect: str, names: list[str]) -> Any:
    return names if dialect == "postgresql" else json.dumps(names)


@cache
def _create_statement() -> Select[*tuple[Any, ...]]:
    """A create in one statement (PostgreSQL): the article under its free slug, the tags not
    there yet, the article's links, and its outbox event; the article's id and slug, and how
    many links it got.

    No row when a concurrent create took the slug first (the caller asks again; tags it
    added stay, as in the statements one by one). Fewer links than names when a tag was
    added and committed by a concurrent create after this statement began: its insert of
    the tag waited and then did nothing, and the statement's snapshot cannot see the tag.
    The caller then links what is missing in a statement of its own, which sees it.
    """
    names = _names("postgresql")
    created = _insert_article("postgresql").cte("created")
    added = (
        dialect_insert("postgresql", _TAGS)
        .from_select(["name"], select(names.c.value))
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(_TAGS.c.id)
        .cte("added")
    )
    tagged = union_all(
        select(added.c.id),
        select(_TAGS.c.id).where(_TAGS.c.name.in_(select(_names("postgresql").c.value))),
    ).subquery("tagged")
    linked = (
        insert(article_tags)
        .from_select(
            LINK_COLUMNS,
            select(created.c.id, tagged.c.id, bindparam("now")).select_from(
                created.join(tagged, true())
            ),
        )
        .returning(article_tags.c.tag_id)
        .cte("linked")
    )
    event = outbox.published_within(created).returning(_OUTBOX.c.id).cte("event")
    links = select(func.count()).select_from(linked).scalar_subquery()
    return select(created.c.id, created.c.slug, links.label("links")).add_cte(event)


@cache
def _link_missing() -> Insert:
    """The links `_create_statement` could not see to make (PostgreSQL): a statement of its
    own sees every committed tag; the links made already are left as they are."""
    return (
        dialect_insert("postgresql", article_tags)
        .from_select(LINK_COLUMNS, _links("postgresql"))
        .on_conflict_do_nothing()
    )


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
    """Store the article with its tags and tell its author's followers (the outbox); the
    view of it, from what was written (no re-read).

    On PostgreSQL all of it is one statement (`_create_statement`); on SQLite one each for
    the article, the new tags, the links and the event.
    """
    # One instant for both timestamps: two column defaults can straddle a millisecond,
    # and a new article must not look edited.
    now = utcnow()
    wanted = sorted(set(tag_names))
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {
        "base": slugify(title),
        "owner_id": 0,
        "new_slug": None,
        "new_title": title,
        "new_description": description,
        "new_body": body,
        "new_author_id": author.id,
        "now": now,
    }
    connection = session.connection()
    if dialect == "postgresql":
        row = _allocated(
            connection, _create_statement(), {**params, "actor": author.id, "names": wanted}
        )
        if row.links < len(wanted):
            driver.execute(connection, _link_missing(), {"names": wanted, "article_id": row.id})
        outbox.wake_after_commit(session)
    else:
        row = _allocated(connection, _insert_article(dialect), params)
        set_tags(session, row.id, wanted, new=True)
        outbox.published(session, author.id, row.id)
    return ArticleView(
        id=row.id,
        slug=row.slug,
        title=title,
        description=description,
        body=body,
        tag_list=wanted,
        created_at=now,
        updated_at=now,
        favorited=False,
        favorites_count=0,
        # nobody follows themself (a 403), so the author's own view says false
        author=ProfileView(author.username, author.bio, author.image, following=False),
    )


def _allocated(connection: Connection, statement: driver.Statement, params: dict[str, Any]) -> Any:
    """The row of `statement`, which stores the article under the free slug, asked again
    while a concurrent create takes that slug first (no row)."""
    for attempt in range(SLUG_ATTEMPTS):
        if attempt == SLUG_ATTEMPTS - 1:  # crowded out every time: a suffix nobody counts to
            params = {**params, "new_slug": f"{params['base']}-{secrets.token_hex(4)}"}
        row = driver.first(connection, statement, params)
        if row is not None:
            return row
    raise RuntimeError("could not allocate a slug")  # pragma: no cover


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
