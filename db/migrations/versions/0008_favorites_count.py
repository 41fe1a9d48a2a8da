"""articles.favorites_count, and slug prefix indexes

`favorites_count` is a maintained counter, so a page never counts favorites rows:
backfilled from the favorites table; from here on the favorite and unfavorite statements
keep it in step in their own transaction (db/writes/_social.py). The text_pattern_ops indexes
answer the free-slug statement's `base-%` prefix searches (db/slugs.py) whatever the
database's collation.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

articles = sa.table("articles", sa.column("id", sa.Integer()), sa.column("favorites_count"))
favorites = sa.table("favorites", sa.column("article_id", sa.Integer()))


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("favorites_count", sa.Integer(), nullable=False, server_default="0")
        )
    counted = (
        sa.select(sa.func.count())
        .select_from(favorites)
        .where(favorites.c.article_id == articles.c.id)
        .scalar_subquery()
    )
    has_favorites = sa.exists().where(favorites.c.article_id == articles.c.id)
    op.execute(articles.update().where(has_favorites).values(favorites_count=counted))
    for table in ("articles", "slug_history"):
        op.create_index(
            f"ix_{table}_slug_pattern",
            table,
            ["slug"],
            postgresql_ops={"slug": "text_pattern_ops"},
        )


def downgrade() -> None:
    for table in ("articles", "slug_history"):
        op.drop_index(f"ix_{table}_slug_pattern", table_name=table)
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("favorites_count")
