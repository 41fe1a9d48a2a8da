"""What the article, comment and favorite resources share: the slug parameter and lookups by it.

Resource modules import this, never one another.
"""

from __future__ import annotations

from typing import Any

from api.context import db_connection
from api.errors import found
from db import queries

SLUG = [
    {
        "in": "path",
        "name": "slug",
        "description": "Slug of the article",
        "example": "how-to-train-your-dragon",
    }
]


def article_response(slug: str, viewer_id: int | None) -> dict[str, Any]:
    """The article by its slug, or by a slug it had before a rename (then with its new slug)."""
    connection = db_connection()
    view = queries.article(connection, slug, viewer_id)
    if view is None and (renamed := queries.current_slug(connection, slug)) is not None:
        view = queries.article(connection, renamed, viewer_id)
    return {"article": found(view, "article")}


def article_id_or_404(slug: str) -> int:
    """The id of the article a slug names now or named before a rename; else 404."""
    return found(queries.article_id(db_connection(), slug), "article")
