"""Ceiling (b): raw WSGI + psycopg 3, the list page built by ONE hand-written SQL statement.

`gunicorn bench.ceiling_sql:app` with BENCH_DATABASE_URL (a libpq URL). Each worker opens one
autocommit connection after the fork; every request is one round trip whose result is the
page's JSON text: what an ideal anonymous GET /api/articles?limit=20 costs on this database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import psycopg

# Same page as queries.articles(): newest first, no body, favorited=false, following=false.
LIST_PAGE_SQL = """
WITH page AS (
    SELECT a.id, a.slug, a.title, a.description, a.created_at, a.updated_at, a.author_id
    FROM articles a
    ORDER BY a.created_at DESC, a.id DESC
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT jsonb_build_object(
    'articles', COALESCE((
        SELECT jsonb_agg(jsonb_build_object(
            'slug', p.slug,
            'title', p.title,
            'description', p.description,
            'tagList', COALESCE((
                SELECT jsonb_agg(t.name ORDER BY t.name COLLATE "C")
                FROM article_tags at JOIN tags t ON t.id = at.tag_id
                WHERE at.article_id = p.id
            ), '[]'::jsonb),
            'createdAt', to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'updatedAt', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'favorited', false,
            'favoritesCount', (SELECT count(*) FROM favorites f WHERE f.article_id = p.id),
            'author', jsonb_build_object(
                'username', u.username, 'bio', u.bio, 'image', u.image, 'following', false
            )
        ) ORDER BY p.created_at DESC, p.id DESC)
        FROM page p JOIN users u ON u.id = p.author_id
    ), '[]'::jsonb),
    'articlesCount', (SELECT count(*) FROM articles)
)::text
"""

_connection: psycopg.Connection[Any] | None = None


def _connect() -> psycopg.Connection[Any]:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True)
    return _connection


def page(limit: int = 20, offset: int = 0) -> bytes:
    row = _connect().execute(LIST_PAGE_SQL, {"limit": limit, "offset": offset}).fetchone()
    assert row is not None
    text: str = row[0]
    return text.encode()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    body = page(int(query.get("limit", ["20"])[0]), int(query.get("offset", ["0"])[0]))
    start_response(
        "200 OK",
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
