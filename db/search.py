"""Full-text search of articles (the words half of `GET /articles?q=`), with the list filters.

PostgreSQL: the English tsvector of title, description and body (stored, and GIN-indexed,
by migration 0013), `websearch_to_tsquery` for what a person types, ranked by
`ts_rank_cd`. SQLite: the FTS5 table of the same migration, every word required, ranked by
bm25. Either way the best `limit` ids; the meaning half and the fusion are ml/serving.py's.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.sql.expression import ColumnClause

from db import driver
from db.models import FULL_TEXT_COLUMN, FULL_TEXT_TABLE, Article
from db.queries._lists import ArticleFilters, ListShape, filter_conditions

CANDIDATES = 100  # of each half, before fusion: the pages a person reads are the first few
_WORDS = re.compile(r"\w+")
MAX_QUERY_WORDS = 16  # bounds the work one query can ask for


def fts_query(text: str) -> str | None:
    """FTS5 syntax for "all these words", each quoted (so `"`, `*`, `NEAR` or `-` are only
    words, never syntax); None when the text has no word."""
    words = _WORDS.findall(text.lower())[:MAX_QUERY_WORDS]
    return " AND ".join(f'"{word}"' for word in words) or None


_LIMIT = bindparam("limit", type_=Integer)
_FTS = table(FULL_TEXT_TABLE, column("rowid", Integer))
_ENGLISH: ColumnClause[Any] = literal_column("'english'::regconfig")
# The stored tsvector of title, description and body (migration 0013): ranking reads it
# instead of computing it again from the text for every match.
_DOCUMENT: ColumnClause[Any] = literal_column(f"{Article.__tablename__}.{FULL_TEXT_COLUMN}")


def _shape(filters: ArticleFilters) -> ListShape:
    return ListShape(
        tag=filters.tag is not None,
        author=filters.author is not None,
        favorited=filters.favorited is not None,
    )


def _params(filters: ArticleFilters) -> dict[str, Any]:
    return {"tag": filters.tag, "author": filters.author, "favorited": filters.favorited}


@cache
def _words(dialect: str, shape: ListShape) -> Select[int]:
    if dialect == "postgresql":
        query = func.websearch_to_tsquery(_ENGLISH, bindparam("q"))
        return (
            select(Article.id)
            .where(_DOCUMENT.op("@@")(query), *filter_conditions(shape))
            .order_by(func.ts_rank_cd(_DOCUMENT, query).desc(), Article.id.desc())
            .limit(_LIMIT)
        )
    return (
        select(Article.id)
        .join(_FTS, _FTS.c.rowid == Article.id)
        .where(
            literal_column(FULL_TEXT_TABLE).op("MATCH")(bindparam("q")), *filter_conditions(shape)
        )
        .order_by(func.bm25(literal_column(FULL_TEXT_TABLE)), Article.id.desc())
        .limit(_LIMIT)
    )


def by_words(
    connection: Connection, q: str, filters: ArticleFilters, limit: int = CANDIDATES
) -> list[int]:
    """The ids of the articles matching the words of `q` and the filters, best first."""
    dialect = connection.dialect.name
    if dialect != "postgresql":
        match = fts_query(q)
        if match is None:  # no word at all (punctuation only): nothing matches by words
            return []
        q = match
    params = {**_params(filters), "q": q, "limit": limit}
    return [row.id for row in driver.rows(connection, _words(dialect, _shape(filters)), params)]


@cache
def _filtered(shape: ListShape) -> Select[int]:
    return select(Article.id).where(
        Article.id.in_(bindparam("ids", expanding=True)), *filter_conditions(shape)
    )


def passing(connection: Connection, ids: list[int], filters: ArticleFilters) -> set[int]:
    """Which of the articles `ids` pass the list filters (all of them, with none)."""
    if not ids or _shape(filters) == ListShape():
        return set(ids)
    params = {**_params(filters), "ids": ids}
    return set(connection.execute(_filtered(_shape(filters)), params).scalars())
