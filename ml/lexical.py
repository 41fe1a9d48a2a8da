"""Full-text ranking with SQLite FTS5 (stdlib sqlite3), as the app will search on SQLite.

Offline it stands in for PostgreSQL's tsvector too: both stem English words (FTS5's porter
tokenizer, `to_tsvector('english')`), require every query word (websearch_to_tsquery's AND)
and rank by term statistics (bm25, ts_rank_cd). User text never reaches FTS5's query syntax:
each word is quoted, so `"`, `*`, `NEAR` or `-` in a query are only words.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable

_WORDS = re.compile(r"\w+")
MAX_QUERY_WORDS = 16  # bounds the work one query can ask for


def fts_query(text: str) -> str | None:
    """FTS5 syntax for "all these words", each quoted; None when the text has no word."""
    words = _WORDS.findall(text.lower())[:MAX_QUERY_WORDS]
    return " AND ".join(f'"{word}"' for word in words) or None


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
