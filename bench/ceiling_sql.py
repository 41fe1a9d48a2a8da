"""Ceiling (b): raw WSGI + psycopg 3, the list page built by ONE hand-written SQL statement,
and the write floor: an article created by ONE statement.

`gunicorn bench.ceiling_sql:app` with BENCH_DATABASE_URL (a libpq URL). Each worker opens one
autocommit connection after the fork; every request is one round trip.
- GET: its result is the page's JSON text: what an ideal anonymous GET /api/articles?limit=20
  costs on this database.
- POST (the write floor, issue 26): the posted CreateArticle body stored by one statement (the
  article, its tags, their links) and one commit, answered with the article's JSON. The author
  is the token's `sub`, read without verifying it; the slug is the title's, suffixed with the
  request's unique number; and the connection runs with `session_replication_role = replica`,
  so neither our counter triggers nor foreign-key triggers fire: a floor that keeps no counter.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
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

CREATE_SQL = """
WITH article AS (
    INSERT INTO articles (slug, title, description, body, author_id, created_at, updated_at)
    VALUES (%(slug)s, %(title)s, %(description)s, %(body)s, %(author)s, now(), now())
    RETURNING id, slug, title, description, body, author_id, created_at, updated_at
), added AS (  -- a new tag; existing ones are only read, never locked
    INSERT INTO tags (name) SELECT DISTINCT unnest(%(tags)s::text[])
    ON CONFLICT (name) DO NOTHING
    RETURNING id, name
), tag AS (
    SELECT id, name FROM added
    UNION ALL SELECT id, name FROM tags WHERE name = ANY(%(tags)s::text[])
), link AS (
    INSERT INTO article_tags (article_id, tag_id, created_at)
    SELECT article.id, tag.id, article.created_at FROM article, tag
)
SELECT jsonb_build_object('article', jsonb_build_object(
    'slug', a.slug, 'title', a.title, 'description', a.description, 'body', a.body,
    'tagList', (SELECT COALESCE(jsonb_agg(name ORDER BY name COLLATE "C"), '[]') FROM tag),
    'createdAt', to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'updatedAt', to_char(a.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'favorited', false, 'favoritesCount', 0,
    'author', jsonb_build_object(
        'username', u.username, 'bio', u.bio, 'image', u.image, 'following', false
    )
))::text
FROM article a JOIN users u ON u.id = a.author_id
"""

_connection: psycopg.Connection[Any] | None = None
_created = itertools.count()


def _connect() -> psycopg.Connection[Any]:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True)
        _connection.execute("SET session_replication_role = replica")
    return _connection


def _token_subject(authorization: str) -> int:
    """The `sub` of a JWT in `Token <jwt>`, not verified (the floor does no auth)."""
    payload = authorization.rpartition(" ")[2].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return int(claims["sub"])


def create(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    article = json.loads(environ["wsgi.input"].read(length))["article"]
    slug = re.sub(r"[^a-z0-9]+", "-", article["title"].lower()).strip("-")
    params = {
        "slug": f"{slug}-{os.getpid()}-{next(_created)}",
        "title": article["title"],
        "description": article["description"],
        "body": article["body"],
        "author": _token_subject(environ.get("HTTP_AUTHORIZATION", "")),
        "tags": article.get("tagList", []),
    }
    row = _connect().execute(CREATE_SQL, params).fetchone()
    assert row is not None
    text: str = row[0]
    return text.encode()


def page(limit: int = 20, offset: int = 0) -> bytes:
    row = _connect().execute(LIST_PAGE_SQL, {"limit": limit, "offset": offset}).fetchone()
    assert row is not None
    text: str = row[0]
    return text.encode()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] == "POST":
        body, status = create(environ), "201 Created"
    else:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        body = page(int(query.get("limit", ["20"])[0]), int(query.get("offset", ["0"])[0]))
        status = "200 OK"
    start_response(
        status,
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
