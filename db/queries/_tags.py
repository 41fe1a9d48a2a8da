"""The tags in use."""

from __future__ import annotations

from sqlalchemy import (
    Connection,
    select,
)

from db import driver
from db.models import (
    Tag,
)

# A walk of ix_tags_in_use: the counters are kept by triggers (migration 0010).
_TAGS = select(Tag.name).where(Tag.articles_count > 0).order_by(Tag.articles_count.desc(), Tag.name)


def tags(connection: Connection) -> list[str]:
    """Tags in use, most used first, then alphabetically."""
    return [row.name for row in driver.rows(connection, _TAGS, {})]
