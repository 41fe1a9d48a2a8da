"""The transactional outbox: events emitted in the writer's transaction, and the relay's scan.

Each emit is one INSERT ... SELECT ... ON CONFLICT DO NOTHING in the caller's transaction:
a rolled-back write emits nothing, a committed one cannot lose its event. The SELECT skips
self-actions (favoriting your own article) and the unique `dedupe_key` swallows repeats
(favoriting twice, or after an unfavorite), so neither costs a statement of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Insert,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    create_engine,
    delete,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.pool import NullPool

from db import driver
from db.inserts import dialect_insert
from db.models import Article, Comment, OutboxEvent, User, follows, utcnow

# Set on a session whose transaction emitted: its commit wakes the relay (jobs/hint.py).
EMITTED = "outbox_emitted"

FOLLOW, COMMENT, FAVORITE, ARTICLE = "follow", "comment", "favorite", "article"
COLUMNS = ("type", "actor_id", "recipient_id", "article_id", "dedupe_key", "created_at")


def _id(name: str) -> BindParameter[int]:
    return bindparam(name, type_=Integer)


def _key(kind: str, *ids: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[str]:
    text: ColumnElement[str] = literal(kind, String)
    for part in ids:
        text = text + ":" + cast(part, String)
    return text


def _insert(dialect: str, source: Select[*tuple[Any, ...]]) -> Insert:
    return (
        dialect_insert(dialect, OutboxEvent.metadata.tables[OutboxEvent.__tablename__])
        .from_select(COLUMNS, source)
        .on_conflict_do_nothing()
    )


@cache
def _follow(dialect: str) -> Insert:
    """Tell the user named of a new follower: resolved by name inside the one statement."""
    actor = _id("actor")
    return _insert(
        dialect,
        select(
            literal(FOLLOW, String),
            actor,
            User.id,
            literal(None),
            _key(FOLLOW, actor, User.id),
            bindparam("now"),
        ).where(User.username == bindparam("username"), User.id != actor),
    )


@cache
def _on_article(dialect: str, kind: str) -> Insert:
    """Tell an article's author of someone's comment or favorite, unless it is their own."""
    actor, subject = _id("actor"), _id("subject")
    return _insert(
        dialect,
        select(
            literal(kind, String),
            actor,
            Article.author_id,
            Article.id,
            _key(kind, subject, actor) if kind == FAVORITE else _key(kind, subject),
            bindparam("now"),
        ).where(Article.id == _id("article"), Article.author_id != actor),
    )


@cache
def _published(dialect: str) -> Insert:
    """An article for its author's followers, only if there is one: fanned out later."""
    return _insert(dialect, _published_source(_id("article")))


def _published_source(article: ColumnElement[int]) -> Select[*tuple[Any, ...]]:
    actor = _id("actor")
    has_followers = exists().where(follows.c.followed_id == actor)
    return select(
        literal(ARTICLE, String),
        actor,
        literal(None),
        article,
        _key(ARTICLE, article),
        bindparam("now"),
    ).where(has_followers)


def published_within(created: CTE) -> Insert:
    """`published`'s event as a part of the create's own statement (PostgreSQL): the article
    is the one `created` (a CTE with its `id`) inserts, and the caller wakes the relay
    (`wake_after_commit`)."""
    return _insert("postgresql", _published_source(created.c.id).select_from(created))


def _emit(session: Session, statement: Insert, **values: Any) -> None:
    driver.execute(session.connection(), statement, {**values, "now": utcnow()})
    session.info[EMITTED] = True


def wake_after_commit(session: Session) -> None:
    """Wake the relay after this transaction commits, with no event: its pass also embeds
    articles whose text changed (jobs/embedding.py)."""
    session.info[EMITTED] = True


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def followed(session: Session, follower_id: int, username: str) -> None:
    _emit(session, _follow(_dialect(session)), actor=follower_id, username=username)


def favorited(session: Session, user_id: int, article_id: int) -> None:
    statement = _on_article(_dialect(session), FAVORITE)
    _emit(session, statement, actor=user_id, article=article_id, subject=article_id)


def commented(session: Session, comment: Comment) -> None:
    """Tell of a new comment: flushed here for its id (the commit would flush it anyway)."""
    session.flush()
    statement = _on_article(_dialect(session), COMMENT)
    _emit(
        session, statement, actor=comment.author_id, article=comment.article_id, subject=comment.id
    )


def published(session: Session, author_id: int, article_id: int) -> None:
    _emit(session, _published(_dialect(session)), actor=author_id, article=article_id)


# The relay's side.

PENDING = select(OutboxEvent.id).where(OutboxEvent.sent_at.is_(None)).order_by(OutboxEvent.id)


def claim_pending(session: Session, limit: int) -> list[int]:
    """Lock up to `limit` pending events; concurrent relays skip each other's rows."""
    statement = PENDING.limit(limit)
    if _dialect(session) == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return list(session.scalars(statement))


def mark_sent(session: Session, ids: Sequence[int], now: datetime) -> None:
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(ids))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )


def event(session: Session, event_id: int) -> tuple[str, int, int | None, int | None] | None:
    """What a consumer needs of an event: (type, actor, recipient, article)."""
    return session.execute(
        select(
            OutboxEvent.type,
            OutboxEvent.actor_id,
            OutboxEvent.recipient_id,
            OutboxEvent.article_id,
        ).where(OutboxEvent.id == event_id)
    ).one_or_none()


BACKLOG = select(func.count(), func.min(OutboxEvent.created_at)).where(
    OutboxEvent.sent_at.is_(None)
)


def backlog(session: Session, now: datetime | None = None) -> tuple[int, float]:
    """How many events wait for the relay, and the age in seconds of the oldest (0: none)."""
    count, oldest = session.execute(BACKLOG).one()
    if oldest is None:
        return int(count), 0.0
    if oldest.tzinfo is None:  # SQLite keeps no zone; we only ever write UTC
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), max(0.0, ((now or utcnow()) - oldest).total_seconds())


def backlog_at(url: str) -> tuple[int, float]:
    """`backlog` on a database by its URL, with no pool (for the gunicorn master's /metrics)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            return backlog(session)
    finally:
        engine.dispose()


def purge_sent(session: Session, before: datetime) -> int:
    """Delete events sent before `before`; their notifications stay (no foreign key)."""
    result = session.execute(
        delete(OutboxEvent).where(OutboxEvent.sent_at.is_not(None), OutboxEvent.sent_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)


RETENTION = timedelta(days=30)
