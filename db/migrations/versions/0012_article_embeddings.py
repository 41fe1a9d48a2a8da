"""article_embeddings: each article's sentence embedding; full-text search of articles

The embeddings serve related articles, search and tag suggestions (ml/). Full-text search,
the other half of `GET /articles?q=`: on PostgreSQL a GIN index on the English tsvector of
title, description and body; on SQLite an FTS5 table over the same columns, kept by triggers
(SQLite drops a table's triggers when a batch migration recreates it: a later migration that
rebuilds articles on SQLite must create them again).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


DOCUMENT = "title || ' ' || description || ' ' || body"
POSTGRESQL_UP = (
    f"CREATE INDEX ix_articles_full_text ON articles"
    f" USING gin (to_tsvector('english'::regconfig, {DOCUMENT}))"
)
SQLITE_UP = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, description, body,"
    " content='articles', content_rowid='id', tokenize='porter unicode61')",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, description, body)
    VALUES (new.id, new.title, new.description, new.body);
END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, description, body)
    VALUES ('delete', old.id, old.title, old.description, old.body);
END""",
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, description, body ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, description, body)
    VALUES ('delete', old.id, old.title, old.description, old.body);
    INSERT INTO articles_fts(rowid, title, description, body)
    VALUES (new.id, new.title, new.description, new.body);
END""",
)
SQLITE_DOWN = (
    "DROP TRIGGER articles_fts_update",
    "DROP TRIGGER articles_fts_delete",
    "DROP TRIGGER articles_fts_insert",
    "DROP TABLE articles_fts",
)


def _full_text(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements[op.get_context().dialect.name]:
        op.execute(statement)


def upgrade() -> None:
    _full_text({"postgresql": (POSTGRESQL_UP,), "sqlite": SQLITE_UP})
    op.create_table(
        "article_embeddings",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("embedded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_embeddings_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_embeddings")),
    )
    with op.batch_alter_table("article_embeddings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_embeddings_embedded_at"), ["embedded_at"], unique=False
        )


def downgrade() -> None:
    _full_text({"postgresql": ("DROP INDEX ix_articles_full_text",), "sqlite": SQLITE_DOWN})
    with op.batch_alter_table("article_embeddings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_embeddings_embedded_at"))
    op.drop_table("article_embeddings")
