"""Notifications: written from outbox events (idempotently), listed and marked read.

Every write here is INSERT ... SELECT ... ON CONFLICT DO NOTHING on (event, recipient): a
redelivered task, or two workers racing on one batch, change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Select,
    bindparam,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from db.inserts import dialect_insert
from db.models import Article, Notification, OutboxEvent, User, follows

COLUMNS = ("recipient_id", "type", "actor_id", "article_id", "read", "created_at", "event_id")


def _insert(dialect: str, source: Select[*tuple[Any, ...]]) -> Insert:
    table = Notification.metadata.tables[Notification.__tablename__]
    # RETURNING names only the rows written now: a redelivery returns none, mails none.
    return (
        dialect_insert(dialect, table)
        .from_select(COLUMNS, source)
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )


# The event's article, if it names one, still exists, and stays until this transaction ends:
# KEY SHARE, what the notification's foreign key check takes anyway, taken first. An article
# being deleted makes this wait for the deletion, then find nothing: no notification, and
# no foreign key violation (the lock order, in db/writes/__init__.py). SQLite has one writer.
_ARTICLE_LIVE = or_(
    OutboxEvent.article_id.is_(None),
    exists(
        select(Article.id)
        .where(Article.id == OutboxEvent.article_id)
        .with_for_update(read=True, key_share=True)
    ),
)


def _event_columns(recipient: Any) -> Select[*tuple[Any, ...]]:
    return select(
        recipient,
        OutboxEvent.type,
        OutboxEvent.actor_id,
        OutboxEvent.article_id,
        false(),
        OutboxEvent.created_at,
        OutboxEvent.id,
    ).where(_ARTICLE_LIVE)


@cache
def _direct(dialect: str) -> Insert:
    source = _event_columns(OutboxEvent.recipient_id).where(
        OutboxEvent.id == bindparam("event"), OutboxEvent.recipient_id.is_not(None)
    )
    return _insert(dialect, source)


@cache
def _followers(dialect: str) -> Insert:
    source = (
        _event_columns(follows.c.follower_id)
        .join(follows, follows.c.followed_id == OutboxEvent.actor_id)
        .where(
            OutboxEvent.id == bindparam("event"),
            follows.c.follower_id > bindparam("after"),
            follows.c.follower_id <= bindparam("upto"),
        )
    )
    return _insert(dialect, source)


def deliver(session: Session, event_id: int) -> list[int]:
    """The notification of an event with one recipient (follow, comment, favorite): its id
    if it is new."""
    return list(session.scalars(_direct(session.get_bind().dialect.name), {"event": event_id}))


_BATCH = (
    select(follows.c.follower_id)
    .where(follows.c.followed_id == bindparam("actor"), follows.c.follower_id > bindparam("after"))
    .order_by(follows.c.follower_id)
    .limit(bindparam("size"))
    .subquery()
)
BATCH_BOUNDS = select(func.count(), func.max(_BATCH.c.follower_id))


def follower_batch(session: Session, actor_id: int, after: int, size: int) -> tuple[int, int]:
    """The next `size` followers of `actor_id` past id `after`: (how many, the last id)."""
    count, last = session.execute(
        BATCH_BOUNDS, {"actor": actor_id, "after": after, "size": size}
    ).one()
    return int(count), int(last or after)


def deliver_to_followers(session: Session, event_id: int, after: int, upto: int) -> list[int]:
    """Notify the followers with ids in (after, upto] of the event's actor: one statement;
    the ids of the notifications it wrote."""
    statement = _followers(session.get_bind().dialect.name)
    return list(session.scalars(statement, {"event": event_id, "after": after, "upto": upto}))


_recipient, _actor = aliased(User), aliased(User)
MAILS = (
    select(Notification.type, _recipient.email, _actor.username, Article.title)
    .join(_recipient, _recipient.id == Notification.recipient_id)
    .join(_actor, _actor.id == Notification.actor_id)
    .outerjoin(Article, Article.id == Notification.article_id)
    .where(Notification.id.in_(bindparam("ids", expanding=True)))
    .where(_recipient.email_notifications == true())
    .order_by(Notification.id)
)


def mails(session: Session, ids: list[int]) -> list[tuple[str, str, str, str | None]]:
    """(type, recipient's email, actor's username, article title) of those notifications
    whose recipient wants email."""
    if not ids:
        return []
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(MAILS, {"ids": ids})]


# The recipient's side.


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: int
    type: str
    read: bool
    created_at: datetime
    actor: dict[str, Any]
    article: dict[str, str] | None


_me = bindparam("me", type_=Integer)
PAGE = (
    select(
        Notification.id,
        Notification.type,
        Notification.read,
        Notification.created_at,
        User.username,
        User.bio,
        User.image,
        exists()
        .where(follows.c.follower_id == _me, follows.c.followed_id == Notification.actor_id)
        .label("following"),
        Article.slug,
        Article.title,
    )
    .join(User, User.id == Notification.actor_id)
    .outerjoin(Article, Article.id == Notification.article_id)
    .where(Notification.recipient_id == _me)
    .order_by(Notification.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
COUNTS = select(
    func.count(), func.coalesce(func.sum(case((Notification.read == false(), 1), else_=0)), 0)
).where(Notification.recipient_id == _me)


def page(session: Session, me: int, limit: int, offset: int) -> list[NotificationView]:
    rows = session.execute(PAGE, {"me": me, "limit": limit, "offset": offset})
    return [
        NotificationView(
            id=row.id,
            type=row.type,
            read=row.read,
            created_at=row.created_at,
            actor={
                "username": row.username,
                "bio": row.bio,
                "image": row.image,
                "following": bool(row.following),
            },
            article=None if row.slug is None else {"slug": row.slug, "title": row.title},
        )
        for row in rows
    ]


def counts(session: Session, me: int) -> tuple[int, int]:
    """(all of the user's notifications, the unread ones)."""
    total, unread = session.execute(COUNTS, {"me": me}).one()
    return int(total), int(unread)


def mark_read(session: Session, me: int, up_to: int | None) -> None:
    """Mark the user's notifications read: all of them, or those with ids up to `up_to`."""
    statement = update(Notification).where(
        Notification.recipient_id == me, Notification.read == false()
    )
    if up_to is not None:
        statement = statement.where(Notification.id <= up_to)
    session.execute(statement.values(read=true()).execution_options(synchronize_session=False))
