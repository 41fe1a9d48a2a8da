"""bio and image nullable (RealWorld 2.0: null when unset)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table("users", sa.column("bio", sa.Text()), sa.column("image", sa.Text()))


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("bio", existing_type=sa.Text(), nullable=True)
        batch_op.alter_column("image", existing_type=sa.Text(), nullable=True)
    for column in ("bio", "image"):
        op.execute(users.update().where(users.c[column] == "").values({column: None}))


def downgrade() -> None:
    for column in ("bio", "image"):
        op.execute(users.update().where(users.c[column].is_(None)).values({column: ""}))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("bio", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("image", existing_type=sa.Text(), nullable=False)
