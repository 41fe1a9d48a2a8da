"""What consumers do with an event, as plain functions of a session (no Celery here).

Both the Celery tasks and the in-process relay call these; every write is idempotent, so
running one twice (a redelivery) changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from db import notifications, outbox
from jobs import mail

# Followers notified per statement (and per task): 10,000 followers are 10 batches.
FAN_OUT_BATCH = 1000

# (event id, actor id, follower id after which the next batch starts)
FanOut = Callable[[int, int, int], None]


def deliver(session: Session, event_id: int, fan_out: FanOut) -> None:
    """Notify an event's one recipient, or start its fan-out to the actor's followers."""
    found = outbox.event(session, event_id)
    if found is None:  # its actor or article was deleted since: nothing left to tell
        return
    kind, actor_id, recipient_id, _article_id = found
    if recipient_id is not None:
        mail.send_for(session, notifications.deliver(session, event_id))
    elif kind == outbox.ARTICLE:
        fan_out(event_id, actor_id, 0)


def fan_out_batch(
    session: Session, event_id: int, actor_id: int, after: int, size: int = FAN_OUT_BATCH
) -> int | None:
    """Notify the next batch of followers; where the batch after it starts, if there is one."""
    count, last = notifications.follower_batch(session, actor_id, after, size)
    if count:
        mail.send_for(session, notifications.deliver_to_followers(session, event_id, after, last))
    return last if count == size else None
