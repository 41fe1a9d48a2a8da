"""slug history

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:45:18.682436
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slug_history",
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_slug_history_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_slug_history")),
    )
    with op.batch_alter_table("slug_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slug_history_article_id"), ["article_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("slug_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slug_history_article_id"))

    op.drop_table("slug_history")
