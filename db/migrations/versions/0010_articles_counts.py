"""tags.articles_count and users.articles_count, kept by triggers; the tags-in-use index

GET /tags read every article_tags row to rank tags, and the feed and `?author=` totals
counted articles: both grew with the table. Each counter is backfilled here and from then
on kept exact by triggers in the writing transaction, so every path that adds or removes
links or articles counts, the foreign-key cascades included (an article's deletion takes
its links, a user's deletion their articles). A partial index on the ranking makes /tags
an index scan.

Lock order (PostgreSQL), so concurrent writes cannot deadlock: a user's row (an article
insert, and a delete: BEFORE, so ahead of the cascade to its links), then new tag names
(unique index), then tag rows in id order (each links statement locks its tags sorted;
replacing an article's tags locks old and new at once first, db/writes/_articles.py). The locks are
FOR NO KEY UPDATE, what the counter's UPDATE takes anyway: they do not conflict with the
KEY SHARE locks the links' foreign-key checks took first, in whatever order. SQLite runs
one writer at a time, so row triggers suffice there.

SQLite drops a table's triggers when a batch migration recreates the table: a later
migration that rebuilds articles or article_tags on SQLite must create them again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_USE = "articles_count > 0"

POSTGRESQL_UP = """
CREATE FUNCTION tags_count_new_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tags WHERE id IN (SELECT tag_id FROM new_links) ORDER BY id FOR NO KEY UPDATE;
    UPDATE tags SET articles_count = tags.articles_count + added.n
    FROM (SELECT tag_id, count(*) AS n FROM new_links GROUP BY tag_id) AS added
    WHERE tags.id = added.tag_id;
    RETURN NULL;
END $$;
CREATE FUNCTION tags_count_old_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM tags WHERE id IN (SELECT tag_id FROM old_links) ORDER BY id FOR NO KEY UPDATE;
    UPDATE tags SET articles_count = tags.articles_count - removed.n
    FROM (SELECT tag_id, count(*) AS n FROM old_links GROUP BY tag_id) AS removed
    WHERE tags.id = removed.tag_id;
    RETURN NULL;
END $$;
CREATE TRIGGER article_tags_counted_insert AFTER INSERT ON article_tags
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION tags_count_new_links();
CREATE TRIGGER article_tags_counted_delete AFTER DELETE ON article_tags
    REFERENCING OLD TABLE AS old_links
    FOR EACH STATEMENT EXECUTE FUNCTION tags_count_old_links();
CREATE FUNCTION users_count_articles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE users SET articles_count = articles_count + 1 WHERE id = NEW.author_id;
        RETURN NEW;
    END IF;
    UPDATE users SET articles_count = articles_count - 1 WHERE id = OLD.author_id;
    RETURN OLD;
END $$;
CREATE TRIGGER articles_counted_insert AFTER INSERT ON articles
    FOR EACH ROW EXECUTE FUNCTION users_count_articles();
CREATE TRIGGER articles_counted_delete BEFORE DELETE ON articles
    FOR EACH ROW EXECUTE FUNCTION users_count_articles();
"""

POSTGRESQL_DOWN = """
DROP TRIGGER articles_counted_delete ON articles;
DROP TRIGGER articles_counted_insert ON articles;
DROP FUNCTION users_count_articles();
DROP TRIGGER article_tags_counted_delete ON article_tags;
DROP TRIGGER article_tags_counted_insert ON article_tags;
DROP FUNCTION tags_count_old_links();
DROP FUNCTION tags_count_new_links();
"""

SQLITE_UP = (
    """CREATE TRIGGER article_tags_counted_insert AFTER INSERT ON article_tags BEGIN
    UPDATE tags SET articles_count = articles_count + 1 WHERE id = NEW.tag_id;
END""",
    """CREATE TRIGGER article_tags_counted_delete AFTER DELETE ON article_tags BEGIN
    UPDATE tags SET articles_count = articles_count - 1 WHERE id = OLD.tag_id;
END""",
    """CREATE TRIGGER articles_counted_insert AFTER INSERT ON articles BEGIN
    UPDATE users SET articles_count = articles_count + 1 WHERE id = NEW.author_id;
END""",
    """CREATE TRIGGER articles_counted_delete AFTER DELETE ON articles BEGIN
    UPDATE users SET articles_count = articles_count - 1 WHERE id = OLD.author_id;
END""",
)

SQLITE_DOWN = tuple(
    f"DROP TRIGGER {name}"
    for name in (
        "articles_counted_delete",
        "articles_counted_insert",
        "article_tags_counted_delete",
        "article_tags_counted_insert",
    )
)

tags = sa.table("tags", sa.column("id", sa.Integer()), sa.column("articles_count"))
users = sa.table("users", sa.column("id", sa.Integer()), sa.column("articles_count"))
article_tags = sa.table("article_tags", sa.column("tag_id", sa.Integer()))
articles = sa.table("articles", sa.column("author_id", sa.Integer()))


def upgrade() -> None:
    for table in ("tags", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("articles_count", sa.Integer(), nullable=False, server_default="0")
            )
    links = sa.select(sa.func.count()).where(article_tags.c.tag_id == tags.c.id)
    op.execute(tags.update().values(articles_count=links.scalar_subquery()))
    written = sa.select(sa.func.count()).where(articles.c.author_id == users.c.id)
    op.execute(users.update().values(articles_count=written.scalar_subquery()))
    op.create_index(
        "ix_tags_in_use",
        "tags",
        [sa.text("articles_count DESC"), "name"],
        postgresql_where=sa.text(IN_USE),
        sqlite_where=sa.text(IN_USE),
    )
    # The total of all articles sums the authors' counters only: an index-only scan of at
    # most one entry per author, however many users never wrote anything.
    op.create_index(
        "ix_users_authors",
        "users",
        ["articles_count"],
        postgresql_where=sa.text(IN_USE),
        sqlite_where=sa.text(IN_USE),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(POSTGRESQL_UP)
    else:
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(POSTGRESQL_DOWN)
    else:
        for statement in SQLITE_DOWN:
            op.execute(statement)
    op.drop_index("ix_users_authors", table_name="users")
    op.drop_index("ix_tags_in_use", table_name="tags")
    for table in ("users", "tags"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("articles_count")
