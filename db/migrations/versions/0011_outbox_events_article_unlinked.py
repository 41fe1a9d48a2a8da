"""outbox_events.article_id without a foreign key: an article's deletion no longer waits on the relay

With the cascade, deleting an article locked the article, then its pending events; the
relay held those events (claimed FOR UPDATE) and waited for a KEY SHARE lock on the same
article to write the notifications: a deadlock (PostgreSQL 40P01). Events now only name
their article; the deletion removes the events no relay holds (db/writes/_articles.py),
and delivery skips an event whose article is gone (db/notifications.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_outbox_events_article_id_articles"


def upgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")


def downgrade() -> None:
    # Events of articles deleted meanwhile would break the constraint: they are dropped.
    op.execute(
        "DELETE FROM outbox_events WHERE article_id IS NOT NULL"
        " AND article_id NOT IN (SELECT id FROM articles)"
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_foreign_key(
            FOREIGN_KEY, "articles", ["article_id"], ["id"], ondelete="CASCADE"
        )
