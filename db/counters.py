"""How many articles a tag has, and a user wrote: the row's counter plus its pending deltas.

Creates, deletions and tag edits append to `tag_count_deltas` / `user_count_deltas` (the
PostgreSQL triggers of migration 0014) instead of updating the counted row, so concurrent
writers with a popular tag, or by one author, never queue on one row lock until each commit's
flush (issue 26). A count read here is exact at the reading statement's snapshot: the row's
value plus the deltas committed and not yet folded. `fold` moves the deltas into the rows,
in one statement per table, one fold at a time; the relay runs it after each pass, so the
deltas pending stay few. On SQLite the triggers still update the rows and nothing is pending.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Subquery, func, select, text
from sqlalchemy.orm import Session

from db.models import Tag, User, tag_count_deltas, user_count_deltas


def _pending(table: Any, key: str) -> Subquery:
    """Each key's pending total: one aggregate over the few rows not folded yet."""
    column = table.c[key]
    return (
        select(column.label("key"), func.sum(table.c.delta).label("n"))
        .group_by(column)
        .subquery(f"pending_{key}")
    )


PENDING_TAGS = _pending(tag_count_deltas, "tag_id")
PENDING_USERS = _pending(user_count_deltas, "user_id")
# A select of these joins its pending subquery: `.outerjoin(PENDING_TAGS, PENDING_TAGS.c.key ==
# Tag.id)`, as TAG_ARTICLES_FROM does.
TAG_ARTICLES: ColumnElement[int] = Tag.articles_count + func.coalesce(PENDING_TAGS.c.n, 0)
USER_ARTICLES: ColumnElement[int] = User.articles_count + func.coalesce(PENDING_USERS.c.n, 0)


def tags_with_counts() -> Any:
    """tags LEFT JOIN their pending deltas: the FROM that TAG_ARTICLES reads."""
    return Tag.__table__.outerjoin(PENDING_TAGS, PENDING_TAGS.c.key == Tag.id)


def users_with_counts() -> Any:
    """users LEFT JOIN their pending deltas: the FROM that USER_ARTICLES reads."""
    return User.__table__.outerjoin(PENDING_USERS, PENDING_USERS.c.key == User.id)


# Every pending delta, whoever's: the all-articles total adds it to the authors' counters.
ALL_PENDING_USERS = select(func.coalesce(func.sum(user_count_deltas.c.delta), 0)).scalar_subquery()

_FOLD_LOCK = 0x636F756E  # an arbitrary application-wide key ("coun")
_FOLDS = (
    text(
        "WITH gone AS (DELETE FROM tag_count_deltas RETURNING tag_id, delta)"
        " UPDATE tags SET articles_count = tags.articles_count + folded.n"
        " FROM (SELECT tag_id, sum(delta) AS n FROM gone GROUP BY tag_id ORDER BY tag_id)"
        " AS folded WHERE tags.id = folded.tag_id"
    ),
    text(
        "WITH gone AS (DELETE FROM user_count_deltas RETURNING user_id, delta)"
        " UPDATE users SET articles_count = users.articles_count + folded.n"
        " FROM (SELECT user_id, sum(delta) AS n FROM gone GROUP BY user_id ORDER BY user_id)"
        " AS folded WHERE users.id = folded.user_id"
    ),
)


def fold(session: Session) -> int:
    """Move the pending deltas into the counted rows (PostgreSQL), in the session's
    transaction (the caller commits): how many rows moved. Another process folding at the
    same time makes this one a no-op: its fold takes what is there, the next takes the rest."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    if not session.execute(select(func.pg_try_advisory_xact_lock(_FOLD_LOCK))).scalar():
        return 0
    return sum(session.execute(fold).rowcount for fold in _FOLDS)  # type: ignore[attr-defined]
