"""Delete what has lapsed: `python -m db.purge [URL]` (default: DATABASE_URL), and the
Celery beat's hourly `jobs.purge`, which both run `purge_lapsed`.

Token families whose every token has expired, logout blocklist entries past their token's
expiry, a batch of idempotency keys past their 24 hours, outbox events sent more than 30
days ago. Refreshes, logouts and keyed requests already purge a bounded batch as they go;
this is the periodic sweep for a quiet service.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.settings import Settings
from db import idempotency, outbox, writes
from db.session import make_engine


def purge_lapsed(session: Session, now: datetime) -> dict[str, int]:
    """Delete what has lapsed by `now`, in the session's transaction (the caller commits):
    how many of each were deleted (idempotency keys: a bounded batch, not counted)."""
    families = writes.purge_families(session, now, limit=None)
    revoked = writes.purge_revoked_tokens(session, now)
    idempotency.purge(session, now - idempotency.KEPT_FOR)
    events = outbox.purge_sent(session, now - outbox.RETENTION)
    return {"families": families, "revoked": revoked, "events": events}


def purge(url: str, now: datetime | None = None) -> dict[str, int]:
    """`purge_lapsed` on the database at `url`, committed."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            purged = purge_lapsed(session, now or datetime.now(UTC))
            session.commit()
    finally:
        engine.dispose()
    return purged


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    url = args[0] if args else Settings().database_url
    purged = purge(url)
    print(
        f"purged {purged['families']} token families, {purged['revoked']} revoked tokens"
        f" and {purged['events']} sent outbox events"
    )


if __name__ == "__main__":
    main()
