"""Idempotency keys: claim one, replay its answer, store it, release it, purge lapsed ones.

The policy (what is stored, for how long, the lease) is in api/pipeline/idempotency.py; these are
its statements, and `one_transaction`, which gives a request's writes and its answer one
commit. Callers commit the claim.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Executable,
    and_,
    delete,
    engine,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from db.inserts import insert_ignore
from db.models import IdempotencyKey

log = logging.getLogger(__name__)

# Each claim deletes at most this many lapsed keys: it adds one, so the table cannot grow
# past a day's keys, and no request pays for a backlog.
PURGE_BATCH = 100
CLAIM_ATTEMPTS = 3
# A key (and its answer) is kept this long from its first use.
KEPT_FOR = timedelta(hours=24)


class State(Enum):
    OWNED = "owned"  # this request runs the operation
    ANSWERED = "answered"  # an answer is stored: replay it
    IN_PROGRESS = "in progress"  # another request holds a live lease
    OTHER_REQUEST = "other request"  # the key was used with another fingerprint


@dataclass(frozen=True, slots=True)
class Claim:
    state: State
    owner: str = ""  # when OWNED: the lease holder's id, to store or release with
    status: int = 0  # when ANSWERED
    body: str = ""


def _changed(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def _row(user_id: int, key: str) -> list[ColumnElement[bool]]:
    return [IdempotencyKey.user_id == user_id, IdempotencyKey.key == key]


def purge(session: Session, before: datetime) -> None:
    """Delete up to PURGE_BATCH keys first used before `before`, skipping rows in use."""
    lapsed = (
        select(IdempotencyKey.user_id, IdempotencyKey.key)
        .where(IdempotencyKey.created_at < before)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite locks the whole file anyway
    )
    session.execute(
        delete(IdempotencyKey).where(tuple_(IdempotencyKey.user_id, IdempotencyKey.key).in_(lapsed))
    )


def claim(
    session: Session,
    user_id: int,
    key: str,
    fingerprint: str,
    *,
    now: datetime,
    leased_until: datetime,
    lapsed_before: datetime,
) -> Claim:
    """Take the key for this request, or say why not (the answer to replay, if there is one).

    A key first used before `lapsed_before` counts as unused; a claim without an answer
    whose lease ran out (its worker died) is taken over by a request with the same
    fingerprint. Both are conditional writes, so of two racing requests one gets the key.
    """
    owner = secrets.token_hex(16)
    row = _row(user_id, key)
    for _ in range(CLAIM_ATTEMPTS):
        # RETURNING, not rowcount: SQLAlchemy keeps no INSERT row count on psycopg (-1).
        inserted = session.execute(
            insert_ignore(session, IdempotencyKey)
            .values(
                user_id=user_id,
                key=key,
                fingerprint=fingerprint,
                created_at=now,
                owner=owner,
                leased_until=leased_until,
            )
            .returning(IdempotencyKey.user_id)
        ).first()
        if inserted is not None:
            return Claim(State.OWNED, owner)
        abandoned = and_(IdempotencyKey.status.is_(None), IdempotencyKey.leased_until < now)
        found = session.execute(
            select(
                IdempotencyKey.fingerprint,
                IdempotencyKey.status,
                IdempotencyKey.body,
                IdempotencyKey.created_at < lapsed_before,
                abandoned,
            ).where(*row)
        ).first()
        if found is None:  # released since the insert: claim it again
            continue
        stored_fingerprint, status, body, lapsed, was_abandoned = found
        if lapsed:
            session.execute(
                delete(IdempotencyKey).where(*row, IdempotencyKey.created_at < lapsed_before)
            )
            continue
        if stored_fingerprint != fingerprint:
            return Claim(State.OTHER_REQUEST)
        if status is not None:
            return Claim(State.ANSWERED, status=status, body=body or "")
        if was_abandoned:
            taken = _changed(
                session,
                update(IdempotencyKey)
                .where(*row, abandoned)
                .values(owner=owner, leased_until=leased_until),
            )
            if taken == 1:
                return Claim(State.OWNED, owner)
            continue
        return Claim(State.IN_PROGRESS)
    return Claim(State.IN_PROGRESS)


def store_answer(
    session: Session, user_id: int, key: str, owner: str, status: int, body: str
) -> bool:
    """Record the answer, if `owner` still holds the claim (False: a takeover took it)."""
    stored = _changed(
        session,
        update(IdempotencyKey)
        .where(*_row(user_id, key), IdempotencyKey.owner == owner, IdempotencyKey.status.is_(None))
        .values(status=status, body=body),
    )
    return stored == 1


def release(session: Session, user_id: int, key: str, owner: str) -> None:
    """Give up a claim that got no answer to keep, so a retry runs afresh."""
    session.execute(
        delete(IdempotencyKey).where(
            *_row(user_id, key), IdempotencyKey.owner == owner, IdempotencyKey.status.is_(None)
        )
    )


@dataclass(frozen=True, slots=True)
class Transaction:
    session: Session
    outer: engine.Transaction

    def commit(self) -> None:
        """Commit the session's work and everything it committed before, at once."""
        self.session.commit()
        self.outer.commit()


@contextmanager
def one_transaction(sessions: scoped_session[Session]) -> Iterator[Transaction]:
    """This thread's session for the block, with its commits made provisional.

    Code in the block commits as usual, but its commits only release savepoints of one
    database transaction, which commits when `Transaction.commit()` is called and is
    rolled back otherwise. So an answer recorded after the code ran is stored if and only
    if what the code wrote is.
    """
    bind = sessions().get_bind()
    sessions.remove()
    transaction: engine.Transaction
    if isinstance(bind, Connection):  # already in a transaction (the tests'): nest in it
        connection, owned = bind, False
        transaction = connection.begin_nested()
    else:
        connection, owned = bind.connect(), True
        transaction = connection.begin()
    session = sessions.session_factory(bind=connection, join_transaction_mode="create_savepoint")
    sessions.registry.set(session)
    try:
        yield Transaction(session, transaction)
    finally:
        try:
            sessions.remove()
            if transaction.is_active:
                transaction.rollback()
        except DBAPIError as error:  # the connection died: discard it, keep the first error
            log.warning("discarding a broken database connection: %s", error.orig)
            connection.invalidate()
        finally:
            if owned:
                connection.close()
