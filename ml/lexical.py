"""Full-text ranking with SQLite FTS5 (stdlib sqlite3), as the app will search on SQLite.

Offline it stands in for PostgreSQL's tsvector too: both stem English words (FTS5's porter
tokenizer, `to_tsvector('english')`), require every query word (websearch_to_tsquery's AND)
and rank by term statistics (bm25, ts_rank_cd). User text never reaches FTS5's query syntax:
each word is quoted, so `"`, `*`, `NEAR` or `-` in a query are only words.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from db.search import fts_query


class LexicalIndex:
    """An in-memory FTS5 table of (id, text), ranked by bm25."""

    def __init__(self, documents: Iterable[tuple[int, str]]) -> None:
        self._db = sqlite3.connect(":memory:")
        self._db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='porter unicode61 remove_diacritics 2')"
        )
        self._db.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)", documents)

    def search(self, text: str, limit: int = 100) -> list[int]:
        """Ids of the documents holding every word of `text`, best first."""
        query = fts_query(text)
        if query is None:
            return []
        rows = self._db.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs), rowid LIMIT ?",
            (query, limit),
        )
        return [int(rowid) for (rowid,) in rows]

    def close(self) -> None:
        self._db.close()
