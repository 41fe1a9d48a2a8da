"""The tags in use."""

from __future__ import annotations

from sqlalchemy import (
    Connection,
    select,
)

from db import counters, driver
from db.models import (
    Tag,
)

# The counters kept by triggers (migrations 0010, 0014) with their pending deltas.
_TAGS = (
    select(Tag.name)
    .select_from(counters.tags_with_counts())
    .where(counters.TAG_ARTICLES > 0)
    .order_by(counters.TAG_ARTICLES.desc(), Tag.name)
)


def tags(connection: Connection) -> list[str]:
    """Tags in use, most used first, then alphabetically."""
    return [row.name for row in driver.rows(connection, _TAGS, {})]
