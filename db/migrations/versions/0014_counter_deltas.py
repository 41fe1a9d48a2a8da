"""counter deltas: article counts move by appended rows, folded into tags and users later

Migration 0010's triggers updated `tags.articles_count` and `users.articles_count` in the
writing transaction: every create with a popular tag, or by one author, queued on that row's
lock until the previous writer's commit had been flushed to disk (issue 26). On PostgreSQL the
triggers now append the change to `tag_count_deltas` / `user_count_deltas` instead, which
locks nothing; a count is its row's value plus its pending deltas (db/counters.py), exact at
every snapshot, and the relay folds the deltas into the rows in the background, one fold at a
time. SQLite has one writer at a time anyway: its triggers still update the rows (its delta
tables stay empty).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELTAS = (("tag_count_deltas", "tag_id"), ("user_count_deltas", "user_id"))

POSTGRESQL_UP = """
CREATE OR REPLACE FUNCTION tags_count_new_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tag_count_deltas (tag_id, delta)
    SELECT tag_id, count(*) FROM new_links GROUP BY tag_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION tags_count_old_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tag_count_deltas (tag_id, delta)
    SELECT tag_id, -count(*) FROM old_links GROUP BY tag_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION users_count_articles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_count_deltas (user_id, delta) VALUES (NEW.author_id, 1);
        RETURN NEW;
    END IF;
    INSERT INTO user_count_deltas (user_id, delta) VALUES (OLD.author_id, -1);
    RETURN OLD;
END $$;
"""

# 0010's functions, as they were.
POSTGRESQL_DOWN = """
CREATE OR REPLACE FUNCTION tags_count_new_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tags WHERE id IN (SELECT tag_id FROM new_links) ORDER BY id FOR NO KEY UPDATE;
    UPDATE tags SET articles_count = tags.articles_count + added.n
    FROM (SELECT tag_id, count(*) AS n FROM new_links GROUP BY tag_id) AS added
    WHERE tags.id = added.tag_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION tags_count_old_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tags WHERE id IN (SELECT tag_id FROM old_links) ORDER BY id FOR NO KEY UPDATE;
    UPDATE tags SET articles_count = tags.articles_count - removed.n
    FROM (SELECT tag_id, count(*) AS n FROM old_links GROUP BY tag_id) AS removed
    WHERE tags.id = removed.tag_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION users_count_articles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE users SET articles_count = articles_count + 1 WHERE id = NEW.author_id;
        RETURN NEW;
    END IF;
    UPDATE users SET articles_count = articles_count - 1 WHERE id = OLD.author_id;
    RETURN OLD;
END $$;
"""


def upgrade() -> None:
    for table, key in DELTAS:
        # Appended and deleted, never updated or addressed one by one: no key of its own.
        op.create_table(
            table,
            sa.Column(key, sa.Integer(), nullable=False),
            sa.Column("delta", sa.Integer(), nullable=False),
        )
        op.create_index(op.f(f"ix_{table}_{key}"), table, [key], unique=False)
    if op.get_context().dialect.name == "postgresql":
        op.execute(POSTGRESQL_UP)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(POSTGRESQL_DOWN)
        # what is still pending goes into the rows before the tables go
        for table, key, target in (
            ("tag_count_deltas", "tag_id", "tags"),
            ("user_count_deltas", "user_id", "users"),
        ):
            op.execute(
                f"UPDATE {target} SET articles_count = articles_count + d.n FROM"  # noqa: S608 (our names)
                f" (SELECT {key}, sum(delta) AS n FROM {table} GROUP BY {key}) AS d"
                f" WHERE {target}.id = d.{key}"
            )
    for table, key in DELTAS:
        op.drop_index(op.f(f"ix_{table}_{key}"), table_name=table)
        op.drop_table(table)
