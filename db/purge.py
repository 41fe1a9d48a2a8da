"""Delete lapsed session state: `python -m db.purge [URL]` (default: DATABASE_URL).

Token families whose every token has expired, and logout blocklist entries past their
token's expiry. Refreshes and logouts already purge a bounded batch as they go; this is the
periodic sweep for a quiet service (run it from cron or a scheduled job).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.settings import Settings
from db import writes
from db.session import make_engine


def purge(url: str, now: datetime | None = None) -> tuple[int, int]:
    """How many (families, revoked tokens) were deleted."""
    engine = make_engine(url)
    moment = now or datetime.now(UTC)
    try:
        with Session(engine) as session:
            families = writes.purge_families(session, moment, limit=None)
            revoked = writes.purge_revoked_tokens(session, moment)
            session.commit()
    finally:
        engine.dispose()
    return families, revoked


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    url = args[0] if args else Settings().database_url
    families, revoked = purge(url)
    print(f"purged {families} token families and {revoked} revoked tokens")


if __name__ == "__main__":
    main()
