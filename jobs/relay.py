"""The relay: publish pending outbox events, then mark them sent, in one transaction.

Rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED, so relays in several processes
(the hint threads of web workers, the beat sweep) never publish the same batch at once. A
crash after publishing and before the commit leaves the rows pending: they are published
again, and the idempotent consumers make the repeat harmless (at least once in, exactly
once out).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from core.settings import Settings
from db import outbox
from db.models import utcnow
from jobs import delivery

RELAY_BATCH = 500


def relay(session: Session, publish: Callable[[int], None], limit: int = RELAY_BATCH) -> int:
    """Publish up to `limit` pending events and commit them as sent: how many."""
    ids = outbox.claim_pending(session, limit)
    for event_id in ids:
        publish(event_id)
    if ids:
        outbox.mark_sent(session, ids, utcnow())
    session.commit()
    return len(ids)


def relay_all(session: Session, publish: Callable[[int], None]) -> int:
    """Relay batch after batch until none is pending: how many in all.

    A batch short of `RELAY_BATCH` was all there was to claim (rows another relay holds are
    that relay's), so it is the last: no claim that finds nothing, no second commit.
    """
    total = 0
    while True:
        sent = relay(session, publish)
        total += sent
        if sent < RELAY_BATCH:
            return total


def deliver_inline(settings: Settings, session: Session) -> Callable[[int], None]:
    """A `publish` that delivers at once, fan-out included, in the relay's own transaction."""

    def fan_out(event_id: int, actor_id: int, after: int) -> None:
        start: int | None = after
        while start is not None:
            start = delivery.fan_out_batch(settings, session, event_id, actor_id, start)

    return lambda event_id: delivery.deliver(settings, session, event_id, fan_out)


def drain(settings: Settings, session: Session) -> int:
    """In-process mode: relay and deliver every pending event (also what tests call)."""
    return relay_all(session, deliver_inline(settings, session))
