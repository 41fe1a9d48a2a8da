"""article_tags.created_at: a tag's articles, newest first, straight from one index

A list by tag (`GET /api/articles?tag=`) found its page's articles with one of two plans, and
PostgreSQL switched between them on each connection: the first five runs of the prepared
statement were planned for the tag asked (a hash join of the tag's links with every article,
then a sort), later runs used the generic plan (walk all articles newest first, probing each
for the tag). The first reads every article's index entry; the second reads on until it has
found a page, which for a rare or old tag is every article too (620 articles probed and 1,251
buffers for a 35-article tag of the bench's 1,000). Which plan a worker's connection kept,
and how far a tag's articles lie, made the swing between runs and machines.

Each link now carries its article's `created_at` (set once, when the link is written; an
article's creation time never changes), and one index orders a tag's links as the lists
are ordered: the page is the first rows of `(tag_id, created_at DESC, article_id DESC)`,
for any tag, under either plan. It replaces the index on `tag_id` alone, which it covers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = (
    "UPDATE article_tags SET created_at ="
    " (SELECT created_at FROM articles WHERE articles.id = article_tags.article_id)"
)


def _triggers() -> list[str]:
    """SQLite's triggers on article_tags (migration 0010's counters), as they were created:
    batch mode rebuilds the table there, which drops them."""
    if op.get_context().dialect.name != "sqlite":
        return []
    found = op.get_bind().execute(
        sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'article_tags'"
        )
    )
    return [row[0] for row in found]


def _restore(triggers: list[str]) -> None:
    for trigger in triggers:
        op.execute(trigger)


def upgrade() -> None:
    op.add_column("article_tags", sa.Column("created_at", sa.DateTime(timezone=True)))
    op.execute(BACKFILL)
    triggers = _triggers()
    with op.batch_alter_table("article_tags", schema=None) as batch_op:
        batch_op.alter_column(
            "created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_index(
            "ix_article_tags_tag_id_created_at", ["tag_id", "created_at", "article_id"]
        )
        batch_op.drop_index("ix_article_tags_tag_id")
    _restore(triggers)


def downgrade() -> None:
    triggers = _triggers()
    with op.batch_alter_table("article_tags", schema=None) as batch_op:
        batch_op.create_index("ix_article_tags_tag_id", ["tag_id"])
        batch_op.drop_index("ix_article_tags_tag_id_created_at")
        batch_op.drop_column("created_at")
    _restore(triggers)
