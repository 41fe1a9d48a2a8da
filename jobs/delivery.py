"""What consumers do with an event, as plain functions of a session (no Celery here).

Both the Celery tasks and the in-process relay call these; every write is idempotent, so
running one twice (a redelivery) changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from core.settings import Settings
from db import notifications, outbox
from jobs import mail

# (event id, actor id, follower id after which the next batch starts)
FanOut = Callable[[int, int, int], None]


def deliver(settings: Settings, session: Session, event_id: int, fan_out: FanOut) -> None:
    """Notify an event's one recipient, or start its fan-out to the actor's followers."""
    found = outbox.event(session, event_id)
    if found is None:  # its actor or article was deleted since: nothing left to tell
        return
    kind, actor_id, recipient_id, _article_id = found
    if recipient_id is not None:
        mail.send_for(settings, session, notifications.deliver(session, event_id))
    elif kind == outbox.ARTICLE:
        fan_out(event_id, actor_id, 0)


def fan_out_batch(
    settings: Settings, session: Session, event_id: int, actor_id: int, after: int
) -> int | None:
    """Notify the next batch of followers (`OUTBOX_FAN_OUT_BATCH` of them, whoever delivers:
    a Celery task or the in-process relay); where the batch after it starts, if there is one."""
    size = settings.outbox_fan_out_batch
    count, last = notifications.follower_batch(session, actor_id, after, size)
    if count:
        written = notifications.deliver_to_followers(session, event_id, after, last)
        mail.send_for(settings, session, written)
    return last if count == size else None
